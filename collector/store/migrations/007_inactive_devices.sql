-- 007: devices that go silent are marked inactive, never deleted. A device is inactive when its
-- site has seen traffic more recent than its own by more than the collector's --inactive_after
-- (default 7 days). Measured against the site's newest observation rather than the wall clock, so
-- that a replayed capture, or a site whose sensors are down, does not make everything inactive.
CREATE TABLE collector_settings (
  name  text PRIMARY KEY,
  value text NOT NULL
);
INSERT INTO collector_settings (name, value) VALUES ('inactive_after', '7 days');

CREATE FUNCTION auscult_inactive_after() RETURNS interval
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT COALESCE((SELECT value::interval FROM collector_settings WHERE name = 'inactive_after'), interval '7 days')
$$;

CREATE INDEX devices_site_last_seen ON devices (site, last_seen);

CREATE FUNCTION auscult_device_active(device_site text, device_last_seen timestamptz) RETURNS boolean
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT device_last_seen >= (SELECT max(x.last_seen) FROM devices x WHERE x.site = device_site)
                             - auscult_inactive_after()
$$;
