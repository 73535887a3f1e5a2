-- Where a home or activity location came from when it was not given as coordinates.
ALTER TABLE volunteers ADD COLUMN home_source TEXT;
ALTER TABLE activities ADD COLUMN location_source TEXT;
