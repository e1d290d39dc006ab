"""The editor's images: upload (a plain multipart form, or console.js's XMLHttpRequest with a
progress bar; an image over INLINE_IMAGE_BYTES goes straight to storage with an upload
ticket, then is confirmed here), each image's alt text (a form of its own, sent with the
version it was drawn on) and removal.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import UploadFile

from catalog.domain import limits
from catalog.domain.errors import (
    DomainError,
    ImageNotFound,
    ImageRejected,
    InvalidField,
    PreconditionFailed,
    ProductNotFound,
)
from catalog.entrypoints.api.presenters import product_view
from catalog.entrypoints.console.pages.products import (
    editor_values,
    form_version,
    load_product,
    render_editor,
    stale_errors,
)
from catalog.entrypoints.console.web import TEMPLATES, Console, Form, FormErrors, text
from catalog.service import images, uploads
from catalog.service.commands import (
    AddImage,
    ChangeImageAlt,
    ConfirmUpload,
    RemoveImage,
    RequestUpload,
)

router = APIRouter()

# Where a refused upload's fields are typed in (images.html's inputs).
UPLOAD_INPUTS = {
    "/file": "image",
    "/images": "image",
    "/alt": "alt",
    "/content_type": "image",
    "/size": "image",
}
# console.js sends a larger image straight to storage with an upload ticket (docs/api.md,
# "Direct uploads"): on AWS a request reaches the Lambda as at most 6 MB of base64, about
# 4.4 MB of file, and a larger image posted here would be refused before the console saw it.
INLINE_IMAGE_BYTES = 4 * 1024 * 1024

# Each rendered upload form carries a key of its own: the same form sent twice adds one image.
TEMPLATES.env.globals["new_idempotency_key"] = lambda: secrets.token_urlsafe(16)
TEMPLATES.env.globals["MAX_IMAGE_BYTES"] = limits.MAX_IMAGE_BYTES
TEMPLATES.env.globals["MAX_ALT_LENGTH"] = limits.MAX_ALT_LENGTH
TEMPLATES.env.globals["INLINE_IMAGE_BYTES"] = INLINE_IMAGE_BYTES


def _wants_json(console: Console) -> bool:
    """console.js's upload asks for JSON: it stays on the page to show errors and progress."""
    return "application/json" in console.request.headers.get("accept", "")


@router.post("/products/{product_id}/images", response_class=HTMLResponse)
async def upload_image(console: Form, product_id: str) -> Response:
    # The session and CSRF token were checked before any of the upload is parsed.
    form = await console.request.form(max_files=1, max_fields=6)
    alt = text(form, "alt").strip()
    try:
        file = form.get("file")
        if not isinstance(file, UploadFile) or not file.filename:
            return _refused(console, product_id, alt, _refusal("Choose an image file to upload."))
        data = await file.read(limits.MAX_IMAGE_BYTES + 1)
    finally:
        await form.close()
    if len(data) > limits.MAX_IMAGE_BYTES:
        refusal = _refusal(f"Images are limited to {_mib(limits.MAX_IMAGE_BYTES)}.")
        return _refused(console, product_id, alt, refusal)
    key = text(form, "idempotency_key") or None

    def add() -> object:
        command = AddImage.of(
            console.merchant_id, product_id, data, alt or None, idempotency_key=key
        )
        return images.add_image(console.ctx, console.principal, command)

    return _image_added(console, product_id, alt, add)


@router.post("/products/{product_id}/image-uploads")
async def image_upload_ticket(console: Form, product_id: str) -> Response:
    """Where console.js asks to upload an image over INLINE_IMAGE_BYTES: `{"content_type",
    "size"}` -> the ticket (`upload_id`, `url`, `fields`) and the URL that confirms it, or
    the refusal as an upload's (`{"errors": {"image": ...}}`)."""
    try:
        asked = await console.request.json()
    except ValueError:
        return _refused(console, product_id, "", _refusal("The upload could not be asked for."))
    try:
        command = RequestUpload.from_json(console.merchant_id, product_id, asked)
        ticket = uploads.request_upload(console.ctx, console.principal, command)
    except InvalidField as error:
        return _refused(console, product_id, "", _field_errors(error))
    except ProductNotFound:
        raise
    except DomainError as error:  # an inactive product, one with all the images it may have
        return _refused(console, product_id, "", FormErrors.of(error, UPLOAD_INPUTS))
    confirm = console.url(f"/products/{product_id}/image-uploads/{ticket.upload_id}")
    view = {"upload_id": ticket.upload_id, "url": ticket.url, "fields": ticket.fields}
    return JSONResponse({**view, "confirm_url": confirm})


@router.post("/products/{product_id}/image-uploads/{upload_id}", response_class=HTMLResponse)
async def confirm_image_upload(console: Form, product_id: str, upload_id: str) -> Response:
    """The image console.js uploaded with a ticket, checked and added with its alt text."""
    form = await console.request.form()
    alt = text(form, "alt").strip()

    def add() -> object:
        body = {"alt": alt or None}
        command = ConfirmUpload.from_json(console.merchant_id, product_id, upload_id, body)
        return uploads.confirm_upload(console.ctx, console.principal, command)

    return _image_added(console, product_id, alt, add)


def _image_added(
    console: Console, product_id: str, alt: str, add: Callable[[], object]
) -> Response:
    """`add` run, and its refusals shown next to the upload form's inputs."""
    try:
        add()
    except ImageRejected as error:
        refused_image = FormErrors(by_input={"image": _sentence(error.message)}, status=415)
        return _refused(console, product_id, alt, refused_image)
    except InvalidField as error:
        return _refused(console, product_id, alt, _field_errors(error))
    except ProductNotFound:
        raise
    except DomainError as error:  # an inactive product, a key reused for another file...
        return _refused(console, product_id, alt, FormErrors.of(error, UPLOAD_INPUTS))
    done = console.url(f"/products/{product_id}", saved="image-added")
    if _wants_json(console):
        return JSONResponse({"redirect": done}, status_code=201)
    return console.redirect(f"/products/{product_id}", saved="image-added")


def _refusal(message: str) -> FormErrors:
    return FormErrors(by_input={"image": message})


def _field_errors(error: InvalidField) -> FormErrors:
    errors = FormErrors.of(error, UPLOAD_INPUTS)
    errors.by_input = {name: _sentence(message) for name, message in errors.by_input.items()}
    errors.title = ""
    return errors


def _refused(console: Console, product_id: str, alt: str, errors: FormErrors) -> Response:
    if _wants_json(console):
        body = {"title": errors.title, "detail": errors.detail, "errors": errors.by_input}
        return JSONResponse(body, status_code=errors.status)
    product = load_product(console, product_id)
    values = editor_values(product_view(product, console.ctx.assets)) | {"alt": alt}
    return render_editor(console, product, values=values, errors=errors)


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def _mib(size: int) -> str:
    return f"{size // (1024 * 1024)} MiB"


@router.post("/products/{product_id}/images/{image_id}/remove", response_class=HTMLResponse)
async def remove_image(console: Form, product_id: str, image_id: str) -> Response:
    command = RemoveImage(console.merchant_id, product_id, image_id)
    try:
        images.remove_image(console.ctx, console.principal, command)
    except ImageNotFound:
        pass  # a second click on Remove: the image is already gone
    except ProductNotFound:
        raise
    except DomainError as error:  # the last image of a listing that needs one, say
        refused = FormErrors.of(error, {})
        refused.by_input = {"images": f"{refused.title}: {_sentence(str(error))}"}
        refused.title = refused.detail = ""
        return render_editor(console, load_product(console, product_id), errors=refused)
    return console.redirect(f"/products/{product_id}", saved="image-removed")


@router.post("/products/{product_id}/images/{image_id}/alt", response_class=HTMLResponse)
async def change_alt(console: Form, product_id: str, image_id: str) -> Response:
    form = await console.request.form()
    alt = text(form, "alt").strip()  # as at upload: spaces alone are no alt text
    # Each image's input is named by the image, so a refusal shows at that image's input.
    alt_input = f"alt.{image_id}"
    version = form_version(text(form, "version"))
    try:
        body = {"alt": alt}
        command = ChangeImageAlt.from_json(console.merchant_id, product_id, image_id, body, version)
        images.change_image_alt(console.ctx, console.principal, command)
    except PreconditionFailed:
        stale = load_product(console, product_id)
        return render_editor(console, stale, values={alt_input: alt}, errors=stale_errors())
    except ProductNotFound:
        raise
    except DomainError as error:  # too long, an inactive product, an image removed meanwhile
        errors = FormErrors.of(error, {"/alt": alt_input})
        if isinstance(error, InvalidField):
            errors.title = ""
        current = load_product(console, product_id)
        return render_editor(console, current, values={alt_input: alt}, errors=errors)
    return console.redirect(f"/products/{product_id}", saved="alt-saved")
