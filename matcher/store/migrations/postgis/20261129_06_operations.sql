-- Sign-ups, the waitlist and attendance; the append-only hours ledger; idempotency keys.
-- Times are seconds since the epoch (UTC), as shifts' starts_utc.
CREATE TABLE signups (
    id TEXT PRIMARY KEY,
    shift_id TEXT NOT NULL REFERENCES shifts (id) ON DELETE CASCADE,
    volunteer_id TEXT COLLATE "C" NOT NULL REFERENCES volunteers (id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN
        ('invited', 'declined', 'confirmed', 'waitlisted', 'offered', 'cancelled', 'late_cancelled',
         'expired', 'no_show')),
    seq BIGINT NOT NULL,  -- order of arrival on the shift: the waitlist's order
    created_s BIGINT NOT NULL,
    offered_until_s BIGINT,
    checked_in_s BIGINT,
    checked_out_s BIGINT,
    UNIQUE (shift_id, volunteer_id),
    UNIQUE (shift_id, seq)
);
CREATE INDEX signups_volunteer ON signups (volunteer_id);

-- Hours are never edited: a correction is a new entry (negative to take hours away). A total is
-- the sum of its entries. One attendance entry per volunteer and shift, whatever the keys.
CREATE TABLE hours_ledger (
    id BIGSERIAL PRIMARY KEY,
    volunteer_id TEXT COLLATE "C" NOT NULL,  -- no cascade: anonymous statistics outlive a person
    activity_id TEXT,
    shift_id TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('attendance', 'manual', 'correction')),
    hours DOUBLE PRECISION NOT NULL CHECK (hours BETWEEN -24 AND 24),
    note TEXT NOT NULL DEFAULT '',
    recorded_by TEXT NOT NULL,
    recorded_s BIGINT NOT NULL
);
CREATE INDEX hours_ledger_volunteer ON hours_ledger (volunteer_id);
CREATE UNIQUE INDEX hours_ledger_attendance ON hours_ledger (volunteer_id, shift_id) WHERE kind = 'attendance';
CREATE FUNCTION hours_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the hours ledger is append-only: record a correction instead';
END $$;
CREATE TRIGGER hours_ledger_append_only BEFORE UPDATE OR DELETE ON hours_ledger
    FOR EACH ROW EXECUTE FUNCTION hours_ledger_append_only();

-- Hours claimed for service done (by the volunteer, or by an organiser on their behalf): they
-- count once approved, when they become a ledger entry and a service record.
CREATE TABLE hour_claims (
    id TEXT PRIMARY KEY,
    volunteer_id TEXT NOT NULL,
    activity_id TEXT NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    shift_id TEXT,
    date TEXT NOT NULL,
    hours DOUBLE PRECISION NOT NULL CHECK (hours > 0 AND hours <= 24),
    note TEXT NOT NULL DEFAULT '',
    submitted_by TEXT NOT NULL,
    submitted_s BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved')),
    ledger_id BIGINT
);
CREATE INDEX hour_claims_volunteer ON hour_claims (volunteer_id);

-- A write sent with an Idempotency-Key: the request's hash and the answer given, stored in the
-- same transaction as the write, so a retry gets the same answer and changes nothing.
CREATE TABLE idempotency_keys (
    account_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_s BIGINT NOT NULL,
    PRIMARY KEY (account_id, key)
);

ALTER TABLE changes DROP CONSTRAINT IF EXISTS changes_kind_check;
ALTER TABLE changes ADD CONSTRAINT changes_kind_check
    CHECK (kind IN ('volunteer', 'activity', 'reload', 'shift', 'record'));
