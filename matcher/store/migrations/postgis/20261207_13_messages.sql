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
-- Each message's sending on each channel (e-mail today), claimed by one dispatcher at a time
-- (claimed_until_s: a dispatcher that dies leaves its claim to run out), retried with backoff,
-- then dead ('dead': an admin lists and retries them). The address is read from the volunteer
-- when it is sent, so an erased volunteer's address is nowhere here.
CREATE TABLE deliveries (
    message_id BIGINT NOT NULL REFERENCES messages (id),
    channel TEXT NOT NULL CHECK (channel IN ('email')),
    status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_s BIGINT NOT NULL,
    claimed_by TEXT,
    claimed_until_s BIGINT,
    sent_s BIGINT,
    last_error TEXT,
    PRIMARY KEY (message_id, channel)
);
CREATE INDEX deliveries_due ON deliveries (status, next_s);
