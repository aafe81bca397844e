-- Up Migration

-- Notifications to merchants (issue 5: reminders before a PCI DSS document
-- expires, when it has expired, when a required one is missing). Each node's
-- scheduler sweeps the documents and inserts the reminders that fell due; the
-- unique constraints make each reminder exist once, whichever node (or how
-- many at once) found it.
CREATE TABLE notifications (
  id                       bigserial PRIMARY KEY,
  merchant_id              bigint NOT NULL REFERENCES merchants (id),
  kind                     text NOT NULL CHECK (kind IN ('pci_document_expiring', 'pci_document_expired', 'pci_document_missing')),
  document_kind            text NOT NULL CHECK (document_kind IN ('asv_scan', 'aoc', 'saq')),
  -- The document the reminder is about; none for a missing one.
  pci_document_id          bigint REFERENCES pci_documents (id),
  -- Days before valid_until this reminder stands for (30, 14, 7, 1); expiring reminders only.
  offset_days              integer CHECK (offset_days > 0),
  valid_until              date,
  title                    text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  body                     text NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
  -- pci:<document id>:<offset days|expired>, or pci:missing:<kind>:<quarter> (one per calendar quarter while missing).
  dedupe_key               text NOT NULL CHECK (length(dedupe_key) <= 200),
  -- The platform clock when the reminder fell due and was made.
  created_at               timestamptz NOT NULL,
  CONSTRAINT notifications_dedupe UNIQUE (merchant_id, dedupe_key),
  CHECK ((kind = 'pci_document_expiring') = (offset_days IS NOT NULL)),
  CHECK ((kind = 'pci_document_missing') = (pci_document_id IS NULL)),
  CHECK ((kind = 'pci_document_missing') = (valid_until IS NULL))
);
-- The second line behind the dedupe key: one reminder per document and offset (the expired notice has offset NULL).
CREATE UNIQUE INDEX notifications_document_offset ON notifications (pci_document_id, kind, offset_days) NULLS NOT DISTINCT
  WHERE pci_document_id IS NOT NULL;
CREATE INDEX notifications_merchant ON notifications (merchant_id, id DESC);

-- Read state per user: each of a merchant's users has their own unread badge.
CREATE TABLE notification_reads (
  notification_id          bigint NOT NULL REFERENCES notifications (id),
  user_id                  bigint NOT NULL REFERENCES users (id),
  read_at                  timestamptz NOT NULL,
  PRIMARY KEY (user_id, notification_id)
);

-- E-mail copies (when SMTP is configured): one row per notification and
-- recipient (the merchant's admins when it was made), sent by a pg-boss job at
-- least once, retried with growing gaps, then marked failed.
CREATE TABLE notification_emails (
  id                       bigserial PRIMARY KEY,
  notification_id          bigint NOT NULL REFERENCES notifications (id),
  user_id                  bigint NOT NULL REFERENCES users (id),
  email                    text NOT NULL,
  status                   text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts                 integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error               text,
  created_at               timestamptz NOT NULL DEFAULT now(),
  sent_at                  timestamptz,
  UNIQUE (notification_id, user_id),
  CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
