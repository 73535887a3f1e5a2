-- The audit log: who read whose personal data, and each volunteer's consent to the use of their
-- location (China's PIPL: whereabouts are sensitive personal information, used only with
-- separate consent, and access to them is accounted for). Append-only: the triggers refuse any
-- change, deletion or truncation. Rows hold ids and what was read, never the personal data.
CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    at_s BIGINT NOT NULL,
    actor TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_subject ON audit_log (subject, id);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
