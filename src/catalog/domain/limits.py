"""Limits that are part of the external contract (documented in docs/limits.md)."""

from __future__ import annotations

import re

MAX_SKU_LENGTH = 64
SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]*$")
MAX_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 10_000
MAX_ATTRIBUTES = 100  # keys at every level of the attributes object, added up
MAX_ATTRIBUTE_DEPTH = 4  # nesting of objects/arrays below the attributes object
MAX_ATTRIBUTE_KEY_LENGTH = 100
MAX_ATTRIBUTE_STRING_LENGTH = 2_000
MAX_ATTRIBUTE_ARRAY_LENGTH = 100
MAX_CHANNEL_OVERRIDES = 50
MAX_LISTINGS = 40  # channels a product is listed on (a deactivation writes one event each)
CHANNEL_PATTERN = re.compile(r"^[a-z0-9-]{2,40}$")
MERCHANT_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}\Z")
MAX_IMAGES = 20
# Variants (DESIGN.md section 10): a product's axes, and the variants it holds at most.
MAX_OPTIONS = 3
MAX_VARIANTS = 250
# Variant SKUs one change may take: each is an item of the change's one DynamoDB transaction
# (at most 100 items; the product, its history, events, listings and guards take the rest),
# so a registration carries at most this many variants and the others are added one by one.
MAX_NEW_VARIANT_SKUS = 60
MAX_OPTION_VALUE_LENGTH = 200
MAX_STOCK = 10**9  # units; keeps a quantity exact in every store and channel
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_ALT_LENGTH = 500
MAX_AMOUNT = 10**15  # minor units; keeps every amount exact in a float-free JSON integer
MAX_REASON_LENGTH = 500
MAX_JSON_BODY_BYTES = 256 * 1024
# Serialized product document, and the record (history entry) of one change: every backend
# keeps each in one item (DynamoDB: 400 KB per item, with keys and attributes beside it).
MAX_DOCUMENT_BYTES = 300 * 1024
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
IDEMPOTENCY_TTL_SECONDS = 24 * 3600

# Ids the server makes (products, images, variants, jobs): ULIDs.
ULID_PATTERN = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}\Z")

# Import files: sent inline up to the first, uploaded with a ticket up to the second.
MAX_INLINE_IMPORT_BYTES = 10 * 1024 * 1024
MAX_IMPORT_UPLOAD_BYTES = 2 * 1024**3
