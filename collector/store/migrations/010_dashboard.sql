-- 010: the interface for dashboards. Schema "dashboard" holds views with stable, documented columns
-- (docs/schema.md, "Dashboard views"); role auscult_dashboard may read those views and nothing
-- else. Give a dashboard's login that role (docs/dashboards.md). Columns are only added to these
-- views, never renamed, retyped or repurposed; the tables underneath may change.
--
-- Text columns are never NULL: '' when unknown. NULL means "not computed" (risk_score) or "no
-- such device" (the device ids of connection ends no device holds).

-- Roles belong to the cluster, not the database: several Auscult databases (and test databases)
-- may share it, and two migrations may create the role at the same moment.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'auscult_dashboard') THEN
    BEGIN
      CREATE ROLE auscult_dashboard NOLOGIN;
    EXCEPTION
      WHEN duplicate_object OR unique_violation THEN
        NULL;  -- created meanwhile by the migration of another database
      WHEN insufficient_privilege THEN
        RAISE EXCEPTION 'role auscult_dashboard does not exist and % may not create roles', current_user
          USING HINT = 'As a superuser, run: CREATE ROLE auscult_dashboard NOLOGIN; then start the collector again.';
    END;
  END IF;
END
$$;

CREATE SCHEMA dashboard;
CREATE SCHEMA dashboard_private;

-- A view reads the tables it names with its owner's rights, but the functions it calls run with
-- the rights of whoever queries the view: auscult_display, auscult_department and
-- auscult_device_active would fail for auscult_dashboard, which may not read the tables. Copying
-- their logic into the views would make a second rule for displayed values that could drift from
-- the API's; marking the public functions SECURITY DEFINER would hand every role that can connect
-- (EXECUTE is granted to PUBLIC) a way around the table rights, change how the API's queries run
-- (a SECURITY DEFINER function is never inlined), and be undone silently by any later CREATE OR
-- REPLACE. So the views call these thin SECURITY DEFINER wrappers instead: executable by
-- auscult_dashboard alone, in a schema it cannot even look into, with search_path pinned to the
-- schema the tables live in (then pg_temp) so no one can slip objects of their own in front.
DO $$
BEGIN
  EXECUTE format($f$
    CREATE FUNCTION dashboard_private.display(id bigint, field text) RETURNS text
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = %1$I, pg_temp
      AS 'SELECT auscult_display(id, field)';
    CREATE FUNCTION dashboard_private.department(id bigint, device_site text) RETURNS text
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = %1$I, pg_temp
      AS 'SELECT auscult_department(id, device_site)';
    CREATE FUNCTION dashboard_private.device_active(device_site text, device_last_seen timestamptz) RETURNS boolean
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = %1$I, pg_temp
      AS 'SELECT auscult_device_active(device_site, device_last_seen)';
  $f$, current_schema());
END
$$;

-- One row per device, with every inventory column the API shows. Displayed values follow
-- auscult_display (override, then evidence by confidence, source rank, recency); what the device
-- is comes from the classification rules (device_classification), '' until a rule matched.
CREATE VIEW dashboard.devices AS
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
  -- The flows it took part in by one of its own addresses (a router's forwarded flows are not its own).
  SELECT string_agg(DISTINCT p.kind, ',' ORDER BY p.kind) AS kinds
  FROM flow_phi p
  JOIN flows f USING (sensor_id, epoch, flow_id)
  JOIN device_own_addresses o ON o.ip IN (f.src_ip, f.dst_ip)
  WHERE o.device_id = d.device_id) phi ON true
LEFT JOIN device_risk r ON r.device_id = d.device_id;

-- Flows aggregated per (initiator address, responder address, transport, service port,
-- application), with the devices that hold each address (the most recently seen one).
CREATE VIEW dashboard.connections AS
SELECT host(c.src_ip)            AS src_ip,
       src.device_id             AS src_device_id,
       host(c.dst_ip)            AS dst_ip,
       dst.device_id             AS dst_device_id,
       c.transport::integer      AS transport,
       CASE c.transport WHEN 6 THEN 'tcp' WHEN 17 THEN 'udp' WHEN 1 THEN 'icmp' WHEN 58 THEN 'icmpv6'
                        ELSE c.transport::text END AS transport_name,
       c.dst_port,
       c.application,
       c.bytes,
       c.packets,
       c.bytes_to_dst,
       c.bytes_to_src,
       c.flows,
       c.first_seen,
       c.last_seen,
       array_to_string(c.vlans, ',') AS vlans,
       c.clinical,
       c.phi,
       c.encrypted,
       c.cleartext_credentials
FROM connections c
LEFT JOIN LATERAL (SELECT o.device_id FROM device_own_addresses o WHERE o.ip = c.src_ip
                   ORDER BY o.last_seen DESC LIMIT 1) src ON true
LEFT JOIN LATERAL (SELECT o.device_id FROM device_own_addresses o WHERE o.ip = c.dst_ip
                   ORDER BY o.last_seen DESC LIMIT 1) dst ON true;

-- Each flow that carried a clinical protocol or patient data: the kinds of patient data and the
-- message types with their counts, whether it was encrypted and whether credentials crossed it in
-- clear. Kinds and counts only; the database holds no payload.
CREATE VIEW dashboard.clinical_flows AS
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
       COALESCE(m.total, 0)              AS messages
FROM flows f
LEFT JOIN LATERAL (SELECT string_agg(x.kind, ',' ORDER BY x.kind) AS kinds FROM flow_phi x
                   WHERE (x.sensor_id, x.epoch, x.flow_id) = (f.sensor_id, f.epoch, f.flow_id)) p ON true
LEFT JOIN LATERAL (SELECT string_agg(x.name || ' ' || x.count, ', ' ORDER BY x.count DESC, x.name) AS names,
                          LEAST(sum(x.count), 9223372036854775807)::bigint AS total
                   FROM flow_messages x
                   WHERE (x.sensor_id, x.epoch, x.flow_id) = (f.sensor_id, f.epoch, f.flow_id)) m ON true
LEFT JOIN LATERAL (SELECT o.device_id FROM device_own_addresses o WHERE o.ip = f.src_ip
                   ORDER BY o.last_seen DESC LIMIT 1) src ON true
LEFT JOIN LATERAL (SELECT o.device_id FROM device_own_addresses o WHERE o.ip = f.dst_ip
                   ORDER BY o.last_seen DESC LIMIT 1) dst ON true
WHERE f.clinical OR f.phi;

-- A device's risk score with one row per factor behind it ({factor, group, points, detail} in
-- device_risk.factors); a device whose score has no factors has one row with factor ''. Devices
-- whose risk was never computed have no row. "group" is a reserved word, hence factor_group.
CREATE VIEW dashboard.device_risk AS
SELECT r.device_id,
       r.score::integer                         AS score,
       r.computed_at,
       COALESCE(f.n::integer, 0)                AS factor_index,
       COALESCE(f.value ->> 'factor', '')       AS factor,
       COALESCE(f.value ->> 'group', '')        AS factor_group,
       CASE WHEN jsonb_typeof(f.value -> 'points') = 'number' THEN (f.value ->> 'points')::numeric END AS points,
       COALESCE(f.value ->> 'detail', '')       AS detail
FROM device_risk r
LEFT JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(r.factors) = 'array' THEN r.factors
                                            ELSE '[]'::jsonb END) WITH ORDINALITY AS f(value, n) ON true;

-- Every sensor with its latest health counters and how long ago its last batch was applied.
CREATE VIEW dashboard.sensors AS
SELECT s.sensor_id,
       s.site,
       s.wing,
       s.version,
       s.hostname,
       array_to_string(s.sources, ',')                            AS sources,
       s.first_seen,
       s.last_seen                                                AS last_batch_at,
       now() - s.last_seen                                        AS age,
       extract(epoch FROM now() - s.last_seen)::double precision  AS age_seconds,
       s.packets_received,
       s.bytes_received,
       LEAST(s.packets_dropped_kernel::numeric + s.packets_dropped_interface + s.packets_dropped_sensor,
             9223372036854775807)::bigint                         AS packets_dropped,
       s.packets_dropped_kernel,
       s.packets_dropped_interface,
       s.packets_dropped_sensor,
       s.packets_malformed,
       s.flows_active,
       s.flows_evicted,
       (SELECT count(*) FROM device_sensors x WHERE x.sensor_id = s.sensor_id) AS devices,
       s.anomalies::text                                          AS anomalies
FROM sensors s;

-- Per site and department (department '' for devices no segment or override places): how many
-- devices, how many of them medical, clinical or handling patient data, and their risk.
CREATE VIEW dashboard.departments AS
SELECT d.site,
       d.department,
       count(*)                                      AS devices,
       count(*) FILTER (WHERE d.active)              AS active_devices,
       count(*) FILTER (WHERE d.category = 'medical') AS medical_devices,
       count(*) FILTER (WHERE d.clinical)            AS clinical_devices,
       count(*) FILTER (WHERE d.handles_phi)         AS phi_devices,
       max(d.risk_score)                             AS max_risk,
       round(avg(d.risk_score), 1)                   AS avg_risk
FROM dashboard.devices d
GROUP BY d.site, d.department;

-- The role may read the views, and call (through them) the wrappers above: nothing else.
GRANT USAGE ON SCHEMA dashboard TO auscult_dashboard;
GRANT SELECT ON dashboard.devices, dashboard.connections, dashboard.clinical_flows, dashboard.device_risk,
                dashboard.sensors, dashboard.departments TO auscult_dashboard;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA dashboard_private FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA dashboard_private TO auscult_dashboard;
