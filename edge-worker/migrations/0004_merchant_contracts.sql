-- Migration 0004: a merchant's provider contract settings, set by
-- operators: whether its au Kantan Kessai contract adds the credit card or
-- WebMoney (the au seed's "Combination of payment methods" table decides
-- what au then takes), and its own NP postpaid limit.
CREATE TABLE IF NOT EXISTS merchant_contracts (
        merchant_id TEXT NOT NULL,
        service_id TEXT NOT NULL,
        au_credit_card INTEGER NOT NULL DEFAULT 0,
        au_webmoney INTEGER NOT NULL DEFAULT 0,
        np_limit_yen INTEGER,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (merchant_id, service_id));
