-- 018: what the classifier needs of a device's flows, kept on the graph's edges as well, so that
-- classifying a device reads its edges (one per peer and service) instead of every flow of its
-- history: a server that every sensor's batches touch holds millions of flows over the flow
-- retention, and reading them all after each batch made the ingest slower as history grew (issue 9).
-- And an edge now says when it changed in a way classification sees (new, or a flag turned true),
-- so that the ingest queues a flow's devices for classification only then, not on every report.
--   cleartext      some flow of the edge was not encrypted
--   cleartext_phi  some flow of the edge carried patient data unencrypted
-- (`encrypted` and `phi` say that some flow was encrypted, some carried patient data: an edge with
-- both encrypted and unencrypted flows needs the two new flags to tell.) Edges stored before this
-- migration take them from their own flags, which is exact unless such a mix was already there.
DROP FUNCTION auscult_add_edges(graph_edges[]);  -- its result gains a column

ALTER TABLE graph_edges ADD COLUMN cleartext boolean NOT NULL DEFAULT false,
                        ADD COLUMN cleartext_phi boolean NOT NULL DEFAULT false;
UPDATE graph_edges SET cleartext = NOT encrypted, cleartext_phi = phi AND NOT encrypted;

-- As in 013, with the two flags (true once any flow had them), and `changed`: the edge is new, or
-- one of its flags turned true (compared with the edge as this statement found it; a concurrent
-- batch that turned it first reported the change itself).
CREATE FUNCTION auscult_add_edges(edges graph_edges[])
  RETURNS TABLE (src_node text, dst_node text, transport smallint, port integer, application text,
                 first_seen timestamptz, clinical boolean, phi boolean, inserted boolean, changed boolean)
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
           bool_or(r.cleartext_credentials) AS cleartext_credentials, bool_or(r.cleartext) AS cleartext,
           bool_or(r.cleartext_phi) AS cleartext_phi
    FROM r GROUP BY 1, 2, 3, 4, 5),
  before AS (
    SELECT g.src_node, g.dst_node, g.transport, g.port, g.application,
           (g.clinical, g.phi, g.encrypted, g.cleartext_credentials, g.cleartext, g.cleartext_phi) AS flags
    FROM graph_edges g JOIN added a USING (src_node, dst_node, transport, port, application)),
  up AS (
  INSERT INTO graph_edges AS g (src_node, dst_node, transport, port, application, bytes_to_dst, bytes_to_src,
                                packets_to_dst, packets_to_src, flows, first_seen, last_seen, clinical, phi,
                                encrypted, cleartext_credentials, sensors, cleartext, cleartext_phi)
  SELECT a.src_node, a.dst_node, a.transport, a.port, a.application, a.bytes_to_dst, a.bytes_to_src,
         a.packets_to_dst, a.packets_to_src, a.flows, a.first_seen, a.last_seen, a.clinical, a.phi, a.encrypted,
         a.cleartext_credentials, COALESCE(s.sensors, '{}'), a.cleartext, a.cleartext_phi
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
    cleartext = g.cleartext OR excluded.cleartext,
    cleartext_phi = g.cleartext_phi OR excluded.cleartext_phi,
    sensors = CASE WHEN excluded.sensors <@ g.sensors THEN g.sensors
                   ELSE auscult_sorted_union(g.sensors, excluded.sensors) END
  RETURNING g.src_node, g.dst_node, g.transport, g.port, g.application, g.first_seen, g.clinical, g.phi,
            g.xmax = 0 AS inserted,
            (g.clinical, g.phi, g.encrypted, g.cleartext_credentials, g.cleartext, g.cleartext_phi) AS flags)
  SELECT up.src_node, up.dst_node, up.transport, up.port, up.application, up.first_seen, up.clinical, up.phi,
         up.inserted, up.inserted OR b.flags IS NULL OR up.flags IS DISTINCT FROM b.flags
  FROM up LEFT JOIN before b USING (src_node, dst_node, transport, port, application)
$$;

-- As in 017 (each row version moved once, the one the DELETE takes), carrying the two flags along;
-- and the device that gains the edges is classified again: its flows, as classification reads them,
-- changed.
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
                       g.cleartext_credentials, g.sensors, g.cleartext, g.cleartext_phi)::graph_edges)
  INTO moved FROM gone g;
  IF moved IS NOT NULL THEN
    PERFORM auscult_add_edges(moved);
    IF new_node LIKE 'd:%' THEN
      INSERT INTO device_reclassify (device_id) VALUES (substr(new_node, 3)::bigint)
      ON CONFLICT (device_id) DO UPDATE SET queued_at = excluded.queued_at;
    END IF;
  END IF;
END $$;

-- As in 017, cheaper in the usual case: called after every batch with every address it named, it
-- first keeps the addresses that still have edges of their own (two index probes each; almost every
-- address of a steady network is a device's node already), and only for those asks who holds them.
CREATE OR REPLACE FUNCTION auscult_absorb_held_addresses(ips inet[]) RETURNS integer
  LANGUAGE plpgsql AS $$
DECLARE
  r record;
  n integer := 0;
BEGIN
  FOR r IN
    WITH loose AS MATERIALIZED (
      SELECT i.ip FROM unnest(ips) AS i(ip)
      WHERE EXISTS (SELECT 1 FROM graph_edges g WHERE g.src_node = 'a:' || host(i.ip))
         OR EXISTS (SELECT 1 FROM graph_edges g WHERE g.dst_node = 'a:' || host(i.ip)))
    SELECT DISTINCT ON (o.ip) 'a:' || host(o.ip) AS old_node, 'd:' || o.device_id AS new_node
    FROM loose l JOIN device_own_addresses o ON o.ip = l.ip
    ORDER BY o.ip, o.last_seen DESC, o.device_id
  LOOP
    PERFORM auscult_move_graph_node(r.old_node, r.new_node);
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;
