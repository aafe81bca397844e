-- Up Migration

-- Production projects' PayPal client secrets are kept encrypted (AES-256-GCM,
-- src/security/credentials.ts) with a key that is never in the database.
-- The key is not known here, so SQL cannot encrypt: every node seals what is
-- left in the old plain-text column when it starts with a key (and clears
-- it), and re-seals values a rotated-out key sealed. Nothing writes the
-- plain-text column any more.
ALTER TABLE projects
  ADD COLUMN paypal_client_secret_sealed text,
  -- Shown instead of the secret (the Dashboard, the CLI, the audit log).
  ADD COLUMN paypal_client_secret_last4 text,
  ADD COLUMN paypal_credentials_updated_at timestamptz,
  ADD CONSTRAINT projects_paypal_secret_sealed_format CHECK (paypal_client_secret_sealed IS NULL OR paypal_client_secret_sealed LIKE 'v1.%'),
  -- A secret without its client id is useless; test projects use the built-in sandbox's.
  ADD CONSTRAINT projects_paypal_credentials_complete CHECK (
    paypal_client_secret_sealed IS NULL OR (paypal_client_id IS NOT NULL AND paypal_client_secret_last4 IS NOT NULL AND mode = 'production'));

COMMENT ON COLUMN projects.paypal_client_secret IS
  'Before 008: the PayPal client secret in plain text. A node with CREDENTIALS_ENCRYPTION_KEY moves it into paypal_client_secret_sealed at start.';
