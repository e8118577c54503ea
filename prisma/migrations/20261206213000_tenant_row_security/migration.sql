-- Tenants in the database (issue 16, item 5): every row a person owns carries its country, and
-- PostgreSQL itself confines what the application may touch to the countries its request was
-- bound to. Two roles, neither of them the owner (migrations keep running as the owner):
--   kamina_app          what the subgraphs' resolvers run as: a row is visible and writable only
--                       when its country is in the connection's `kamina.tenants` setting (a
--                       Country[] literal such as {MX,PE}), unset or empty means no rows at all.
--   kamina_all_tenants  the named bypass for what spans countries by design (the gateway's
--                       consent and token checks, the realtime workers, operator commands): the
--                       same grants, a policy that admits every row. Connections say why they
--                       use it (application_name kamina:all-tenants:<why>, platform/database/).
-- Roles belong to the server, not to one database, so they are created only when missing.
-- (Bodies are E'' strings with semicolons written \073: the driver adapter splits a migration at
-- every semicolon.)

DO E'BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ''kamina_app'') THEN CREATE ROLE kamina_app NOLOGIN NOINHERIT\073 END IF\073
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL\073
END';

DO E'BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ''kamina_all_tenants'') THEN CREATE ROLE kamina_all_tenants NOLOGIN NOINHERIT\073 END IF\073
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL\073
END';

-- The login role the services connect as switches to these roles (SET ROLE) per connection.
DO E'BEGIN
  EXECUTE format(''GRANT kamina_app, kamina_all_tenants TO %I'', current_user)\073
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL\073
END';

-- Data rights: rows only (no DDL, no TRUNCATE, no ownership), on the tables and sequences of
-- the schema the migrations run in, and on those later migrations create.
DO E'DECLARE s text := current_schema()\073
BEGIN
  EXECUTE format(''GRANT USAGE ON SCHEMA %I TO kamina_app, kamina_all_tenants'', s)\073
  EXECUTE format(''GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO kamina_app, kamina_all_tenants'', s)\073
  EXECUTE format(''GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO kamina_app, kamina_all_tenants'', s)\073
  EXECUTE format(''ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO kamina_app, kamina_all_tenants'', s)\073
  EXECUTE format(''ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO kamina_app, kamina_all_tenants'', s)\073
END';

-- The countries the connection is bound to. Read once per statement (the policies call it as a
-- sub-select, an InitPlan), and fails closed: unset is no country.
CREATE OR REPLACE FUNCTION "kamina_tenants"() RETURNS "Country"[] LANGUAGE sql STABLE
  AS E'SELECT coalesce(nullif(current_setting(''kamina.tenants'', true), ''''), ''{}'')::"Country"[]';

-- Every table whose rows belong to one person (and so to one country), and the per-country data
-- keys of encryption at rest (data_key). audit_event is left out on
-- purpose: only the gateway and the workers (all tenants) write or read it, and its rows of no
-- country (the `global` chain) belong to no tenant. test/tenant-isolation.test.ts fails when a
-- table with a country column is neither here nor in its list of exceptions.
DO E'DECLARE t text\073
BEGIN
  FOREACH t IN ARRAY ARRAY[''app_user'', ''consent'', ''wellness_snapshot'', ''savings_goal'', ''debt'', ''debt_payment'',
                           ''expense'', ''income_stream'', ''coach_session'', ''coach_transcript'', ''alert'', ''outbox_event'', ''data_key''] LOOP
    EXECUTE format(''ALTER TABLE %I ENABLE ROW LEVEL SECURITY'', t)\073
    EXECUTE format(''CREATE POLICY tenant_isolation ON %I TO kamina_app USING (country = ANY ((SELECT kamina_tenants())::"Country"[])) WITH CHECK (country = ANY ((SELECT kamina_tenants())::"Country"[]))'', t)\073
    EXECUTE format(''CREATE POLICY all_tenants ON %I TO kamina_all_tenants USING (true) WITH CHECK (true)'', t)\073
  END LOOP\073
END';
