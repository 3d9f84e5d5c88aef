-- Up Migration
-- Resource search used none of its indexes but the one on type (decision 0026). Under row-level
-- security, a filter may only be an index condition when its operator is leakproof or no policy
-- condition has to run first; the `network` policy's condition (the network scope) had to, and the
-- search's operators (@@, LIKE, @>) are not leakproof, so every search scanned the table. A shared
-- resource is shared with the whole network, which anyone may discover: reading resources needs no
-- condition, and writing still needs the network scope.
CREATE POLICY shared ON resources FOR SELECT USING (true);
-- A location prefix (LIKE 'lyo%') is served by a btree only with pattern operators, whatever the collation.
DROP INDEX resources_type_location;
DROP INDEX resources_location;
CREATE INDEX resources_type_location ON resources (type, lower(location) text_pattern_ops);
CREATE INDEX resources_location ON resources (lower(location) text_pattern_ops);
-- The words' GIN index without its pending list: with fastupdate, new rows wait in an unsorted list
-- (up to 4 MB) that every search reads whole until a vacuum merges it; 10,000 resources written at
-- once made a two-word search read all of them (24 ms, against 0.06 ms once merged). Resources are
-- written rarely and searched often, so each insert updates the index itself.
DROP INDEX resources_search;
CREATE INDEX resources_search ON resources USING gin (search) WITH (fastupdate = off);

-- Down Migration
DROP INDEX resources_search;
CREATE INDEX resources_search ON resources USING gin (search);
DROP INDEX resources_location;
DROP INDEX resources_type_location;
CREATE INDEX resources_type_location ON resources (type, lower(location));
CREATE INDEX resources_location ON resources (lower(location));
DROP POLICY shared ON resources;
