"""The five use cases, a publication and its outcome report, through a client generated from
the live OpenAPI document: what an integrator gets from `openapi-python-client generate`."""

from __future__ import annotations

import importlib
import io
from typing import Any

from tests.api.support import png
from tests.client.conftest import PACKAGE, GeneratedClient, LiveServer


def generated_module(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_the_generator_has_nothing_to_warn_about(generated: GeneratedClient) -> None:
    assert "warning" not in generated.output.lower(), generated.output
    operations = generated_module("api.channels")
    assert operations is not None
    # The route the generator used to skip (its body schema was missing from the document).
    assert hasattr(generated_module("api.channels.report_listing"), "sync_detailed")


def test_the_use_cases_through_the_generated_client(
    generated: GeneratedClient, live_server: LiveServer
) -> None:
    client_module = generated.package
    models = generated_module("models")
    products = "api.products."
    register = generated_module(products + "register_product")
    get = generated_module(products + "get_product")
    list_products = generated_module(products + "list_products")
    update = generated_module(products + "update_product")
    change_status = generated_module(products + "change_status")
    deactivate = generated_module(products + "deactivate_product")
    upload_image = generated_module("api.images.upload_image")
    publish = generated_module("api.channels.request_publication")
    report = generated_module("api.channels.report_listing")
    history = generated_module("api.history.product_history")
    types = generated_module("types")

    merchant = client_module.AuthenticatedClient(
        base_url=live_server.url, token=live_server.token("acme")
    )
    adapter = client_module.AuthenticatedClient(
        base_url=live_server.url, token=live_server.token("acme", "channel:mercadolibre")
    )

    # 1. Register
    created = register.sync_detailed(
        "acme",
        client=merchant,
        body=models.ProductCreate.from_dict(
            {
                "sku": "TS-1",
                "name": "Trail shoe",
                "description": "Light and fast",
                "price": {"amount": 12999, "currency": "USD"},
                "attributes": {"color": "red", "size": 42},
                "channel_overrides": {
                    "mercadolibre": {"price": {"amount": 11999, "currency": "USD"}}
                },
            }
        ),
        idempotency_key="client-test-1",
    )
    assert created.status_code == 201, created.content
    product = created.parsed
    assert isinstance(product, models.ProductView)
    assert product.status == models.ProductStatus.DRAFT
    assert product.attributes["size"] == 42
    assert created.headers["etag"] == '"1"'
    assert created.headers["location"].endswith(f"/products/{product.id}")

    # An image (multipart), so the product is complete.
    with_image = upload_image.sync(
        "acme",
        product.id,
        client=merchant,
        body=models.UploadImageBody(
            file=types.File(payload=io.BytesIO(png()), file_name="shoe.png"), alt="Side view"
        ),
    )
    assert isinstance(with_image, models.ProductView), with_image
    assert with_image.images[0].alt == "Side view"

    # 2. Get, plain and as a channel sees it
    read = get.sync_detailed("acme", product.id, client=merchant)
    assert read.status_code == 200
    assert read.parsed.version == 2
    on_channel = get.sync("acme", product.id, client=merchant, channel="mercadolibre")
    assert on_channel.price.amount == 11999

    # 4. Update: a JSON merge patch, conditional on the version read
    patched = update.sync_detailed(
        "acme",
        product.id,
        client=merchant,
        body=models.ProductUpdate.from_dict({"attributes": {"size": None, "width": "wide"}}),
        if_match=read.headers["etag"],
    )
    assert patched.status_code == 200, patched.content
    assert patched.parsed.attributes.to_dict() == {"color": "red", "width": "wide"}
    stale = update.sync_detailed(
        "acme",
        product.id,
        client=merchant,
        body=models.ProductUpdate.from_dict({"name": "Trail shoe 2"}),
        if_match=read.headers["etag"],
    )
    assert stale.status_code == 412
    assert isinstance(stale.parsed, models.Problem)
    assert stale.parsed.type_ == "/problems/precondition-failed"

    # Status: READY
    ready = change_status.sync(
        "acme",
        product.id,
        client=merchant,
        body=models.StatusChange(status=models.RequestedStatus.READY, reason="approved"),
    )
    assert ready.status == models.ProductStatus.READY

    # Channels: request publication, then the adapter reports the outcome
    pending = publish.sync_detailed("acme", product.id, "mercadolibre", client=merchant)
    assert pending.status_code == 202
    listing = pending.parsed.listings["mercadolibre"]
    assert listing.state == models.ListingState.PENDING
    published = report.sync_detailed(
        "acme",
        product.id,
        "mercadolibre",
        client=adapter,
        body=models.ListingOutcomeReport(
            state=models.ListingOutcome.PUBLISHED,
            product_version=pending.parsed.version,
            external_id="MLA123",
        ),
    )
    assert published.status_code == 200, published.content
    assert published.parsed.status == models.ProductStatus.ACTIVE
    assert published.parsed.listings["mercadolibre"].external_id == "MLA123"

    # 3. List, filtered by status and by channel
    page = list_products.sync("acme", client=merchant, status=models.ProductStatus.ACTIVE, limit=10)
    assert [item.id for item in page.items] == [product.id]
    listed = list_products.sync("acme", client=merchant, channel="mercadolibre")
    assert [item.sku for item in listed.items] == ["TS-1"]

    # 5. Deactivate, then the history of it all
    inactive = deactivate.sync("acme", product.id, client=merchant)
    assert inactive.status == models.ProductStatus.INACTIVE
    assert inactive.listings["mercadolibre"].state == models.ListingState.UNPUBLISHING
    entries = history.sync("acme", product.id, client=merchant)
    assert entries.items[0].transition.to == models.ProductStatus.INACTIVE
    assert entries.items[-1].version == 1


def test_problems_parse_into_the_shared_problem_model(
    generated: GeneratedClient, live_server: LiveServer
) -> None:
    models = generated_module("models")
    register = generated_module("api.products.register_product")
    anonymous = generated.package.Client(base_url=live_server.url)
    answer = register.sync_detailed(
        "acme", client=anonymous, body=models.ProductCreate(sku="X-1", name="X")
    )
    assert answer.status_code == 401
    assert isinstance(answer.parsed, models.Problem)
    assert answer.parsed.type_ == "/problems/unauthorized"
