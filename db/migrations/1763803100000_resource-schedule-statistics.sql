-- Up Migration
-- The planner read none of the weekly schedule's statistics under row-level security (decision 0029):
-- PostgreSQL uses a column's statistics for a caller that row-level security filters only through
-- leakproof support functions, and int4range's subtype difference (int4range_subdiff) is not one, so
-- as coop_app `availability @> slot` was estimated at 0.5% of the rows whatever it kept. A range type
-- of its own with no subtype difference leaves only the comparison (btint4cmp, leakproof), and the
-- planner estimates from the schedules' bounds again. Ranges are always written half-open on whole
-- minutes ([a,b), db/resources.ts), so containment and merging are the same as int4range's.
CREATE TYPE week_minutes AS RANGE (subtype = int4, multirange_type_name = week_schedule);
DROP INDEX resources_availability;
ALTER TABLE resources DROP CONSTRAINT resources_availability_check;
ALTER TABLE resources ALTER COLUMN availability TYPE week_schedule USING availability::text::week_schedule;
ALTER TABLE resources ADD CONSTRAINT resources_availability_check CHECK (availability <@ week_schedule(week_minutes(0, 10080)));
CREATE INDEX resources_availability ON resources USING gist (availability);

-- Down Migration
DROP INDEX resources_availability;
ALTER TABLE resources DROP CONSTRAINT resources_availability_check;
ALTER TABLE resources ALTER COLUMN availability TYPE int4multirange USING availability::text::int4multirange;
ALTER TABLE resources ADD CONSTRAINT resources_availability_check CHECK (availability <@ int4multirange(int4range(0, 10080)));
CREATE INDEX resources_availability ON resources USING gist (availability);
DROP TYPE week_minutes;
