-- 012: what a device is and where, as the API, the graph and the dashboard-facing queries read it:
-- one definition of "an analyst's override wins" for the classification keys and the department.

-- A classification key (device_type, category, patient_connection, fda_class, ...): the analyst's
-- override, else the rules' decision; NULL when neither says.
CREATE FUNCTION auscult_device_class(dev bigint, class_key text) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT COALESCE(
    (SELECT v.value FROM device_overrides v WHERE v.device_id = dev AND v.field = class_key),
    (SELECT c.value FROM device_classification c WHERE c.device_id = dev AND c.key = class_key))
$$;

-- A device's department: the analyst's override, else the segment map's (auscult_department), else ''.
CREATE FUNCTION auscult_device_department(dev bigint, device_site text) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT COALESCE(
    (SELECT v.value FROM device_overrides v WHERE v.device_id = dev AND v.field = 'department'),
    auscult_department(dev, device_site))
$$;
