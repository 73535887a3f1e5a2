-- The system of record for the PostgreSQL + PostGIS deployment: the same tables as the embedded
-- store, with places as geography(Point, 4326) (longitude first) under GiST indexes, so that
-- ST_DWithin filters by distance in the database. List-valued fields are jsonb (read whole).
CREATE TABLE volunteers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    home geography(Point, 4326),
    max_travel_km DOUBLE PRECISION NOT NULL CHECK (max_travel_km >= 0),
    birth_date DATE,
    timezone TEXT NOT NULL,
    online_ok BOOLEAN NOT NULL,
    district TEXT,
    phone TEXT,
    email TEXT,
    skills JSONB NOT NULL,
    languages JSONB NOT NULL,
    availability JSONB NOT NULL,
    blackout_dates JSONB NOT NULL,
    certifications JSONB NOT NULL,
    erased_at TIMESTAMPTZ
);
CREATE INDEX volunteers_home ON volunteers USING gist (home);

CREATE TABLE activities (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    category TEXT NOT NULL,
    location geography(Point, 4326),
    online BOOLEAN NOT NULL,
    timezone TEXT NOT NULL,
    min_age INTEGER,
    district TEXT,
    required_skills JSONB NOT NULL,
    preferred_skills JSONB NOT NULL,
    required_certifications JSONB NOT NULL
);
CREATE INDEX activities_location ON activities USING gist (location);
CREATE INDEX activities_organisation ON activities (organisation_id);
CREATE INDEX activities_category ON activities (category);

CREATE TABLE shifts (
    id TEXT PRIMARY KEY,
    activity_id TEXT NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    starts_at TEXT NOT NULL,  -- ISO 8601 with the offset it was given in
    ends_at TEXT NOT NULL,
    starts_utc BIGINT NOT NULL,  -- seconds since the epoch, for ordering and range queries
    ends_utc BIGINT NOT NULL CHECK (ends_utc > starts_utc),
    capacity INTEGER NOT NULL CHECK (capacity > 0)
);
CREATE INDEX shifts_activity ON shifts (activity_id);
CREATE INDEX shifts_start ON shifts (starts_utc);

CREATE TABLE service_records (
    id BIGSERIAL PRIMARY KEY,
    volunteer_id TEXT NOT NULL REFERENCES volunteers (id) ON DELETE CASCADE,
    activity_id TEXT NOT NULL,
    shift_id TEXT,
    date DATE NOT NULL,
    hours DOUBLE PRECISION NOT NULL CHECK (hours BETWEEN 0 AND 24),
    attended BOOLEAN NOT NULL,
    rating INTEGER CHECK (rating BETWEEN 1 AND 5)
);
CREATE INDEX service_records_volunteer ON service_records (volunteer_id);

CREATE TABLE bookings (
    volunteer_id TEXT NOT NULL REFERENCES volunteers (id) ON DELETE CASCADE,
    shift_id TEXT NOT NULL REFERENCES shifts (id) ON DELETE CASCADE,
    PRIMARY KEY (volunteer_id, shift_id)
);
CREATE INDEX bookings_shift ON bookings (shift_id);

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('volunteer', 'organiser', 'analyst', 'admin')),
    organisation_id TEXT,
    volunteer_id TEXT,
    password_hash TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((role = 'organiser') = (organisation_id IS NOT NULL)),
    CHECK ((role = 'volunteer') = (volunteer_id IS NOT NULL))
);
