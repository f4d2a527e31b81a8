-- 017: several collectors on one database (behind a balancer: docs/architecture.md, "Scale-out"),
-- and concurrent batches in general, which several collectors make more of.
--
-- 1. Flow partitions. Each collector makes the coming days' partitions at start and every hour,
-- and expires old ones. Two at once (two collectors started together do) raced: both saw a day's
-- partition missing and the second CREATE TABLE failed ("already exists"), which stops a starting
-- collector; two expiries dropped the same partition, and the second failed. Now they take turns
-- on a transaction lock, and a partition found made meanwhile (a name looked up before another
-- collector's commit) counts as made by someone else.

CREATE OR REPLACE FUNCTION auscult_make_flow_partitions(days_ahead integer) RETURNS integer
  LANGUAGE plpgsql AS $$
DECLARE
  day date;
  name text;
  made integer := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(7740017);  -- the collector's port and this migration: unused elsewhere
  FOR day IN SELECT generate_series((now() AT TIME ZONE 'UTC')::date,
                                    (now() AT TIME ZONE 'UTC')::date + days_ahead, interval '1 day')::date LOOP
    name := 'flows_p' || to_char(day, 'YYYYMMDD');
    CONTINUE WHEN to_regclass(name) IS NOT NULL;
    CONTINUE WHEN EXISTS (SELECT 1 FROM flows_default
                          WHERE first_seen >= (day::timestamp AT TIME ZONE 'UTC')
                            AND first_seen < ((day + 1)::timestamp AT TIME ZONE 'UTC'));
    BEGIN
      EXECUTE format('CREATE TABLE %I PARTITION OF flows FOR VALUES FROM (%L) TO (%L)', name,
                     day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
      made := made + 1;
    EXCEPTION WHEN duplicate_table OR unique_violation THEN
      NULL;  -- another collector made it
    END;
  END LOOP;
  RETURN made;
END $$;

-- As in migration 014, one collector at a time.
CREATE OR REPLACE FUNCTION auscult_expire_flows(retention interval) RETURNS bigint
  LANGUAGE plpgsql AS $$
DECLARE
  p record;
  removed bigint := 0;
  n bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(7740017);
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

-- 2. Moving a node's edges (an address absorbed by the device found to hold it, a device merged
-- into another) read the edges, then deleted them, then added the copies to the new node. Two
-- batches moving the same node at once both added their copies (the edges counted twice), and a
-- batch that added to an edge between the read and the delete lost its counts. Now the delete
-- itself returns what is moved: each row version is moved once, the one it deletes.
CREATE OR REPLACE FUNCTION auscult_move_graph_node(old_node text, new_node text) RETURNS void
  LANGUAGE plpgsql AS $$
DECLARE
  moved graph_edges[];
BEGIN
  IF old_node = new_node THEN RETURN; END IF;
  WITH gone AS (
    DELETE FROM graph_edges g WHERE g.src_node = old_node OR g.dst_node = old_node RETURNING g.*)
  SELECT array_agg(ROW(CASE WHEN g.src_node = old_node THEN new_node ELSE g.src_node END,
                       CASE WHEN g.dst_node = old_node THEN new_node ELSE g.dst_node END,
                       g.transport, g.port, g.application, g.bytes_to_dst, g.bytes_to_src, g.packets_to_dst,
                       g.packets_to_src, g.flows, g.first_seen, g.last_seen, g.clinical, g.phi, g.encrypted,
                       g.cleartext_credentials, g.sensors)::graph_edges)
  INTO moved FROM gone g;
  IF moved IS NOT NULL THEN
    PERFORM auscult_add_edges(moved);
  END IF;
END $$;

-- 3. An address becomes a device's node (auscult_absorb_addresses) in the batch that shows the
-- device holds it; a concurrent batch that did not see that yet (not committed) still stores its
-- flows' edges on the address ("a:<ip>"), and nothing moved them afterwards. After each batch
-- commits, the collector calls this with every address the batch named (flow ends and devices'
-- addresses), in a transaction of its own: of any two such batches, the second to get here sees
-- what the other committed (its edges, or the device's address), so no edge stays on an address
-- a device holds.
CREATE FUNCTION auscult_absorb_held_addresses(ips inet[]) RETURNS integer
  LANGUAGE plpgsql AS $$
DECLARE
  r record;
  n integer := 0;
BEGIN
  FOR r IN
    SELECT DISTINCT ON (o.ip) 'a:' || host(o.ip) AS old_node, 'd:' || o.device_id AS new_node
    FROM device_own_addresses o
    WHERE o.ip = ANY(ips)
      AND (EXISTS (SELECT 1 FROM graph_edges g WHERE g.src_node = 'a:' || host(o.ip))
           OR EXISTS (SELECT 1 FROM graph_edges g WHERE g.dst_node = 'a:' || host(o.ip)))
    ORDER BY o.ip, o.last_seen DESC, o.device_id
  LOOP
    PERFORM auscult_move_graph_node(r.old_node, r.new_node);
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;
