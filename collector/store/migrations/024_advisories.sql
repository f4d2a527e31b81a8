-- 024: security advisories (CSAF 2.0, `auscult advisories import`) and the devices they concern,
-- as the classifier matches them (docs/advisories.md; tables and views in docs/schema.md).

-- One row per advisory, its latest version imported. The document is kept as imported: the
-- collectors read their match catalog from it, so that a newer collector's matcher needs no
-- re-import.
CREATE TABLE advisories (
  tracking_id     text PRIMARY KEY,          -- "ICSMA-20-317-01": an advisory across its revisions
  version         text NOT NULL,             -- tracking.version; a later one replaces this row
  title           text NOT NULL,
  publisher       text NOT NULL,
  initial_release timestamptz,
  current_release timestamptz,
  source_name     text NOT NULL,             -- the file it was imported from
  sha256          text NOT NULL,             -- of the document: the same file again changes nothing
  document        text NOT NULL,
  imported_at     timestamptz NOT NULL DEFAULT now(),
  imported_by     text NOT NULL
);

-- The products of its product tree, as written.
CREATE TABLE advisory_products (
  tracking_id  text NOT NULL REFERENCES advisories ON DELETE CASCADE,
  product_id   text NOT NULL,                -- unique within its advisory
  vendor       text NOT NULL,
  product_name text NOT NULL,
  label        text NOT NULL,                -- product.name: often the product and versions in words
  version_text text NOT NULL,                -- the version branch, as written ('' when none)
  version_kind text NOT NULL,                -- all, set (read as versions), unparsed:<why>
  cpe          text NOT NULL DEFAULT '',
  PRIMARY KEY (tracking_id, product_id)
);

-- Per vulnerability and product: its status for the product and the product's CVSS score (scores
-- are per product: one CVE can score differently for two products of an advisory).
CREATE TABLE advisory_vulnerabilities (
  tracking_id  text NOT NULL,
  ordinal      integer NOT NULL,             -- the vulnerability's place in the document, from 0
  product_id   text NOT NULL,
  status       text NOT NULL,                -- known_affected, fixed, known_not_affected, ...
  cve          text NOT NULL,                -- '' when the advisory gives none
  cwe          text NOT NULL,                -- "CWE-798 Use of Hard-coded Credentials", or ''
  cvss_version text NOT NULL,                -- 3.1, 3.0, 4.0, 2.0; '' when unscored
  base_score   real,                         -- NULL when unscored
  vector       text NOT NULL,
  severity     text NOT NULL,
  PRIMARY KEY (tracking_id, ordinal, product_id, status),
  FOREIGN KEY (tracking_id, product_id) REFERENCES advisory_products ON DELETE CASCADE
);
CREATE INDEX advisory_vulnerabilities_cve ON advisory_vulnerabilities (cve);

-- The vendor's remediations per vulnerability and product, in the document's order.
CREATE TABLE advisory_remediations (
  tracking_id text NOT NULL,
  ordinal     integer NOT NULL,
  product_id  text NOT NULL,
  position    integer NOT NULL,
  category    text NOT NULL,                 -- vendor_fix, mitigation, workaround, none_available, no_fix_planned
  details     text NOT NULL,
  url         text NOT NULL,
  PRIMARY KEY (tracking_id, ordinal, product_id, position),
  FOREIGN KEY (tracking_id, product_id) REFERENCES advisory_products ON DELETE CASCADE
);

-- What the classifier matched: per device, the best product of each advisory (docs/advisories.md,
-- "Findings"). Rewritten with the device's classification; removed with the advisory's product.
CREATE TABLE device_advisories (
  device_id        bigint NOT NULL REFERENCES devices ON DELETE CASCADE,
  tracking_id      text NOT NULL,
  product_id       text NOT NULL,
  match            text NOT NULL CHECK (match IN ('exact_version', 'version_range', 'product_only')),
  basis            text NOT NULL,            -- model_number, model_range, product_name, product_family, software
  reason           text NOT NULL,            -- product_only: why the version decided nothing
  observed_model   text NOT NULL,            -- the device's model, product or software that matched
  observed_version text NOT NULL,            -- the version that decided ('' when none)
  matched_at       timestamptz NOT NULL,
  PRIMARY KEY (device_id, tracking_id),
  FOREIGN KEY (tracking_id, product_id) REFERENCES advisory_products ON DELETE CASCADE
);
CREATE INDEX device_advisories_advisory ON device_advisories (tracking_id, product_id);

-- Changes with every import that changes an advisory: the collectors compare it with the catalog
-- they hold, read the advisories again when it differs, and queue every device.
INSERT INTO collector_settings (name, value) VALUES ('advisories_version', '0');

-- One row per advisory with the devices it concerns: affected (the version is inside what the
-- advisory lists) and possibly affected (the product matched, the version decided nothing).
CREATE VIEW dashboard.advisories AS
SELECT a.tracking_id,
       a.title,
       a.publisher,
       a.version,
       a.initial_release,
       a.current_release,
       COALESCE((SELECT string_agg(DISTINCT v.cve, ',' ORDER BY v.cve) FROM advisory_vulnerabilities v
                 WHERE v.tracking_id = a.tracking_id AND v.cve <> ''), '')                 AS cves,
       (SELECT max(v.base_score) FROM advisory_vulnerabilities v WHERE v.tracking_id = a.tracking_id)::numeric
                                                                                            AS max_cvss,
       (SELECT count(*) FROM advisory_products p WHERE p.tracking_id = a.tracking_id)::integer AS products,
       (SELECT count(*) FROM device_advisories m
        WHERE m.tracking_id = a.tracking_id AND m.match <> 'product_only')::integer          AS devices_affected,
       (SELECT count(*) FROM device_advisories m
        WHERE m.tracking_id = a.tracking_id AND m.match = 'product_only')::integer           AS devices_possibly_affected,
       a.imported_at
FROM advisories a;

-- One row per device, advisory and vulnerability the device's matched product has: the CVE, its
-- CVSS for that product, the match and what it rested on, the vendor's fix, and the device's
-- inventory columns and risk score.
CREATE VIEW dashboard.device_vulnerabilities AS
SELECT m.device_id,
       d.vendor            AS device_vendor,
       d.model             AS device_model,
       d.device_type,
       d.patient_connection,
       d.department,
       d.site,
       d.risk_score,
       m.tracking_id,
       a.title,
       m.product_id,
       p.vendor            AS product_vendor,
       p.product_name,
       p.version_text      AS affected_versions,
       m.match,
       m.basis,
       m.reason,
       m.observed_model,
       m.observed_version,
       v.cve,
       v.status,
       v.cvss_version,
       v.base_score::numeric AS base_score,
       v.vector,
       v.severity,
       COALESCE((SELECT string_agg(r.details, ' ' ORDER BY r.position) FROM advisory_remediations r
                 WHERE r.tracking_id = v.tracking_id AND r.ordinal = v.ordinal AND r.product_id = v.product_id
                   AND r.category = 'vendor_fix'), '')                                     AS vendor_fix,
       m.matched_at
FROM device_advisories m
JOIN advisories a ON a.tracking_id = m.tracking_id
JOIN advisory_products p ON p.tracking_id = m.tracking_id AND p.product_id = m.product_id
JOIN advisory_vulnerabilities v ON v.tracking_id = m.tracking_id AND v.product_id = m.product_id
JOIN dashboard.devices d ON d.device_id = m.device_id;

GRANT SELECT ON dashboard.advisories, dashboard.device_vulnerabilities TO auscult_dashboard;
