-- Content-Security-Policy violations the hosted page's browsers reported
-- (POST /csp-report; operators list them at GET /operator/csp-reports).
CREATE TABLE IF NOT EXISTS csp_reports (
    id TEXT PRIMARY KEY,
    received_at INTEGER NOT NULL,
    document_uri TEXT NOT NULL,
    directive TEXT NOT NULL,
    blocked_uri TEXT NOT NULL,
    report TEXT NOT NULL);
