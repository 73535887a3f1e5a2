-- The outbox and the console inbox: one row per thing a volunteer should be told, written in the
-- same transaction as the change that caused it (a sign-up, an invitation, an offer, ...), so
-- nothing is told about a change that rolled back and no change goes untold. ``event_key``
-- names the event: writing the same event twice keeps one row. ``read_s`` is when the volunteer
-- read it in the console (NULL: unread).
CREATE TABLE messages (
    id BIGSERIAL PRIMARY KEY,
    volunteer_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN (
        'signup_confirmed', 'signup_waitlisted', 'invited', 'offered', 'offer_lapsed',
        'hours_approved', 'hours_corrected'
    )),
    urgent BOOLEAN NOT NULL DEFAULT FALSE,
    shift_id TEXT,
    signup_id TEXT,
    detail TEXT NOT NULL DEFAULT '{}',
    event_key TEXT NOT NULL UNIQUE,
    created_s BIGINT NOT NULL,
    due_s BIGINT NOT NULL,
    read_s BIGINT
);
CREATE INDEX messages_inbox ON messages (volunteer_id, id);
