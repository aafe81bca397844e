-- Up Migration
-- PayPal webhooks look up the open operation they are about among operations
-- that are still processing or awaiting the customer. Without this index that
-- lookup scanned every operation ever made (found by `npm run bench`).
CREATE INDEX operations_open ON operations (id) WHERE status IN ('processing', 'awaiting redirect result');

-- Down Migration
DROP INDEX operations_open;
