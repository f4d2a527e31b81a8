-- 022: `site` in the rows and keys of what a sensor's batches append: ingested_batches, flows (and
-- its daily partitions), flow_phi, flow_messages, address_phi, graph_edge_pending.
--
-- The first step of sharding by site (docs/scale-out.md, "Sharding by site"): a distributed table's
-- keys must hold the distribution column, and a batch's transaction stays on one shard only when
-- every row it writes carries its site. These tables are the bulk of the data and of the writes.
-- The site is the sensor's (--site), which every batch names; rows stored before this migration
-- take their sensor's current site. Readers join these tables on (site, sensor_id, epoch, flow_id)
-- from now on; what they answer does not change, since a sensor's epoch names one run of one
-- sensor at one site.
--
-- On an existing database this rewrites every flow row once (UPDATE), and rebuilds the keys: plan
-- for it as for a VACUUM FULL of flows (the benchmark's 3 million flows took 128 s here). Migrations run
-- without the collector's statement timeout (--db_statement_timeout).

ALTER TABLE ingested_batches ADD COLUMN site text NOT NULL DEFAULT '';
UPDATE ingested_batches b SET site = s.site FROM sensors s WHERE s.sensor_id = b.sensor_id AND s.site <> '';
ALTER TABLE ingested_batches DROP CONSTRAINT ingested_batches_pkey,
  ADD PRIMARY KEY (site, sensor_id, epoch, sequence);

ALTER TABLE flows ADD COLUMN site text NOT NULL DEFAULT '';
UPDATE flows f SET site = s.site FROM sensors s WHERE s.sensor_id = f.sensor_id AND s.site <> '';
ALTER TABLE flows DROP CONSTRAINT flows_pkey;
ALTER TABLE flows ADD PRIMARY KEY (site, sensor_id, epoch, flow_id, first_seen);

ALTER TABLE flow_phi ADD COLUMN site text NOT NULL DEFAULT '';
UPDATE flow_phi p SET site = s.site FROM sensors s WHERE s.sensor_id = p.sensor_id AND s.site <> '';
ALTER TABLE flow_phi DROP CONSTRAINT flow_phi_pkey, ADD PRIMARY KEY (site, sensor_id, epoch, flow_id, kind);

ALTER TABLE flow_messages ADD COLUMN site text NOT NULL DEFAULT '';
UPDATE flow_messages m SET site = s.site FROM sensors s WHERE s.sensor_id = m.sensor_id AND s.site <> '';
ALTER TABLE flow_messages DROP CONSTRAINT flow_messages_pkey, ADD PRIMARY KEY (site, sensor_id, epoch, flow_id, name);

-- A site's pending edge deltas (the merge itself takes them all, as before).
ALTER TABLE graph_edge_pending ADD COLUMN site text NOT NULL DEFAULT '';

-- The kinds of patient data per address are per site: two sites that use the same private range
-- no longer share them. Filled again from the kept flows, with their sites.
DROP FUNCTION auscult_expire_address_phi();
DROP FUNCTION auscult_flow_address_phi();
CREATE FUNCTION auscult_flow_address_phi() RETURNS TABLE (site text, ip inet, kind text)
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT DISTINCT f.site, x.ip, p.kind
  FROM flow_phi p JOIN flows f USING (site, sensor_id, epoch, flow_id)
  CROSS JOIN LATERAL (VALUES (f.src_ip), (f.dst_ip)) AS x(ip)
  WHERE f.phi AND x.ip IS NOT NULL
$$;
TRUNCATE address_phi;
ALTER TABLE address_phi ADD COLUMN site text NOT NULL DEFAULT '';
ALTER TABLE address_phi DROP CONSTRAINT address_phi_pkey, ADD PRIMARY KEY (site, ip, kind);
INSERT INTO address_phi (site, ip, kind) SELECT site, ip, kind FROM auscult_flow_address_phi();

-- As in 021, per site.
CREATE FUNCTION auscult_expire_address_phi() RETURNS bigint
  LANGUAGE sql AS $$
  WITH gone AS (
    DELETE FROM address_phi a
    WHERE NOT EXISTS (SELECT 1 FROM auscult_flow_address_phi() k
                      WHERE k.site = a.site AND k.ip = a.ip AND k.kind = a.kind)
    RETURNING 1)
  SELECT count(*) FROM gone
$$;

-- As in 017, the flows' kinds and messages found by the whole key.
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
    EXECUTE format('DELETE FROM flow_phi x USING %s f WHERE (x.site, x.sensor_id, x.epoch, x.flow_id) = '
                   '(f.site, f.sensor_id, f.epoch, f.flow_id)', p.part);
    EXECUTE format('DELETE FROM flow_messages x USING %s f WHERE (x.site, x.sensor_id, x.epoch, x.flow_id) = '
                   '(f.site, f.sensor_id, f.epoch, f.flow_id)', p.part);
    EXECUTE format('SELECT count(*) FROM %s', p.part) INTO n;
    EXECUTE format('DROP TABLE %s', p.part);
    removed := removed + n;
  END LOOP;
  WITH gone AS (DELETE FROM flows_default WHERE stored_at < now() - retention
                RETURNING site, sensor_id, epoch, flow_id),
       phi AS (DELETE FROM flow_phi x USING gone g
               WHERE (x.site, x.sensor_id, x.epoch, x.flow_id) = (g.site, g.sensor_id, g.epoch, g.flow_id)),
       messages AS (DELETE FROM flow_messages x USING gone g
                    WHERE (x.site, x.sensor_id, x.epoch, x.flow_id) = (g.site, g.sensor_id, g.epoch, g.flow_id))
  SELECT count(*) INTO n FROM gone;
  RETURN removed + n;
END $$;

-- The dashboard views that join a flow's rows do so by the whole key; clinical_flows gains the
-- flow's site as its last column (a new column at the end: existing dashboards are unaffected).
-- dashboard.devices' kinds of patient data are those of its addresses at its site (address_phi).
CREATE OR REPLACE VIEW dashboard.clinical_flows AS
SELECT f.sensor_id,
       f.epoch,
       f.flow_id,
       f.first_seen,
       f.last_seen,
       host(f.src_ip)                    AS src_ip,
       src.device_id                     AS src_device_id,
       f.src_port,
       host(f.dst_ip)                    AS dst_ip,
       dst.device_id                     AS dst_device_id,
       f.dst_port,
       f.transport::integer              AS transport,
       f.application,
       f.vlan,
       f.packets_to_dst + f.packets_to_src AS packets,
       f.bytes_to_dst + f.bytes_to_src   AS bytes,
       f.clinical,
       f.phi,
       COALESCE(p.kinds, '')             AS phi_kinds,
       f.encrypted,
       f.cleartext_credentials,
       f.phi AND NOT f.encrypted         AS phi_in_clear,
       COALESCE(m.names, '')             AS message_types,
       COALESCE(m.total, 0)              AS messages,
       f.site
FROM flows f
LEFT JOIN LATERAL (SELECT string_agg(x.kind, ',' ORDER BY x.kind) AS kinds FROM flow_phi x
                   WHERE (x.site, x.sensor_id, x.epoch, x.flow_id) = (f.site, f.sensor_id, f.epoch, f.flow_id)) p ON true
LEFT JOIN LATERAL (SELECT string_agg(x.name || ' ' || x.count, ', ' ORDER BY x.count DESC, x.name) AS names,
                          LEAST(sum(x.count), 9223372036854775807)::bigint AS total
                   FROM flow_messages x
                   WHERE (x.site, x.sensor_id, x.epoch, x.flow_id) = (f.site, f.sensor_id, f.epoch, f.flow_id)) m ON true
LEFT JOIN LATERAL (SELECT o.device_id FROM device_own_addresses o WHERE o.ip = f.src_ip
                   ORDER BY o.last_seen DESC LIMIT 1) src ON true
LEFT JOIN LATERAL (SELECT o.device_id FROM device_own_addresses o WHERE o.ip = f.dst_ip
                   ORDER BY o.last_seen DESC LIMIT 1) dst ON true
WHERE f.clinical OR f.phi;

CREATE OR REPLACE VIEW dashboard.devices AS
SELECT d.device_id,
       COALESCE(d.mac::text, '')                                        AS mac,
       COALESCE((SELECT string_agg(host(o.ip), ',' ORDER BY o.ip)
                 FROM device_own_addresses o WHERE o.device_id = d.device_id), '') AS ips,
       dashboard_private.display(d.device_id, 'hostname')               AS hostname,
       dashboard_private.display(d.device_id, 'vendor')                 AS vendor,
       dashboard_private.display(d.device_id, 'model')                  AS model,
       dashboard_private.display(d.device_id, 'serial')                 AS serial,
       -- A device that never names its OS still has the family its TCP handshakes suggest.
       COALESCE(NULLIF(dashboard_private.display(d.device_id, 'os'), ''),
                dashboard_private.display(d.device_id, 'os_family'))     AS os,
       dashboard_private.display(d.device_id, 'os_version')             AS os_version,
       dashboard_private.display(d.device_id, 'software_version')       AS software_version,
       dashboard_private.display(d.device_id, 'firmware_version')       AS firmware_version,
       dashboard_private.display(d.device_id, 'patch_level')            AS patch_level,
       -- What it is: an analyst's override, else the rules' decision (as the API shows it).
       COALESCE(ov.device_type, c.device_type, 'unknown')               AS device_type,
       COALESCE(ov.category, c.category, '')                            AS category,
       COALESCE(ov.patient_connection, c.patient_connection, 'unknown') AS patient_connection,
       COALESCE(ov.fda_class, c.fda_class, '')                          AS fda_class,
       COALESCE((SELECT v.value FROM device_overrides v
                 WHERE v.device_id = d.device_id AND v.field = 'department'),
                dashboard_private.department(d.device_id, d.site))       AS department,
       d.site,
       d.wing,
       phi.kinds IS NOT NULL                                            AS handles_phi,
       COALESCE(phi.kinds, '')                                          AS phi_kinds,
       EXISTS (SELECT 1 FROM flows f JOIN device_own_addresses o ON o.ip IN (f.src_ip, f.dst_ip)
               WHERE o.device_id = d.device_id AND f.clinical)          AS clinical,
       r.score::integer                                                 AS risk_score,
       dashboard_private.device_active(d.site, d.last_seen)             AS active,
       d.first_seen,
       d.last_seen,
       COALESCE((SELECT string_agg(s.sensor_id, ',' ORDER BY s.sensor_id)
                 FROM device_sensors s WHERE s.device_id = d.device_id), '') AS sensors,
       COALESCE((SELECT string_agg(v.vlan::text, ',' ORDER BY v.vlan)
                 FROM device_vlans v WHERE v.device_id = d.device_id), '') AS vlans,
       d.routes_traffic,
       d.packets_sent,
       d.bytes_sent
FROM devices d
LEFT JOIN LATERAL (
  SELECT max(k.value) FILTER (WHERE k.key = 'device_type')        AS device_type,
         max(k.value) FILTER (WHERE k.key = 'category')           AS category,
         max(k.value) FILTER (WHERE k.key = 'patient_connection') AS patient_connection,
         max(k.value) FILTER (WHERE k.key = 'fda_class')          AS fda_class
  FROM device_classification k WHERE k.device_id = d.device_id) c ON true
LEFT JOIN LATERAL (
  SELECT max(v.value) FILTER (WHERE v.field = 'device_type')        AS device_type,
         max(v.value) FILTER (WHERE v.field = 'category')           AS category,
         max(v.value) FILTER (WHERE v.field = 'patient_connection') AS patient_connection,
         max(v.value) FILTER (WHERE v.field = 'fda_class')          AS fda_class
  FROM device_overrides v WHERE v.device_id = d.device_id) ov ON true
LEFT JOIN LATERAL (
  -- The kinds that kept flows of its own addresses carried at its site (address_phi; a router's
  -- forwarded flows are not its own).
  SELECT string_agg(DISTINCT a.kind, ',' ORDER BY a.kind) AS kinds
  FROM device_own_addresses o
  JOIN address_phi a ON a.site = d.site AND a.ip = o.ip
  WHERE o.device_id = d.device_id) phi ON true
LEFT JOIN device_risk r ON r.device_id = d.device_id;
