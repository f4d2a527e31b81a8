-- 011: the communication graph's nodes. A flow's end is the device that holds its address (its
-- own address, never a router's forwarded one), "d:<device id>"; a host that is not an asset (known
-- only by an address outside the hospital's networks) is grouped with its neighbours into
-- "n:<network>" (/24 or /64); an address no device holds is "a:<address>" inside the hospital
-- (and for multicast and broadcast), else "n:<network>". Documented in docs/schema.md.
CREATE FUNCTION auscult_node_of(ip inet) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT COALESCE(
    (SELECT CASE WHEN d.mac IS NULL AND d.identity_ip IS NOT NULL AND NOT auscult_internal(d.identity_ip)
                 THEN 'n:' || auscult_network_of(ip)::text
                 ELSE 'd:' || d.device_id END
     FROM device_own_addresses o JOIN devices d USING (device_id)
     WHERE o.ip = auscult_node_of.ip ORDER BY o.last_seen DESC, o.device_id LIMIT 1),
    CASE WHEN auscult_group_address(ip) OR auscult_internal(ip) THEN 'a:' || host(ip)
         ELSE 'n:' || auscult_network_of(ip)::text END)
$$;
