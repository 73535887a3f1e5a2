-- The feedback log (what was recommended, and what followed) and the ranking models learned
-- from it.

-- One row per answer served: its items as JSON [[volunteer_id, activity_id, shift_id, score,
-- {factor: part}], ...] in rank order (one insert per answer keeps logging off the hot path).
CREATE TABLE served (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    query TEXT NOT NULL UNIQUE,
    served_s REAL NOT NULL,
    account_id TEXT,
    direction TEXT NOT NULL CHECK (direction IN ('volunteers', 'activities')),
    subject TEXT NOT NULL,
    model_version TEXT NOT NULL,
    items TEXT NOT NULL
);
CREATE INDEX served_at ON served (served_s);

CREATE TABLE outcomes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_s REAL NOT NULL,
    volunteer_id TEXT NOT NULL,
    activity_id TEXT NOT NULL,
    shift_id TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('viewed', 'invited', 'accepted', 'declined', 'signed_up',
                                       'cancelled', 'attended', 'no_show', 'rating')),
    value REAL,
    account_id TEXT
);
CREATE INDEX outcomes_at ON outcomes (at_s);

CREATE TABLE models (
    version TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    created_s REAL NOT NULL,
    description TEXT NOT NULL,
    blob BLOB NOT NULL,
    active INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1))
);
CREATE UNIQUE INDEX models_one_active ON models (active) WHERE active = 1;

-- SQLite cannot change a CHECK in place: the change log is rebuilt with the new kind.
CREATE TABLE changes_new (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('volunteer', 'activity', 'reload', 'shift', 'record', 'model')),
    ident TEXT NOT NULL,
    at TEXT NOT NULL DEFAULT (datetime('now'))
);
INSERT INTO changes_new (seq, kind, ident, at) SELECT seq, kind, ident, at FROM changes;
DROP TABLE changes;
ALTER TABLE changes_new RENAME TO changes;
