-- 023: `site` in the rows and the key of graph_edges: an edge is what one site's sensors saw (the
-- second step of sharding by site, docs/scale-out.md; 022 was the first).
--
-- Until now an edge was one row for the whole health system, with the sensors that saw it; a
-- site's graph was the edges any of its sensors saw, with every site's counts. Now the pending
-- deltas (which carry their batch's site since 022) merge into the edge of their site, and a site's
-- graph is its own rows (`g.site = $site`: an equality on the key, where it was an overlap of
-- sensor arrays). A hospital with one site sees no difference. Edges stored before this migration
-- take the site of the first sensor that saw them (`sensors` is sorted); an edge that sensors of
-- several sites saw stays whole at that site, since its counters cannot be told apart any more.
--
-- The row type graph_edges gains `site` as its last column (after the generated `weight`), so
-- every ROW(...)::graph_edges below ends with it. The ends are still resolved to devices by address
-- across sites (auscult_stored_node's rule): that changes with the device tables' step.

ALTER TABLE graph_edges ADD COLUMN site text NOT NULL DEFAULT '';
UPDATE graph_edges g SET site = s.site FROM sensors s WHERE s.sensor_id = g.sensors[1] AND s.site <> '';
ALTER TABLE graph_edges DROP CONSTRAINT graph_edges_pkey,
  ADD PRIMARY KEY (site, src_node, dst_node, transport, port, application);

-- As in 020, per site; its result names the site too (the merge's edge_new events are per site).
DROP FUNCTION auscult_add_edges(graph_edges[]);
CREATE FUNCTION auscult_add_edges(edges graph_edges[])
  RETURNS TABLE (site text, src_node text, dst_node text, transport smallint, port integer, application text,
                 first_seen timestamptz, clinical boolean, phi boolean, inserted boolean, changed boolean)
  LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH r AS (SELECT * FROM unnest(edges)),
  seen_by AS (
    SELECT r.site, r.src_node, r.dst_node, r.transport, r.port, r.application, array_agg(DISTINCT x ORDER BY x) AS sensors
    FROM r, unnest(r.sensors) AS x GROUP BY 1, 2, 3, 4, 5, 6),
  added AS (
    SELECT r.site, r.src_node, r.dst_node, r.transport, r.port, r.application,
           auscult_sat(sum(r.bytes_to_dst)) AS bytes_to_dst, auscult_sat(sum(r.bytes_to_src)) AS bytes_to_src,
           auscult_sat(sum(r.packets_to_dst)) AS packets_to_dst, auscult_sat(sum(r.packets_to_src)) AS packets_to_src,
           auscult_sat(sum(r.flows)) AS flows, min(r.first_seen) AS first_seen, max(r.last_seen) AS last_seen,
           bool_or(r.clinical) AS clinical, bool_or(r.phi) AS phi, bool_or(r.encrypted) AS encrypted,
           bool_or(r.cleartext_credentials) AS cleartext_credentials, bool_or(r.cleartext) AS cleartext,
           bool_or(r.cleartext_phi) AS cleartext_phi
    FROM r GROUP BY 1, 2, 3, 4, 5, 6),
  up AS (
  INSERT INTO graph_edges AS g (site, src_node, dst_node, transport, port, application, bytes_to_dst, bytes_to_src,
                                packets_to_dst, packets_to_src, flows, first_seen, last_seen, clinical, phi,
                                encrypted, cleartext_credentials, sensors, cleartext, cleartext_phi)
  SELECT a.site, a.src_node, a.dst_node, a.transport, a.port, a.application, a.bytes_to_dst, a.bytes_to_src,
         a.packets_to_dst, a.packets_to_src, a.flows, a.first_seen, a.last_seen, a.clinical, a.phi, a.encrypted,
         a.cleartext_credentials, COALESCE(s.sensors, '{}'), a.cleartext, a.cleartext_phi
  FROM added a LEFT JOIN seen_by s USING (site, src_node, dst_node, transport, port, application)
  ORDER BY 1, 2, 3, 4, 5, 6
  ON CONFLICT (site, src_node, dst_node, transport, port, application) DO UPDATE SET
    bytes_to_dst = auscult_sat(g.bytes_to_dst::numeric + excluded.bytes_to_dst),
    bytes_to_src = auscult_sat(g.bytes_to_src::numeric + excluded.bytes_to_src),
    packets_to_dst = auscult_sat(g.packets_to_dst::numeric + excluded.packets_to_dst),
    packets_to_src = auscult_sat(g.packets_to_src::numeric + excluded.packets_to_src),
    flows = auscult_sat(g.flows::numeric + excluded.flows),
    first_seen = LEAST(g.first_seen, excluded.first_seen),
    last_seen = GREATEST(g.last_seen, excluded.last_seen),
    sensors = CASE WHEN excluded.sensors <@ g.sensors THEN g.sensors
                   ELSE auscult_sorted_union(g.sensors, excluded.sensors) END
  RETURNING g.site, g.src_node, g.dst_node, g.transport, g.port, g.application, g.first_seen, g.clinical, g.phi,
            g.xmax = 0 AS inserted)
  SELECT up.site, up.src_node, up.dst_node, up.transport, up.port, up.application, up.first_seen, up.clinical, up.phi,
         up.inserted, up.inserted
  FROM up;

  RETURN QUERY
  WITH f AS (
    SELECT r.site, r.src_node, r.dst_node, r.transport, r.port, r.application, bool_or(r.clinical) AS clinical,
           bool_or(r.phi) AS phi, bool_or(r.encrypted) AS encrypted,
           bool_or(r.cleartext_credentials) AS cleartext_credentials, bool_or(r.cleartext) AS cleartext,
           bool_or(r.cleartext_phi) AS cleartext_phi
    FROM unnest(edges) AS r
    GROUP BY 1, 2, 3, 4, 5, 6
    HAVING bool_or(r.clinical OR r.phi OR r.encrypted OR r.cleartext_credentials OR r.cleartext OR r.cleartext_phi)),
  turned AS (
    UPDATE graph_edges AS g SET
      clinical = g.clinical OR f.clinical,
      phi = g.phi OR f.phi,
      encrypted = g.encrypted OR f.encrypted,
      cleartext_credentials = g.cleartext_credentials OR f.cleartext_credentials,
      cleartext = g.cleartext OR f.cleartext,
      cleartext_phi = g.cleartext_phi OR f.cleartext_phi
    FROM f
    WHERE (g.site, g.src_node, g.dst_node, g.transport, g.port, g.application) =
          (f.site, f.src_node, f.dst_node, f.transport, f.port, f.application)
      AND ((f.clinical AND NOT g.clinical) OR (f.phi AND NOT g.phi) OR (f.encrypted AND NOT g.encrypted)
           OR (f.cleartext_credentials AND NOT g.cleartext_credentials) OR (f.cleartext AND NOT g.cleartext)
           OR (f.cleartext_phi AND NOT g.cleartext_phi))
    RETURNING g.site, g.src_node, g.dst_node, g.transport, g.port, g.application, g.first_seen, g.clinical, g.phi)
  SELECT t.site, t.src_node, t.dst_node, t.transport, t.port, t.application, t.first_seen, t.clinical, t.phi, false, true
  FROM turned t;
END $$;

-- As in 020, the edges keep their site when they move to another node.
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
                       g.cleartext_credentials, g.sensors, g.cleartext, g.cleartext_phi, NULL, g.site)::graph_edges)
  INTO moved FROM gone g;
  IF moved IS NOT NULL THEN
    PERFORM auscult_add_edges(moved);
    IF new_node LIKE 'd:%' THEN
      INSERT INTO device_reclassify (device_id) VALUES (substr(new_node, 3)::bigint)
      ON CONFLICT (device_id) DO UPDATE SET queued_at = excluded.queued_at;
    END IF;
  END IF;
END $$;

-- As in 020, the pending deltas merged into their site's edges; an edge new at two sites is two events.
CREATE OR REPLACE FUNCTION auscult_merge_pending_edges() RETURNS integer
  LANGUAGE plpgsql AS $$
DECLARE
  merged integer;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('auscult_merge_pending_edges'));
  WITH p AS (DELETE FROM graph_edge_pending RETURNING *),
  a AS (
    SELECT site, src_ip, dst_ip, transport, port, application, array_agg(DISTINCT sensor_id ORDER BY sensor_id) AS sensors,
           auscult_sat(sum(bytes_to_dst)) AS bytes_to_dst, auscult_sat(sum(bytes_to_src)) AS bytes_to_src,
           auscult_sat(sum(packets_to_dst)) AS packets_to_dst, auscult_sat(sum(packets_to_src)) AS packets_to_src,
           auscult_sat(sum(flows)) AS flows, min(first_seen) AS first_seen, max(last_seen) AS last_seen,
           bool_or(clinical) AS clinical, bool_or(phi) AS phi, bool_or(encrypted) AS encrypted,
           bool_or(cleartext_credentials) AS cleartext_credentials, bool_or(cleartext) AS cleartext,
           bool_or(cleartext_phi) AS cleartext_phi
    FROM p GROUP BY 1, 2, 3, 4, 5, 6),
  -- auscult_stored_node's rule, written out: as a function with a subquery it is never inlined, and
  -- its calls cost more than the lookups (50 us an address, 200 ms of a 500 ms merge).
  n AS (
    SELECT i.ip, COALESCE((SELECT 'd:' || o.device_id FROM device_own_addresses o WHERE o.ip = i.ip
                           ORDER BY o.last_seen DESC, o.device_id LIMIT 1), 'a:' || host(i.ip)) AS node
    FROM (SELECT src_ip AS ip FROM a UNION SELECT dst_ip FROM a) i),
  k AS MATERIALIZED (
    SELECT ROW(s.node, r.node, a.transport, a.port, a.application, a.bytes_to_dst, a.bytes_to_src, a.packets_to_dst,
               a.packets_to_src, a.flows, a.first_seen, a.last_seen, a.clinical, a.phi, a.encrypted,
               a.cleartext_credentials, a.sensors, a.cleartext, a.cleartext_phi, NULL, a.site)::graph_edges AS edge
    FROM a JOIN n s ON s.ip = a.src_ip JOIN n r ON r.ip = a.dst_ip),
  e AS (SELECT * FROM auscult_add_edges(ARRAY(SELECT edge FROM k))),
  -- The devices at the ends of edges that changed as classification sees them are classified again
  -- (collector/classify/classifier.h); an edge that only gains packets changes nothing there.
  q AS (
    INSERT INTO device_reclassify (device_id)
    SELECT DISTINCT substr(x.node, 3)::bigint FROM e, unnest(ARRAY[e.src_node, e.dst_node]) AS x(node)
    WHERE e.changed AND x.node LIKE 'd:%'
    ORDER BY 1
    ON CONFLICT (device_id) DO UPDATE SET queued_at = excluded.queued_at),
  ev AS (
    INSERT INTO events (kind, device_id, sensor_id, detail)
    SELECT 'edge_new', CASE WHEN e.src_node LIKE 'd:%' THEN substr(e.src_node, 3)::bigint
                            WHEN e.dst_node LIKE 'd:%' THEN substr(e.dst_node, 3)::bigint END,
           f.sensor_id,
           jsonb_build_object('src', e.src_node, 'dst', e.dst_node, 'transport', e.transport, 'port', e.port,
                              'application', e.application, 'clinical', e.clinical, 'phi', e.phi,
                              'first_seen', auscult_us(e.first_seen))
    FROM e
    -- the first sensor (by name) that reported it: all of a new edge's reports are in this merge
    LEFT JOIN (SELECT (k.edge).site, (k.edge).src_node, (k.edge).dst_node, (k.edge).transport, (k.edge).port,
                      (k.edge).application, min(x) AS sensor_id
               FROM k, unnest((k.edge).sensors) AS x GROUP BY 1, 2, 3, 4, 5, 6) f
           USING (site, src_node, dst_node, transport, port, application)
    WHERE e.inserted AND auscult_edge_is_new(e.src_node, e.dst_node, e.first_seen)
    ORDER BY e.site, e.src_node, e.dst_node, e.transport, e.port, e.application)
  SELECT count(*) FILTER (WHERE e.inserted OR NOT e.changed) INTO merged FROM e;  -- each edge once
  RETURN merged;
END $$;
