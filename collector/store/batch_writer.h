#ifndef AUSCULT_COLLECTOR_STORE_BATCH_WRITER_H_
#define AUSCULT_COLLECTOR_STORE_BATCH_WRITER_H_

#include <cstdint>
#include <string>

#include "auscult/v1/ingest.pb.h"
#include "auscult/v1/observation.pb.h"

namespace pqxx {
class connection_base;
}

namespace auscult::collector {

// Applies one validated batch in one transaction: the sensor's row, the batch's id, devices with
// their addresses, VLANs, sensors and evidence, and flows. A batch whose (sensor, epoch, sequence)
// was applied before changes nothing and yields RESULT_DUPLICATE. Each table gets one statement
// over arrays (unnest), in a fixed key order so that concurrent sensors do not deadlock.
// Throws pqxx exceptions on database errors; the caller decides about retrying. `started_us`, if
// given, receives the transaction's start time (microseconds since the epoch, the database's
// clock): the devices it queued for classification were queued at that time.
// `certificate_sha256` is that of the sensor's TLS certificate ("" without TLS): a batch of a
// revoked sensor or certificate throws SensorRevoked (collector/store/revocations.h) before
// anything is stored; else it is recorded as the sensor's current certificate.
v1::BatchAck::Result ApplyBatch(pqxx::connection_base& connection, const v1::ObservationBatch& batch,
                                const std::string& certificate_sha256, int64_t* started_us = nullptr);

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_STORE_BATCH_WRITER_H_
