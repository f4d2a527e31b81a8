-- 001: sensors, the batches applied from them, devices with their addresses, VLANs and evidence,
-- and flows. Documented for dashboard authors in docs/schema.md.

-- Microseconds since the Unix epoch <-> timestamptz: how whole batches travel as bigint arrays.
-- (Adding a pure microsecond interval does not depend on the time zone, hence IMMUTABLE.)
CREATE FUNCTION auscult_ts(us bigint) RETURNS timestamptz
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 'epoch'::timestamptz + us * interval '1 microsecond' $$;
CREATE FUNCTION auscult_us(ts timestamptz) RETURNS bigint
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT (extract(epoch FROM ts) * 1000000)::bigint $$;

-- Counters add up over months of batches: saturate at the bigint maximum rather than fail, so that
-- one implausible report can never make later batches for the same device unappliable.
CREATE FUNCTION auscult_sat(x numeric) RETURNS bigint
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT LEAST(GREATEST(x, 0), 9223372036854775807)::bigint $$;

-- Every sensor that ever sent a batch, with its latest health counters.
CREATE TABLE sensors (
  sensor_id                 text PRIMARY KEY,
  site                      text NOT NULL DEFAULT '',
  wing                      text NOT NULL DEFAULT '',
  version                   text NOT NULL DEFAULT '',
  hostname                  text NOT NULL DEFAULT '',
  sources                   text[] NOT NULL DEFAULT '{}',
  first_seen                timestamptz NOT NULL DEFAULT now(),   -- collector clock
  last_seen                 timestamptz NOT NULL DEFAULT now(),   -- last batch applied
  epoch                     bigint NOT NULL DEFAULT 0,            -- of the counters below
  sequence                  bigint NOT NULL DEFAULT 0,
  packets_received          bigint NOT NULL DEFAULT 0,
  bytes_received            bigint NOT NULL DEFAULT 0,
  packets_dropped_kernel    bigint NOT NULL DEFAULT 0,
  packets_dropped_interface bigint NOT NULL DEFAULT 0,
  packets_dropped_sensor    bigint NOT NULL DEFAULT 0,
  packets_malformed         bigint NOT NULL DEFAULT 0,
  flows_active              bigint NOT NULL DEFAULT 0,
  flows_evicted             bigint NOT NULL DEFAULT 0,
  anomalies                 jsonb NOT NULL DEFAULT '{}'
);

-- One row per batch applied: how a resent batch is recognised and applied only once.
CREATE TABLE ingested_batches (
  sensor_id  text NOT NULL,
  epoch      bigint NOT NULL,
  sequence   bigint NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  devices    integer NOT NULL,
  flows      integer NOT NULL,
  PRIMARY KEY (sensor_id, epoch, sequence)
);

-- A device, identified by its MAC address for now (later identities merge into it).
CREATE TABLE devices (
  device_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  mac            macaddr UNIQUE,
  site           text NOT NULL DEFAULT '',     -- of the sensor that saw it most recently
  wing           text NOT NULL DEFAULT '',
  first_seen     timestamptz NOT NULL,         -- packet time
  last_seen      timestamptz NOT NULL,
  packets_sent   bigint NOT NULL DEFAULT 0,
  bytes_sent     bigint NOT NULL DEFAULT 0,
  routes_traffic boolean NOT NULL DEFAULT false  -- a router or gateway: it sends for many addresses
);
CREATE INDEX devices_last_seen ON devices (last_seen);

CREATE TABLE device_addresses (
  device_id  bigint NOT NULL REFERENCES devices ON DELETE CASCADE,
  ip         inet NOT NULL,
  source     text NOT NULL,                   -- traffic, arp, ndp, dhcp
  first_seen timestamptz NOT NULL,
  last_seen  timestamptz NOT NULL,
  packets    bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (device_id, ip, source)
);
CREATE INDEX device_addresses_ip ON device_addresses (ip);

CREATE TABLE device_vlans (
  device_id  bigint NOT NULL REFERENCES devices ON DELETE CASCADE,
  vlan       integer NOT NULL,                -- 0 = untagged
  first_seen timestamptz NOT NULL,
  last_seen  timestamptz NOT NULL,
  PRIMARY KEY (device_id, vlan)
);

CREATE TABLE device_sensors (
  device_id  bigint NOT NULL REFERENCES devices ON DELETE CASCADE,
  sensor_id  text NOT NULL REFERENCES sensors,
  first_seen timestamptz NOT NULL,
  last_seen  timestamptz NOT NULL,
  packets    bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (device_id, sensor_id)
);

-- Every fact a sensor reported about a device, accumulated: the evidence behind its attributes.
CREATE TABLE device_evidence (
  device_id  bigint NOT NULL REFERENCES devices ON DELETE CASCADE,
  attribute  text NOT NULL,                   -- vendor, hostname, model, os, ...
  value      text NOT NULL,
  protocol   text NOT NULL,                   -- where it came from: oui, dhcp, lldp, ...
  field      text NOT NULL,
  sensor_id  text NOT NULL REFERENCES sensors,
  confidence real NOT NULL,
  first_seen timestamptz NOT NULL,
  last_seen  timestamptz NOT NULL,
  count      bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (device_id, attribute, value, protocol, field, sensor_id)
);

-- One row per flow a sensor tracked; counters are the sum of its reports. "src" is the initiator.
CREATE TABLE flows (
  sensor_id      text NOT NULL,
  epoch          bigint NOT NULL,
  flow_id        bigint NOT NULL,
  vlan           integer NOT NULL,
  inner_vlan     integer NOT NULL,
  transport      smallint NOT NULL,           -- IANA protocol number: 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6
  application    text NOT NULL,               -- '' when unknown
  src_mac        macaddr,
  src_ip         inet NOT NULL,
  src_port       integer NOT NULL,
  dst_mac        macaddr,
  dst_ip         inet NOT NULL,
  dst_port       integer NOT NULL,
  packets_to_dst bigint NOT NULL,
  bytes_to_dst   bigint NOT NULL,
  packets_to_src bigint NOT NULL,
  bytes_to_src   bigint NOT NULL,
  first_seen     timestamptz NOT NULL,
  last_seen      timestamptz NOT NULL,
  state          text NOT NULL,               -- active, idle_timeout, closed, evicted, capture_end
  tcp_flags_src  smallint NOT NULL DEFAULT 0,
  tcp_flags_dst  smallint NOT NULL DEFAULT 0,
  PRIMARY KEY (sensor_id, epoch, flow_id)
);
CREATE INDEX flows_src_ip ON flows (src_ip);
CREATE INDEX flows_dst_ip ON flows (dst_ip);
CREATE INDEX flows_last_seen ON flows (last_seen);

-- The addresses a device holds itself: all it was seen with, except that a router's traffic
-- comes from the hosts behind it, so only what it says of itself (ARP, ND, DHCP) counts for it.
CREATE VIEW device_own_addresses AS
SELECT a.device_id, a.ip, min(a.first_seen) AS first_seen, max(a.last_seen) AS last_seen
FROM device_addresses a
JOIN devices d USING (device_id)
WHERE a.source <> 'traffic' OR NOT d.routes_traffic
GROUP BY a.device_id, a.ip;

-- Flows aggregated per (initiator address, responder address, transport, service port, application).
CREATE VIEW connections AS
SELECT src_ip, dst_ip, transport, dst_port, application,
       sum(bytes_to_dst + bytes_to_src)::bigint     AS bytes,
       sum(packets_to_dst + packets_to_src)::bigint AS packets,
       sum(bytes_to_dst)::bigint                    AS bytes_to_dst,
       sum(bytes_to_src)::bigint                    AS bytes_to_src,
       count(*)                                     AS flows,
       min(first_seen)                              AS first_seen,
       max(last_seen)                               AS last_seen,
       array_agg(DISTINCT vlan ORDER BY vlan)       AS vlans
FROM flows
GROUP BY src_ip, dst_ip, transport, dst_port, application;
