#ifndef AUSCULT_SENSOR_TESTING_H_
#define AUSCULT_SENSOR_TESTING_H_

// Test helpers for the sensor's packet path: run the engine over a real capture and keep what it
// reports. Used by the sensor's unit tests only.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sensor/capture/capture_file.h"
#include "sensor/engine.h"

namespace auscult::sensor::testing {

class RecordingSink : public ObservationSink {
 public:
  void OnFlow(const FlowRecord& f) override { flows.push_back(f); }
  void OnDevice(const DeviceRecord& d) override { devices.push_back(d); }
  void OnWindowEnd() override { ++windows; }
  std::vector<FlowRecord> flows;
  std::vector<DeviceRecord> devices;
  int windows = 0;
};

// Calls fn(frame) for every frame of the capture; fails the test if it cannot be read.
template <typename Fn>
void ForEachFrame(const std::string& path, Fn&& fn) {
  auto source = CaptureFile::Open(path);
  ASSERT_TRUE(source.ok()) << source.status();
  RawFrame frame;
  for (;;) {
    auto r = (*source)->Next(frame);
    ASSERT_TRUE(r.ok()) << r.status();
    if (*r == PacketSource::ReadResult::kEnd) break;
    fn(frame);
  }
}

struct EngineRun {
  RecordingSink sink;
  EngineStats stats;
  AnomalyCounters anomalies;
  FlowTableStats flow_stats;
  DeviceTableStats device_stats;
  absl::flat_hash_map<std::string_view, uint64_t> parser_anomalies;  // by name, as the sensor reports them
};

inline void RunEngine(const std::string& path, const EngineOptions& options, const OuiDatabase* oui, EngineRun& run) {
  Engine engine(options, oui, &run.sink);
  ForEachFrame(path, [&](const RawFrame& f) { engine.Process(f); });
  engine.Finish();
  run.stats = engine.stats();
  run.anomalies = engine.anomalies();
  run.flow_stats = engine.flows().stats();
  run.device_stats = engine.devices().stats();
  run.parser_anomalies = engine.devices().parser_anomalies();
}

}  // namespace auscult::sensor::testing

#endif  // AUSCULT_SENSOR_TESTING_H_
