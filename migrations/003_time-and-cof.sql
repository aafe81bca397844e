-- Up Migration

-- Test clocks (as Stripe's): a test project may freeze its time and move it
-- forward; every time rule of that project reads this clock. Production
-- projects always run on real time.
ALTER TABLE projects ADD COLUMN test_clock_at timestamptz;
ALTER TABLE projects ADD CONSTRAINT projects_test_clock_only_in_test CHECK (mode = 'test' OR test_clock_at IS NULL);

-- COF purchase registrations (the spec's `recurring` object). `id` is the
-- number merchants get in the registration callback's recurring.id.
CREATE SEQUENCE recurring_ids START WITH 11001;
CREATE TABLE recurring_registrations (
  id                       bigint PRIMARY KEY DEFAULT nextval('recurring_ids'),
  project_id               bigint NOT NULL REFERENCES projects (id),
  payment_ref              bigint NOT NULL REFERENCES payments (id),
  type                     char(1) NOT NULL CHECK (type IN ('R', 'U')),
  status                   text NOT NULL CHECK (status IN ('pending', 'active', 'cancelled', 'expired', 'failed')),
  currency                 char(3) NOT NULL,
  amount_minor             bigint CHECK (amount_minor > 0),
  period                   char(1) CHECK (period IN ('D', 'W', 'M', 'Q', 'Y')),
  interval_count           integer NOT NULL DEFAULT 1 CHECK (interval_count BETWEEN 1 AND 100),
  debit_time               time,
  start_date               date,
  expiry_date              date,
  scheduled_payment_id     text,
  vault_id                 text,
  debits_scheduled         integer NOT NULL DEFAULT 0,
  created_at               timestamptz NOT NULL DEFAULT now(),
  cancelled_at             timestamptz,
  UNIQUE (project_id, scheduled_payment_id),
  UNIQUE (payment_ref)
);

ALTER TABLE payments ADD COLUMN recurring_id bigint REFERENCES recurring_registrations (id);
ALTER TABLE payments ADD COLUMN chargeback_minor bigint NOT NULL DEFAULT 0 CHECK (chargeback_minor >= 0);

-- Everything that must happen at a time: hold expiry, threshold declines,
-- scheduled COF debits. `due_at` is in the project's clock. A worker takes a
-- due task with FOR UPDATE SKIP LOCKED and performs it in the same
-- transaction that marks it done, so each task happens exactly once even with
-- several nodes and crashes; `dedupe_key` stops a task from being planned twice.
CREATE TABLE scheduled_tasks (
  id                       bigserial PRIMARY KEY,
  project_id               bigint NOT NULL REFERENCES projects (id),
  kind                     text NOT NULL CHECK (kind IN ('hold_expiry', 'threshold', 'recurring_debit')),
  subject_id               bigint NOT NULL,
  due_at                   timestamptz NOT NULL,
  status                   text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'cancelled')),
  dedupe_key               text NOT NULL UNIQUE,
  -- A task whose handler failed is retried a minute later, at most 10 times.
  attempts                 integer NOT NULL DEFAULT 0,
  last_error               text,
  created_at               timestamptz NOT NULL DEFAULT now(),
  done_at                  timestamptz
);
CREATE INDEX scheduled_tasks_due ON scheduled_tasks (due_at, id) WHERE status = 'pending';
CREATE INDEX scheduled_tasks_subject ON scheduled_tasks (kind, subject_id) WHERE status = 'pending';

ALTER TABLE operations DROP CONSTRAINT operations_type_check;
ALTER TABLE operations ADD CONSTRAINT operations_type_check CHECK (type IN ('sale', 'auth', 'capture', 'cancel', 'refund', 'payout',
  'recurring', 'recurring_cancel', 'chargeback'));
