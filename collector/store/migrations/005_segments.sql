-- 005: the segment map operators import: which network or VLAN of a site is which wing and
-- department. A device's department is that of the most specific segment holding one of its own
-- addresses, else of a VLAN-only segment it was seen on (see auscult_department).
CREATE TABLE segments (
  site       text NOT NULL DEFAULT '',         -- '' matches every site
  cidr       cidr,                             -- NULL: the segment is named by its VLAN only
  vlan       integer NOT NULL DEFAULT 0,       -- 0: named by its network only
  wing       text NOT NULL DEFAULT '',
  department text NOT NULL DEFAULT '',
  imported_at timestamptz NOT NULL DEFAULT now(),
  CHECK (cidr IS NOT NULL OR vlan > 0),
  CHECK (vlan >= 0 AND vlan <= 4094),
  UNIQUE NULLS NOT DISTINCT (site, cidr, vlan)
);
CREATE INDEX segments_cidr ON segments USING gist (cidr inet_ops);

CREATE FUNCTION auscult_department(id bigint, device_site text) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT COALESCE(
    (SELECT s.department FROM segments s JOIN device_own_addresses o ON s.cidr >>= o.ip
     WHERE o.device_id = id AND (s.site = device_site OR s.site = '') AND s.department <> ''
     ORDER BY masklen(s.cidr) DESC, s.vlan DESC, o.last_seen DESC LIMIT 1),
    (SELECT s.department FROM segments s JOIN device_vlans v ON v.vlan = s.vlan
     WHERE s.cidr IS NULL AND v.device_id = id AND (s.site = device_site OR s.site = '') AND s.department <> ''
     ORDER BY v.last_seen DESC LIMIT 1),
    '')
$$;
