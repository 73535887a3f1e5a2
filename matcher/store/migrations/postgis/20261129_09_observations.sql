-- Demand and supply signals imported from published datasets (volmatch import nyc-service,
-- volmatch import timebanks): one row per source record and group, replaced whole on re-import.
CREATE TABLE observations (
    source TEXT NOT NULL,
    area TEXT NOT NULL,
    category TEXT NOT NULL,
    period TEXT NOT NULL,
    demand DOUBLE PRECISION NOT NULL,
    supply DOUBLE PRECISION NOT NULL,
    extra DOUBLE PRECISION,
    ref TEXT NOT NULL
);
CREATE INDEX observations_source ON observations (source);
