-- Needs posted by communities, residents' committees and partner agencies: demand that is not
-- yet an activity. The record is kept whole as JSON (matcher.interchange.need_to_json); the
-- columns beside it are what lists filter by.
CREATE TABLE needs (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'met', 'closed')),
    category TEXT NOT NULL,
    district TEXT,
    record TEXT NOT NULL
);
CREATE INDEX needs_status ON needs (status);
