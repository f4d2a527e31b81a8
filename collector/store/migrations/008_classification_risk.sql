-- 008: what each device is (classification by the rules file) and how risky it is, and the one
-- rule that picks a device's displayed values. Documented in docs/schema.md and docs/risk.md.

-- How much a protocol's word on a device counts when two pieces of evidence are equally confident:
-- what a device says of itself in a management or clinical protocol (1) before what it announces
-- on the network (2), before what its traffic suggests (3) and what its MAC's registry says (4).
CREATE FUNCTION auscult_source_rank(protocol text) RETURNS integer
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN protocol IN ('lldp', 'cdp', 'snmp', 'poct1a', 'dicom', 'hl7', 'fhir', 'smb', 'ws_discovery') THEN 1
    WHEN protocol IN ('dhcp', 'dhcpv6', 'mdns', 'ssdp', 'nbns', 'llmnr', 'smb_browser', 'http', 'ssh', 'tls',
                      'syslog', 'ntp', 'dns') THEN 2
    WHEN protocol IN ('tcp', 'mac') THEN 3
    WHEN protocol = 'oui' THEN 4
    ELSE 3 END
$$;

-- What the rules file (collector/data/device_rules.txt) made of a device: one row per output key
-- (category, device_type, vendor, model, patient_connection, fda_class), with the rule that won,
-- its confidence, the rules file's version and the evidence the rule matched. Rewritten whenever
-- the device's evidence or flows change and when the rules file changes.
CREATE TABLE device_classification (
  device_id     bigint NOT NULL REFERENCES devices ON DELETE CASCADE,
  key           text NOT NULL,
  value         text NOT NULL,
  confidence    real NOT NULL,
  rule_id       text NOT NULL,
  rules_version text NOT NULL,           -- 16 hex digits that change with the rules file's content
  evidence      jsonb NOT NULL DEFAULT '[]',  -- [{attribute, value, protocol, field, sensor_id}] or flows
  classified_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, key)
);
CREATE INDEX device_classification_value ON device_classification (key, value);

-- The 0-100 patient-safety risk of a device and the factors that add up to it (docs/risk.md).
CREATE TABLE device_risk (
  device_id   bigint PRIMARY KEY REFERENCES devices ON DELETE CASCADE,
  score       smallint NOT NULL CHECK (score BETWEEN 0 AND 100),
  factors     jsonb NOT NULL DEFAULT '[]',  -- [{factor, group, points, detail}]
  computed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX device_risk_score ON device_risk (score DESC);

-- Devices whose classification and risk must be computed again: the ingest transaction adds the
-- devices a batch touched (and those whose addresses its flows name); the collector empties it.
-- Writers upsert queued_at (ON CONFLICT DO UPDATE), which also locks the row, so that the collector
-- cannot take a device off the queue while a transaction that will change it is still open.
CREATE TABLE device_reclassify (
  device_id bigint PRIMARY KEY REFERENCES devices ON DELETE CASCADE,
  queued_at timestamptz NOT NULL DEFAULT now()
);

-- A device's displayed value for a field: the analyst's override, else the best evidence by
-- confidence, then source rank, then recency (then how often it was seen). For vendor and model a
-- classification rule's value takes part at its confidence, after evidence of equal confidence.
CREATE FUNCTION auscult_display(id bigint, field text) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT COALESCE(
    (SELECT v.value FROM device_overrides v WHERE v.device_id = id AND v.field = auscult_display.field),
    (SELECT x.value FROM (
       SELECT e.value, e.confidence, auscult_source_rank(e.protocol) AS rank, e.last_seen, e.count
       FROM device_evidence e
       WHERE e.device_id = id
         AND e.attribute = CASE auscult_display.field WHEN 'serial' THEN 'serial_number'
                                                      ELSE auscult_display.field END
       UNION ALL
       SELECT c.value, c.confidence, 9, c.classified_at, 0
       FROM device_classification c
       WHERE c.device_id = id AND c.key = auscult_display.field AND auscult_display.field IN ('vendor', 'model')
     ) x ORDER BY x.confidence DESC, x.rank, x.last_seen DESC, x.count DESC LIMIT 1),
    '')
$$;

-- Addresses that are not one host: multicast and the limited broadcast (not a peer of anyone).
CREATE FUNCTION auscult_group_address(ip inet) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ip <<= '224.0.0.0/4' OR ip <<= 'ff00::/8' OR ip = '255.255.255.255'
$$;

-- The network a peer address is counted in when asking "reached from how many networks":
-- its /24 (IPv4) or /64 (IPv6).
CREATE FUNCTION auscult_network_of(ip inet) RETURNS cidr
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT network(set_masklen(ip, CASE family(ip) WHEN 4 THEN 24 ELSE 64 END))
$$;

-- Whether an address belongs to the hospital: private, shared, link-local and loopback ranges
-- (RFC 1918, 6598, 3927, 4193, 4291), multicast and broadcast, and every network of the segment map.
-- Anything else is external (docs/risk.md).
CREATE FUNCTION auscult_internal(ip inet) RETURNS boolean
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT ip <<= ANY ('{10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,169.254.0.0/16,127.0.0.0/8,0.0.0.0/8,fc00::/7,fe80::/10,::1/128,::/128}'::inet[])
      OR auscult_group_address(ip)
      OR EXISTS (SELECT 1 FROM segments s WHERE s.cidr >>= ip)
$$;
