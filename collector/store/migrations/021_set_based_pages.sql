-- 021: the rules a device page shows (displayed values, classification keys, department, whether
-- active), each as a function of a set of devices. A page of 100 devices asked them device by
-- device: 30-40 scalar subqueries and non-inlined function calls a row, 0.6 ms a device, most of it
-- executor start-up per call (docs/performance.md, "Queries at hospital scale"). Asked for the
-- page's ids at once, each rule is one or two index scans and one sort. The one-device forms stay,
-- now written on the set forms, so that each rule has one definition.

-- device_own_addresses (migration 002: the addresses a device holds itself, not those a router
-- forwards for others) of the devices of `ids`. The same rule as the view, written so that the ids
-- reach both tables: through the view, PostgreSQL reads all of `devices` to join 500 addresses.
CREATE FUNCTION auscult_own_addresses_of(ids bigint[])
  RETURNS TABLE (device_id bigint, ip inet, first_seen timestamptz, last_seen timestamptz)
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT a.device_id, a.ip, min(a.first_seen), max(a.last_seen)
  FROM device_addresses a JOIN devices d ON d.device_id = a.device_id
  WHERE a.device_id = ANY(ids) AND d.device_id = ANY(ids)
    AND a.locality <> 'routed' AND (a.source <> 'traffic' OR NOT d.routes_traffic)
  GROUP BY a.device_id, a.ip
$$;

-- auscult_displayed's rule (migrations 008 and 019) for every device of `ids`.
CREATE FUNCTION auscult_displayed_of(ids bigint[]) RETURNS TABLE (device_id bigint, field text, value text)
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT DISTINCT ON (x.device_id, x.field) x.device_id, x.field, x.value FROM (
    SELECT v.device_id, v.field, v.value, 1 AS overridden, 0::real AS confidence, 0 AS rank,
           NULL::timestamptz AS last_seen, 0::bigint AS seen
    FROM device_overrides v WHERE v.device_id = ANY(ids)
    UNION ALL
    SELECT e.device_id, CASE e.attribute WHEN 'serial_number' THEN 'serial' ELSE e.attribute END, e.value, 0,
           e.confidence, auscult_source_rank(e.protocol), e.last_seen, e.count
    FROM device_evidence e WHERE e.device_id = ANY(ids) AND e.attribute <> 'serial'
    UNION ALL
    SELECT c.device_id, c.key, c.value, 0, c.confidence, 9, c.classified_at, 0
    FROM device_classification c WHERE c.device_id = ANY(ids) AND c.key IN ('vendor', 'model')) x
  ORDER BY x.device_id, x.field, x.overridden DESC, x.confidence DESC, x.rank, x.last_seen DESC, x.seen DESC
$$;

-- Inlined into its callers (a set-returning SQL function of one SELECT), and the set form into it.
CREATE OR REPLACE FUNCTION auscult_displayed(id bigint) RETURNS TABLE (field text, value text)
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT x.field, x.value FROM auscult_displayed_of(ARRAY[id]) x
$$;

-- auscult_device_class's rule (migration 012: an analyst's override, else the rules' decision) for
-- every key of every device of `ids` that has one. Overrides of fields that are not
-- classification keys (hostname, ...) come out too: callers pick the keys they show.
CREATE FUNCTION auscult_device_classes(ids bigint[]) RETURNS TABLE (device_id bigint, key text, value text)
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT DISTINCT ON (x.device_id, x.key) x.device_id, x.key, x.value FROM (
    SELECT v.device_id, v.field AS key, v.value, 1 AS overridden FROM device_overrides v WHERE v.device_id = ANY(ids)
    UNION ALL
    SELECT c.device_id, c.key, c.value, 0 FROM device_classification c WHERE c.device_id = ANY(ids)) x
  ORDER BY x.device_id, x.key, x.overridden DESC
$$;

-- The department rule (migrations 005, 012 and 019) for every device of `ids`: the analyst's
-- override; else the segment map's department of the most specific segment holding one of the
-- device's own addresses (then the higher VLAN, then the address seen last); else that of a
-- VLAN-only segment of a VLAN it was seen on (the one seen last); else ''. Segments of the device's
-- site or of every site (''). Each address asks the segment map's index for its best segment (a
-- join lets the planner scan all segments for every address when it expects few addresses).
CREATE FUNCTION auscult_device_departments(ids bigint[]) RETURNS TABLE (device_id bigint, department text)
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT d.device_id, COALESCE(v.value, a.department, l.department, '')
  FROM devices d
  LEFT JOIN device_overrides v ON v.device_id = d.device_id AND v.field = 'department'
  LEFT JOIN (
    SELECT DISTINCT ON (o.device_id) o.device_id, s.department
    FROM auscult_own_addresses_of(ids) o JOIN devices x ON x.device_id = o.device_id
    CROSS JOIN LATERAL (
      SELECT s.department, masklen(s.cidr) AS len, s.vlan FROM segments s
      WHERE s.cidr >>= o.ip AND (s.site = x.site OR s.site = '') AND s.department <> ''
      ORDER BY masklen(s.cidr) DESC, s.vlan DESC LIMIT 1) s
    WHERE x.device_id = ANY(ids)
    ORDER BY o.device_id, s.len DESC, s.vlan DESC, o.last_seen DESC) a ON a.device_id = d.device_id
  LEFT JOIN (
    SELECT DISTINCT ON (w.device_id) w.device_id, s.department
    FROM device_vlans w JOIN devices x ON x.device_id = w.device_id
    JOIN segments s ON s.cidr IS NULL AND s.vlan = w.vlan AND (s.site = x.site OR s.site = '') AND s.department <> ''
    WHERE w.device_id = ANY(ids) AND x.device_id = ANY(ids)
    ORDER BY w.device_id, w.last_seen DESC) l ON l.device_id = d.device_id
  WHERE d.device_id = ANY(ids)
$$;

-- The one-device form reads the site from the device, as every caller passed it (d.site).
CREATE OR REPLACE FUNCTION auscult_device_department(dev bigint, device_site text) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT COALESCE((SELECT x.department FROM auscult_device_departments(ARRAY[dev]) x), '')
$$;

-- The activity rule (migrations 007 and 019): a device is active when it was seen within
-- inactive_after (7 days by default) of the last device seen at its site. A page asks this once a
-- site, not once a device.
CREATE FUNCTION auscult_site_active_since(device_site text) RETURNS timestamptz
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT (SELECT max(x.last_seen) FROM devices x WHERE x.site = device_site)
         - COALESCE((SELECT value::interval FROM collector_settings WHERE name = 'inactive_after'), interval '7 days')
$$;

CREATE OR REPLACE FUNCTION auscult_device_active(device_site text, device_last_seen timestamptz) RETURNS boolean
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT device_last_seen >= auscult_site_active_since(device_site)
$$;

-- The kinds of patient data that flows of an address carried, while such a flow is kept
-- (--flow_retention). A device's kinds (GetDevice, ListDevices) were read from the raw flows that
-- carried some, by the device's addresses: two index probes a partition an address, 30 ms for a
-- page of 100 devices over 30 daily partitions. Written by each batch with its flows' kinds
-- (collector/store/batch_writer.cc: a new pair is inserted, one already known is left alone, so
-- that batches never wait on each other's row here), and cut back to the kept flows when old
-- partitions are dropped (auscult_expire_address_phi).
CREATE TABLE address_phi (
  ip         inet NOT NULL,
  kind       text NOT NULL,
  first_seen timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (ip, kind)
);

-- The pairs the kept flows back.
CREATE FUNCTION auscult_flow_address_phi() RETURNS TABLE (ip inet, kind text)
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT DISTINCT x.ip, p.kind
  FROM flow_phi p JOIN flows f USING (sensor_id, epoch, flow_id)
  CROSS JOIN LATERAL (VALUES (f.src_ip), (f.dst_ip)) AS x(ip)
  WHERE f.phi AND x.ip IS NOT NULL
$$;

INSERT INTO address_phi (ip, kind) SELECT ip, kind FROM auscult_flow_address_phi();

-- Drops the pairs no kept flow backs any more; how many. A pair a batch asserts again while this
-- runs may go (its flow was not committed when this read the flows); the next flow of that pair
-- writes it back.
CREATE FUNCTION auscult_expire_address_phi() RETURNS bigint
  LANGUAGE sql AS $$
  WITH gone AS (
    DELETE FROM address_phi a
    WHERE NOT EXISTS (SELECT 1 FROM auscult_flow_address_phi() k WHERE k.ip = a.ip AND k.kind = a.kind)
    RETURNING 1)
  SELECT count(*) FROM gone
$$;
