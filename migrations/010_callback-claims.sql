-- Up Migration

-- Callbacks are delivered straight from this table, without a pg-boss job per
-- callback (src/callbacks/dispatcher.ts): a node claims due rows with
-- FOR UPDATE SKIP LOCKED and moves next_attempt_at past the attempt's timeout
-- (a lease). This index finds the due ones and counts the pending ones.
CREATE INDEX callbacks_due ON callbacks (next_attempt_at, id) WHERE status = 'pending';

-- The id of the request that caused the callback: its delivery logs under it.
ALTER TABLE callbacks ADD COLUMN request_id text;

-- Down Migration

ALTER TABLE callbacks DROP COLUMN request_id;
DROP INDEX callbacks_due;
