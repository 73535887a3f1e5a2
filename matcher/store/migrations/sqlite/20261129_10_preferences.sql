-- What each account chose for itself in the web console: for now its language, so the choice
-- follows the person to any browser or phone they sign in on.
CREATE TABLE preferences (
    account_id TEXT PRIMARY KEY,
    language TEXT NOT NULL CHECK (language IN ('zh', 'en'))
);
