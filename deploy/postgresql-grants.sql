-- Privileges of the application's PostgreSQL role (run as the schema owner after every
-- `flask --app wsgi db upgrade`, e.g.  psql -v app_role=fume_app -f deploy/postgresql-grants.sql).
--
-- Migrations run as the owner; gunicorn connects as app_role, which may read and write the
-- business tables but only read and append to the audit trail: no UPDATE, DELETE or TRUNCATE
-- on audit_entries, so even a compromised application cannot rewrite history (the triggers
-- refuse it too, and `flask --app wsgi audit verify` would find it).
GRANT USAGE ON SCHEMA public TO :"app_role";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app_role";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app_role";
REVOKE UPDATE, DELETE, TRUNCATE ON audit_entries FROM :"app_role";
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM :"app_role";
