-- Sign-ups, the waitlist and attendance; the append-only hours ledger; idempotency keys
-- (the PostGIS migration of the same name explains each). Times are seconds since the epoch.
CREATE TABLE signups (
    id TEXT PRIMARY KEY,
    shift_id TEXT NOT NULL REFERENCES shifts (id) ON DELETE CASCADE,
    volunteer_id TEXT NOT NULL REFERENCES volunteers (id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN
        ('invited', 'declined', 'confirmed', 'waitlisted', 'offered', 'cancelled', 'late_cancelled',
         'expired', 'no_show')),
    seq INTEGER NOT NULL,
    created_s INTEGER NOT NULL,
    offered_until_s INTEGER,
    checked_in_s INTEGER,
    checked_out_s INTEGER,
    UNIQUE (shift_id, volunteer_id),
    UNIQUE (shift_id, seq)
);
CREATE INDEX signups_volunteer ON signups (volunteer_id);

CREATE TABLE hours_ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    volunteer_id TEXT NOT NULL,
    activity_id TEXT,
    shift_id TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('attendance', 'manual', 'correction')),
    hours REAL NOT NULL CHECK (hours BETWEEN -24 AND 24),
    note TEXT NOT NULL DEFAULT '',
    recorded_by TEXT NOT NULL,
    recorded_s INTEGER NOT NULL
);
CREATE INDEX hours_ledger_volunteer ON hours_ledger (volunteer_id);
CREATE UNIQUE INDEX hours_ledger_attendance ON hours_ledger (volunteer_id, shift_id) WHERE kind = 'attendance';

-- Hours claimed for service done (by the volunteer, or by an organiser on their behalf): they
-- count once approved, when they become a ledger entry and a service record.
CREATE TABLE hour_claims (
    id TEXT PRIMARY KEY,
    volunteer_id TEXT NOT NULL,
    activity_id TEXT NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    shift_id TEXT,
    date TEXT NOT NULL,
    hours REAL NOT NULL CHECK (hours > 0 AND hours <= 24),
    note TEXT NOT NULL DEFAULT '',
    submitted_by TEXT NOT NULL,
    submitted_s INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved')),
    ledger_id INTEGER
);
CREATE INDEX hour_claims_volunteer ON hour_claims (volunteer_id);

CREATE TABLE idempotency_keys (
    account_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_s INTEGER NOT NULL,
    PRIMARY KEY (account_id, key)
);

-- SQLite cannot change a CHECK in place: the change log is rebuilt with the new kind.
CREATE TABLE changes_new (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('volunteer', 'activity', 'reload', 'shift', 'record')),
    ident TEXT NOT NULL,
    at TEXT NOT NULL DEFAULT (datetime('now'))
);
INSERT INTO changes_new (seq, kind, ident, at) SELECT seq, kind, ident, at FROM changes;
DROP TABLE changes;
ALTER TABLE changes_new RENAME TO changes;
