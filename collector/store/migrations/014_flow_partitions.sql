-- 014: raw flow history in daily partitions, so that retention drops a day's table instead of
-- deleting rows (collector --flow_retention). The communication graph (graph_edges) keeps the
-- aggregates after the flows are gone. Documented in docs/schema.md.
--
-- PostgreSQL cannot partition a table in place: the flows move to a new partitioned table, and the
-- views that read them (connections, the dashboard's) are dropped and created again from their own
-- definitions, with their owners, options and grants.

DO $$
DECLARE
  v record;
  saved jsonb := '[]';
  item jsonb;
  g record;
BEGIN
  -- The views over flows, and those over them, shallowest first.
  FOR v IN
    WITH RECURSIVE dep(oid, depth) AS (
      SELECT r.ev_class, 1 FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
      WHERE d.refobjid = 'flows'::regclass AND r.ev_class <> 'flows'::regclass
      UNION
      SELECT r.ev_class, dep.depth + 1 FROM dep
      JOIN pg_depend d ON d.refobjid = dep.oid
      JOIN pg_rewrite r ON r.oid = d.objid
      WHERE r.ev_class <> dep.oid AND dep.depth < 16)
    SELECT c.oid, c.oid::regclass::text AS name, max(dep.depth) AS depth, pg_get_viewdef(c.oid) AS def,
           COALESCE(array_to_string(c.reloptions, ', '), '') AS options, pg_get_userbyid(c.relowner) AS owner,
           COALESCE((SELECT jsonb_agg(jsonb_build_object(
                       'grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                       'privilege', a.privilege_type))
                     FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner), '[]') AS grants
    FROM dep JOIN pg_class c ON c.oid = dep.oid WHERE c.relkind = 'v'
    GROUP BY c.oid ORDER BY max(dep.depth), c.oid::regclass::text
  LOOP
    saved := saved || jsonb_build_object('name', v.name, 'def', v.def, 'options', v.options, 'owner', v.owner,
                                         'grants', v.grants);
  END LOOP;
  FOR item IN SELECT x FROM jsonb_array_elements(saved) WITH ORDINALITY AS t(x, n) ORDER BY n DESC LOOP
    EXECUTE format('DROP VIEW %s', item ->> 'name');
  END LOOP;

  ALTER TABLE flows RENAME TO flows_unpartitioned;
  CREATE TABLE flows (LIKE flows_unpartitioned INCLUDING DEFAULTS) PARTITION BY RANGE (first_seen);
  -- When the collector stored the flow (never updated): replayed captures, whose packet times are
  -- long past, are kept for the retention from when they arrived.
  ALTER TABLE flows ADD COLUMN stored_at timestamptz NOT NULL DEFAULT now();
  -- Days without a partition of their own (the past, far future, or before the collector made one).
  CREATE TABLE flows_default PARTITION OF flows DEFAULT;
  INSERT INTO flows SELECT f.*, now() FROM flows_unpartitioned f;
  DROP TABLE flows_unpartitioned;  -- first: its indexes hold the names
  -- A flow's first packet never changes, so its reports meet on the same key.
  ALTER TABLE flows ADD PRIMARY KEY (sensor_id, epoch, flow_id, first_seen);
  CREATE INDEX flows_src_ip ON flows (src_ip);
  CREATE INDEX flows_dst_ip ON flows (dst_ip);
  CREATE INDEX flows_last_seen ON flows (last_seen);
  CREATE INDEX flows_default_stored_at ON flows_default (stored_at);

  FOR item IN SELECT x FROM jsonb_array_elements(saved) WITH ORDINALITY AS t(x, n) ORDER BY n LOOP
    EXECUTE format('CREATE VIEW %s %s AS %s', item ->> 'name',
                   CASE WHEN item ->> 'options' = '' THEN '' ELSE format('WITH (%s)', item ->> 'options') END,
                   item ->> 'def');
    EXECUTE format('ALTER VIEW %s OWNER TO %I', item ->> 'name', item ->> 'owner');
    FOR g IN SELECT x ->> 'grantee' AS grantee, x ->> 'privilege' AS privilege
             FROM jsonb_array_elements(item -> 'grants') AS t(x) LOOP
      EXECUTE format('GRANT %s ON %s TO %s', g.privilege, item ->> 'name', g.grantee);
    END LOOP;
  END LOOP;
END $$;

-- The partitions of the coming days (UTC), made by the collector at start and every hour. A day
-- whose rows already sit in the default partition keeps them there (PostgreSQL cannot carve a
-- partition out of a default one that holds its rows); it expires with the default's rows.
CREATE FUNCTION auscult_make_flow_partitions(days_ahead integer) RETURNS integer
  LANGUAGE plpgsql AS $$
DECLARE
  day date;
  name text;
  made integer := 0;
BEGIN
  FOR day IN SELECT generate_series((now() AT TIME ZONE 'UTC')::date,
                                    (now() AT TIME ZONE 'UTC')::date + days_ahead, interval '1 day')::date LOOP
    name := 'flows_p' || to_char(day, 'YYYYMMDD');
    CONTINUE WHEN to_regclass(name) IS NOT NULL;
    CONTINUE WHEN EXISTS (SELECT 1 FROM flows_default
                          WHERE first_seen >= (day::timestamp AT TIME ZONE 'UTC')
                            AND first_seen < ((day + 1)::timestamp AT TIME ZONE 'UTC'));
    EXECUTE format('CREATE TABLE %I PARTITION OF flows FOR VALUES FROM (%L) TO (%L)', name,
                   day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
    made := made + 1;
  END LOOP;
  RETURN made;
END $$;

-- Flows older than the retention go, with their patient-data kinds and message counts: a day's
-- partition once its last day has passed the retention (dropped whole), and rows of the default
-- partition stored longer ago than that. Returns the flows removed.
CREATE FUNCTION auscult_expire_flows(retention interval) RETURNS bigint
  LANGUAGE plpgsql AS $$
DECLARE
  p record;
  removed bigint := 0;
  n bigint;
BEGIN
  FOR p IN
    SELECT c.oid::regclass AS part, c.relname
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'flows'::regclass AND c.relname ~ '^flows_p[0-9]{8}$'
      AND (to_date(substr(c.relname, 8), 'YYYYMMDD') + 1)::timestamp AT TIME ZONE 'UTC' < now() - retention
    ORDER BY c.relname
  LOOP
    EXECUTE format('DELETE FROM flow_phi x USING %s f WHERE (x.sensor_id, x.epoch, x.flow_id) = (f.sensor_id, f.epoch, f.flow_id)', p.part);
    EXECUTE format('DELETE FROM flow_messages x USING %s f WHERE (x.sensor_id, x.epoch, x.flow_id) = (f.sensor_id, f.epoch, f.flow_id)', p.part);
    EXECUTE format('SELECT count(*) FROM %s', p.part) INTO n;
    EXECUTE format('DROP TABLE %s', p.part);
    removed := removed + n;
  END LOOP;
  WITH gone AS (DELETE FROM flows_default WHERE stored_at < now() - retention
                RETURNING sensor_id, epoch, flow_id),
       phi AS (DELETE FROM flow_phi x USING gone g
               WHERE (x.sensor_id, x.epoch, x.flow_id) = (g.sensor_id, g.epoch, g.flow_id)),
       messages AS (DELETE FROM flow_messages x USING gone g
                    WHERE (x.sensor_id, x.epoch, x.flow_id) = (g.sensor_id, g.epoch, g.flow_id))
  SELECT count(*) INTO n FROM gone;
  RETURN removed + n;
END $$;
