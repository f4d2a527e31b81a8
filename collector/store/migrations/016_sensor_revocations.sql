-- 016: sensors and sensor certificates withdrawn before they expire (docs/security.md, "Revoking
-- a sensor"). A row names either a whole sensor id (certificate_sha256 ''): every certificate for
-- it is refused, today's and any issued later, until the row is removed; or one certificate, by
-- the SHA-256 of its DER encoding: that certificate is refused wherever it is used, and a new one
-- for the same sensor id works. The collector looks here in the transaction of every batch before
-- it stores anything, so a revocation takes effect at a streaming sensor's next batch. Written by
-- admins (RevokeSensor), each change in admin_actions.
CREATE TABLE sensor_revocations (
  sensor_id          text NOT NULL,
  certificate_sha256 text NOT NULL DEFAULT '' CHECK (certificate_sha256 ~ '^([0-9a-f]{64})?$'),
  reason             text NOT NULL DEFAULT '',
  revoked_by         text NOT NULL,
  revoked_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sensor_id, certificate_sha256)
);
-- A certificate names one sensor: one row per certificate, whatever sensor id it was filed under.
CREATE UNIQUE INDEX sensor_revocations_certificate ON sensor_revocations (certificate_sha256)
  WHERE certificate_sha256 <> '';

-- The certificate of each sensor's latest batch ('' without TLS), so that an admin can see which one
-- to revoke (auscult sensors --json).
ALTER TABLE sensors ADD COLUMN certificate_sha256 text NOT NULL DEFAULT '';

-- The one rule for whether a batch is refused: the revocation that applies to a sensor id and the
-- certificate it came with ('' without TLS), if any (the id's before the certificate's). Read by
-- the ingest, in the batch's transaction, and by ListSensors.
CREATE FUNCTION auscult_sensor_revocation(id text, sha256 text) RETURNS SETOF sensor_revocations
  LANGUAGE sql STABLE AS $$
  SELECT * FROM sensor_revocations r
  WHERE (r.sensor_id = id AND r.certificate_sha256 = '') OR (sha256 <> '' AND r.certificate_sha256 = sha256)
  ORDER BY r.certificate_sha256 LIMIT 1
$$;
