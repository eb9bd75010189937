-- Migration 0008: the administration tool's staff users (roles viewer,
-- operator, administrator; optional TOTP second factor with hashed
-- one-time recovery codes; per-user lockout), their sessions (with a CSRF
-- token each), and the audit log of sign-ins, actions and setting changes.
CREATE TABLE IF NOT EXISTS admin_users (
        merchant_id TEXT NOT NULL,
        service_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        role TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        totp_secret TEXT,
        totp_pending TEXT,
        totp_last_step INTEGER,
        recovery_codes TEXT,
        failures INTEGER NOT NULL DEFAULT 0,
        locked_until INTEGER,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (merchant_id, service_id, user_id));

CREATE TABLE IF NOT EXISTS admin_user_sessions (
        token_hash TEXT PRIMARY KEY,
        merchant_id TEXT NOT NULL,
        service_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        csrf_token TEXT NOT NULL,
        expires_at INTEGER NOT NULL);

CREATE INDEX IF NOT EXISTS admin_user_sessions_by_user ON admin_user_sessions (merchant_id, service_id, user_id);

CREATE TABLE IF NOT EXISTS admin_audit (
        id TEXT PRIMARY KEY,
        merchant_id TEXT NOT NULL,
        service_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        user_id TEXT,
        ip TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT,
        status INTEGER NOT NULL,
        before TEXT,
        after TEXT);

CREATE INDEX IF NOT EXISTS admin_audit_by_merchant ON admin_audit (merchant_id, service_id, at);
