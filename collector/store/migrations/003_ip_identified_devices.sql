-- 003: a host a sensor sees only behind a router (its frames carry the router's MAC) is a device
-- identified by its address within its site, until a sensor on its own segment sees its MAC.
ALTER TABLE devices ADD COLUMN identity_ip inet;
CREATE UNIQUE INDEX devices_identity_ip ON devices (site, identity_ip) WHERE mac IS NULL;
