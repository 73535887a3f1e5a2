-- What issue 23 adds to the outbox: more kinds of message (reminders, emergency calls, shift
-- changes, tiers, phone codes), scheduled messages that can be dropped before they are due
-- (``dropped_s``: a reminder for a place given up), SMS and WeChat beside e-mail, what a gateway
-- says it delivered; each volunteer's choices about being told; verified phone numbers; each
-- activity's reminder times; emergency calls sent in waves; templates an admin has reworded.
-- SQLite cannot change a CHECK in place: the two outbox tables are rebuilt with their rows.
CREATE TABLE messages_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    volunteer_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN (
        'signup_confirmed', 'signup_waitlisted', 'invited', 'offered', 'offer_lapsed',
        'hours_approved', 'hours_corrected', 'reminder', 'emergency_call', 'shift_changed',
        'shift_cancelled', 'tier_reached', 'phone_code'
    )),
    urgent INTEGER NOT NULL DEFAULT 0,
    shift_id TEXT,
    signup_id TEXT,
    detail TEXT NOT NULL DEFAULT '{}',
    event_key TEXT NOT NULL UNIQUE,
    created_s INTEGER NOT NULL,
    due_s INTEGER NOT NULL,
    read_s INTEGER,
    dropped_s INTEGER
);
INSERT INTO messages_new (id, volunteer_id, kind, urgent, shift_id, signup_id, detail, event_key, created_s, due_s, read_s)
    SELECT id, volunteer_id, kind, urgent, shift_id, signup_id, detail, event_key, created_s, due_s, read_s FROM messages;
CREATE TABLE deliveries_new (
    message_id INTEGER NOT NULL REFERENCES messages_new (id),
    channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'wechat')),
    status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'delivered', 'dead', 'dropped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_s INTEGER NOT NULL,
    claimed_by TEXT,
    claimed_until_s INTEGER,
    sent_s INTEGER,
    last_error TEXT,
    provider_id TEXT,
    PRIMARY KEY (message_id, channel)
);
INSERT INTO deliveries_new (message_id, channel, status, attempts, next_s, claimed_by, claimed_until_s, sent_s, last_error)
    SELECT message_id, channel, status, attempts, next_s, claimed_by, claimed_until_s, sent_s, last_error FROM deliveries;
DROP TABLE deliveries;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX messages_inbox ON messages (volunteer_id, id);
CREATE INDEX messages_signup ON messages (signup_id);
CREATE INDEX messages_sent_week ON messages (volunteer_id, created_s);
CREATE INDEX deliveries_due ON deliveries (status, next_s);
CREATE INDEX deliveries_provider ON deliveries (provider_id);

-- A volunteer's choices (no row: the defaults). ``channels`` and ``muted`` are JSON lists:
-- where to be told beside the console inbox, and which kinds to leave in the inbox only.
CREATE TABLE notice_preferences (
    volunteer_id TEXT PRIMARY KEY,
    channels TEXT NOT NULL,
    muted TEXT NOT NULL,
    quiet_start TEXT NOT NULL,
    quiet_end TEXT NOT NULL,
    max_per_week INTEGER NOT NULL CHECK (max_per_week BETWEEN 0 AND 100),
    language TEXT NOT NULL CHECK (language IN ('zh', 'en')),
    updated_s INTEGER NOT NULL
);

-- The number a volunteer proved is theirs with a code: SMS and WeChat go only to it.
CREATE TABLE phone_verifications (
    volunteer_id TEXT PRIMARY KEY,
    phone TEXT NOT NULL,
    verified_s INTEGER NOT NULL
);
-- Codes sent to prove a number (kept hashed), each good for a few tries until it expires.
CREATE TABLE phone_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    volunteer_id TEXT NOT NULL,
    phone TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    created_s INTEGER NOT NULL,
    expires_s INTEGER NOT NULL,
    tries INTEGER NOT NULL DEFAULT 0,
    used_s INTEGER
);
CREATE INDEX phone_codes_volunteer ON phone_codes (volunteer_id, created_s);

-- When an activity's volunteers are reminded, in minutes before each shift (no row: 1440, 120).
CREATE TABLE activity_reminders (
    activity_id TEXT PRIMARY KEY REFERENCES activities (id) ON DELETE CASCADE,
    minutes TEXT NOT NULL
);

-- An organiser's emergency call for a shift: the candidates ranked when it was made (JSON
-- list, best first), asked a wave at a time until enough accept or the deadline passes.
CREATE TABLE emergency_calls (
    id TEXT PRIMARY KEY,
    shift_id TEXT NOT NULL REFERENCES shifts (id) ON DELETE CASCADE,
    needed INTEGER NOT NULL CHECK (needed > 0),
    wave_size INTEGER NOT NULL CHECK (wave_size > 0),
    wave_every_s INTEGER NOT NULL CHECK (wave_every_s > 0),
    deadline_s INTEGER NOT NULL,
    candidates TEXT NOT NULL,
    waves INTEGER NOT NULL DEFAULT 0,
    next_wave_s INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_s INTEGER NOT NULL,
    closed_s INTEGER
);
CREATE INDEX emergency_calls_open ON emergency_calls (closed_s, next_wave_s);
CREATE TABLE call_asks (
    call_id TEXT NOT NULL REFERENCES emergency_calls (id) ON DELETE CASCADE,
    volunteer_id TEXT NOT NULL,
    wave INTEGER NOT NULL,
    asked_s INTEGER NOT NULL,
    answer TEXT CHECK (answer IN ('accepted', 'declined')),
    answered_s INTEGER,
    signup_status TEXT,
    PRIMARY KEY (call_id, volunteer_id)
);

-- An admin's rewording of a kind of message in one language (no row: the packaged template).
CREATE TABLE message_templates (
    kind TEXT NOT NULL,
    language TEXT NOT NULL CHECK (language IN ('zh', 'en')),
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_s INTEGER NOT NULL,
    PRIMARY KEY (kind, language)
);
