-- 009: one device, many sightings. The strong identifiers devices were seen with, the merges of
-- devices found to be one (an old id, and a merged device's MAC, still lead to the survivor), and
-- the merges refused because strong identifiers disagree. The rules are in
-- collector/store/identity.cc and docs/schema.md ("Identity and merge").

-- How long an address identifies a host seen behind a router (the collector's --ip_identity_ttl,
-- written at every start like inactive_after).
INSERT INTO collector_settings (name, value) VALUES ('ip_identity_ttl', '86400 seconds') ON CONFLICT DO NOTHING;

CREATE FUNCTION auscult_ip_identity_ttl() RETURNS interval
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT COALESCE((SELECT value::interval FROM collector_settings WHERE name = 'ip_identity_ttl'), interval '1 day')
$$;

-- A strong identifier a device was seen with, from its evidence: dhcp_client_id (option 61 or
-- DUID, hex, unless it is 01 + the MAC), serial ("vendor|serial" as LLDP-MED or POCT1-A name them),
-- dicom_ae_ip ("AE_TITLE@address"), equipment_id (HL7 OBX-18 or POCT1-A, when the device reports
-- only one). Two devices with the same one at a site are one device (docs/schema.md).
CREATE TABLE device_identifiers (
  site       text NOT NULL,
  kind       text NOT NULL,
  value      text NOT NULL,
  device_id  bigint NOT NULL REFERENCES devices ON DELETE CASCADE,
  first_seen timestamptz NOT NULL,
  last_seen  timestamptz NOT NULL,
  PRIMARY KEY (site, kind, value, device_id)
);
CREATE INDEX device_identifiers_device ON device_identifiers (device_id);

-- A device that turned out to be another: its id no longer exists, its rows moved to into_id.
CREATE TABLE device_merges (
  from_id          bigint PRIMARY KEY,
  into_id          bigint NOT NULL,    -- the device it was merged into (the older id)
  survivor_id      bigint NOT NULL REFERENCES devices ON DELETE CASCADE,  -- where it is now (follows later merges)
  from_mac         macaddr,            -- its MAC: new sightings of it go to the survivor
  from_identity_ip inet,               -- the address it was known by behind a router
  reason           text NOT NULL,      -- ip, or the identifier kind that joined them
  identifier       text NOT NULL DEFAULT '',  -- the address or identifier value
  merged_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX device_merges_survivor ON device_merges (survivor_id);
CREATE INDEX device_merges_from_mac ON device_merges (from_mac) WHERE from_mac IS NOT NULL;

-- Two devices an identifier or address would have joined, kept apart because other strong
-- identifiers of theirs disagree (two serial numbers): for the analyst.
CREATE TABLE device_merge_conflicts (
  device_a   bigint NOT NULL REFERENCES devices ON DELETE CASCADE,  -- the lower id
  device_b   bigint NOT NULL REFERENCES devices ON DELETE CASCADE,
  reason     text NOT NULL,
  detail     text NOT NULL,
  first_seen timestamptz NOT NULL DEFAULT now(),
  last_seen  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_a, device_b, reason)
);
