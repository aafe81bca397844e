-- Up Migration

-- Payment links: a merchant creates one with POST /v2/payment-links and sends
-- its URL (/pay/<id>) to a customer. Every payment made through a link gets
-- the payment_id link-<id>-<attempt>; `attempts` counts them (under the
-- link's row lock) so the numbers never repeat.
CREATE TABLE payment_links (
  id                       text PRIMARY KEY CHECK (id ~ '^[a-z0-9]{16,32}$'),
  project_id               bigint NOT NULL REFERENCES projects (id),
  amount_minor             bigint NOT NULL CHECK (amount_minor > 0),
  currency                 char(3) NOT NULL,
  description              text NOT NULL DEFAULT '' CHECK (length(description) <= 255),
  single_use               boolean NOT NULL,
  expires_at               timestamptz,
  attempts                 integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  created_at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_links_project ON payment_links (project_id, created_at);

-- One row per payment the Payment Page shows: written when a signed page URL
-- is first opened (or when a customer starts paying through a link), before
-- the payment exists. `token` is the unguessable key in the customer's
-- waiting and result URLs. `fingerprint` is a digest of the parameters that
-- define the payment: a second URL with the same payment_id must match it.
-- UNIQUE (project_id, payment_id) is the backstop against two pages for one
-- payment; the payments table's own UNIQUE (project_id, payment_id) is the
-- backstop against two payments.
CREATE TABLE payment_page_sessions (
  token                    text PRIMARY KEY CHECK (token ~ '^[A-Za-z0-9_-]{32}$'),
  project_id               bigint NOT NULL REFERENCES projects (id),
  payment_id               text NOT NULL CHECK (length(payment_id) BETWEEN 1 AND 255),
  fingerprint              text NOT NULL,
  language_code            text NOT NULL,
  success_url              text,
  fail_url                 text,
  link_id                  text REFERENCES payment_links (id),
  link_attempt             integer CHECK (link_attempt > 0),
  -- The random number of the link page the customer submitted: a double
  -- submit or a resubmitted form finds the same attempt.
  link_nonce               text,
  -- When the customer chose a method (the payment was started), and when
  -- they came back from the wallet (result page). Real time, not a test clock:
  -- they pace the page's refreshes.
  started_at               timestamptz,
  returned_at              timestamptz,
  created_at               timestamptz NOT NULL DEFAULT now(),
  UNIQUE (project_id, payment_id),
  UNIQUE (link_id, link_attempt),
  UNIQUE (link_id, link_nonce),
  CHECK ((link_id IS NULL) = (link_attempt IS NULL) AND (link_id IS NULL) = (link_nonce IS NULL))
);
CREATE INDEX payment_page_sessions_link ON payment_page_sessions (link_id, link_attempt) WHERE link_id IS NOT NULL;
