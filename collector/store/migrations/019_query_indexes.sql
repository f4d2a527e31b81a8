-- 019: what the query API needs to answer at hospital scale (100 000 devices, millions of edges)
-- without reading the whole graph: the exposure list starts from the few nodes that can be outside
-- the hospital's networks, found through partial indexes. Measured in docs/performance.md
-- ("Queries at hospital scale").

-- Private, shared, link-local and loopback ranges, multicast and broadcast: addresses that are
-- inside whatever the segment map says (auscult_internal adds the segment map's networks). One list
-- for both; IMMUTABLE, so that indexes can be partial on it.
CREATE FUNCTION auscult_private_address(ip inet) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ip <<= ANY ('{10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,169.254.0.0/16,127.0.0.0/8,0.0.0.0/8,fc00::/7,fe80::/10,::1/128,::/128}'::inet[])
      OR auscult_group_address(ip)
$$;

CREATE OR REPLACE FUNCTION auscult_internal(ip inet) RETURNS boolean
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT auscult_private_address(ip) OR EXISTS (SELECT 1 FROM segments s WHERE s.cidr >>= ip)
$$;

-- A stored node that is an address no device holds ("a:<ip>") outside the private ranges: it may
-- be outside the hospital (unless the segment map names its network). CASE, not AND: the address
-- is only read from an "a:" node (the planner may reorder the arms of an AND).
CREATE FUNCTION auscult_outside_address_node(node text) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN node LIKE 'a:%' THEN NOT auscult_private_address(substr(node, 3)::inet) ELSE false END
$$;

CREATE INDEX graph_edges_outside_src ON graph_edges (src_node) WHERE auscult_outside_address_node(src_node);
CREATE INDEX graph_edges_outside_dst ON graph_edges (dst_node) WHERE auscult_outside_address_node(dst_node);
CREATE INDEX device_addresses_public ON device_addresses (device_id) WHERE NOT auscult_private_address(ip);
-- What share of rows the predicates keep: without these the planner guesses a half, costs a scan
-- of those partial indexes at a million rows, and compiles the statement (JIT) for 50 ms.
CREATE STATISTICS graph_edges_outside_src ON (auscult_outside_address_node(src_node)) FROM graph_edges;
CREATE STATISTICS graph_edges_outside_dst ON (auscult_outside_address_node(dst_node)) FROM graph_edges;
CREATE STATISTICS device_addresses_public ON (auscult_private_address(ip)) FROM device_addresses;

-- The stored nodes that may be outside the hospital's networks: addresses outside the private
-- ranges, and devices that hold such an address. A superset of what auscult_graph_nodes calls
-- external (it also asks the segment map): the exposure list starts from their edges alone.
CREATE FUNCTION auscult_outside_nodes() RETURNS text[]
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT ARRAY(
    SELECT g.src_node FROM graph_edges g WHERE auscult_outside_address_node(g.src_node)
    UNION
    SELECT g.dst_node FROM graph_edges g WHERE auscult_outside_address_node(g.dst_node)
    UNION
    SELECT 'd:' || a.device_id FROM device_addresses a WHERE NOT auscult_private_address(a.ip))
$$;

-- The department and activity rules (migrations 012, 005 and 007) written out in one body each.
-- PostgreSQL never inlines a function whose body holds a subquery, and an SQL function called from
-- inside another SQL function is planned again at every call: auscult_device_department calling
-- auscult_department cost 0.7 ms a device (0.1 ms written out), a page of 1000 devices 0.7 s.
-- Same rules, same results; auscult_department stays for the dashboard's views.
CREATE OR REPLACE FUNCTION auscult_device_department(dev bigint, device_site text) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT COALESCE(
    (SELECT v.value FROM device_overrides v WHERE v.device_id = dev AND v.field = 'department'),
    (SELECT s.department FROM segments s JOIN device_own_addresses o ON s.cidr >>= o.ip
     WHERE o.device_id = dev AND (s.site = device_site OR s.site = '') AND s.department <> ''
     ORDER BY masklen(s.cidr) DESC, s.vlan DESC, o.last_seen DESC LIMIT 1),
    (SELECT s.department FROM segments s JOIN device_vlans v ON v.vlan = s.vlan
     WHERE s.cidr IS NULL AND v.device_id = dev AND (s.site = device_site OR s.site = '') AND s.department <> ''
     ORDER BY v.last_seen DESC LIMIT 1),
    '')
$$;

CREATE OR REPLACE FUNCTION auscult_device_active(device_site text, device_last_seen timestamptz) RETURNS boolean
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT device_last_seen >= (SELECT max(x.last_seen) FROM devices x WHERE x.site = device_site)
                             - COALESCE((SELECT value::interval FROM collector_settings WHERE name = 'inactive_after'),
                                        interval '7 days')
$$;

-- Whether a device took part in clinical flows, or in flows that carried patient data, is read
-- from its edges: one probe of these small indexes, however busy the device (a server's tens of
-- thousands of edges carry none). The kinds of patient data come from the raw flows that carried
-- some, through the last two (on every daily partition).
CREATE INDEX graph_edges_clinical_src ON graph_edges (src_node) WHERE clinical;
CREATE INDEX graph_edges_clinical_dst ON graph_edges (dst_node) WHERE clinical;
CREATE INDEX graph_edges_phi_src ON graph_edges (src_node) WHERE phi;
CREATE INDEX graph_edges_phi_dst ON graph_edges (dst_node) WHERE phi;
CREATE INDEX flows_phi_src_ip ON flows (src_ip) WHERE phi;
CREATE INDEX flows_phi_dst_ip ON flows (dst_ip) WHERE phi;

-- A device's evidence of one attribute across devices (mac_randomized for a page of devices, the
-- vendor filter): without it the planner reads all the evidence for a page's flags.
CREATE INDEX device_evidence_attribute ON device_evidence (attribute, device_id);

-- A node's edges busiest first, for walking a neighbourhood through a server with tens of
-- thousands of peers: the first few hundred are read from the index, not all of them sorted.
CREATE INDEX graph_edges_src_bytes ON graph_edges (src_node, (bytes_to_dst::numeric + bytes_to_src) DESC);
CREATE INDEX graph_edges_dst_bytes ON graph_edges (dst_node, (bytes_to_dst::numeric + bytes_to_src) DESC);

-- Devices by risk, highest first, ties by id (ListDevices' risk order): a page is read from the
-- index and ends where the page does.
CREATE INDEX device_risk_score_id ON device_risk (score DESC, device_id);

-- The vendor filter (a substring of any vendor a device was seen with): the distinct vendor values
-- are few (dozens), so they are listed by skipping through this index, matched, and their devices
-- read from it; matching every device's vendor evidence read all of it (100 000 rows a page).
CREATE INDEX device_evidence_vendor ON device_evidence (value, device_id) WHERE attribute = 'vendor';
CREATE FUNCTION auscult_vendor_values() RETURNS text[]
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  WITH RECURSIVE v(value) AS (
    (SELECT e.value FROM device_evidence e WHERE e.attribute = 'vendor' ORDER BY e.value LIMIT 1)
    UNION ALL
    SELECT (SELECT e.value FROM device_evidence e WHERE e.attribute = 'vendor' AND e.value > v.value
            ORDER BY e.value LIMIT 1)
    FROM v WHERE v.value IS NOT NULL)
  SELECT ARRAY(SELECT value FROM v WHERE value IS NOT NULL)
$$;

-- The VLAN filter.
CREATE INDEX device_vlans_vlan ON device_vlans (vlan, device_id);

-- Every displayed value of a device at once (auscult_display's rule, migration 008: an analyst's
-- override, else the evidence of highest confidence, then best source, then most recent, then most
-- often seen; for vendor and model a classification rule's value takes part at its confidence).
-- A device listing shows ten of them: one pass over the device's evidence instead of ten calls.
-- auscult_display is now this function's answer for one field: one rule (a set-returning SQL
-- function is inlined into its caller, so auscult_display costs what it did).
CREATE FUNCTION auscult_displayed(id bigint) RETURNS TABLE (field text, value text)
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT DISTINCT ON (x.field) x.field, x.value FROM (
    SELECT v.field, v.value, 1 AS overridden, 0::real AS confidence, 0 AS rank, NULL::timestamptz AS last_seen,
           0::bigint AS seen
    FROM device_overrides v WHERE v.device_id = id
    UNION ALL
    SELECT CASE e.attribute WHEN 'serial_number' THEN 'serial' ELSE e.attribute END, e.value, 0, e.confidence,
           auscult_source_rank(e.protocol), e.last_seen, e.count
    FROM device_evidence e WHERE e.device_id = id AND e.attribute <> 'serial'
    UNION ALL
    SELECT c.key, c.value, 0, c.confidence, 9, c.classified_at, 0
    FROM device_classification c WHERE c.device_id = id AND c.key IN ('vendor', 'model')) x
  ORDER BY x.field, x.overridden DESC, x.confidence DESC, x.rank, x.last_seen DESC, x.seen DESC
$$;

CREATE OR REPLACE FUNCTION auscult_display(id bigint, field text) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT COALESCE((SELECT x.value FROM auscult_displayed(id) x WHERE x.field = auscult_display.field), '')
$$;
