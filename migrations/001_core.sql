-- Up Migration

-- Projects: the merchant's integration unit. project_id is what merchants put
-- in every request; test projects run against the built-in PayPal sandbox.
CREATE TABLE projects (
  id                       bigserial PRIMARY KEY,
  name                     text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  mode                     text NOT NULL CHECK (mode IN ('test', 'production')),
  secret_key               text NOT NULL,
  -- During a key rotation the previous key keeps verifying until this time.
  previous_secret_key      text,
  previous_secret_until    timestamptz,
  callback_url             text,
  -- What happens to a PayPal hold when it expires: release it (the spec's
  -- default) or capture it instead.
  hold_expiry_action       text NOT NULL DEFAULT 'cancel' CHECK (hold_expiry_action IN ('cancel', 'capture')),
  hold_period_seconds      integer NOT NULL DEFAULT 259200 CHECK (hold_period_seconds BETWEEN 60 AND 259200),
  paypal_enabled           boolean NOT NULL DEFAULT true,
  -- Production projects: the merchant's onboarded PayPal REST credentials.
  paypal_client_id         text,
  paypal_client_secret     text,
  -- Currency of the merchant's balance; sum_converted is in it (NULL: no conversion).
  settlement_currency      char(3),
  created_at               timestamptz NOT NULL DEFAULT now()
);
ALTER SEQUENCE projects_id_seq RESTART WITH 1001;

-- A payment is one settlement between merchant and customer; it has many
-- operations. Amounts are integer minor units; the CHECKs are the second line
-- of defence behind the row locks taken by capture, cancel and refund.
CREATE TABLE payments (
  id                       bigserial PRIMARY KEY,
  project_id               bigint NOT NULL REFERENCES projects (id),
  payment_id               text NOT NULL CHECK (length(payment_id) BETWEEN 1 AND 255),
  type                     text NOT NULL CHECK (type IN ('purchase', 'payout', 'recurring')),
  method                   text NOT NULL,
  status                   text NOT NULL CHECK (status IN ('processing', 'awaiting redirect result', 'awaiting capture',
                             'success', 'decline', 'canceled', 'refunded', 'partially refunded', 'error')),
  currency                 char(3) NOT NULL,
  amount_minor             bigint NOT NULL CHECK (amount_minor > 0),
  authorized_minor         bigint NOT NULL DEFAULT 0,
  captured_minor           bigint NOT NULL DEFAULT 0,
  refunded_minor           bigint NOT NULL DEFAULT 0,
  -- Refunds accepted but not yet final: reserved so concurrent refund
  -- requests can never promise more than was captured.
  refund_reserved_minor    bigint NOT NULL DEFAULT 0,
  description              text NOT NULL DEFAULT '',
  customer                 jsonb NOT NULL DEFAULT '{}',
  account_number           text,
  return_url               jsonb NOT NULL DEFAULT '{}',
  additional_data          jsonb,
  callback_url             text,
  callback_delay_seconds   integer NOT NULL DEFAULT 0,
  callback_disabled        boolean NOT NULL DEFAULT false,
  provider_order_id        text,
  provider_capture_id      text,
  provider_authorization_id text,
  payer                    jsonb,
  created_at               timestamptz NOT NULL DEFAULT now(),
  updated_at               timestamptz NOT NULL DEFAULT now(),
  UNIQUE (project_id, payment_id),
  CHECK (authorized_minor >= 0 AND captured_minor >= 0 AND refunded_minor >= 0 AND refund_reserved_minor >= 0),
  CHECK (captured_minor <= authorized_minor),
  CHECK (refunded_minor + refund_reserved_minor <= captured_minor)
);
CREATE INDEX payments_provider_order ON payments (provider_order_id) WHERE provider_order_id IS NOT NULL;

-- operation.id is a number unique on the platform.
CREATE SEQUENCE operation_ids START WITH 1000000000001;
CREATE TABLE operations (
  id                       bigint PRIMARY KEY DEFAULT nextval('operation_ids'),
  payment_ref              bigint NOT NULL REFERENCES payments (id),
  project_id               bigint NOT NULL REFERENCES projects (id),
  type                     text NOT NULL CHECK (type IN ('sale', 'auth', 'capture', 'cancel', 'refund', 'payout',
                             'recurring', 'recurring_cancel', 'chargeback')),
  status                   text NOT NULL CHECK (status IN ('processing', 'awaiting redirect result', 'success',
                             'decline', 'error', 'expired')),
  amount_minor             bigint NOT NULL CHECK (amount_minor >= 0),
  currency                 text NOT NULL,
  converted_amount_minor   bigint NOT NULL CHECK (converted_amount_minor >= 0),
  converted_currency       text NOT NULL,
  request_id               text NOT NULL UNIQUE,
  code                     text NOT NULL DEFAULT '9999',
  message                  text NOT NULL DEFAULT 'Awaiting processing',
  provider_payment_id      text NOT NULL DEFAULT '',
  provider_date            timestamptz,
  provider_response        jsonb,
  -- How many times a worker has called the provider for this operation; every
  -- call reuses request_id as PayPal-Request-Id, so retries are idempotent.
  provider_attempts        integer NOT NULL DEFAULT 0,
  created_at               timestamptz NOT NULL DEFAULT now(),
  completed_at             timestamptz
);
CREATE INDEX operations_payment ON operations (payment_ref, id);

-- Transactional outbox of callbacks: written in the same transaction as the
-- state change it reports; pg-boss jobs deliver it.
CREATE TABLE callbacks (
  id                       bigserial PRIMARY KEY,
  project_id               bigint NOT NULL REFERENCES projects (id),
  payment_ref              bigint NOT NULL REFERENCES payments (id),
  operation_id             bigint REFERENCES operations (id),
  kind                     text NOT NULL CHECK (kind IN ('intermediate', 'final')),
  url                      text NOT NULL,
  body                     text NOT NULL,
  status                   text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed', 'disabled')),
  attempts                 integer NOT NULL DEFAULT 0,
  next_attempt_at          timestamptz,
  created_at               timestamptz NOT NULL DEFAULT now(),
  delivered_at             timestamptz
);
CREATE INDEX callbacks_payment ON callbacks (payment_ref, id);

CREATE TABLE callback_attempts (
  id                       bigserial PRIMARY KEY,
  callback_id              bigint NOT NULL REFERENCES callbacks (id),
  attempt                  integer NOT NULL,
  attempted_at             timestamptz NOT NULL DEFAULT now(),
  http_status              integer,
  latency_ms               integer NOT NULL,
  response_excerpt         text,
  error                    text
);
CREATE INDEX callback_attempts_callback ON callback_attempts (callback_id, attempt);

-- PayPal webhook events already applied (PayPal may deliver an event twice).
CREATE TABLE provider_events (
  provider                 text NOT NULL,
  event_id                 text NOT NULL,
  event_type               text NOT NULL,
  received_at              timestamptz NOT NULL DEFAULT now(),
  body                     jsonb NOT NULL,
  PRIMARY KEY (provider, event_id)
);

-- Operator-maintained FX table: units of `quote` per one unit of `base`,
-- as an exact decimal. Used for the USD purchase maximum and sum_converted.
CREATE TABLE fx_rates (
  base                     char(3) NOT NULL,
  quote                    char(3) NOT NULL,
  rate                     numeric(24, 12) NOT NULL CHECK (rate > 0),
  updated_at               timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (base, quote)
);

-- Starting rates (units per 1 USD); operators replace them with their own.
INSERT INTO fx_rates (base, quote, rate) VALUES
  ('USD', 'USD', 1), ('USD', 'AUD', 1.53), ('USD', 'BRL', 5.40), ('USD', 'CAD', 1.38), ('USD', 'CZK', 21.0),
  ('USD', 'DKK', 6.40), ('USD', 'EUR', 0.86), ('USD', 'HKD', 7.78), ('USD', 'HUF', 335), ('USD', 'INR', 88.0),
  ('USD', 'ILS', 3.30), ('USD', 'JPY', 150), ('USD', 'MYR', 4.20), ('USD', 'MXN', 18.4), ('USD', 'TWD', 30.5),
  ('USD', 'NZD', 1.74), ('USD', 'NOK', 10.1), ('USD', 'PHP', 58.5), ('USD', 'PLN', 3.65), ('USD', 'GBP', 0.75),
  ('USD', 'SGD', 1.30), ('USD', 'SEK', 9.45), ('USD', 'CHF', 0.80), ('USD', 'THB', 32.5);

-- Platform-wide settings generated on first start (e.g. the sandbox's OAuth
-- secret), so every node of a cluster agrees on them.
CREATE TABLE settings (
  key                      text PRIMARY KEY,
  value                    text NOT NULL
);
