-- 004: clinical workflow tagging. A flow says whether it carries a clinical protocol (HL7, DICOM,
-- FHIR, a device protocol), whether its payload was encrypted, whether credentials crossed it in
-- clear, which kinds of patient data it carried and how often each clinical message type went over
-- it. Kinds and counts only: no patient data ever reaches the sensor's output, let alone this table.
ALTER TABLE flows
  ADD COLUMN clinical              boolean NOT NULL DEFAULT false,
  ADD COLUMN phi                   boolean NOT NULL DEFAULT false,  -- some message carried patient data
  ADD COLUMN encrypted             boolean NOT NULL DEFAULT false,
  ADD COLUMN cleartext_credentials boolean NOT NULL DEFAULT false;

-- Messages of a flow that carried each kind of patient data. kind: demographics, next_of_kin, visit,
-- insurance, diagnoses, orders_results, images, worklist.
CREATE TABLE flow_phi (
  sensor_id text NOT NULL,
  epoch     bigint NOT NULL,
  flow_id   bigint NOT NULL,
  kind      text NOT NULL,
  messages  bigint NOT NULL,
  PRIMARY KEY (sensor_id, epoch, flow_id, kind)
);

-- Clinical messages and responses of a flow by type ("ADT^A01", "ACK AA", "C-STORE-RQ"). For
-- responses matched to their request, the sum and the largest response time.
CREATE TABLE flow_messages (
  sensor_id            text NOT NULL,
  epoch                bigint NOT NULL,
  flow_id              bigint NOT NULL,
  name                 text NOT NULL,
  count                bigint NOT NULL,
  response_time_sum_us bigint NOT NULL DEFAULT 0,
  response_time_max_us bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (sensor_id, epoch, flow_id, name)
);

CREATE INDEX flows_clinical ON flows (last_seen) WHERE clinical;

-- The connections view gains the flow tags (a connection is clinical when any of its flows is).
CREATE OR REPLACE VIEW connections AS
SELECT src_ip, dst_ip, transport, dst_port, application,
       sum(bytes_to_dst + bytes_to_src)::bigint     AS bytes,
       sum(packets_to_dst + packets_to_src)::bigint AS packets,
       sum(bytes_to_dst)::bigint                    AS bytes_to_dst,
       sum(bytes_to_src)::bigint                    AS bytes_to_src,
       count(*)                                     AS flows,
       min(first_seen)                              AS first_seen,
       max(last_seen)                               AS last_seen,
       array_agg(DISTINCT vlan ORDER BY vlan)       AS vlans,
       bool_or(clinical)                            AS clinical,
       bool_or(phi)                                 AS phi,
       bool_or(encrypted)                           AS encrypted,
       bool_or(cleartext_credentials)               AS cleartext_credentials
FROM flows
GROUP BY src_ip, dst_ip, transport, dst_port, application;
