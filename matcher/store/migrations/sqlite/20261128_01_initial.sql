-- The system of record for the embedded deployment: volunteers, activities and their shifts,
-- service history and bookings. List-valued fields are JSON text (they are read whole).
CREATE TABLE volunteers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    lat REAL CHECK (lat BETWEEN -90 AND 90),
    lon REAL CHECK (lon >= -180 AND lon < 180),
    max_travel_km REAL NOT NULL CHECK (max_travel_km >= 0),
    birth_date TEXT,
    timezone TEXT NOT NULL,
    online_ok INTEGER NOT NULL,
    district TEXT,
    phone TEXT,
    email TEXT,
    skills TEXT NOT NULL,
    languages TEXT NOT NULL,
    availability TEXT NOT NULL,
    blackout_dates TEXT NOT NULL,
    certifications TEXT NOT NULL,
    CHECK ((lat IS NULL) = (lon IS NULL))
);

CREATE TABLE activities (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    category TEXT NOT NULL,
    lat REAL CHECK (lat BETWEEN -90 AND 90),
    lon REAL CHECK (lon >= -180 AND lon < 180),
    online INTEGER NOT NULL,
    timezone TEXT NOT NULL,
    min_age INTEGER,
    district TEXT,
    required_skills TEXT NOT NULL,
    preferred_skills TEXT NOT NULL,
    required_certifications TEXT NOT NULL
);
CREATE INDEX activities_organisation ON activities (organisation_id);

CREATE TABLE shifts (
    id TEXT PRIMARY KEY,
    activity_id TEXT NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    starts_at TEXT NOT NULL,  -- ISO 8601 with the offset it was given in
    ends_at TEXT NOT NULL,
    starts_utc INTEGER NOT NULL,  -- seconds since the epoch, for ordering and range queries
    ends_utc INTEGER NOT NULL CHECK (ends_utc > starts_utc),
    capacity INTEGER NOT NULL CHECK (capacity > 0)
);
CREATE INDEX shifts_activity ON shifts (activity_id);
CREATE INDEX shifts_start ON shifts (starts_utc);

CREATE TABLE service_records (
    id INTEGER PRIMARY KEY,
    volunteer_id TEXT NOT NULL REFERENCES volunteers (id) ON DELETE CASCADE,
    activity_id TEXT NOT NULL,
    shift_id TEXT,
    date TEXT NOT NULL,
    hours REAL NOT NULL CHECK (hours BETWEEN 0 AND 24),
    attended INTEGER NOT NULL,
    rating INTEGER CHECK (rating BETWEEN 1 AND 5)
);
CREATE INDEX service_records_volunteer ON service_records (volunteer_id);

CREATE TABLE bookings (
    volunteer_id TEXT NOT NULL REFERENCES volunteers (id) ON DELETE CASCADE,
    shift_id TEXT NOT NULL REFERENCES shifts (id) ON DELETE CASCADE,
    PRIMARY KEY (volunteer_id, shift_id)
);
CREATE INDEX bookings_shift ON bookings (shift_id);
