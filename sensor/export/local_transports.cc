// The transports that stay on this host: JSON lines on stdout, and the null sink.
#include <google/protobuf/util/json_util.h>

#include <cstdio>

#include "sensor/export/batch_transport.h"

namespace auscult::sensor {
namespace {

class JsonLinesTransport : public BatchTransport {
 public:
  absl::Status Send(std::unique_ptr<v1::ObservationBatch> batch) override {
    std::string line;
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    if (auto s = google::protobuf::util::MessageToJsonString(*batch, &line, options); !s.ok()) {
      return absl::InternalError("cannot print batch as JSON: " + s.ToString());
    }
    line += '\n';
    // One line a batch, flushed at once: a live sensor piped into jq shows each batch as it is made.
    if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size() || std::fflush(stdout) != 0) {
      return absl::UnavailableError("cannot write to stdout");
    }
    ++stats_.batches_sent;
    ++stats_.batches_acknowledged;
    return absl::OkStatus();
  }
  absl::Status Close(absl::Duration) override {
    if (std::fflush(stdout) != 0) return absl::UnavailableError("cannot write to stdout");
    return absl::OkStatus();
  }
  TransportStats stats() const override { return stats_; }

 private:
  TransportStats stats_;
};

class NullTransport : public BatchTransport {
 public:
  absl::Status Send(std::unique_ptr<v1::ObservationBatch>) override {
    ++stats_.batches_sent;
    ++stats_.batches_acknowledged;
    return absl::OkStatus();
  }
  absl::Status Close(absl::Duration) override { return absl::OkStatus(); }
  TransportStats stats() const override { return stats_; }

 private:
  TransportStats stats_;
};

}  // namespace

std::unique_ptr<BatchTransport> MakeJsonLinesTransport() { return std::make_unique<JsonLinesTransport>(); }
std::unique_ptr<BatchTransport> MakeNullTransport() { return std::make_unique<NullTransport>(); }

}  // namespace auscult::sensor
