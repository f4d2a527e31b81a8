#ifndef AUSCULT_COLLECTOR_STORE_DEVICE_MERGE_SQL_H_
#define AUSCULT_COLLECTOR_STORE_DEVICE_MERGE_SQL_H_

// How a row of a device's tables absorbs another row with the same key: times widen, counts add up
// (saturating), an address's locality is the latest judgement (a MAC may turn out to be a router).
// One definition for the batch upserts (batch_writer.cc) and for moving a merged device's rows
// into the survivor (identity_writer.cc). Macros, so that they join the statements' literals; each
// expects the table aliased as named in its INSERT.

// INSERT INTO device_addresses AS a ...
#define AUSCULT_ON_ADDRESS_CONFLICT                                                     \
  "ON CONFLICT (device_id, ip, source) DO UPDATE SET"                                   \
  " first_seen = LEAST(a.first_seen, excluded.first_seen),"                             \
  " last_seen = GREATEST(a.last_seen, excluded.last_seen),"                             \
  " packets = auscult_sat(a.packets::numeric + excluded.packets),"                      \
  " locality = CASE WHEN excluded.last_seen >= a.last_seen THEN excluded.locality ELSE" \
  " a.locality END"

// INSERT INTO device_vlans AS v ...
#define AUSCULT_ON_VLAN_CONFLICT                            \
  "ON CONFLICT (device_id, vlan) DO UPDATE SET"             \
  " first_seen = LEAST(v.first_seen, excluded.first_seen)," \
  " last_seen = GREATEST(v.last_seen, excluded.last_seen)"

// INSERT INTO device_sensors AS s ...
#define AUSCULT_ON_DEVICE_SENSOR_CONFLICT                   \
  "ON CONFLICT (device_id, sensor_id) DO UPDATE SET"        \
  " first_seen = LEAST(s.first_seen, excluded.first_seen)," \
  " last_seen = GREATEST(s.last_seen, excluded.last_seen)," \
  " packets = auscult_sat(s.packets::numeric + excluded.packets)"

#endif  // AUSCULT_COLLECTOR_STORE_DEVICE_MERGE_SQL_H_
