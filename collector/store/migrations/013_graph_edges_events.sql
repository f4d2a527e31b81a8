-- 013: the communication graph kept up to date as flows arrive (graph_edges), its baseline, and
-- the change events a SOC subscribes to (events; the Watch RPC). Documented in docs/schema.md.

-- A flow's end as the graph stores it: the device that held the address when the flow was seen
-- ("d:<id>", its own address, never a router's forwarded one), else the address ("a:<ip>").
-- Stored when seen, so an address that DHCP hands to another device later keeps its history with
-- the device that held it then. Grouping outside hosts into networks happens when the graph is
-- read (auscult_graph_nodes), so importing the hospital's networks needs no rewrite.
CREATE FUNCTION auscult_stored_node(ip inet) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT COALESCE(
    (SELECT 'd:' || o.device_id FROM device_own_addresses o
     WHERE o.ip = auscult_stored_node.ip ORDER BY o.last_seen DESC, o.device_id LIMIT 1),
    'a:' || host(ip))
$$;

-- Stored nodes as the graph shows them, and whether each is inside the hospital's networks; set
-- based, because a graph names tens of thousands of nodes at once.
-- shown: a host that is not an asset (a device without a MAC known by an address outside the
-- hospital's networks, or an address no device holds outside them) joins its /24 or /64,
-- "n:<network>" (auscult_node_of's rule, migration 011, which misses devices whose address
-- identity has expired).
-- internal (auscult_internal: the segment map, RFC 1918 and the other private ranges by default):
-- an address when it is; a device unless it holds an address that is not (a host with a public
-- address is reachable from outside, whatever its link-local IPv6 address says).
CREATE FUNCTION auscult_graph_nodes(nodes text[]) RETURNS TABLE (node text, shown text, internal boolean)
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  WITH x AS (
    SELECT DISTINCT n AS node, CASE WHEN n LIKE 'd:%' THEN substr(n, 3)::bigint END AS dev,
           CASE WHEN n LIKE 'a:%' THEN substr(n, 3)::inet END AS ip
    FROM unnest(nodes) AS n),
  outside AS (
    SELECT a.device_id, (array_agg(a.ip ORDER BY a.last_seen DESC))[1] AS ip
    FROM x JOIN device_addresses a ON a.device_id = x.dev
    JOIN devices d ON d.device_id = a.device_id
    WHERE (a.source <> 'traffic' OR NOT d.routes_traffic) AND NOT auscult_internal(a.ip)
    GROUP BY a.device_id),
  -- No MAC (never seen on a segment of ours) and known by an outside address: its identity, or,
  -- once that has expired (--ip_identity_ttl), the outside address it was last seen with.
  grouped AS (
    SELECT d.device_id, 'n:' || auscult_network_of(COALESCE(d.identity_ip, o.ip))::text AS shown
    FROM x JOIN devices d ON d.device_id = x.dev LEFT JOIN outside o ON o.device_id = d.device_id
    WHERE d.mac IS NULL AND COALESCE(d.identity_ip, o.ip) IS NOT NULL
      AND NOT auscult_internal(COALESCE(d.identity_ip, o.ip)))
  SELECT x.node,
         CASE WHEN x.ip IS NOT NULL THEN
                CASE WHEN auscult_group_address(x.ip) OR auscult_internal(x.ip) THEN x.node
                     ELSE 'n:' || auscult_network_of(x.ip)::text END
              ELSE COALESCE(g.shown, x.node) END,
         CASE WHEN x.ip IS NOT NULL THEN auscult_internal(x.ip) ELSE o.device_id IS NULL END
  FROM x LEFT JOIN grouped g ON g.device_id = x.dev LEFT JOIN outside o ON o.device_id = x.dev
$$;

-- One row per (source node, destination node, transport, service port, application): the flows'
-- counters added up as their reports arrive (collector/store/batch_writer.cc). `flows` counts each
-- flow once; the booleans are true when any flow was. Kept after the flows' own retention: it is
-- the long memory of who talks to whom.
CREATE TABLE graph_edges (
  src_node              text NOT NULL,
  dst_node              text NOT NULL,
  transport             smallint NOT NULL,
  port                  integer NOT NULL,
  application           text NOT NULL,
  bytes_to_dst          bigint NOT NULL DEFAULT 0,
  bytes_to_src          bigint NOT NULL DEFAULT 0,
  packets_to_dst        bigint NOT NULL DEFAULT 0,
  packets_to_src        bigint NOT NULL DEFAULT 0,
  flows                 bigint NOT NULL DEFAULT 0,
  first_seen            timestamptz NOT NULL,   -- packet time
  last_seen             timestamptz NOT NULL,
  clinical              boolean NOT NULL DEFAULT false,
  phi                   boolean NOT NULL DEFAULT false,
  encrypted             boolean NOT NULL DEFAULT false,
  cleartext_credentials boolean NOT NULL DEFAULT false,
  sensors               text[] NOT NULL DEFAULT '{}',
  PRIMARY KEY (src_node, dst_node, transport, port, application)
);
CREATE INDEX graph_edges_dst ON graph_edges (dst_node);
CREATE INDEX graph_edges_first_seen ON graph_edges (first_seen);
CREATE INDEX graph_edges_last_seen ON graph_edges (last_seen);

CREATE FUNCTION auscult_sorted_union(a text[], b text[]) RETURNS text[]
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT COALESCE(array_agg(DISTINCT x ORDER BY x), '{}') FROM unnest(a || b) AS x
$$;

-- Adds edges to the graph: rows with the same key add up among themselves and into the row already
-- there (counters add, saturating; times widen; a flag is true once any flow had it; sensors
-- unite). The one definition for the ingest (collector/store/batch_writer.cc) and for moving a
-- node's edges. Returns each edge as it now stands, `inserted` when it is new to the graph.
CREATE FUNCTION auscult_add_edges(edges graph_edges[])
  RETURNS TABLE (src_node text, dst_node text, transport smallint, port integer, application text,
                 first_seen timestamptz, clinical boolean, phi boolean, inserted boolean)
  LANGUAGE sql AS $$
  WITH r AS (SELECT * FROM unnest(edges)),
  seen_by AS (
    SELECT r.src_node, r.dst_node, r.transport, r.port, r.application, array_agg(DISTINCT x ORDER BY x) AS sensors
    FROM r, unnest(r.sensors) AS x GROUP BY 1, 2, 3, 4, 5),
  added AS (
    SELECT r.src_node, r.dst_node, r.transport, r.port, r.application,
           auscult_sat(sum(r.bytes_to_dst)) AS bytes_to_dst, auscult_sat(sum(r.bytes_to_src)) AS bytes_to_src,
           auscult_sat(sum(r.packets_to_dst)) AS packets_to_dst, auscult_sat(sum(r.packets_to_src)) AS packets_to_src,
           auscult_sat(sum(r.flows)) AS flows, min(r.first_seen) AS first_seen, max(r.last_seen) AS last_seen,
           bool_or(r.clinical) AS clinical, bool_or(r.phi) AS phi, bool_or(r.encrypted) AS encrypted,
           bool_or(r.cleartext_credentials) AS cleartext_credentials
    FROM r GROUP BY 1, 2, 3, 4, 5)
  INSERT INTO graph_edges AS g
  SELECT a.*, COALESCE(s.sensors, '{}')
  FROM added a LEFT JOIN seen_by s USING (src_node, dst_node, transport, port, application)
  ORDER BY 1, 2, 3, 4, 5
  ON CONFLICT (src_node, dst_node, transport, port, application) DO UPDATE SET
    bytes_to_dst = auscult_sat(g.bytes_to_dst::numeric + excluded.bytes_to_dst),
    bytes_to_src = auscult_sat(g.bytes_to_src::numeric + excluded.bytes_to_src),
    packets_to_dst = auscult_sat(g.packets_to_dst::numeric + excluded.packets_to_dst),
    packets_to_src = auscult_sat(g.packets_to_src::numeric + excluded.packets_to_src),
    flows = auscult_sat(g.flows::numeric + excluded.flows),
    first_seen = LEAST(g.first_seen, excluded.first_seen),
    last_seen = GREATEST(g.last_seen, excluded.last_seen),
    clinical = g.clinical OR excluded.clinical,
    phi = g.phi OR excluded.phi,
    encrypted = g.encrypted OR excluded.encrypted,
    cleartext_credentials = g.cleartext_credentials OR excluded.cleartext_credentials,
    sensors = CASE WHEN excluded.sensors <@ g.sensors THEN g.sensors
                   ELSE auscult_sorted_union(g.sensors, excluded.sensors) END
  RETURNING g.src_node, g.dst_node, g.transport, g.port, g.application, g.first_seen, g.clinical, g.phi,
            g.xmax = 0
$$;

-- Moves a node's edges to another node (a device merged into another; an address found to be a
-- device's own), adding up those that meet an edge already there.
CREATE FUNCTION auscult_move_graph_node(old_node text, new_node text) RETURNS void
  LANGUAGE plpgsql AS $$
DECLARE
  moved graph_edges[];
BEGIN
  IF old_node = new_node THEN RETURN; END IF;
  moved := ARRAY(
    SELECT ROW(CASE WHEN g.src_node = old_node THEN new_node ELSE g.src_node END,
               CASE WHEN g.dst_node = old_node THEN new_node ELSE g.dst_node END,
               g.transport, g.port, g.application, g.bytes_to_dst, g.bytes_to_src, g.packets_to_dst,
               g.packets_to_src, g.flows, g.first_seen, g.last_seen, g.clinical, g.phi, g.encrypted,
               g.cleartext_credentials, g.sensors)::graph_edges
    FROM graph_edges g WHERE g.src_node = old_node OR g.dst_node = old_node);
  DELETE FROM graph_edges g WHERE g.src_node = old_node OR g.dst_node = old_node;
  PERFORM auscult_add_edges(moved);
END $$;

-- An address seen in flows before any device was known to hold it ("a:<ip>") becomes the node of
-- the device that turns out to (ARP, DHCP or its own traffic in a later batch): one node per host.
CREATE FUNCTION auscult_absorb_addresses(devices bigint[]) RETURNS void
  LANGUAGE plpgsql AS $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT DISTINCT ON (o.ip) 'a:' || host(o.ip) AS old_node, 'd:' || o.device_id AS new_node
    FROM device_own_addresses o
    WHERE o.device_id = ANY(devices)
      AND (EXISTS (SELECT 1 FROM graph_edges g WHERE g.src_node = 'a:' || host(o.ip))
           OR EXISTS (SELECT 1 FROM graph_edges g WHERE g.dst_node = 'a:' || host(o.ip)))
    ORDER BY o.ip, o.last_seen DESC, o.device_id
  LOOP
    PERFORM auscult_move_graph_node(r.old_node, r.new_node);
  END LOOP;
END $$;

-- The edges of the flows already stored when this migration runs, attributed to today's holders.
INSERT INTO graph_edges
SELECT s.node, d.node, f.transport, f.dst_port, f.application,
       auscult_sat(sum(f.bytes_to_dst)), auscult_sat(sum(f.bytes_to_src)),
       auscult_sat(sum(f.packets_to_dst)), auscult_sat(sum(f.packets_to_src)), count(*),
       min(f.first_seen), max(f.last_seen), bool_or(f.clinical), bool_or(f.phi), bool_or(f.encrypted),
       bool_or(f.cleartext_credentials), array_agg(DISTINCT f.sensor_id ORDER BY f.sensor_id)
FROM flows f
JOIN (SELECT ip, auscult_stored_node(ip) AS node FROM (SELECT src_ip AS ip FROM flows UNION SELECT dst_ip FROM flows) i) s
  ON s.ip = f.src_ip
JOIN (SELECT ip, auscult_stored_node(ip) AS node FROM (SELECT src_ip AS ip FROM flows UNION SELECT dst_ip FROM flows) i) d
  ON d.ip = f.dst_ip
GROUP BY 1, 2, 3, 4, 5;

-- The baseline: a device's first `learning_period` (a collector setting) is what it normally does.
-- An edge is new when it appeared after the learning period of each device at its ends; a device
-- that is itself new is reported as a new device, not as a burst of new edges.
INSERT INTO collector_settings (name, value) VALUES ('learning_period', '604800 seconds') ON CONFLICT DO NOTHING;

CREATE FUNCTION auscult_learning_period() RETURNS interval
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT COALESCE((SELECT value::interval FROM collector_settings WHERE name = 'learning_period'), interval '7 days')
$$;

-- (An edge between addresses no device holds waits for the learning period of the first device seen.)
CREATE FUNCTION auscult_edge_is_new(src_node text, dst_node text, first_seen timestamptz) RETURNS boolean
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT first_seen > COALESCE(
    (SELECT max(d.first_seen) FROM devices d
     WHERE d.device_id IN (SELECT substr(n, 3)::bigint FROM unnest(ARRAY[src_node, dst_node]) AS n
                           WHERE n LIKE 'd:%')),
    (SELECT min(d.first_seen) FROM devices d)) + auscult_learning_period()
$$;
CREATE INDEX devices_first_seen ON devices (first_seen);

-- What changed, in order, for the Watch RPC: new devices, changed classification or risk, new
-- edges (after the baseline), sensors going silent and coming back. Written in the transaction
-- that makes the change; a subscriber resumes from the last id it saw. Kept for
-- `event_retention` (the collector deletes older ones).
CREATE TABLE events (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id   bigint UNIQUE,                        -- commit order: set as the writing transaction commits
  at         timestamptz NOT NULL DEFAULT now(),   -- collector clock
  kind       text NOT NULL,                        -- device_new, device_changed, edge_new, sensor_down, sensor_up
  device_id  bigint,                               -- no foreign key: the event outlives a merge
  sensor_id  text,
  detail     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_at ON events (at);

-- A subscriber resumes after the last event_id it saw, so ids must follow commit order: an id taken
-- when a row is inserted could belong to a transaction that commits after a later id is read, and
-- that event would be skipped. The id is given at commit instead (a deferred trigger), under a lock
-- held until the commit is visible, so no smaller id can appear after a larger one is read.
-- Only transactions that write events take the lock, for the moment of their commit.
CREATE SEQUENCE events_commit_order;
CREATE FUNCTION auscult_event_commit_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7740013);  -- the collector's port and this migration: unused elsewhere
  UPDATE events SET event_id = nextval('events_commit_order') WHERE id = NEW.id;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER events_commit_order AFTER INSERT ON events DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION auscult_event_commit_order();

-- Subscribers wake on this instead of polling.
CREATE FUNCTION auscult_notify_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('auscult_events', '');
  RETURN NULL;
END $$;
CREATE TRIGGER events_notify AFTER INSERT ON events FOR EACH STATEMENT EXECUTE FUNCTION auscult_notify_events();

CREATE FUNCTION auscult_device_new_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO events (kind, device_id, detail)
  VALUES ('device_new', NEW.device_id,
          jsonb_strip_nulls(jsonb_build_object('mac', NEW.mac::text, 'ip', host(NEW.identity_ip), 'site', NEW.site,
                                               'wing', NEW.wing)));
  RETURN NULL;
END $$;
CREATE TRIGGER devices_new_event AFTER INSERT ON devices FOR EACH ROW EXECUTE FUNCTION auscult_device_new_event();

-- A device's risk score: a change is an event, with the score before and after (its first score
-- comes with the device_new event's device). What a device is, its type or category, is reported
-- by the classifier, which replaces those rows (collector/classify/classifier.cc).
CREATE FUNCTION auscult_risk_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.score = NEW.score THEN RETURN NULL; END IF;
  INSERT INTO events (kind, device_id, detail)
  VALUES ('device_changed', NEW.device_id,
          jsonb_build_object('attribute', 'risk', 'old', OLD.score::text, 'new', NEW.score::text));
  RETURN NULL;
END $$;
CREATE TRIGGER device_risk_event AFTER UPDATE ON device_risk
  FOR EACH ROW EXECUTE FUNCTION auscult_risk_event();

-- A sensor is silent (down) when its last batch is this old (the collector's --sensor_silent_after).
INSERT INTO collector_settings (name, value) VALUES ('sensor_silent_after', '60 seconds') ON CONFLICT DO NOTHING;

CREATE FUNCTION auscult_sensor_silent_after() RETURNS interval
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT COALESCE((SELECT value::interval FROM collector_settings WHERE name = 'sensor_silent_after'),
                  interval '60 seconds')
$$;

-- Which sensors the collector has reported silent (so that each going down and coming back is one
-- event).
ALTER TABLE sensors ADD COLUMN reported_down boolean NOT NULL DEFAULT false;
