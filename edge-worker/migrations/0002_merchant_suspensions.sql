-- Migration 0002 (issue 9): merchants an operator suspended (PRODUCT §7):
-- refused new payments and changes until resumed. The old `idempotency`
-- table (replaced by `idempotency_keys`) is dropped.
CREATE TABLE IF NOT EXISTS merchant_suspensions (
        merchant_id TEXT NOT NULL,
        service_id TEXT NOT NULL,
        suspended_at INTEGER NOT NULL,
        reason TEXT,
        PRIMARY KEY (merchant_id, service_id));

DROP TABLE IF EXISTS idempotency;
