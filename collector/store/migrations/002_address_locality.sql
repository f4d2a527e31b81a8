-- 002: whether an address belongs to the device it was seen with (sensor's Locality). A router's
-- traffic comes from the hosts behind it: those addresses are kept as evidence, marked 'routed'.
ALTER TABLE device_addresses ADD COLUMN locality text NOT NULL DEFAULT 'local';  -- local, routed, unspecified

CREATE OR REPLACE VIEW device_own_addresses AS
SELECT a.device_id, a.ip, min(a.first_seen) AS first_seen, max(a.last_seen) AS last_seen
FROM device_addresses a
JOIN devices d USING (device_id)
WHERE a.locality <> 'routed' AND (a.source <> 'traffic' OR NOT d.routes_traffic)
GROUP BY a.device_id, a.ip;
