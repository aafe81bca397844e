-- Up Migration

-- State of the PayPal sandbox (src/sandbox/paypal/). It lives in its own schema
-- and refers to nothing outside it, so it can run before or after the core
-- tables and can be dropped as a whole. Money is integer minor units plus a
-- currency; the decimal strings PayPal speaks are made at the HTTP edge.

CREATE SCHEMA paypal_sandbox;

CREATE TABLE paypal_sandbox.orders (
  id               text PRIMARY KEY,
  intent           text NOT NULL CHECK (intent IN ('CAPTURE', 'AUTHORIZE')),
  status           text NOT NULL CHECK (status IN ('CREATED', 'PAYER_ACTION_REQUIRED', 'APPROVED', 'COMPLETED')),
  currency         text NOT NULL,
  amount_minor     bigint NOT NULL CHECK (amount_minor > 0),
  -- What the merchant sent and we echo back: purchase unit fields, return and
  -- cancel URLs, brand name, vault instruction or the vault id it pays with.
  details          jsonb NOT NULL,
  -- Set when the payer approves (or from the vault token for merchant-initiated orders).
  payer            jsonb,
  -- The payment token created by `store_in_vault: ON_SUCCESS` once the order completed.
  vault_token_id   text,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL
);

CREATE TABLE paypal_sandbox.authorizations (
  id               text PRIMARY KEY,
  order_id         text NOT NULL REFERENCES paypal_sandbox.orders (id),
  status           text NOT NULL CHECK (status IN ('CREATED', 'PARTIALLY_CAPTURED', 'CAPTURED', 'VOIDED')),
  currency         text NOT NULL,
  amount_minor     bigint NOT NULL CHECK (amount_minor > 0),
  captured_minor   bigint NOT NULL DEFAULT 0,
  expires_at       timestamptz NOT NULL,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  -- Second line behind the row lock: an authorization is never over-captured.
  CHECK (captured_minor >= 0 AND captured_minor <= amount_minor)
);
CREATE INDEX ON paypal_sandbox.authorizations (order_id);

CREATE TABLE paypal_sandbox.captures (
  id               text PRIMARY KEY,
  order_id         text NOT NULL REFERENCES paypal_sandbox.orders (id),
  authorization_id text REFERENCES paypal_sandbox.authorizations (id),
  status           text NOT NULL CHECK (status IN ('PENDING', 'COMPLETED', 'DECLINED', 'PARTIALLY_REFUNDED', 'REFUNDED')),
  status_reason    text,
  currency         text NOT NULL,
  amount_minor     bigint NOT NULL CHECK (amount_minor > 0),
  refunded_minor   bigint NOT NULL DEFAULT 0,
  final_capture    boolean NOT NULL,
  invoice_id       text,
  custom_id        text,
  note_to_payer    text,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  -- Second line behind the row lock: refunds never exceed the capture.
  CHECK (refunded_minor >= 0 AND refunded_minor <= amount_minor)
);
CREATE INDEX ON paypal_sandbox.captures (order_id);
CREATE INDEX ON paypal_sandbox.captures (authorization_id);

CREATE TABLE paypal_sandbox.refunds (
  id               text PRIMARY KEY,
  capture_id       text NOT NULL REFERENCES paypal_sandbox.captures (id),
  status           text NOT NULL CHECK (status IN ('COMPLETED', 'PENDING', 'FAILED', 'CANCELLED')),
  currency         text NOT NULL,
  amount_minor     bigint NOT NULL CHECK (amount_minor > 0),
  invoice_id       text,
  custom_id        text,
  note_to_payer    text,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL
);
CREATE INDEX ON paypal_sandbox.refunds (capture_id);

CREATE TABLE paypal_sandbox.vault_tokens (
  id               text PRIMARY KEY,
  customer_id      text NOT NULL,
  status           text NOT NULL CHECK (status IN ('VAULTED', 'DELETED')),
  usage_type       text NOT NULL,
  customer_type    text NOT NULL,
  payer            jsonb NOT NULL,
  order_id         text NOT NULL REFERENCES paypal_sandbox.orders (id),
  created_at       timestamptz NOT NULL,
  deleted_at       timestamptz
);

CREATE TABLE paypal_sandbox.payout_batches (
  id                  text PRIMARY KEY,
  sender_batch_id     text UNIQUE,
  sender_batch_header jsonb NOT NULL,
  status              text NOT NULL CHECK (status IN ('PENDING', 'SUCCESS')),
  created_at          timestamptz NOT NULL,
  completed_at        timestamptz
);

CREATE TABLE paypal_sandbox.payout_items (
  id               text PRIMARY KEY,
  batch_id         text NOT NULL REFERENCES paypal_sandbox.payout_batches (id),
  position         integer NOT NULL,
  recipient_type   text NOT NULL,
  receiver         text NOT NULL,
  currency         text NOT NULL,
  amount_minor     bigint NOT NULL CHECK (amount_minor > 0),
  note             text,
  sender_item_id   text,
  status           text NOT NULL CHECK (status IN ('PENDING', 'SUCCESS', 'FAILED', 'UNCLAIMED')),
  transaction_id   text,
  error            jsonb,
  processed_at     timestamptz,
  UNIQUE (batch_id, position)
);

CREATE TABLE paypal_sandbox.disputes (
  id               text PRIMARY KEY,
  capture_id       text NOT NULL REFERENCES paypal_sandbox.captures (id),
  reason           text NOT NULL,
  status           text NOT NULL,
  life_cycle_stage text NOT NULL,
  currency         text NOT NULL,
  amount_minor     bigint NOT NULL CHECK (amount_minor > 0),
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL
);
CREATE INDEX ON paypal_sandbox.disputes (capture_id);

-- PayPal-Request-Id: the first successful response per (endpoint, request id),
-- written in the same transaction as the effect it describes.
CREATE TABLE paypal_sandbox.idempotency_records (
  endpoint         text NOT NULL,
  request_id       text NOT NULL,
  status_code      integer NOT NULL,
  response_body    text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (endpoint, request_id)
);

-- Scenario "09": the first create-order attempt per request key answers 503.
CREATE TABLE paypal_sandbox.first_attempt_failures (
  endpoint         text NOT NULL,
  request_key      text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (endpoint, request_key)
);

-- Work that happens later: a pending capture settles, a payout batch completes.
CREATE TABLE paypal_sandbox.scheduled_work (
  kind             text NOT NULL CHECK (kind IN ('settle_capture', 'settle_payout_batch')),
  resource_id      text NOT NULL,
  due_at           timestamptz NOT NULL,
  PRIMARY KEY (kind, resource_id)
);
CREATE INDEX ON paypal_sandbox.scheduled_work (due_at);

-- Webhook events exactly as sent (the body text is what the signature covers).
CREATE TABLE paypal_sandbox.webhook_events (
  id               text PRIMARY KEY,
  event_type       text NOT NULL,
  resource_type    text NOT NULL,
  resource_id      text NOT NULL,
  body             text NOT NULL,
  created_at       timestamptz NOT NULL
);
CREATE INDEX ON paypal_sandbox.webhook_events (resource_id);

-- One row per copy to send (two for the duplicate-webhook scenario). A row is
-- finished when next_attempt_at is NULL: delivered, or out of attempts.
CREATE TABLE paypal_sandbox.webhook_deliveries (
  id               bigserial PRIMARY KEY,
  event_id         text NOT NULL REFERENCES paypal_sandbox.webhook_events (id),
  copy_number      smallint NOT NULL,
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz,
  delivered_at     timestamptz,
  last_status_code integer,
  last_error       text,
  UNIQUE (event_id, copy_number)
);
CREATE INDEX ON paypal_sandbox.webhook_deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

-- The RSA key and self-signed certificate that sign webhooks. One row, made on
-- first start, kept so signatures stay verifiable across restarts.
CREATE TABLE paypal_sandbox.signing_keys (
  singleton        boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  certificate_id   text NOT NULL,
  private_key_pem  text NOT NULL,
  certificate_pem  text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now()
);
