-- The feedback log (what was recommended, and what followed) and the ranking models learned
-- from it.

-- One row per answer served: its items as JSON [[volunteer_id, activity_id, shift_id, score,
-- {factor: part}], ...] in rank order (one insert per answer keeps logging off the hot path).
CREATE TABLE served (
    id BIGSERIAL PRIMARY KEY,
    query TEXT NOT NULL UNIQUE,
    served_s DOUBLE PRECISION NOT NULL,
    account_id TEXT,
    direction TEXT NOT NULL CHECK (direction IN ('volunteers', 'activities')),
    subject TEXT NOT NULL,
    model_version TEXT NOT NULL,
    items TEXT NOT NULL
);
CREATE INDEX served_at ON served (served_s);

CREATE TABLE outcomes (
    id BIGSERIAL PRIMARY KEY,
    at_s DOUBLE PRECISION NOT NULL,
    volunteer_id TEXT NOT NULL,
    activity_id TEXT NOT NULL,
    shift_id TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('viewed', 'invited', 'accepted', 'declined', 'signed_up',
                                       'cancelled', 'attended', 'no_show', 'rating')),
    value DOUBLE PRECISION,
    account_id TEXT
);
CREATE INDEX outcomes_at ON outcomes (at_s);

CREATE TABLE models (
    version TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    created_s DOUBLE PRECISION NOT NULL,
    description TEXT NOT NULL,
    blob BYTEA NOT NULL,
    active INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1))
);
CREATE UNIQUE INDEX models_one_active ON models (active) WHERE active = 1;

ALTER TABLE changes DROP CONSTRAINT IF EXISTS changes_kind_check;
ALTER TABLE changes ADD CONSTRAINT changes_kind_check
    CHECK (kind IN ('volunteer', 'activity', 'reload', 'shift', 'record', 'model'));
