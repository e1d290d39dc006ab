-- Schema of the embedded catalog (SQLite). Applied on open while PRAGMA user_version is
-- below the version set at the end; every statement is idempotent so two processes opening
-- a fresh file at once both succeed. A column added to an existing table cannot be written
-- idempotently here (ALTER TABLE has no IF NOT EXISTS): SqliteStore adds it first, under the
-- write lock, to files that predate it (ADDED_COLUMNS), then runs this script.
BEGIN IMMEDIATE;

-- One row per product; doc is the product document (catalog.adapters.product_documents).
-- The columns beside it are the ones conditions and queries need.
CREATE TABLE IF NOT EXISTS products (
    merchant_id TEXT NOT NULL,
    id          TEXT NOT NULL,
    sku         TEXT NOT NULL,
    status      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    doc         TEXT NOT NULL,
    -- The document's `product_type` member (NULL: none); added in version 3.
    product_type TEXT,
    PRIMARY KEY (merchant_id, id),
    UNIQUE (merchant_id, sku)
);
-- Listing by status walks this index in id order (the page position is the last id).
CREATE INDEX IF NOT EXISTS products_by_status ON products (merchant_id, status, id);
-- Whether a type is in use (a delete's condition) is one probe here; a listing by type walks
-- it in id order. NULLs (untyped products) are indexed too but never asked for.
CREATE INDEX IF NOT EXISTS products_by_type ON products (merchant_id, product_type, id);

-- The listing state of each product per channel, rewritten at every commit from the
-- document, so the channel filter is one index range in id order.
CREATE TABLE IF NOT EXISTS product_channels (
    merchant_id TEXT NOT NULL,
    channel     TEXT NOT NULL,
    product_id  TEXT NOT NULL,
    state       TEXT NOT NULL,
    PRIMARY KEY (merchant_id, channel, product_id)
) WITHOUT ROWID;
-- Rewriting one product's rows at commit looks them up by product.
CREATE INDEX IF NOT EXISTS product_channels_by_product
    ON product_channels (merchant_id, product_id);

CREATE TABLE IF NOT EXISTS history (
    merchant_id TEXT NOT NULL,
    product_id  TEXT NOT NULL,
    version     INTEGER NOT NULL,
    doc         TEXT NOT NULL,
    PRIMARY KEY (merchant_id, product_id, version)
);

-- AUTOINCREMENT: a seq is never reused, even after the newest rows are pruned, so a sink's
-- saved offset can never point past events it has not seen.
CREATE TABLE IF NOT EXISTS outbox (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    doc      TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS relay_offsets (
    sink TEXT PRIMARY KEY,
    seq  INTEGER NOT NULL
) WITHOUT ROWID;

-- expires_at is in microseconds since the Unix epoch (UTC), compared in SQL.
CREATE TABLE IF NOT EXISTS idempotency (
    merchant_id TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    product     TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, key)
);

-- Events a webhook sink gave up on after its bounded attempts (the relay's `max_attempts`):
-- the sink's offset moved past them, so `doc` (the event document) is the only copy the
-- outbox may keep once it prunes. `catalog events redrive` delivers them again and deletes
-- each row once its sink accepted it. parked_at is in microseconds since the Unix epoch (UTC).
CREATE TABLE IF NOT EXISTS dead_letters (
    sink       TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    doc        TEXT NOT NULL,
    attempts   INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    parked_at  INTEGER NOT NULL,
    PRIMARY KEY (sink, event_id)
) WITHOUT ROWID;

-- A merchant's product types (DESIGN.md section 9); doc is the type document
-- (catalog.adapters.type_documents). Pages walk the primary key in key order.
CREATE TABLE IF NOT EXISTS product_types (
    merchant_id TEXT NOT NULL,
    key         TEXT NOT NULL,
    version     INTEGER NOT NULL,
    doc         TEXT NOT NULL,
    PRIMARY KEY (merchant_id, key)
);

-- Every channel's requirements (DESIGN.md section 9), platform-wide: one row, so a product
-- write reads them all at once, as on DynamoDB. doc is the requirements document
-- (catalog.adapters.requirements_documents); version is the set's, a write's condition.
-- Added in version 4.
CREATE TABLE IF NOT EXISTS channel_requirements (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    version   INTEGER NOT NULL,
    doc       TEXT NOT NULL
);

-- The SKUs of variants (DESIGN.md section 10): unique per merchant together with products.sku
-- (a write checks both under the write lock); a lookup by SKU is one probe of each primary
-- key. Added in version 5.
CREATE TABLE IF NOT EXISTS variant_skus (
    merchant_id TEXT NOT NULL,
    sku         TEXT NOT NULL,
    product_id  TEXT NOT NULL,
    variant_id  TEXT NOT NULL,
    PRIMARY KEY (merchant_id, sku)
) WITHOUT ROWID;

-- Jobs (DESIGN.md section 11): doc is the job document (catalog.adapters.job_documents),
-- written by the worker running the job with each batch of its rows; cancel_requested is set
-- by a cancel and read by the worker between batches. Pages walk (merchant_id, id) newest
-- first; a key is a merchant's Idempotency-Key. Added in version 6.
CREATE TABLE IF NOT EXISTS jobs (
    merchant_id      TEXT NOT NULL,
    id               TEXT NOT NULL,
    kind             TEXT NOT NULL,
    status           TEXT NOT NULL,
    version          INTEGER NOT NULL,
    idempotency_key  TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    doc              TEXT NOT NULL,
    PRIMARY KEY (merchant_id, id)
);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_by_key ON jobs (merchant_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS unfinished_jobs ON jobs (status) WHERE status IN ('QUEUED', 'RUNNING');

-- Every row error of a job, in line order (the first 100 are also in the job's doc).
CREATE TABLE IF NOT EXISTS job_errors (
    merchant_id TEXT NOT NULL,
    job_id      TEXT NOT NULL,
    line        INTEGER NOT NULL,
    doc         TEXT NOT NULL,
    PRIMARY KEY (merchant_id, job_id, line)
) WITHOUT ROWID;

PRAGMA user_version = 6;
COMMIT;
