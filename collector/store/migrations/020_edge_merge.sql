-- 020: graph edges merged by one writer at a time, for ingest at scale (docs/performance.md, "Ingest
-- at hospital scale").
--
-- Until now each batch added its flows to their edges in its own transaction. Every sensor's flows
-- end at the same site servers (DNS, NTP, the HL7 engine, PACS), so concurrent batches updated the
-- same edge rows and each held their locks until it committed: the database connections waited
-- for each other and more sensors applied fewer flows a second. Now a batch appends its flows,
-- added up per (initiator address, responder address, service) in the batch, to
-- graph_edge_pending, a table without indexes or keys that no two writers contend on; after it
-- commits, the collector merges everything pending in one transaction (auscult_merge_pending_edges)
-- before it acknowledges the batch, so that an acknowledged batch's edges are visible as before.
-- Concurrent batches' deltas are merged together: the edges of the site servers are updated once per
-- merge instead of once per batch.

-- Their bodies are timestamptz arithmetic, which PostgreSQL rates STABLE (it reads the time zone):
-- declared IMMUTABLE, the planner would not inline them and every value cost a call of an SQL
-- function (2.5 million calls in a one-minute ingest run). STABLE is what they are.
ALTER FUNCTION auscult_ts(bigint) STABLE;
ALTER FUNCTION auscult_us(timestamptz) STABLE;

-- An edge's row is updated at every merge that has its flows; HOT updates (in place on the same
-- page, no new index entries) make that several times cheaper, and PostgreSQL takes them only when
-- no indexed column changes and the page has room. So: room on each page (fillfactor), and no
-- index on what every report changes. The last_seen index goes (no query reads edges by it). The
-- neighbourhood walk's "busiest first" indexes on the byte total (migration 019) become indexes on
-- `weight`, the total's power of two, which changes each time an edge's traffic doubles rather
-- than at every merge; a walk reads the index in weight order and sorts each weight's few edges by
-- bytes (an incremental sort), which gives the same order, since weight rises with bytes.
ALTER TABLE graph_edges SET (fillfactor = 70);
DROP INDEX graph_edges_last_seen;
DROP INDEX graph_edges_src_bytes;
DROP INDEX graph_edges_dst_bytes;
CREATE FUNCTION auscult_edge_weight(bytes_to_dst bigint, bytes_to_src bigint) RETURNS smallint
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT floor(ln(bytes_to_dst::float8 + bytes_to_src::float8 + 1) / ln(2))::smallint
$$;
ALTER TABLE graph_edges ADD COLUMN weight smallint GENERATED ALWAYS AS (auscult_edge_weight(bytes_to_dst, bytes_to_src)) STORED;
CREATE INDEX graph_edges_src_weight ON graph_edges (src_node, weight DESC);
CREATE INDEX graph_edges_dst_weight ON graph_edges (dst_node, weight DESC);

-- One row per (batch, initiator address, responder address, transport, port, application): the
-- flows' packets and bytes, how many flows were new (a flow counts once, when first stored), their
-- times and flags. The ends are addresses: they become graph nodes when merged (the device holding
-- the address then), not when the batch was written.
CREATE TABLE graph_edge_pending (
  sensor_id             text NOT NULL,
  src_ip                inet NOT NULL,
  dst_ip                inet NOT NULL,
  transport             smallint NOT NULL,
  port                  integer NOT NULL,
  application           text NOT NULL,
  bytes_to_dst          bigint NOT NULL,
  bytes_to_src          bigint NOT NULL,
  packets_to_dst        bigint NOT NULL,
  packets_to_src        bigint NOT NULL,
  flows                 bigint NOT NULL,
  first_seen            timestamptz NOT NULL,
  last_seen             timestamptz NOT NULL,
  clinical              boolean NOT NULL,
  phi                   boolean NOT NULL,
  encrypted             boolean NOT NULL,
  cleartext_credentials boolean NOT NULL,
  cleartext             boolean NOT NULL,
  cleartext_phi         boolean NOT NULL
);

-- Merges every pending row into graph_edges (auscult_add_edges, as batches did before), queues the
-- devices at the ends of changed edges for classification and records edge_new events, as the batch
-- statement did. One merge at a time across every collector on the database (a transaction-level
-- advisory lock): the next one's DELETE, a statement taken after the lock, sees what this one
-- committed and takes only what is left. Returns the edges merged.
CREATE FUNCTION auscult_merge_pending_edges() RETURNS integer
  LANGUAGE plpgsql AS $$
DECLARE
  merged integer;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('auscult_merge_pending_edges'));
  WITH p AS (DELETE FROM graph_edge_pending RETURNING *),
  a AS (
    SELECT src_ip, dst_ip, transport, port, application, array_agg(DISTINCT sensor_id ORDER BY sensor_id) AS sensors,
           auscult_sat(sum(bytes_to_dst)) AS bytes_to_dst, auscult_sat(sum(bytes_to_src)) AS bytes_to_src,
           auscult_sat(sum(packets_to_dst)) AS packets_to_dst, auscult_sat(sum(packets_to_src)) AS packets_to_src,
           auscult_sat(sum(flows)) AS flows, min(first_seen) AS first_seen, max(last_seen) AS last_seen,
           bool_or(clinical) AS clinical, bool_or(phi) AS phi, bool_or(encrypted) AS encrypted,
           bool_or(cleartext_credentials) AS cleartext_credentials, bool_or(cleartext) AS cleartext,
           bool_or(cleartext_phi) AS cleartext_phi
    FROM p GROUP BY 1, 2, 3, 4, 5),
  -- auscult_stored_node's rule, written out: as a function with a subquery it is never inlined, and
  -- its calls cost more than the lookups (50 us an address, 200 ms of a 500 ms merge).
  n AS (
    SELECT i.ip, COALESCE((SELECT 'd:' || o.device_id FROM device_own_addresses o WHERE o.ip = i.ip
                           ORDER BY o.last_seen DESC, o.device_id LIMIT 1), 'a:' || host(i.ip)) AS node
    FROM (SELECT src_ip AS ip FROM a UNION SELECT dst_ip FROM a) i),
  k AS MATERIALIZED (
    SELECT ROW(s.node, r.node, a.transport, a.port, a.application, a.bytes_to_dst, a.bytes_to_src, a.packets_to_dst,
               a.packets_to_src, a.flows, a.first_seen, a.last_seen, a.clinical, a.phi, a.encrypted,
               a.cleartext_credentials, a.sensors, a.cleartext, a.cleartext_phi, NULL)::graph_edges AS edge
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
    LEFT JOIN (SELECT (k.edge).src_node, (k.edge).dst_node, (k.edge).transport, (k.edge).port, (k.edge).application,
                      min(x) AS sensor_id
               FROM k, unnest((k.edge).sensors) AS x GROUP BY 1, 2, 3, 4, 5) f
           USING (src_node, dst_node, transport, port, application)
    WHERE e.inserted AND auscult_edge_is_new(e.src_node, e.dst_node, e.first_seen)
    ORDER BY e.src_node, e.dst_node, e.transport, e.port, e.application)
  SELECT count(*) FILTER (WHERE e.inserted OR NOT e.changed) INTO merged FROM e;  -- each edge once
  RETURN merged;
END $$;

-- As in 018, with the row type's new last column (weight is generated: the NULL is not stored).
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
                       g.cleartext_credentials, g.sensors, g.cleartext, g.cleartext_phi, NULL)::graph_edges)
  INTO moved FROM gone g;
  IF moved IS NOT NULL THEN
    PERFORM auscult_add_edges(moved);
    IF new_node LIKE 'd:%' THEN
      INSERT INTO device_reclassify (device_id) VALUES (substr(new_node, 3)::bigint)
      ON CONFLICT (device_id) DO UPDATE SET queued_at = excluded.queued_at;
    END IF;
  END IF;
END $$;

-- As in 018, with the same result, but `changed` found without joining the edges before and after:
-- PostgreSQL cannot tell how many edges an array holds, planned that join as a nested loop over
-- both, and it took most of the merge's time (450 ms of 600 for 1 567 edges). The upsert now adds
-- the counters and sets the flags of new edges only; then one UPDATE, which finds each edge by its
-- key, turns on the flags that an existing edge did not have yet, and its rows are the changed
-- ones (an edge may so appear twice in the result: once as added, once as changed).
DROP FUNCTION auscult_add_edges(graph_edges[]);
CREATE FUNCTION auscult_add_edges(edges graph_edges[])
  RETURNS TABLE (src_node text, dst_node text, transport smallint, port integer, application text,
                 first_seen timestamptz, clinical boolean, phi boolean, inserted boolean, changed boolean)
  LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
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
    sensors = CASE WHEN excluded.sensors <@ g.sensors THEN g.sensors
                   ELSE auscult_sorted_union(g.sensors, excluded.sensors) END
  RETURNING g.src_node, g.dst_node, g.transport, g.port, g.application, g.first_seen, g.clinical, g.phi,
            g.xmax = 0 AS inserted)
  SELECT up.src_node, up.dst_node, up.transport, up.port, up.application, up.first_seen, up.clinical, up.phi,
         up.inserted, up.inserted
  FROM up;

  RETURN QUERY
  WITH f AS (
    SELECT r.src_node, r.dst_node, r.transport, r.port, r.application, bool_or(r.clinical) AS clinical,
           bool_or(r.phi) AS phi, bool_or(r.encrypted) AS encrypted,
           bool_or(r.cleartext_credentials) AS cleartext_credentials, bool_or(r.cleartext) AS cleartext,
           bool_or(r.cleartext_phi) AS cleartext_phi
    FROM unnest(edges) AS r
    GROUP BY 1, 2, 3, 4, 5
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
    WHERE (g.src_node, g.dst_node, g.transport, g.port, g.application) =
          (f.src_node, f.dst_node, f.transport, f.port, f.application)
      AND ((f.clinical AND NOT g.clinical) OR (f.phi AND NOT g.phi) OR (f.encrypted AND NOT g.encrypted)
           OR (f.cleartext_credentials AND NOT g.cleartext_credentials) OR (f.cleartext AND NOT g.cleartext)
           OR (f.cleartext_phi AND NOT g.cleartext_phi))
    RETURNING g.src_node, g.dst_node, g.transport, g.port, g.application, g.first_seen, g.clinical, g.phi)
  SELECT t.src_node, t.dst_node, t.transport, t.port, t.application, t.first_seen, t.clinical, t.phi, false, true
  FROM turned t;
END $$;
