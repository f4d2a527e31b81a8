#ifndef AUSCULT_TESTS_E2E_E2E_UTIL_H_
#define AUSCULT_TESTS_E2E_E2E_UTIL_H_

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auscult/v1/ingest.pb.h"
#include "auscult/v1/observation.pb.h"
#include "tests/support/test_support.h"

namespace auscult::testing {

// A collector process on a free loopback port with a fresh database of its own.
class CollectorTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Starts (or restarts) the collector with extra flags, on a new port unless `same_port` (a
  // restart that sensors already pointed at it must find).
  void StartCollector(const std::vector<std::string>& extra_flags = {}, bool same_port = false);
  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }

  CommandResult RunSensor(const std::vector<std::string>& captures, const std::string& sensor_id,
                          const std::vector<std::string>& extra_flags = {});
  CommandResult Cli(const std::vector<std::string>& args);
  // `auscult <args> --json`, parsed; fails the test unless it exits 0.
  google::protobuf::Value CliJson(const std::vector<std::string>& args);

  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<Process> collector_;
  int port_ = 0;
};

// The bundled captures the graph tests read: two clinical fixtures (a CT and a PACS; an HL7 feed)
// and a browsing capture that reaches the internet.
inline constexpr const char* kGraphCaptures[] = {"clinical/dicom_store_worklist.pcap", "clinical/hl7_mllp.pcap",
                                                 "mixed/wikipedia.pcap"};
// Paths of captures under tests/data/captures (or ../shared/captures), or nullopt if one is missing.
template <size_t N>
std::optional<std::vector<std::string>> CapturePaths(const char* const (&relative)[N]) {
  std::vector<std::string> out;
  for (const char* c : relative) {
    const auto p = CapturePath(c);
    if (!p) return std::nullopt;
    out.push_back(*p);
  }
  return out;
}

// Streams batches to a collector as a sensor would and collects the acknowledgments.
struct StreamResult {
  std::vector<v1::BatchAck> acks;
  int status_code = -1;  // grpc::StatusCode
  std::string status_message;
};
StreamResult StreamBatches(const std::string& target, const std::vector<v1::ObservationBatch>& batches);

// What a database holds, in one line: counts and sums, and digests of which devices and edges
// exist with which totals. Two runs of the same captures that leave the same line stored the same
// devices, evidence, flows, graph edges and byte and packet totals (the delivery and scale-out
// tests compare disturbed and undisturbed runs by it). Devices are named by MAC (or identity
// address), never by id: ids are drawn from a sequence, and a transaction rolled back by a fault
// or a conflict uses some up.
std::string DatabaseTotals(const TestDatabase& db);
// The edges the totals line digests, one line each (its ends' names and totals), sorted: what a
// test prints when two databases' totals differ.
std::vector<std::string> DatabaseEdgeLines(const TestDatabase& db);

// Polls `done` every 20 ms until it holds or `timeout` passes.
bool WaitUntil(const std::function<bool()>& done, absl::Duration timeout);

// Runs the sensor with --output=jsonl and parses every line into a batch.
std::vector<v1::ObservationBatch> SensorBatches(const std::string& capture,
                                                const std::vector<std::string>& extra_flags);

}  // namespace auscult::testing

#endif  // AUSCULT_TESTS_E2E_E2E_UTIL_H_
