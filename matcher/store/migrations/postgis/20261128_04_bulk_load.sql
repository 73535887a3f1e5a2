-- Volunteers arrive in bulk (a city imports its register of tens of thousands to millions), so
-- their table is shaped for COPY:
-- * the list fields are json, not jsonb: the store writes them and reads them back whole and
--   never looks inside in SQL (matching happens in the service's index), and json only checks
--   the text where jsonb rebuilds it, which was two thirds of the server's time per row;
-- * homes stay geography, indexed through their geometry: GiST builds a geometry index by
--   sorting (PostGIS 3 sort support), over three times faster than a geography one, which
--   matters because a bulk load into an empty table builds the index once at the end. Queries
--   filter with `home::geometry && <box>` (the index) and then ST_DWithin on geography.
ALTER TABLE volunteers
    ALTER COLUMN skills TYPE json USING skills::json,
    ALTER COLUMN languages TYPE json USING languages::json,
    ALTER COLUMN availability TYPE json USING availability::json,
    ALTER COLUMN blackout_dates TYPE json USING blackout_dates::json,
    ALTER COLUMN certifications TYPE json USING certifications::json;
DROP INDEX IF EXISTS volunteers_home;
CREATE INDEX volunteers_home ON volunteers USING gist ((home::geometry));
-- * volunteer ids compare byte by byte (COLLATE "C"): they are opaque identifiers, the service
--   orders them by their UTF-8 bytes already, and the primary key's B-tree, filled row by row
--   during COPY, then compares with memcmp instead of the locale's strcoll.
ALTER TABLE volunteers ALTER COLUMN id TYPE TEXT COLLATE "C";
ALTER TABLE service_records ALTER COLUMN volunteer_id TYPE TEXT COLLATE "C";
ALTER TABLE bookings ALTER COLUMN volunteer_id TYPE TEXT COLLATE "C";
