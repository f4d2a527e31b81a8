-- Hands an Auscult database over to the role the collector is to run as (docs/security.md): the
-- database itself, and every schema, table, view, sequence, function and type in it that the
-- role which applied the collector's migrations owns (the owner of schema_migrations: a superuser,
-- when the collector ran as one). For a database a superuser filled before the collector refused
-- to run as one. Run it as a superuser, in that database, with the collector stopped:
--
--   psql -v owner=auscult -d auscult -f deploy/db-hand-over.sql
--
-- The role must exist and must not be a superuser (CREATE ROLE auscult LOGIN;). What the previous
-- owner granted (the dashboard views to auscult_dashboard) passes to the new owner with each
-- object. One transaction; running it again changes nothing.
\set ON_ERROR_STOP on
\if :{?owner}
\else
  DO $$ BEGIN RAISE EXCEPTION 'name the role: psql -v owner=ROLE -d DATABASE -f deploy/db-hand-over.sql'; END $$;
\endif
SELECT set_config('auscult.hand_over_to', :'owner', false) AS "hand over to";
BEGIN;
DO $$
DECLARE
  new_owner text := current_setting('auscult.hand_over_to');
  old_owner oid;
  o record;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = new_owner) THEN
    RAISE EXCEPTION 'role % does not exist', new_owner USING HINT = format('CREATE ROLE %I LOGIN;', new_owner);
  END IF;
  IF (SELECT rolsuper FROM pg_roles WHERE rolname = new_owner) THEN
    RAISE EXCEPTION 'role % is a superuser: hand the database to a role that is not', new_owner;
  END IF;
  EXECUTE format('ALTER DATABASE %I OWNER TO %I', current_database(), new_owner);

  -- Whoever applied the migrations made every object of the collector's (and schema_migrations).
  SELECT c.relowner INTO old_owner FROM pg_class c WHERE c.relname = 'schema_migrations' AND c.relkind = 'r'
  ORDER BY pg_catalog.pg_table_is_visible(c.oid) DESC LIMIT 1;
  IF old_owner IS NULL OR old_owner = (SELECT oid FROM pg_roles WHERE rolname = new_owner) THEN
    RETURN;  -- no migration applied yet, or handed over already
  END IF;

  -- Schemas the system owns, and the members of extensions, are left as they are.
  FOR o IN SELECT n.nspname FROM pg_namespace n
           WHERE n.nspowner = old_owner AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' LOOP
    EXECUTE format('ALTER SCHEMA %I OWNER TO %I', o.nspname, new_owner);
  END LOOP;
  -- Partitions are tables of their own; sequences of identity and serial columns follow their table.
  FOR o IN SELECT c.oid::regclass AS name,
                  CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                                 WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END AS kind
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relowner = old_owner AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
             AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                             AND (d.deptype = 'e' OR (c.relkind = 'S' AND d.deptype IN ('a', 'i')))) LOOP
    EXECUTE format('ALTER %s %s OWNER TO %I', o.kind, o.name, new_owner);
  END LOOP;
  FOR o IN SELECT p.oid::regprocedure AS name,
                  CASE p.prokind WHEN 'a' THEN 'AGGREGATE' WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END AS kind
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE p.proowner = old_owner AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                             AND d.deptype = 'e') LOOP
    EXECUTE format('ALTER %s %s OWNER TO %I', o.kind, o.name, new_owner);
  END LOOP;
  -- Enums, domains and ranges made on their own (a table's row type and array types follow).
  FOR o IN SELECT t.oid::regtype AS name, CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END AS kind
           FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE t.typowner = old_owner AND t.typtype IN ('e', 'd', 'r') AND n.nspname !~ '^pg_'
             AND n.nspname <> 'information_schema'
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid
                             AND d.deptype = 'e') LOOP
    EXECUTE format('ALTER %s %s OWNER TO %I', o.kind, o.name, new_owner);
  END LOOP;
END
$$;
COMMIT;
