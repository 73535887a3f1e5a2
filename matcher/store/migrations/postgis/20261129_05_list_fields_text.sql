-- A volunteer's list fields (skills, languages, weekly windows, blackout dates, certificates)
-- become text holding JSON. The service is their only writer (it encodes them with orjson) and
-- reads them back whole; nothing in SQL looks inside them. Checking the JSON on the way in
-- (the json type's input) was a third of the server's time per row in a bulk COPY, which
-- decides how fast a city's register loads. Ad-hoc SQL reads them with a cast: `skills::json`.
ALTER TABLE volunteers
    ALTER COLUMN skills TYPE text USING skills::text,
    ALTER COLUMN languages TYPE text USING languages::text,
    ALTER COLUMN availability TYPE text USING availability::text,
    ALTER COLUMN blackout_dates TYPE text USING blackout_dates::text,
    ALTER COLUMN certifications TYPE text USING certifications::text;
