-- Accounts for the HTTP API: who may do what. Passwords are argon2 hashes; organisers belong to
-- one organisation, volunteer accounts to one volunteer.
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('volunteer', 'organiser', 'analyst', 'admin')),
    organisation_id TEXT,
    volunteer_id TEXT,
    password_hash TEXT,
    created_at TEXT NOT NULL,
    CHECK ((role = 'organiser') = (organisation_id IS NOT NULL)),
    CHECK ((role = 'volunteer') = (volunteer_id IS NOT NULL))
);

-- Erasure keeps the row (and so the anonymous service statistics that reference it) but blanks
-- the personal data and marks when.
ALTER TABLE volunteers ADD COLUMN erased_at TEXT;
