-- Every write appends what it changed, in the same transaction, so that every process serving
-- from this database can bring its in-memory index up to date (api/service.Live.refresh).
CREATE TABLE changes (
    seq BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('volunteer', 'activity', 'reload')),
    ident TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL DEFAULT now()
);
