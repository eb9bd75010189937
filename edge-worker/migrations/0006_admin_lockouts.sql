-- Migration 0006: failed administration sign-ins per merchant; five in a
-- row lock it for 15 minutes.
CREATE TABLE IF NOT EXISTS admin_lockouts (
        merchant_id TEXT NOT NULL,
        service_id TEXT NOT NULL,
        failures INTEGER NOT NULL,
        locked_until INTEGER,
        PRIMARY KEY (merchant_id, service_id));
