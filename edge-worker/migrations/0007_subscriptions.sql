-- Migration 0007: recurring billing. Each subscription is owned by its own
-- Durable Object (SubscriptionObject); this is its index: the merchant
-- API's list, and the monthly run's page through what is due
-- (`next_billing_at`, `enqueued_at` while a billing message is queued).
-- A merchant's recurring options (first month, retry days, suspension)
-- live beside the merchant row.
CREATE TABLE IF NOT EXISTS subscriptions (
        subscription_id TEXT PRIMARY KEY,
        merchant_id TEXT NOT NULL,
        service_id TEXT NOT NULL,
        cust_code TEXT,
        order_id TEXT NOT NULL,
        method TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        amount INTEGER NOT NULL,
        item_name TEXT NOT NULL,
        next_billing_at INTEGER,
        enqueued_at INTEGER,
        registration_payment_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS subscriptions_by_merchant ON subscriptions (merchant_id, service_id, created_at);
CREATE INDEX IF NOT EXISTS subscriptions_due ON subscriptions (next_billing_at, subscription_id);
CREATE TABLE IF NOT EXISTS merchant_recurring (
        merchant_id TEXT NOT NULL,
        service_id TEXT NOT NULL,
        options TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (merchant_id, service_id));
