"""Domain errors. Entrypoints map each to one HTTP problem type."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


class DomainError(Exception):
    """Base class of every error the domain and service layers raise on purpose."""


class InvalidField(DomainError):
    """A value broke a rule or a limit; names the offending field (JSON pointer)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    @property
    def fields(self) -> tuple[InvalidField, ...]:
        """Every invalid field this error reports (one, unless it is an InvalidFields)."""
        return (self,)


class InvalidFields(InvalidField):
    """Several fields of one request broke rules: all are reported at once, the first as
    `field` and `message`."""

    def __init__(self, errors: Sequence[InvalidField]) -> None:
        first = errors[0]
        super().__init__(first.field, first.message)
        self.errors = tuple(error for many in errors for error in many.fields)
        self.args = ("; ".join(f"{e.field}: {e.message}" for e in self.errors[:5]),)

    @property
    def fields(self) -> tuple[InvalidField, ...]:
        return self.errors


class MerchantNotFound(DomainError):
    """A merchant the principal may not read looks exactly like one that does not exist."""

    def __init__(self, merchant_id: str) -> None:
        super().__init__("no such merchant")
        self.merchant_id = merchant_id


class AccessDenied(DomainError):
    """The principal may see the resource but not do this to it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ProductNotFound(DomainError):
    def __init__(self, product_id: str) -> None:
        super().__init__(f"product {product_id} not found")
        self.product_id = product_id


class ImageNotFound(DomainError):
    def __init__(self, image_id: str) -> None:
        super().__init__(f"image {image_id} not found")
        self.image_id = image_id


class DuplicateSku(DomainError):
    """A SKU already names a product or a variant of the merchant; `holder` says which (the
    domain knows only the product's own SKUs, the stores know every product's)."""

    def __init__(self, sku: str, holder: str = "another product of this merchant") -> None:
        super().__init__(f"sku {sku!r} is already used by {holder}")
        self.sku = sku
        self.holder = holder


class SkuNotFound(DomainError):
    """No product or variant of the merchant holds the SKU."""

    def __init__(self, sku: str) -> None:
        super().__init__(f"no product or variant of this merchant has sku {sku!r}")
        self.sku = sku


class JobNotFound(DomainError):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"no job {job_id}")
        self.job_id = job_id


class VariantNotFound(DomainError):
    def __init__(self, product_id: str, variant_id: str) -> None:
        super().__init__(f"product {product_id} has no variant {variant_id}")
        self.product_id = product_id
        self.variant_id = variant_id


class DuplicateVariant(DomainError):
    """Two variants of one product would share a combination of option values."""

    def __init__(self, options: Mapping[str, str], holder: str = "another variant") -> None:
        combination = ", ".join(f"{axis}={value}" for axis, value in options.items())
        super().__init__(f"{holder} already has the options {combination or '(none)'}")
        self.options = dict(options)
        self.holder = holder


class VersionConflict(DomainError):
    """The stored version moved on since the product was read (optimistic concurrency)."""

    def __init__(self, product_id: str, expected: int) -> None:
        super().__init__(f"product {product_id} is no longer at version {expected}")
        self.product_id = product_id
        self.expected = expected


class PreconditionFailed(DomainError):
    """The client's If-Match version is not the current one."""

    def __init__(self, current_version: int, expected_version: int, what: str = "product") -> None:
        super().__init__(
            f"{what} is at version {current_version}, not {expected_version} (If-Match)"
        )
        self.current_version = current_version
        self.expected_version = expected_version


class InvalidTransition(DomainError):
    def __init__(self, current: str, requested: str) -> None:
        super().__init__(f"cannot move a {current} product to {requested}")
        self.current = current
        self.requested = requested


class ProductIncomplete(DomainError):
    """READY needs a complete product, a channel a product complete on it; `missing` names
    every absent field as a JSON pointer into the view, `channel` the channel if one."""

    def __init__(
        self, missing: Sequence[str], action: str = "become READY", channel: str | None = None
    ) -> None:
        super().__init__(f"product cannot {action}: missing {', '.join(missing)}")
        self.missing = list(missing)
        self.channel = channel


class ProductInactive(DomainError):
    """An INACTIVE product is read-only until reactivated."""

    def __init__(self, product_id: str) -> None:
        super().__init__(f"product {product_id} is INACTIVE; reactivate it before changing it")
        self.product_id = product_id


class IdempotencyKeyReused(DomainError):
    def __init__(self, key: str) -> None:
        super().__init__(f"Idempotency-Key {key!r} was already used with a different request")
        self.key = key


class IdempotencyKeyRaced(DomainError):
    """Another request with the same key committed first; the caller replays its result."""

    def __init__(self, key: str) -> None:
        super().__init__(f"Idempotency-Key {key!r} was committed concurrently")
        self.key = key


class InvalidCursor(DomainError):
    def __init__(self) -> None:
        super().__init__("cursor is invalid, was tampered with, or belongs to another query")


class ImageRejected(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ImageTooLarge(ImageRejected):
    """An image of an accepted type, over a size limit (bytes or pixels): the client must
    send a smaller one, not another format."""


class UploadUsed(DomainError):
    """A direct-upload ticket was already confirmed or rejected: it never adds an image again."""

    def __init__(self, upload_id: str) -> None:
        super().__init__(
            f"upload {upload_id} was already confirmed or rejected; ask for a new ticket"
        )
        self.upload_id = upload_id


class ProductNotPublishable(DomainError):
    """Only READY and ACTIVE products may be published."""

    def __init__(self, current: str) -> None:
        super().__init__(f"a {current} product cannot be published; it must be READY or ACTIVE")
        self.current = current


class InvalidListingTransition(DomainError):
    def __init__(self, channel: str, current: str | None, requested: str) -> None:
        shown = current or "no listing"
        super().__init__(f"listing on {channel} is {shown}: {requested} does not apply")
        self.channel = channel
        self.current = current
        self.requested = requested


class ProductTooLarge(DomainError):
    """The product (or the record of one change) would outgrow what a store keeps in one
    document; the same limit holds on every backend."""

    def __init__(self, what: str, size: int, limit: int) -> None:
        super().__init__(f"{what} would take {size} bytes; at most {limit} are kept")
        self.what = what
        self.size = size
        self.limit = limit


class ProductTypeNotFound(DomainError):
    def __init__(self, key: str) -> None:
        super().__init__(f"product type {key} not found")
        self.key = key


class DuplicateProductType(DomainError):
    def __init__(self, key: str) -> None:
        super().__init__(f"product type {key} already exists for this merchant")
        self.key = key


class ProductTypeInUse(DomainError):
    """A type some product still has cannot be deleted: the products would lose their rules."""

    def __init__(self, key: str) -> None:
        super().__init__(
            f"product type {key} is in use; give its products another type (or none) first"
        )
        self.key = key


class StoreUnavailable(DomainError):
    """The store could not complete the change now (throttled, busy): nothing was written
    and the same request can be retried."""


class FieldErrors:
    """Collects the InvalidField errors of one request, so a client learns every bad field at
    once: `check` runs one parser and keeps its error, `raise_any` raises them together."""

    def __init__(self) -> None:
        self._errors: list[InvalidField] = []

    def check(self, parse: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        try:
            return parse(*args, **kwargs)
        except InvalidField as error:
            self._errors.append(error)
            return None

    def add(self, field: str, message: str) -> None:
        self._errors.append(InvalidField(field, message))

    def raise_any(self) -> None:
        if len(self._errors) == 1:
            raise self._errors[0]
        if self._errors:
            raise InvalidFields(self._errors)
