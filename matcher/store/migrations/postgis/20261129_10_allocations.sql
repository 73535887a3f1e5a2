-- Campaign plans (matcher.allocation) as organisers saw them: a draft until it is accepted,
-- which sends its invitations through the sign-up flow in the same transaction. The request,
-- the plan and the invitations are kept whole as JSON; nothing in them is private to a
-- volunteer (names, districts, distance bands and scores only).
CREATE TABLE allocations (
    id TEXT PRIMARY KEY,
    organisation_id TEXT,
    created_by TEXT NOT NULL,
    created_s DOUBLE PRECISION NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'accepted')),
    accepted_s DOUBLE PRECISION,
    request TEXT NOT NULL,
    plan TEXT NOT NULL,
    invitations TEXT
);
CREATE INDEX allocations_organisation ON allocations (organisation_id);
