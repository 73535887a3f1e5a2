-- What issue 23 adds to the outbox: more kinds of message (reminders, emergency calls, shift
-- changes, tiers, phone codes), scheduled messages that can be dropped before they are due
-- (``dropped_s``: a reminder for a place given up), SMS and WeChat beside e-mail, what a gateway
-- says it delivered; each volunteer's choices about being told; verified phone numbers; each
-- activity's reminder times; emergency calls sent in waves; templates an admin has reworded.
ALTER TABLE messages DROP CONSTRAINT messages_kind_check;
ALTER TABLE messages ADD CONSTRAINT messages_kind_check CHECK (kind IN (
    'signup_confirmed', 'signup_waitlisted', 'invited', 'offered', 'offer_lapsed',
    'hours_approved', 'hours_corrected', 'reminder', 'emergency_call', 'shift_changed',
    'shift_cancelled', 'tier_reached', 'phone_code'
));
ALTER TABLE messages ADD COLUMN dropped_s BIGINT;
CREATE INDEX messages_signup ON messages (signup_id);
CREATE INDEX messages_sent_week ON messages (volunteer_id, created_s);
ALTER TABLE deliveries DROP CONSTRAINT deliveries_channel_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_channel_check CHECK (channel IN ('email', 'sms', 'wechat'));
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
    CHECK (status IN ('pending', 'sending', 'sent', 'delivered', 'dead', 'dropped'));
ALTER TABLE deliveries ADD COLUMN provider_id TEXT;
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
    updated_s BIGINT NOT NULL
);

-- The number a volunteer proved is theirs with a code: SMS and WeChat go only to it.
CREATE TABLE phone_verifications (
    volunteer_id TEXT PRIMARY KEY,
    phone TEXT NOT NULL,
    verified_s BIGINT NOT NULL
);
-- Codes sent to prove a number (kept hashed), each good for a few tries until it expires.
CREATE TABLE phone_codes (
    id BIGSERIAL PRIMARY KEY,
    volunteer_id TEXT NOT NULL,
    phone TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    created_s BIGINT NOT NULL,
    expires_s BIGINT NOT NULL,
    tries INTEGER NOT NULL DEFAULT 0,
    used_s BIGINT
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
    deadline_s BIGINT NOT NULL,
    candidates TEXT NOT NULL,
    waves INTEGER NOT NULL DEFAULT 0,
    next_wave_s BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_s BIGINT NOT NULL,
    closed_s BIGINT
);
CREATE INDEX emergency_calls_open ON emergency_calls (closed_s, next_wave_s);
CREATE TABLE call_asks (
    call_id TEXT NOT NULL REFERENCES emergency_calls (id) ON DELETE CASCADE,
    volunteer_id TEXT NOT NULL,
    wave INTEGER NOT NULL,
    asked_s BIGINT NOT NULL,
    answer TEXT CHECK (answer IN ('accepted', 'declined')),
    answered_s BIGINT,
    signup_status TEXT,
    PRIMARY KEY (call_id, volunteer_id)
);

-- An admin's rewording of a kind of message in one language (no row: the packaged template).
CREATE TABLE message_templates (
    kind TEXT NOT NULL,
    language TEXT NOT NULL CHECK (language IN ('zh', 'en')),
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_s BIGINT NOT NULL,
    PRIMARY KEY (kind, language)
);
