-- What issue 24 adds: people join on their own (sessions with refresh tokens, a real-name
-- check kept as a keyed hash, guardians' consent for minors), organisations in a hierarchy with
-- their own admins (``org_admin``), members, teams, invitations and service stations, and
-- activities open to one organisation's members only.
-- SQLite cannot change a CHECK in place: accounts, the change log and the outbox's messages
-- (with their deliveries) are rebuilt with their rows.
CREATE TABLE accounts_new (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('volunteer', 'organiser', 'org_admin', 'analyst', 'admin')),
    organisation_id TEXT,
    volunteer_id TEXT,
    password_hash TEXT,
    created_at TEXT NOT NULL,
    -- organisers and org admins act for one organisation; a volunteer account names its
    -- volunteer, and someone who became an organiser keeps theirs (their hours stay theirs)
    CHECK ((role IN ('organiser', 'org_admin')) = (organisation_id IS NOT NULL)),
    CHECK (role <> 'volunteer' OR volunteer_id IS NOT NULL)
);
INSERT INTO accounts_new (id, name, role, organisation_id, volunteer_id, password_hash, created_at)
    SELECT id, name, role, organisation_id, volunteer_id, password_hash, created_at FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_new RENAME TO accounts;
CREATE INDEX accounts_volunteer ON accounts (volunteer_id);

CREATE TABLE changes_new (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN (
        'volunteer', 'activity', 'reload', 'shift', 'record', 'model', 'account', 'session', 'organisation'
    )),
    ident TEXT NOT NULL,
    at TEXT NOT NULL DEFAULT (datetime('now'))
);
INSERT INTO changes_new (seq, kind, ident, at) SELECT seq, kind, ident, at FROM changes;
DROP TABLE changes;
ALTER TABLE changes_new RENAME TO changes;

CREATE TABLE messages_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    volunteer_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN (
        'signup_confirmed', 'signup_waitlisted', 'invited', 'offered', 'offer_lapsed',
        'hours_approved', 'hours_corrected', 'reminder', 'emergency_call', 'shift_changed',
        'shift_cancelled', 'tier_reached', 'phone_code', 'membership_decided'
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
INSERT INTO messages_new SELECT id, volunteer_id, kind, urgent, shift_id, signup_id, detail, event_key,
    created_s, due_s, read_s, dropped_s FROM messages;
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
INSERT INTO deliveries_new SELECT message_id, channel, status, attempts, next_s, claimed_by,
    claimed_until_s, sent_s, last_error, provider_id FROM deliveries;
DROP TABLE deliveries;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX messages_inbox ON messages (volunteer_id, id);
CREATE INDEX messages_signup ON messages (signup_id);
CREATE INDEX messages_sent_week ON messages (volunteer_id, created_s);
CREATE INDEX deliveries_due ON deliveries (status, next_s);
CREATE INDEX deliveries_provider ON deliveries (provider_id);

-- A sign-in that can be refreshed and revoked: access tokens name it (``sid``), the refresh
-- token is kept hashed and replaced at each use (the one before is kept to catch its reuse).
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    refresh_hash TEXT NOT NULL UNIQUE,
    previous_hash TEXT,
    created_s INTEGER NOT NULL,
    refreshed_s INTEGER NOT NULL,
    expires_s INTEGER NOT NULL,
    revoked_s INTEGER
);
CREATE INDEX sessions_account ON sessions (account_id);
CREATE INDEX sessions_revoked ON sessions (revoked_s);
CREATE INDEX sessions_previous ON sessions (previous_hash);

-- Real name (实名): the national ID number as a keyed hash (one registration per number) and
-- its last four characters; never stored whole.
CREATE TABLE real_names (
    volunteer_id TEXT PRIMARY KEY REFERENCES volunteers (id) ON DELETE CASCADE,
    id_hash TEXT NOT NULL UNIQUE,
    id_last4 TEXT NOT NULL,
    verified_s INTEGER NOT NULL
);

-- A guardian's consent for a volunteer under 18 (needed before a place is confirmed).
CREATE TABLE guardians (
    volunteer_id TEXT PRIMARY KEY REFERENCES volunteers (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    relationship TEXT NOT NULL,
    consent_date TEXT NOT NULL,
    recorded_s INTEGER NOT NULL,
    recorded_by TEXT NOT NULL
);

-- The registry: city association → district federations → street and community stations;
-- schools, companies, NGOs and departments under any of them. ``area`` is a JSON list of the
-- districts served.
CREATE TABLE organisations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN (
        'association', 'district_federation', 'street_station', 'community_station', 'school',
        'company', 'ngo', 'government'
    )),
    parent_id TEXT REFERENCES organisations (id),
    status TEXT NOT NULL CHECK (status IN ('applied', 'approved', 'suspended', 'refused')),
    district TEXT,
    area TEXT NOT NULL DEFAULT '[]',
    contact_name TEXT,
    contact_phone TEXT,
    contact_email TEXT,
    created_s INTEGER NOT NULL,
    created_by TEXT,
    decided_s INTEGER,
    decided_by TEXT
);
CREATE INDEX organisations_parent ON organisations (parent_id);

CREATE TABLE memberships (
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    volunteer_id TEXT NOT NULL REFERENCES volunteers (id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('applied', 'approved', 'refused', 'left')),
    note TEXT NOT NULL DEFAULT '',
    created_s INTEGER NOT NULL,
    decided_s INTEGER,
    decided_by TEXT,
    PRIMARY KEY (organisation_id, volunteer_id)
);
CREATE INDEX memberships_volunteer ON memberships (volunteer_id);

-- An invitation to act for an organisation, by code (kept hashed), for one phone or e-mail.
CREATE TABLE invitations (
    code_hash TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    role TEXT NOT NULL CHECK (role IN ('organiser', 'org_admin')),
    phone TEXT,
    email TEXT,
    created_by TEXT NOT NULL,
    created_s INTEGER NOT NULL,
    expires_s INTEGER NOT NULL,
    accepted_by TEXT,
    accepted_s INTEGER,
    CHECK (phone IS NOT NULL OR email IS NOT NULL)
);
CREATE INDEX invitations_organisation ON invitations (organisation_id);

CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    leader_id TEXT NOT NULL REFERENCES volunteers (id),
    created_s INTEGER NOT NULL,
    UNIQUE (organisation_id, name)
);
CREATE TABLE team_members (
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    volunteer_id TEXT NOT NULL REFERENCES volunteers (id) ON DELETE CASCADE,
    joined_s INTEGER NOT NULL,
    PRIMARY KEY (team_id, volunteer_id)
);
CREATE INDEX team_members_volunteer ON team_members (volunteer_id);
-- A team's sign-up for a shift: every member named got a place together, or a place on the
-- waitlist together (their own rows in ``signups``).
CREATE TABLE team_signups (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id),
    shift_id TEXT NOT NULL REFERENCES shifts (id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('confirmed', 'waitlisted')),
    members TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_s INTEGER NOT NULL,
    UNIQUE (team_id, shift_id)
);

-- Service stations (志愿服务站点): fixed places an organisation runs, with opening hours (JSON
-- weekly windows) and services (JSON list).
CREATE TABLE stations (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    setting TEXT NOT NULL CHECK (setting IN ('town', 'village')),
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    address TEXT,
    district TEXT,
    opening_hours TEXT NOT NULL DEFAULT '[]',
    services TEXT NOT NULL DEFAULT '[]',
    created_s INTEGER NOT NULL
);
CREATE INDEX stations_organisation ON stations (organisation_id);
CREATE INDEX stations_place ON stations (lat, lon);
CREATE TABLE activity_stations (
    activity_id TEXT PRIMARY KEY REFERENCES activities (id) ON DELETE CASCADE,
    station_id TEXT NOT NULL REFERENCES stations (id)
);
CREATE INDEX activity_stations_station ON activity_stations (station_id);

-- An activity open only to members of an organisation (or of its subtree): a hard rule.
CREATE TABLE activity_audiences (
    activity_id TEXT PRIMARY KEY REFERENCES activities (id) ON DELETE CASCADE,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    subtree INTEGER NOT NULL DEFAULT 0 CHECK (subtree IN (0, 1))
);
