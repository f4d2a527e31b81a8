#ifndef AUSCULT_SENSOR_EXPORT_SPOOL_H_
#define AUSCULT_SENSOR_EXPORT_SPOOL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "auscult/v1/observation.pb.h"

namespace auscult::sensor {

// The sensor's disk spool (--spool_dir): every sealed batch is written here, durably, before it is
// sent, and removed when the collector acknowledges it. A sensor that is killed, loses power or
// cannot reach the collector finds its unacknowledged batches here at its next start and sends them
// again with their original (epoch, sequence), which the collector applies once.
//
// One file per batch, named EPOCH-SEQUENCE.batch (zero-padded, so that the names sort in sending
// order), holding the serialized ObservationBatch. A file is written under a temporary name, synced
// and renamed, so a crash leaves either the whole batch or none of it. A lock file keeps a second
// sensor process out of the same folder. Size accounting and the bound live in the transport, which
// decides what to drop; this class only stores.
class Spool {
 public:
  struct Entry {
    uint64_t epoch = 0;
    uint64_t sequence = 0;
    uint64_t bytes = 0;
  };

  // Creates the folder (mode 0700: batches name the hospital's devices) if needed, takes its lock,
  // deletes half-written files and lists the batches left by earlier runs.
  static absl::StatusOr<std::unique_ptr<Spool>> Open(const std::string& dir);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  const std::string& dir() const { return dir_; }
  // The batches found at Open, oldest first.
  const std::vector<Entry>& recovered() const { return recovered_; }

  // Stores a batch durably (written, fdatasync'ed, renamed) and says where it is.
  absl::StatusOr<Entry> Write(const v1::ObservationBatch& batch);
  // Reads a stored batch back; an error for a missing, unreadable or unparsable file.
  absl::StatusOr<std::unique_ptr<v1::ObservationBatch>> Read(const Entry& entry) const;
  // Forgets a batch (acknowledged or dropped). A file already gone is not an error.
  void Remove(const Entry& entry);

 private:
  Spool(std::string dir, int lock_fd) : dir_(std::move(dir)), lock_fd_(lock_fd) {}
  std::string PathOf(const Entry& entry) const;

  std::string dir_;
  int lock_fd_;
  std::vector<Entry> recovered_;
};

}  // namespace auscult::sensor

#endif  // AUSCULT_SENSOR_EXPORT_SPOOL_H_
