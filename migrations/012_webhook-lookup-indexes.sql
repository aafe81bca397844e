-- Up Migration
-- A PayPal event names its operation by one of several provider ids. The
-- lookup started from the open operations (006) and tested each one's ids:
-- fine with a few dozen open, but under a backlog of accepted payments
-- (thousands open at once) each event read them all (4 ms per event at
-- 3,000 open, found by `npm run bench`). Each id now has an index, so an
-- event costs a few index probes whatever the number of open operations.
-- The operation's own provider id only matters while it is open.
CREATE INDEX operations_open_provider_payment ON operations (provider_payment_id)
  WHERE status IN ('processing', 'awaiting redirect result') AND provider_payment_id <> '';
CREATE INDEX payments_provider_capture ON payments (provider_capture_id) WHERE provider_capture_id IS NOT NULL;
CREATE INDEX payments_provider_authorization ON payments (provider_authorization_id) WHERE provider_authorization_id IS NOT NULL;

-- Down Migration
DROP INDEX payments_provider_authorization;
DROP INDEX payments_provider_capture;
DROP INDEX operations_open_provider_payment;
