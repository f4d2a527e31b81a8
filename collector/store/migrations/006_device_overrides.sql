-- 006: analyst overrides. A value an analyst sets for a device field wins over the evidence and
-- survives new observations; the evidence stays as it was. Who set it and when are kept (an audit
-- of admin actions proper comes with authentication).
CREATE TABLE device_overrides (
  device_id bigint NOT NULL REFERENCES devices ON DELETE CASCADE,
  field     text NOT NULL,   -- hostname, vendor, model, serial, os, os_version, software_version,
                             -- firmware_version, department
  value     text NOT NULL,
  set_by    text NOT NULL DEFAULT '',
  set_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, field)
);
