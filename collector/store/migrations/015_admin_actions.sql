-- 015: what admins changed, who and when: written in the transaction of the change (segment map
-- imports, analysts' values on devices). Who is the admin certificate's name ("admin:bob") over
-- mutual TLS, else the client's address (--insecure). Documented in docs/schema.md.
CREATE TABLE admin_actions (
  id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at      timestamptz NOT NULL DEFAULT now(),
  who     text NOT NULL,
  action  text NOT NULL,                 -- import_segments, set_device_field, clear_device_field
  detail  jsonb NOT NULL DEFAULT '{}'    -- import: sites, imported, removed, replace; a field: device_id, field, value
);
CREATE INDEX admin_actions_at ON admin_actions (at);
