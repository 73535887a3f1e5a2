-- What issue 24 adds: people join on their own (sessions with refresh tokens, a real-name
-- check kept as a keyed hash, guardians' consent for minors), organisations in a hierarchy with
-- their own admins (``org_admin``), members, teams, invitations and service stations, and
-- activities open to one organisation's members only.
ALTER TABLE accounts DROP CONSTRAINT accounts_role_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_role_check
    CHECK (role IN ('volunteer', 'organiser', 'org_admin', 'analyst', 'admin'));
-- organisers and org admins act for one organisation; a volunteer account names its volunteer,
-- and someone who became an organiser keeps theirs (their hours stay theirs)
ALTER TABLE accounts DROP CONSTRAINT accounts_check;
ALTER TABLE accounts DROP CONSTRAINT accounts_check1;
ALTER TABLE accounts ADD CONSTRAINT accounts_organisation_check
    CHECK ((role IN ('organiser', 'org_admin')) = (organisation_id IS NOT NULL));
ALTER TABLE accounts ADD CONSTRAINT accounts_volunteer_check CHECK (role <> 'volunteer' OR volunteer_id IS NOT NULL);
CREATE INDEX accounts_volunteer ON accounts (volunteer_id);
ALTER TABLE changes DROP CONSTRAINT changes_kind_check;
ALTER TABLE changes ADD CONSTRAINT changes_kind_check CHECK (kind IN (
    'volunteer', 'activity', 'reload', 'shift', 'record', 'model', 'account', 'session', 'organisation'
));
ALTER TABLE messages DROP CONSTRAINT messages_kind_check;
ALTER TABLE messages ADD CONSTRAINT messages_kind_check CHECK (kind IN (
    'signup_confirmed', 'signup_waitlisted', 'invited', 'offered', 'offer_lapsed',
    'hours_approved', 'hours_corrected', 'reminder', 'emergency_call', 'shift_changed',
    'shift_cancelled', 'tier_reached', 'phone_code', 'membership_decided'
));

-- A sign-in that can be refreshed and revoked: access tokens name it (``sid``), the refresh
-- token is kept hashed and replaced at each use (the one before is kept to catch its reuse).
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    refresh_hash TEXT NOT NULL UNIQUE,
    previous_hash TEXT,
    created_s BIGINT NOT NULL,
    refreshed_s BIGINT NOT NULL,
    expires_s BIGINT NOT NULL,
    revoked_s BIGINT
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
    verified_s BIGINT NOT NULL
);

-- A guardian's consent for a volunteer under 18 (needed before a place is confirmed).
CREATE TABLE guardians (
    volunteer_id TEXT PRIMARY KEY REFERENCES volunteers (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    relationship TEXT NOT NULL,
    consent_date TEXT NOT NULL,
    recorded_s BIGINT NOT NULL,
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
    created_s BIGINT NOT NULL,
    created_by TEXT,
    decided_s BIGINT,
    decided_by TEXT
);
CREATE INDEX organisations_parent ON organisations (parent_id);

CREATE TABLE memberships (
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    volunteer_id TEXT NOT NULL REFERENCES volunteers (id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('applied', 'approved', 'refused', 'left')),
    note TEXT NOT NULL DEFAULT '',
    created_s BIGINT NOT NULL,
    decided_s BIGINT,
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
    created_s BIGINT NOT NULL,
    expires_s BIGINT NOT NULL,
    accepted_by TEXT,
    accepted_s BIGINT,
    CHECK (phone IS NOT NULL OR email IS NOT NULL)
);
CREATE INDEX invitations_organisation ON invitations (organisation_id);

CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    leader_id TEXT NOT NULL REFERENCES volunteers (id),
    created_s BIGINT NOT NULL,
    UNIQUE (organisation_id, name)
);
CREATE TABLE team_members (
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    volunteer_id TEXT NOT NULL REFERENCES volunteers (id) ON DELETE CASCADE,
    joined_s BIGINT NOT NULL,
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
    created_s BIGINT NOT NULL,
    UNIQUE (team_id, shift_id)
);

-- Service stations (志愿服务站点): fixed places an organisation runs, with opening hours (JSON
-- weekly windows) and services (JSON list).
CREATE TABLE stations (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    setting TEXT NOT NULL CHECK (setting IN ('town', 'village')),
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    -- the same point for spatial SQL (the service's own queries read lat and lon)
    location geography(Point, 4326) GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography) STORED,
    address TEXT,
    district TEXT,
    opening_hours TEXT NOT NULL DEFAULT '[]',
    services TEXT NOT NULL DEFAULT '[]',
    created_s BIGINT NOT NULL
);
CREATE INDEX stations_organisation ON stations (organisation_id);
CREATE INDEX stations_place ON stations (lat, lon);
CREATE INDEX stations_location ON stations USING GIST (location);
CREATE TABLE activity_stations (
    activity_id TEXT PRIMARY KEY REFERENCES activities (id) ON DELETE CASCADE,
    station_id TEXT NOT NULL REFERENCES stations (id)
);
CREATE INDEX activity_stations_station ON activity_stations (station_id);

-- An activity open only to members of an organisation (or of its subtree): a hard rule.
CREATE TABLE activity_audiences (
    activity_id TEXT PRIMARY KEY REFERENCES activities (id) ON DELETE CASCADE,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    subtree BOOLEAN NOT NULL DEFAULT false
);
