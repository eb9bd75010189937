-- Migration 0005: every operator API call (refused ones too): when, from
-- which IP, what, and how it was answered.
CREATE TABLE IF NOT EXISTS operator_audit (
        id TEXT PRIMARY KEY,
        at INTEGER NOT NULL,
        ip TEXT NOT NULL,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        status INTEGER NOT NULL,
        authorized INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS operator_audit_at ON operator_audit (at);
