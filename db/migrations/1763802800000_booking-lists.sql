-- Up Migration
-- A cooperative's bookings are listed newest first from both sides (as requester, as owner): each side
-- has its index in that order, so a page reads a page of each whatever the table's size.
CREATE INDEX bookings_by_requester ON bookings (requester_cooperative_id, created_at DESC, id DESC);
CREATE INDEX bookings_by_owner ON bookings (owner_cooperative_id, created_at DESC, id DESC);

-- Down Migration
DROP INDEX bookings_by_owner;
DROP INDEX bookings_by_requester;
