-- Migration 0001: the schema the Worker created at run time before
-- migrations existed (CREATE ... IF NOT EXISTS, so it applies cleanly to a
-- database that Worker made). Migrations are idempotent statements: the
-- Worker applies pending ones itself (store::db), and concurrently
-- starting isolates may both apply one.
CREATE TABLE IF NOT EXISTS merchants (
        merchant_id TEXT NOT NULL,
        service_id TEXT NOT NULL,
        name TEXT NOT NULL,
        hash_keys TEXT NOT NULL,
        webhook_secrets TEXT NOT NULL,
        webhook_url TEXT,
        origins TEXT NOT NULL,
        methods TEXT NOT NULL,
        webhook_disabled_at INTEGER,
        webhook_notice TEXT,
        admin_password_hash TEXT,
        previous_until INTEGER,
        PRIMARY KEY (merchant_id, service_id));

CREATE TABLE IF NOT EXISTS admin_sessions (
        token_hash TEXT PRIMARY KEY,
        merchant_id TEXT NOT NULL,
        service_id TEXT NOT NULL,
        expires_at INTEGER NOT NULL);

CREATE TABLE IF NOT EXISTS payments (
        payment_id TEXT PRIMARY KEY,
        merchant_id TEXT NOT NULL,
        service_id TEXT NOT NULL,
        order_id TEXT NOT NULL,
        method TEXT,
        status TEXT NOT NULL,
        amount INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        due_at INTEGER,
        record TEXT,
        UNIQUE (merchant_id, order_id));

CREATE INDEX IF NOT EXISTS payments_by_merchant ON payments (merchant_id, created_at);

CREATE INDEX IF NOT EXISTS payments_due ON payments (due_at);

CREATE TABLE IF NOT EXISTS idempotency (
        merchant_id TEXT NOT NULL,
        idem_key TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        status INTEGER,
        response TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (merchant_id, idem_key));

CREATE TABLE IF NOT EXISTS idempotency_keys (
        merchant_id TEXT NOT NULL,
        service_id TEXT NOT NULL,
        idem_key TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        status INTEGER,
        response TEXT,
        created_at INTEGER NOT NULL,
        lease_until INTEGER NOT NULL,
        PRIMARY KEY (merchant_id, service_id, idem_key));

CREATE TABLE IF NOT EXISTS webhook_waiting (
        payment_id TEXT PRIMARY KEY,
        merchant_id TEXT NOT NULL,
        service_id TEXT NOT NULL,
        since INTEGER NOT NULL);

CREATE INDEX IF NOT EXISTS webhook_waiting_by_merchant ON webhook_waiting (merchant_id, service_id);

CREATE TABLE IF NOT EXISTS maintenance (
        id TEXT PRIMARY KEY,
        method TEXT NOT NULL,
        starts_at INTEGER NOT NULL,
        ends_at INTEGER NOT NULL,
        note TEXT);

CREATE TABLE IF NOT EXISTS sandbox_clock (id INTEGER PRIMARY KEY CHECK (id = 1), offset_seconds INTEGER NOT NULL);

CREATE TABLE IF NOT EXISTS au_links (
        merchant_id TEXT NOT NULL,
        service_id TEXT NOT NULL,
        cust_code TEXT NOT NULL,
        open_id TEXT NOT NULL,
        linked_at INTEGER NOT NULL,
        PRIMARY KEY (merchant_id, service_id, cust_code));
