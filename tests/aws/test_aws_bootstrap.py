"""`catalog aws bootstrap` and the AWS composition root, against moto's server."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from catalog.adapters.aws.clients import LazyClient, aws_client
from catalog.adapters.aws.dynamodb_store import DynamoDbStore
from catalog.adapters.aws.s3_assets import S3AssetStore
from catalog.bootstrap import ConfigurationError, build_container
from catalog.entrypoints.cli import app as cli
from catalog.settings import Settings
from tests.conftest import AwsEndpoint

CURSOR_SECRET = "bootstrap-tests-cursor-secret-0123456789"


def bootstrap() -> list[str]:
    result = CliRunner().invoke(cli, ["aws", "bootstrap"])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_bootstrap_creates_what_is_missing_then_finds_it(
    aws: AwsEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CATALOG_TABLE_NAME", "shop")
    monkeypatch.setenv("CATALOG_BUCKET_NAME", "shop-assets")
    monkeypatch.setenv("CATALOG_EVENT_BUS_NAME", "shop-events")

    first = bootstrap()
    assert aws.url in first[0]
    assert first[1:] == [
        "  table shop: created",
        "  bucket shop-assets: created",
        "  event bus shop-events: created",
    ]
    assert bootstrap()[1:] == [
        "  table shop: already there",
        "  bucket shop-assets: already there",
        "  event bus shop-events: already there",
    ]

    dynamodb = aws.client("dynamodb")
    table = dynamodb.describe_table(TableName="shop")["Table"]
    assert table["StreamSpecification"]["StreamEnabled"] is True
    ttl = dynamodb.describe_time_to_live(TableName="shop")["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] in ("ENABLED", "ENABLING")

    s3 = aws.client("s3")
    [rule] = s3.get_bucket_cors(Bucket="shop-assets")["CORSRules"]
    assert "POST" in rule["AllowedMethods"]  # browsers upload with presigned POSTs
    block = s3.get_public_access_block(Bucket="shop-assets")["PublicAccessBlockConfiguration"]
    assert all(block.values())  # private: images are read through presigned URLs or a CDN

    bus = aws.client("events").describe_event_bus(Name="shop-events")
    assert bus["Name"] == "shop-events"


def test_bootstrap_leaves_existing_resources_as_they_are(
    aws: AwsEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="catalog-assets")
    s3.put_object(Bucket="catalog-assets", Key="kept.txt", Body=b"kept")
    lines = bootstrap()
    assert "  bucket catalog-assets: already there" in lines
    assert s3.get_object(Bucket="catalog-assets", Key="kept.txt")["Body"].read() == b"kept"


def test_clients_honour_aws_region_and_endpoint_url(
    aws: AwsEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Lambda sets AWS_REGION; botocore alone only reads AWS_DEFAULT_REGION.
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    client = aws_client("dynamodb")
    assert client.meta.region_name == "eu-west-1"
    assert client.meta.endpoint_url == aws.url
    assert client.meta.config.retries["mode"] == "standard"
    assert client.meta.config.tcp_keepalive is True


def test_aws_container_wires_dynamodb_and_s3_without_background_workers(
    aws: AwsEndpoint, tmp_path: Path
) -> None:
    settings = Settings(
        backend="aws", auth="apigw", cursor_secret=CURSOR_SECRET, data_dir=tmp_path / "unused"
    )
    container = build_container(settings)
    assert isinstance(container.ctx.store, DynamoDbStore)
    assert isinstance(container.ctx.assets, S3AssetStore)
    assert container.workers == []  # the stream relay Lambda delivers events on AWS
    assert container.local_assets is None
    assert not (tmp_path / "unused").exists()


def test_aws_container_needs_the_shared_cursor_secret(aws: AwsEndpoint) -> None:
    with pytest.raises(ConfigurationError, match="CATALOG_CURSOR_SECRET"):
        build_container(Settings(backend="aws", auth="apigw"))


def test_aws_backend_with_local_tokens_keeps_the_secret_in_the_data_folder(
    aws: AwsEndpoint, tmp_path: Path
) -> None:
    """`make run-aws`: tokens from `catalog token` work against the AWS backend."""
    from catalog.bootstrap import local_tokens

    settings = Settings(backend="aws", cursor_secret=CURSOR_SECRET, data_dir=tmp_path)
    container = build_container(settings)
    token = local_tokens(settings).issue("acme", ["merchant"])
    assert container.tokens.verify(token).merchant_id == "acme"


def test_lazy_client_is_created_once_on_first_use() -> None:
    class Client:
        def ping(self) -> str:
            return "pong"

    created: list[Client] = []

    def create() -> Client:
        created.append(Client())
        return created[-1]

    lazy = LazyClient(create, threading.Lock())
    assert created == []  # building the container creates nothing
    threads = [threading.Thread(target=lazy.ping) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert lazy.ping() == "pong"
    assert len(created) == 1
