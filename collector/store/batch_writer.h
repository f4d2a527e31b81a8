#ifndef AUSCULT_COLLECTOR_STORE_BATCH_WRITER_H_
#define AUSCULT_COLLECTOR_STORE_BATCH_WRITER_H_

#include <cstdint>
#include <string>

#include "absl/types/span.h"
#include "auscult/v1/ingest.pb.h"
#include "auscult/v1/observation.pb.h"

namespace pqxx {
class connection_base;
}

namespace auscult::collector {

// Applies one validated batch in one transaction: the sensor's row, the batch's id, devices with
// their addresses, VLANs, sensors and evidence, flows, and the flows' edge deltas (merged into the
// graph by MergePendingEdges once committed). A batch whose (sensor, epoch, sequence)
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

// Run after batches committed (or came back duplicates: their collector may have died before
// this), in a transaction of its own: moves the graph edges still stored on an address the batches
// name (a flow's end, a device's address) to the device that holds it now. A concurrent batch
// that had not yet seen the device's address stored its edges on the address; of two such
// batches the second to get here sees both (migration 017). Returns the addresses moved; throws
// pqxx exceptions.
int AbsorbHeldAddresses(pqxx::connection_base& connection, absl::Span<const v1::ObservationBatch* const> batches);

// Merges the edge deltas that committed batches appended (every collector's) into graph_edges, in
// a transaction of its own, one merge at a time across collectors (migration 020). Whatever
// committed before it started is merged when it returns. Returns the edges merged; throws pqxx
// exceptions (the deltas stay for the next merge).
int MergePendingEdges(pqxx::connection_base& connection);

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_STORE_BATCH_WRITER_H_
