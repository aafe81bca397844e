-- Up Migration

-- Dashboard, Data API, balances and reports (issue 5).

-- A merchant owns projects; its users sign in to the Dashboard. Projects made
-- before merchants existed (CLI, demo) keep merchant_id NULL and are visible
-- to operators only.
CREATE TABLE merchants (
  id                       bigserial PRIMARY KEY,
  name                     text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  created_at               timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE projects ADD COLUMN merchant_id bigint REFERENCES merchants (id);
CREATE INDEX projects_merchant ON projects (merchant_id, id);

-- Dashboard users. Merchant users belong to one merchant; operators to none.
-- password_hash is self-describing ("scrypt$N$r$p$salt$hash"). Ten failed
-- sign-ins in a row lock the account for 30 minutes (locked_until).
CREATE TABLE users (
  id                       bigserial PRIMARY KEY,
  email                    text NOT NULL CHECK (length(email) BETWEEN 3 AND 254 AND email ~ '^[^@\s]+@[^@\s]+$'),
  role                     text NOT NULL CHECK (role IN ('merchant_admin', 'merchant_viewer', 'operator')),
  merchant_id              bigint REFERENCES merchants (id),
  password_hash            text NOT NULL,
  failed_sign_ins          integer NOT NULL DEFAULT 0 CHECK (failed_sign_ins >= 0),
  locked_until             timestamptz,
  disabled                 boolean NOT NULL DEFAULT false,
  created_at               timestamptz NOT NULL DEFAULT now(),
  CHECK ((role = 'operator') = (merchant_id IS NULL))
);
CREATE UNIQUE INDEX users_email_unique ON users (lower(email));
CREATE INDEX users_merchant ON users (merchant_id, id);

-- Dashboard sessions: only the SHA-256 of the cookie's random token is kept,
-- so a database leak does not hand out live sessions. The CSRF token is the
-- synchronizer token every state-changing request must echo in x-csrf-token.
CREATE TABLE dashboard_sessions (
  token_sha256             bytea PRIMARY KEY CHECK (length(token_sha256) = 32),
  user_id                  bigint NOT NULL REFERENCES users (id),
  csrf_token               text NOT NULL,
  created_at               timestamptz NOT NULL,
  last_seen_at             timestamptz NOT NULL,
  ip_address               text
);
CREATE INDEX dashboard_sessions_user ON dashboard_sessions (user_id);

-- Append-only audit log of every admin action. The triggers refuse UPDATE,
-- DELETE and TRUNCATE for every role, the owner included.
CREATE TABLE audit_log (
  id                       bigserial PRIMARY KEY,
  at                       timestamptz NOT NULL DEFAULT now(),
  actor_user_id            bigint REFERENCES users (id),
  actor_email              text,
  merchant_id              bigint REFERENCES merchants (id),
  action                   text NOT NULL,
  target_type              text,
  target_id                text,
  outcome                  text NOT NULL CHECK (outcome IN ('success', 'failure')),
  details                  jsonb NOT NULL DEFAULT '{}',
  ip_address               text
);
CREATE INDEX audit_log_merchant ON audit_log (merchant_id, id);

CREATE FUNCTION refuse_change_of_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION refuse_change_of_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_of_append_only();

-- Data API keys: per user, HMAC secrets (so kept as is, like project secret
-- keys); a user may hold several while rotating. Shown once when created.
CREATE TABLE data_api_keys (
  id                       bigserial PRIMARY KEY,
  user_id                  bigint NOT NULL REFERENCES users (id),
  secret_key               text NOT NULL,
  label                    text NOT NULL DEFAULT '' CHECK (length(label) <= 100),
  created_at               timestamptz NOT NULL DEFAULT now(),
  revoked_at               timestamptz
);
CREATE INDEX data_api_keys_active ON data_api_keys (user_id) WHERE revoked_at IS NULL;

-- Fees a project pays per successful operation type (none unless configured).
CREATE TABLE project_fees (
  project_id               bigint NOT NULL REFERENCES projects (id),
  operation_type           text NOT NULL CHECK (operation_type IN ('sale', 'capture', 'recurring', 'refund', 'payout', 'chargeback')),
  percent_basis_points     integer NOT NULL DEFAULT 0 CHECK (percent_basis_points BETWEEN 0 AND 10000),
  fixed_minor              bigint NOT NULL DEFAULT 0 CHECK (fixed_minor >= 0),
  PRIMARY KEY (project_id, operation_type)
);

-- Double-entry ledger. One ledger transaction per successful money-moving
-- operation, written in the transaction that makes the operation final.
-- Each transfer "from A to B" is a debit entry on A and a credit entry on B;
-- an account's position is credits minus debits. Balances are sums of
-- entries, never stored. Entries are append-only; a deferred constraint
-- trigger refuses to commit a transaction whose debits and credits differ.
CREATE TABLE ledger_transactions (
  id                       bigserial PRIMARY KEY,
  project_id               bigint NOT NULL REFERENCES projects (id),
  payment_ref              bigint NOT NULL REFERENCES payments (id),
  operation_id             bigint NOT NULL UNIQUE REFERENCES operations (id),
  operation_type           text NOT NULL,
  booked_at                timestamptz NOT NULL
);
CREATE INDEX ledger_transactions_payment ON ledger_transactions (payment_ref);

CREATE TABLE ledger_entries (
  id                       bigserial PRIMARY KEY,
  transaction_id           bigint NOT NULL REFERENCES ledger_transactions (id),
  project_id               bigint NOT NULL REFERENCES projects (id),
  account                  text NOT NULL CHECK (account IN ('customer_funds', 'merchant_balance', 'payouts_out', 'chargebacks', 'fees')),
  currency                 char(3) NOT NULL,
  side                     text NOT NULL CHECK (side IN ('debit', 'credit')),
  amount_minor             bigint NOT NULL CHECK (amount_minor > 0)
);
CREATE INDEX ledger_entries_balance ON ledger_entries (project_id, account, currency);
CREATE INDEX ledger_entries_transaction ON ledger_entries (transaction_id);

CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions
  FOR EACH ROW EXECUTE FUNCTION refuse_change_of_append_only();
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION refuse_change_of_append_only();
CREATE TRIGGER ledger_transactions_no_truncate BEFORE TRUNCATE ON ledger_transactions
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_of_append_only();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_of_append_only();

CREATE FUNCTION ledger_transaction_must_balance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (
    SELECT 1 FROM ledger_entries WHERE transaction_id = NEW.transaction_id
     GROUP BY currency
    HAVING sum(CASE side WHEN 'debit' THEN amount_minor ELSE -amount_minor END) <> 0
  ) THEN
    RAISE EXCEPTION 'ledger transaction % does not balance', NEW.transaction_id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_transaction_must_balance();

-- Operations that became final before the ledger existed get their entries
-- now (no fees: none were configured then).
INSERT INTO ledger_transactions (project_id, payment_ref, operation_id, operation_type, booked_at)
SELECT project_id, payment_ref, id, type, COALESCE(completed_at, created_at)
  FROM operations
 WHERE status = 'success' AND amount_minor > 0 AND type IN ('sale', 'capture', 'recurring', 'refund', 'payout', 'chargeback');
INSERT INTO ledger_entries (transaction_id, project_id, account, currency, side, amount_minor)
SELECT t.id, t.project_id, leg.account, o.currency, leg.side, o.amount_minor
  FROM ledger_transactions t
  JOIN operations o ON o.id = t.operation_id
  CROSS JOIN LATERAL (VALUES
    (CASE o.type WHEN 'refund' THEN 'merchant_balance' WHEN 'payout' THEN 'merchant_balance' WHEN 'chargeback' THEN 'merchant_balance' ELSE 'customer_funds' END, 'debit'),
    (CASE o.type WHEN 'refund' THEN 'customer_funds' WHEN 'payout' THEN 'payouts_out' WHEN 'chargeback' THEN 'chargebacks' ELSE 'merchant_balance' END, 'credit')
  ) AS leg (account, side);

-- Mass payouts: a CSV is validated row by row when uploaded (nothing is
-- sent then); starting the batch sends its valid rows from a job.
CREATE TABLE mass_payout_batches (
  id                       bigserial PRIMARY KEY,
  project_id               bigint NOT NULL REFERENCES projects (id),
  created_by               bigint NOT NULL REFERENCES users (id),
  file_name                text NOT NULL DEFAULT '',
  status                   text NOT NULL CHECK (status IN ('validated', 'running', 'done', 'cancelled')),
  rows_total               integer NOT NULL CHECK (rows_total >= 0),
  rows_rejected            integer NOT NULL CHECK (rows_rejected >= 0),
  customer_ip_address      text NOT NULL,
  created_at               timestamptz NOT NULL DEFAULT now(),
  started_at               timestamptz,
  finished_at              timestamptz
);
CREATE INDEX mass_payout_batches_project ON mass_payout_batches (project_id, id);
CREATE INDEX mass_payout_batches_running ON mass_payout_batches (id) WHERE status = 'running';

CREATE TABLE mass_payout_rows (
  batch_id                 bigint NOT NULL REFERENCES mass_payout_batches (id),
  row_number               integer NOT NULL CHECK (row_number > 0),
  status                   text NOT NULL CHECK (status IN ('rejected', 'pending', 'accepted', 'failed')),
  payment_id               text,
  amount_minor             bigint,
  currency                 char(3),
  account_number           text,
  customer_id              text,
  description              text,
  raw                      jsonb NOT NULL,
  error                    text,
  request_id               text,
  processed_at             timestamptz,
  PRIMARY KEY (batch_id, row_number),
  CHECK (status = 'rejected' OR (payment_id IS NOT NULL AND amount_minor > 0 AND currency IS NOT NULL AND account_number IS NOT NULL))
);
CREATE INDEX mass_payout_rows_pending ON mass_payout_rows (batch_id, row_number) WHERE status = 'pending';

-- Reports: generated CSV files kept in the database (every node can serve
-- them) in chunks of at most 1 MiB, so neither writing nor reading holds a
-- whole report in memory.
CREATE TABLE report_schedules (
  id                       bigserial PRIMARY KEY,
  merchant_id              bigint NOT NULL REFERENCES merchants (id),
  project_id               bigint REFERENCES projects (id),
  kind                     text NOT NULL CHECK (kind IN ('payments', 'operations')),
  frequency                text NOT NULL CHECK (frequency IN ('daily', 'weekly', 'monthly')),
  next_run_at              timestamptz NOT NULL,
  created_by               bigint NOT NULL REFERENCES users (id),
  created_at               timestamptz NOT NULL DEFAULT now(),
  deleted_at               timestamptz
);
CREATE INDEX report_schedules_due ON report_schedules (next_run_at) WHERE deleted_at IS NULL;

CREATE TABLE report_files (
  id                       bigserial PRIMARY KEY,
  merchant_id              bigint NOT NULL REFERENCES merchants (id),
  project_id               bigint REFERENCES projects (id),
  schedule_id              bigint REFERENCES report_schedules (id),
  kind                     text NOT NULL CHECK (kind IN ('payments', 'operations')),
  period_from              timestamptz NOT NULL,
  period_to                timestamptz NOT NULL,
  row_count                integer NOT NULL CHECK (row_count >= 0),
  byte_count               bigint NOT NULL CHECK (byte_count >= 0),
  created_by               bigint REFERENCES users (id),
  created_at               timestamptz NOT NULL DEFAULT now(),
  UNIQUE (schedule_id, period_from)
);
CREATE INDEX report_files_merchant ON report_files (merchant_id, id);

CREATE TABLE report_file_chunks (
  report_id                bigint NOT NULL REFERENCES report_files (id),
  sequence                 integer NOT NULL CHECK (sequence >= 0),
  data                     bytea NOT NULL,
  PRIMARY KEY (report_id, sequence)
);

-- PayPal onboarding per project (the method guide's five steps), revocable.
CREATE TABLE paypal_onboarding (
  project_id               bigint PRIMARY KEY REFERENCES projects (id),
  state                    text NOT NULL CHECK (state IN ('requested', 'link_sent', 'rights_granted', 'set_up', 'ready', 'revoked')),
  onboarding_link          text,
  paypal_merchant_id       text,
  permissions              text[] NOT NULL DEFAULT ARRAY[]::text[] CHECK (permissions <@ ARRAY['purchases_refunds', 'payouts']::text[]),
  updated_at               timestamptz NOT NULL DEFAULT now(),
  CHECK (state NOT IN ('rights_granted', 'set_up', 'ready') OR (paypal_merchant_id IS NOT NULL AND cardinality(permissions) > 0))
);

-- PCI DSS documents per merchant: ASV scans (quarterly, all merchants), AOC
-- (above 6,000,000 operations a year) or SAQ (below).
CREATE TABLE pci_documents (
  id                       bigserial PRIMARY KEY,
  merchant_id              bigint NOT NULL REFERENCES merchants (id),
  kind                     text NOT NULL CHECK (kind IN ('asv_scan', 'aoc', 'saq')),
  issued_on                date NOT NULL,
  valid_until              date NOT NULL,
  reference                text NOT NULL DEFAULT '' CHECK (length(reference) <= 500),
  added_by                 bigint REFERENCES users (id),
  created_at               timestamptz NOT NULL DEFAULT now(),
  CHECK (valid_until >= issued_on)
);
CREATE INDEX pci_documents_merchant ON pci_documents (merchant_id, kind, valid_until);

-- Listing, search and export of payments and operations.
CREATE INDEX payments_dashboard_list ON payments (project_id, created_at DESC, id DESC);
CREATE INDEX payments_dashboard_customer ON payments (project_id, (customer ->> 'id'));
CREATE INDEX payments_dashboard_account ON payments (project_id, account_number) WHERE account_number IS NOT NULL;
CREATE INDEX operations_dashboard_list ON operations (project_id, created_at, id);
