-- Up Migration

-- The sandbox approves and captures orders without locking them first: the
-- order's update names the status it was read in, and when it changes no row
-- (another request moved the order meanwhile) the same statement inserts
-- here; this CHECK then fails the whole statement, so nothing of the action
-- is written and the action runs again (src/sandbox/paypal/store.ts,
-- WriteBatch.transition). No row is ever stored.
CREATE TABLE paypal_sandbox.write_conflicts (
  part text,
  CONSTRAINT sandbox_write_conflict CHECK (false)
);

-- Down Migration

DROP TABLE paypal_sandbox.write_conflicts;
