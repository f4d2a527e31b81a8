-- 025: segmentation policies derived from the communication graph (docs/policy.md): a device
-- group's allow-list as an operator accepted it, and the new edges that break it.

-- A device's group under one of the dimensions a policy is made for: its type (an analyst's
-- override, else the rules'), its displayed vendor, its department (override, else the segment
-- map's), or the tag an operator gave it (`auscult device set ID --field=tag --value=icu-pumps`).
CREATE FUNCTION auscult_device_group(id bigint, dimension text) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE dimension
    WHEN 'type' THEN COALESCE(
      (SELECT v.value FROM device_overrides v WHERE v.device_id = id AND v.field = 'device_type'),
      (SELECT k.value FROM device_classification k WHERE k.device_id = id AND k.key = 'device_type'), 'unknown')
    WHEN 'vendor' THEN auscult_display(id, 'vendor')
    WHEN 'department' THEN COALESCE(
      (SELECT v.value FROM device_overrides v WHERE v.device_id = id AND v.field = 'department'),
      (SELECT auscult_department(d.device_id, d.site) FROM devices d WHERE d.device_id = id), '')
    WHEN 'tag' THEN COALESCE((SELECT v.value FROM device_overrides v WHERE v.device_id = id AND v.field = 'tag'), '')
  END
$$;

-- A policy an operator accepted for a group (`auscult policy accept`). Accepting again for the same
-- group replaces it: the older one stays, inactive, with its violations.
CREATE TABLE policies (
  policy_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  dimension   text NOT NULL CHECK (dimension IN ('type', 'vendor', 'department', 'tag')),
  group_value text NOT NULL,
  site        text NOT NULL DEFAULT '',        -- '' = every site
  members     integer NOT NULL,                -- devices in the group when it was accepted
  accepted_by text NOT NULL,
  accepted_at timestamptz NOT NULL DEFAULT now(),
  active      boolean NOT NULL DEFAULT true
);
CREATE UNIQUE INDEX policies_one_active ON policies (dimension, lower(group_value), site) WHERE active;

-- What the group may do: one row per allowed kind of flow. The peer is a group under the policy's
-- dimension (so that a device that joins that group later is allowed too), an address inside the
-- hospital that no device holds, or a network outside it.
CREATE TABLE policy_rules (
  policy_id   bigint NOT NULL REFERENCES policies ON DELETE CASCADE,
  position    integer NOT NULL,
  direction   text NOT NULL CHECK (direction IN ('out', 'in')),  -- out: the group's device opens the flows
  peer_kind   text NOT NULL CHECK (peer_kind IN ('group', 'address', 'network')),
  peer        text NOT NULL,
  transport   smallint NOT NULL,
  port        integer NOT NULL,                -- the responder's port; 0 for protocols without ports
  application text NOT NULL,                   -- '' = whatever the sensor named it
  PRIMARY KEY (policy_id, position)
);

-- New edges of a group's device that no rule of its active policy allows.
CREATE TABLE policy_violations (
  violation_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  policy_id    bigint NOT NULL REFERENCES policies ON DELETE CASCADE,
  at           timestamptz NOT NULL DEFAULT now(),
  site         text NOT NULL,
  device_id    bigint NOT NULL REFERENCES devices ON DELETE CASCADE,
  direction    text NOT NULL,
  src_node     text NOT NULL,
  dst_node     text NOT NULL,
  transport    smallint NOT NULL,
  port         integer NOT NULL,
  application  text NOT NULL,
  first_seen   timestamptz NOT NULL,           -- packet time of the edge's first flow
  clinical     boolean NOT NULL,
  phi          boolean NOT NULL,
  -- The edge existed when the policy was accepted (flagged, or after the baseline): a known
  -- exception, recorded so that it is never reported, and not a violation.
  known        boolean NOT NULL DEFAULT false
);
CREATE INDEX policy_violations_policy ON policy_violations (policy_id, violation_id);
CREATE INDEX policy_violations_device ON policy_violations (device_id);

-- Whether a rule of policy `p` allows a flow of a group's device with `peer_node` in `dir`.
CREATE FUNCTION auscult_policy_allows(p bigint, dimension text, dir text, peer_node text, e_transport smallint,
                                      e_port integer, e_application text) RETURNS boolean
  LANGUAGE sql STABLE AS $$
  SELECT EXISTS (
    SELECT 1 FROM policy_rules r
    WHERE r.policy_id = p AND r.direction = dir AND r.transport = e_transport AND r.port = e_port
      AND (r.application = '' OR r.application = e_application)
      -- CASE, not AND: SQL does not promise to test `peer_node LIKE ...` before the cast.
      AND CASE WHEN peer_node LIKE 'd:%' THEN
                 CASE r.peer_kind
                   WHEN 'group' THEN lower(auscult_device_group(substr(peer_node, 3)::bigint, dimension)) = lower(r.peer)
                   WHEN 'address' THEN EXISTS (SELECT 1 FROM device_own_addresses o
                                               WHERE o.device_id = substr(peer_node, 3)::bigint AND o.ip = r.peer::inet)
                   ELSE EXISTS (SELECT 1 FROM device_own_addresses o
                                WHERE o.device_id = substr(peer_node, 3)::bigint AND o.ip <<= r.peer::cidr)
                 END
               WHEN peer_node LIKE 'a:%' THEN
                 CASE r.peer_kind
                   WHEN 'group' THEN false
                   WHEN 'address' THEN substr(peer_node, 3)::inet = r.peer::inet
                   ELSE substr(peer_node, 3)::inet <<= r.peer::cidr
                 END
               ELSE false
          END)
$$;

-- Holds edges against the active policies of the groups their ends belong to now; one that none of
-- their rules allows is a violation, with a `policy_violation` event for the Watch stream (with
-- the device's risk). An edge already reported for a policy is not reported again. Returns how
-- many were reported. Without an active policy it costs one lookup.
-- With `known` (at acceptance, for `only_policy`), the edges are recorded as known exceptions and
-- no event is written.
CREATE FUNCTION auscult_check_policy_edges(edges graph_edges[], known boolean DEFAULT false,
                                           only_policy bigint DEFAULT NULL) RETURNS integer
  LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
  reported integer;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM policies WHERE active) THEN
    RETURN 0;
  END IF;
  WITH m AS (
    SELECT n.site, n.src_node, n.dst_node, n.transport, n.port, n.application, n.first_seen, n.clinical, n.phi,
           x.direction, CASE WHEN x.member LIKE 'd:%' THEN substr(x.member, 3)::bigint END AS device_id, x.peer
    FROM unnest(edges) AS n
    CROSS JOIN LATERAL (VALUES ('out', n.src_node, n.dst_node), ('in', n.dst_node, n.src_node)) AS x(direction, member, peer)
    WHERE x.member LIKE 'd:%'),
  v AS (
    INSERT INTO policy_violations (policy_id, site, device_id, direction, src_node, dst_node, transport, port,
                                   application, first_seen, clinical, phi, known)
    SELECT p.policy_id, m.site, m.device_id, m.direction, m.src_node, m.dst_node, m.transport, m.port, m.application,
           m.first_seen, m.clinical, m.phi, known
    FROM m
    JOIN policies p ON p.active AND (only_policy IS NULL OR p.policy_id = only_policy)
                   AND (p.site = '' OR p.site = m.site)
                   AND lower(auscult_device_group(m.device_id, p.dimension)) = lower(p.group_value)
    WHERE EXISTS (SELECT 1 FROM devices d WHERE d.device_id = m.device_id)
      AND NOT auscult_policy_allows(p.policy_id, p.dimension, m.direction, m.peer, m.transport, m.port, m.application)
      AND NOT EXISTS (SELECT 1 FROM policy_violations o
                      WHERE o.policy_id = p.policy_id AND o.src_node = m.src_node AND o.dst_node = m.dst_node
                        AND o.transport = m.transport AND o.port = m.port AND o.application = m.application)
    ORDER BY p.policy_id, m.device_id
    RETURNING *),
  e AS (
    INSERT INTO events (kind, device_id, detail)
    SELECT 'policy_violation', v.device_id,
           jsonb_build_object('violation_id', v.violation_id, 'policy_id', v.policy_id,
                              'group', p.dimension || '=' || p.group_value, 'direction', v.direction,
                              'src', v.src_node, 'dst', v.dst_node, 'transport', v.transport, 'port', v.port,
                              'application', v.application, 'clinical', v.clinical, 'phi', v.phi,
                              'first_seen', auscult_us(v.first_seen),
                              'risk', COALESCE((SELECT r.score FROM device_risk r WHERE r.device_id = v.device_id), 0))
    FROM v JOIN policies p USING (policy_id)
    WHERE NOT v.known
    ORDER BY v.violation_id
    RETURNING 1)
  SELECT count(*) INTO reported FROM v;
  RETURN reported;
END $$;

-- Every edge new to the graph (an insert into graph_edges: the graph merge, or an edge moved to
-- another node when its end turned out to be another device) is checked at once.
-- The check must never stop the graph merge it runs in: an error in it is logged (a PostgreSQL
-- warning) and the edges go in unchecked. The rows are read back from graph_edges, whose row type
-- the check takes (a transition table's rows have a type of their own).
CREATE FUNCTION auscult_check_policies() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM policies WHERE active) THEN
    BEGIN
      PERFORM auscult_check_policy_edges(ARRAY(
        SELECT g FROM graph_edges g
        JOIN inserted n USING (site, src_node, dst_node, transport, port, application)));
    EXCEPTION WHEN OTHERS THEN
      RAISE WARNING 'auscult: segmentation policy check of new edges failed: %', SQLERRM;
    END;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER graph_edges_policy_check AFTER INSERT ON graph_edges
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION auscult_check_policies();

-- A device that joins a group (classified as its type for the first time or anew, moved to its
-- department, tagged) brings its edges with it: they are checked against the group's policy when
-- the classifier or an analyst's change says so (collector/classify/classifier.cc,
-- collector/store/queries.cc).
CREATE FUNCTION auscult_check_device_policies(ids bigint[]) RETURNS integer
  LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM policies WHERE active) THEN
    RETURN 0;
  END IF;
  RETURN auscult_check_policy_edges(ARRAY(
    SELECT g FROM graph_edges g
    WHERE g.src_node IN (SELECT 'd:' || t.id FROM unnest(ids) AS t(id))
       OR g.dst_node IN (SELECT 'd:' || t.id FROM unnest(ids) AS t(id))));
END $$;

-- Violations with the policy's group and the device as the inventory shows it (known exceptions
-- left out).
CREATE VIEW dashboard.policy_violations AS
SELECT v.violation_id,
       v.at,
       v.policy_id,
       p.dimension                                          AS policy_dimension,
       p.group_value                                        AS policy_group,
       p.active                                             AS policy_active,
       v.site,
       v.device_id,
       d.vendor                                             AS device_vendor,
       d.model                                              AS device_model,
       d.device_type,
       d.department,
       d.risk_score,
       v.direction,
       CASE WHEN v.direction = 'out' THEN v.dst_node ELSE v.src_node END AS peer_node,
       COALESCE(CASE WHEN v.direction = 'out' THEN dst.ips ELSE src.ips END, '') AS peer_ips,
       v.transport::integer                                 AS transport,
       v.port,
       v.application,
       v.clinical,
       v.phi,
       v.first_seen
FROM policy_violations v
JOIN policies p USING (policy_id)
JOIN dashboard.devices d ON d.device_id = v.device_id
LEFT JOIN LATERAL (
  SELECT CASE WHEN v.src_node LIKE 'a:%' THEN substr(v.src_node, 3)
              ELSE (SELECT string_agg(host(o.ip), ',' ORDER BY o.ip) FROM device_own_addresses o
                    WHERE o.device_id = substr(v.src_node, 3)::bigint) END AS ips) src ON true
LEFT JOIN LATERAL (
  SELECT CASE WHEN v.dst_node LIKE 'a:%' THEN substr(v.dst_node, 3)
              ELSE (SELECT string_agg(host(o.ip), ',' ORDER BY o.ip) FROM device_own_addresses o
                    WHERE o.device_id = substr(v.dst_node, 3)::bigint) END AS ips) dst ON true
WHERE NOT v.known;

GRANT SELECT ON dashboard.policy_violations TO auscult_dashboard;
