// auscult-loadgen: plays N sensors streaming observation batches to a collector over gRPC, at a set
// rate or as fast as the collector acknowledges, and prints what the collector applied per second
// next to the database's own limit measured in the same run: a raw COPY of the same flow rows into
// an unindexed table. Not a test: it prints figures (docs/performance.md, "Ingest at hospital scale").
//
// Realistic batches: the observations are those the sensor's own engine reports for real captures
// (the workplace corpus when it is beside the clone, else the bundled captures), copied onto a
// synthetic population of devices: each simulated device takes a real device's facts (hostnames and
// other identifiers made unique, so the collector's identity rules do not merge the copies) and each
// flow a real flow's application, ports, counters and clinical content, between devices of its
// sensor, the servers of its site, or the real flow's outside or multicast address.
//
// Freshness: a flow's packets are "seen" when the simulated sensor generates it; the collector
// acknowledges a batch only after its transaction committed, so the time from a batch's oldest
// observation to its acknowledgment bounds "packet seen -> row visible" from above.
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "auscult/v1/ingest.grpc.pb.h"
#include "bench/pg.h"
#include "common/flags.h"
#include "common/time.h"
#include "grpcpp/grpcpp.h"
#include "sensor/capture/capture_file.h"
#include "sensor/engine.h"
#include "sensor/export/batch_exporter.h"
#include "sensor/export/batch_transport.h"
#include "sensor/parsers/registry.h"
#include "sensor/parsers/tcp_os/tcp_os.h"

ABSL_FLAG(std::string, collector, "127.0.0.1:7740",
          "Collector to stream to, HOST:PORT (plain text: run it --insecure)");
ABSL_FLAG(int32_t, sensors, 20, "Simulated sensors, each on its own stream");
ABSL_FLAG(int32_t, devices_per_sensor, 500, "Devices each simulated sensor sees");
ABSL_FLAG(int32_t, sites, 4, "Sites the sensors are spread over (sensor i is at site i mod sites)");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(60), "How long to stream");
ABSL_FLAG(double, rate, 0, "Flow observations per second over all sensors; 0: as fast as the collector acknowledges");
ABSL_FLAG(int32_t, batch_size, 1000, "Most observations (devices + flows) in a batch, as the sensor's --batch_size");
ABSL_FLAG(absl::Duration, report_interval, absl::Seconds(1),
          "A batch is sealed at most this long after its first observation (the sensor's --report_interval)");
ABSL_FLAG(int32_t, max_unacked, 2, "Batches each sensor may have unacknowledged");
ABSL_FLAG(double, update_fraction, 0.3, "Share of flow observations that report a flow seen before (long-lived flows)");
// (A new flow repeats one of its device's habits, a peer and service it used before, 97 % of the
// time: a device has at most 16. So the graph's edges grow far slower than the flows, as in a hospital.)
ABSL_FLAG(std::string, captures, "",
          "Folders of captures whose observations are the templates, comma-separated (default: the corpus "
          "../shared/captures beside the source tree and the clinical fixtures tests/data/captures/clinical; "
          "without the corpus, tests/data/captures)");
ABSL_FLAG(std::string, db, "",
          "PostgreSQL URI of the collector's database: the COPY baseline runs there first, and the applied "
          "rows are counted after the run");
ABSL_FLAG(int64_t, copy_rows, 500000, "Flow rows for the COPY baseline");
ABSL_FLAG(int32_t, collector_pid, 0, "The collector's process id: its resident memory is sampled during the run");
ABSL_FLAG(absl::Duration, rss_interval, absl::Seconds(10), "How often the collector's memory is sampled");
ABSL_FLAG(uint64_t, seed, 1, "Random seed (the same seed generates the same observations)");

namespace auscult::bench {
namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

[[noreturn]] void Fail(const std::string& why) {
  std::fprintf(stderr, "auscult-loadgen: %s\n", why.c_str());
  std::exit(1);
}

// ---- Templates: what the sensor's engine reports for real captures.

struct Templates {
  std::vector<v1::DeviceObservation> devices;  // those with at least one fact
  std::vector<v1::FlowObservation> flows;      // IPv4 only
  size_t ipv6_flows = 0;                       // left out
  size_t files = 0;
};

class CollectingTransport : public sensor::BatchTransport {
 public:
  explicit CollectingTransport(Templates* t) : t_(t) {}
  absl::Status Send(std::unique_ptr<v1::ObservationBatch> batch) override {
    for (auto& d : *batch->mutable_devices()) {
      if (d.facts_size() > 0 && !d.routes_traffic()) t_->devices.push_back(std::move(d));
    }
    for (auto& f : *batch->mutable_flows()) {
      // The simulated devices have IPv4 addresses; an IPv6 flow would need IPv6 ends throughout.
      if (f.initiator().ip().find(':') != std::string::npos || f.responder().ip().find(':') != std::string::npos) {
        ++t_->ipv6_flows;
        continue;
      }
      t_->flows.push_back(std::move(f));
    }
    return absl::OkStatus();
  }
  absl::Status Close(absl::Duration) override { return absl::OkStatus(); }
  sensor::TransportStats stats() const override { return {}; }

 private:
  Templates* t_;
};

Templates LoadTemplates(const std::vector<std::filesystem::path>& dirs) {
  Templates t;
  std::vector<std::filesystem::path> files;
  for (const auto& dir : dirs) {
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      const std::string name = it->path().string();
      // Damaged captures make no realistic load.
      if (name.find("/malformed/") != std::string::npos) continue;
      if (it->is_regular_file() && (name.ends_with(".pcap") || name.ends_with(".pcapng"))) files.push_back(it->path());
    }
    if (ec) Fail(absl::StrCat("cannot read ", dir.string(), ": ", ec.message()));
  }
  std::sort(files.begin(), files.end());
  static const OuiDatabase* oui = [] {
    auto db = OuiDatabase::Load("/usr/share/ieee-data");
    return db.ok() ? db->release() : nullptr;
  }();
  for (const auto& f : files) {
    auto source = sensor::CaptureFile::Open(f.string());
    if (!source.ok()) continue;  // not every file is a capture libpcap reads; the sensor would say so
    CollectingTransport transport(&t);
    sensor::BatchExporterOptions export_options;
    export_options.sensor.set_sensor_id("templates");
    sensor::BatchExporter exporter(export_options, &transport, nullptr);
    sensor::EngineOptions options;
    options.flows.parsers = sensor::Parsers();
    options.frame_parsers = sensor::FrameParsers();
    options.tcp_os = sensor::tcp_os::ShippedDatabase();
    sensor::Engine engine(options, oui, &exporter);
    sensor::RawFrame frame;
    for (;;) {
      auto r = (*source)->Next(frame);
      if (!r.ok() || *r == sensor::PacketSource::ReadResult::kEnd) break;
      engine.Process(frame);
    }
    engine.Finish();
    ++t.files;
  }
  if (t.devices.empty() || t.flows.empty()) Fail("no devices or IPv4 flows in the captures");
  return t;
}

void PrintMix(const Templates& t) {
  std::map<std::string, int> apps;
  int clinical = 0, phi = 0, messages = 0, facts = 0;
  for (const auto& f : t.flows) {
    ++apps[f.application().empty() ? "(unknown)" : f.application()];
    clinical += f.clinical();
    phi += f.phi_size() > 0;
    messages += f.messages_size() > 0;
  }
  for (const auto& d : t.devices) facts += d.facts_size();
  std::vector<std::pair<int, std::string>> top;
  for (const auto& [name, n] : apps) top.emplace_back(n, name);
  std::sort(top.rbegin(), top.rend());
  std::string top_text;
  for (size_t i = 0; i < top.size() && i < 8; ++i) {
    absl::StrAppend(&top_text, i ? ", " : "", top[i].second, " ",
                    static_cast<int>(100.0 * top[i].first / static_cast<double>(t.flows.size()) + 0.5), "%");
  }
  std::printf(
      "templates: %zu captures -> %zu devices with facts (%.1f facts each), %zu IPv4 flows (%zu IPv6 left out)\n",
      t.files, t.devices.size(), facts / static_cast<double>(t.devices.size()), t.flows.size(), t.ipv6_flows);
  std::printf("  flow mix: %s; clinical %.1f%%, with patient data %.1f%%, with clinical messages %.1f%%\n",
              top_text.c_str(), 100.0 * clinical / t.flows.size(), 100.0 * phi / t.flows.size(),
              100.0 * messages / t.flows.size());
}

// ---- The synthetic population.

bool IsPrivateOrLocal(const std::string& ip) {
  // Addresses that name a host of the hospital's networks (the rest: outside, multicast, broadcast).
  if (ip.rfind("10.", 0) == 0 || ip.rfind("192.168.", 0) == 0 || ip.rfind("169.254.", 0) == 0) return true;
  if (ip.rfind("172.", 0) == 0) {
    const int second = std::atoi(ip.c_str() + 4);
    return second >= 16 && second <= 31;
  }
  if (ip.rfind("fe80:", 0) == 0 || ip.rfind("fd", 0) == 0 || ip.rfind("fc", 0) == 0) return true;
  return false;
}

// Which real device simulated device number `global` copies: a fixed function of the number, so
// that every simulated sensor names another sensor's devices (servers) the same way.
size_t TemplateOf(uint64_t global, const Templates& t) { return (global * 2654435761u) % t.devices.size(); }

// The real device's vendor part (OUI) and the simulated device's number below it: unique while
// there are fewer than 16 million devices, and the vendor the copied facts name.
std::string MacOf(uint64_t global, const Templates& t) {
  std::string mac = t.devices[TemplateOf(global, t)].mac().substr(0, 9);
  if (mac.size() != 9) mac = "02:00:00:";
  char low[9];
  std::snprintf(low, sizeof low, "%02x:%02x:%02x", static_cast<unsigned>((global >> 16) & 0xff),
                static_cast<unsigned>((global >> 8) & 0xff), static_cast<unsigned>(global & 0xff));
  return mac + low;
}

std::string IpOf(uint64_t global) {
  const uint32_t n = static_cast<uint32_t>(global + 1);  // 10.0.0.1 onwards, 16 million addresses
  return absl::StrCat(10, ".", (n >> 16) & 0xff, ".", (n >> 8) & 0xff, ".", n & 0xff);
}

void SetNow(TimeNs t, google::protobuf::Timestamp* ts) {
  ts->set_seconds(t / kNanosPerSecond);
  ts->set_nanos(static_cast<int32_t>(t % kNanosPerSecond));
}

struct Config {
  int sensors, devices_per_sensor, sites, batch_size, max_unacked;
  double rate, update_fraction;
  absl::Duration duration, report_interval;
  uint64_t epoch, seed;
};

struct Totals {
  std::atomic<uint64_t> batches{0}, flows{0}, new_flows{0}, devices{0}, failed_streams{0};
  std::mutex mu;
  std::vector<double> freshness;  // seconds, oldest observation of a batch -> its acknowledgment
};

// One simulated sensor: generates its batches and streams them on one gRPC stream.
class SimSensor {
 public:
  SimSensor(int index, const Config& config, const Templates& templates)
      : index_(index), config_(config), t_(templates), rng_(config.seed * 1000003 + index) {
    id_ = absl::StrCat("loadgen-", index);
    site_ = absl::StrCat("site-", index % config.sites);
    first_global_ = static_cast<uint64_t>(index) * config.devices_per_sensor;
    last_reported_.assign(config.devices_per_sensor, INT64_MIN);
    habits_.resize(config.devices_per_sensor);
  }

  // A flow observation for the batch, at time `now`.
  void AddFlow(v1::ObservationBatch& b, TimeNs now) {
    v1::FlowObservation* f = b.add_flows();
    if (!recent_.empty() && Chance(config_.update_fraction)) {
      // A long-lived flow reported again: the same id and first packet, new counters.
      const Recent& r = recent_[Pick(recent_.size())];
      *f = t_.flows[r.template_index];
      f->set_flow_id(r.flow_id);
      SetNow(r.first_seen, f->mutable_first_seen());
      SetEnds(*f, r.initiator, r.responder, r.outside);
    } else {
      // A new flow repeats one of its initiator's habits (the same service of the same peer: a
      // pump and its server, a workstation and DNS), now and then something new, which becomes a
      // habit: devices on a clinical network do the same few things all day.
      const size_t n = Pick(config_.devices_per_sensor);
      std::vector<Habit>& habits = habits_[n];
      Habit h;
      if (!habits.empty() && Chance(0.97)) {
        h = habits[Pick(habits.size())];
      } else {
        h = NewHabit();
        if (habits.size() < 16) habits.push_back(h);
      }
      *f = t_.flows[h.template_index];
      Recent r{next_flow_id_++, now, h.template_index, first_global_ + n, h.responder, h.outside};
      f->set_flow_id(r.flow_id);
      SetNow(now, f->mutable_first_seen());
      SetEnds(*f, r.initiator, r.responder, r.outside);
      if (recent_.size() < 4096) {
        recent_.push_back(r);
      } else {
        recent_[Pick(recent_.size())] = r;
      }
      ++new_flows_;
    }
    SetNow(now, f->mutable_last_seen());
    MaybeAddDevice(b, Local(f->initiator().ip()), now);
    MaybeAddDevice(b, Local(f->responder().ip()), now);
  }

  uint64_t TakeNewFlows() { return std::exchange(new_flows_, 0); }

 private:
  struct Habit {
    size_t template_index = 0;
    uint64_t responder = 0;  // a global device number, unless outside is set
    std::string outside;     // the real flow's outside, multicast or broadcast address
  };
  Habit NewHabit() {
    Habit h;
    h.template_index = Pick(t_.flows.size());
    const std::string& real_responder = t_.flows[h.template_index].responder().ip();
    if (!real_responder.empty() && !IsPrivateOrLocal(real_responder)) {
      h.outside = real_responder;
    } else if (Chance(0.6)) {
      // Most go to the site's servers (the first 20 devices of the site's first sensor): hubs.
      h.responder = static_cast<uint64_t>(index_ % config_.sites) * config_.devices_per_sensor +
                    Pick(std::min(20, config_.devices_per_sensor));
    } else {
      h.responder = first_global_ + Pick(config_.devices_per_sensor);
    }
    return h;
  }

 public:
  const std::string& id() const { return id_; }
  const std::string& site() const { return site_; }
  int index() const { return index_; }

 private:
  struct Recent {
    uint64_t flow_id;
    TimeNs first_seen;
    size_t template_index;
    uint64_t initiator, responder;  // global device numbers
    std::string outside;            // the responder when outside the hospital
  };

  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  void SetEnds(v1::FlowObservation& f, uint64_t initiator, uint64_t responder, const std::string& outside) {
    f.mutable_initiator()->set_mac(MacOf(initiator, t_));
    f.mutable_initiator()->set_ip(IpOf(initiator));
    if (outside.empty()) {
      f.mutable_responder()->set_mac(MacOf(responder, t_));
      f.mutable_responder()->set_ip(IpOf(responder));
    } else {
      f.mutable_responder()->clear_mac();
      f.mutable_responder()->set_ip(outside);
    }
  }

  // The sensor's device number of one of its own addresses, or -1.
  int Local(const std::string& ip) const {
    const auto global = static_cast<int64_t>(IpToGlobal(ip));
    const int64_t n = global - static_cast<int64_t>(first_global_);
    return n >= 0 && n < config_.devices_per_sensor ? static_cast<int>(n) : -1;
  }
  static uint64_t IpToGlobal(const std::string& ip) {
    std::vector<std::string> parts = absl::StrSplit(ip, '.');
    if (parts.size() != 4 || parts[0] != "10") return UINT64_MAX >> 1;
    return ((static_cast<uint64_t>(std::atoi(parts[1].c_str())) << 16) |
            (static_cast<uint64_t>(std::atoi(parts[2].c_str())) << 8) | std::atoi(parts[3].c_str())) -
           1;
  }

  // A device is reported once per report window in which it is seen, as the sensor does; its facts
  // go with it the first time and then now and then (the protocols that tell them recur).
  void MaybeAddDevice(v1::ObservationBatch& b, int n, TimeNs now) {
    if (n < 0) return;
    const TimeNs window = absl::ToInt64Nanoseconds(config_.report_interval);
    if (last_reported_[n] != INT64_MIN && now - last_reported_[n] < window) return;
    const bool with_facts = last_reported_[n] == INT64_MIN || Chance(0.1);
    last_reported_[n] = now;
    const uint64_t global = first_global_ + n;
    const v1::DeviceObservation& real = t_.devices[TemplateOf(global, t_)];
    v1::DeviceObservation* d = b.add_devices();
    d->set_mac(MacOf(global, t_));
    for (uint32_t vlan : real.vlans()) d->add_vlans(vlan);
    SetNow(now, d->mutable_first_seen());
    SetNow(now, d->mutable_last_seen());
    d->set_packets_sent(real.packets_sent());
    d->set_bytes_sent(real.bytes_sent());
    v1::AddressObservation* a = d->add_addresses();
    a->set_ip(IpOf(global));
    a->set_source(v1::ADDRESS_SOURCE_TRAFFIC);
    a->set_locality(v1::LOCALITY_LOCAL);
    SetNow(now, a->mutable_first_seen());
    SetNow(now, a->mutable_last_seen());
    a->set_packets(1);
    if (!with_facts) return;
    for (const v1::DeviceFact& real_fact : real.facts()) {
      if (real_fact.attribute() == v1::ATTRIBUTE_MAC_RANDOMIZED) continue;
      v1::DeviceFact* fact = d->add_facts();
      *fact = real_fact;
      SetNow(now, fact->mutable_first_seen());
      SetNow(now, fact->mutable_last_seen());
      switch (real_fact.attribute()) {
        // What names one device: copies must not share it, or identity merges them into one.
        case v1::ATTRIBUTE_HOSTNAME:
        case v1::ATTRIBUTE_FQDN:
        case v1::ATTRIBUTE_SERIAL_NUMBER:
        case v1::ATTRIBUTE_DHCP_CLIENT_ID:
        case v1::ATTRIBUTE_EQUIPMENT_ID:
        case v1::ATTRIBUTE_DICOM_AE_TITLE:
        case v1::ATTRIBUTE_CHASSIS_ID:
          fact->set_value(absl::StrCat(real_fact.value(), "-", global));
          break;
        default:
          break;
      }
    }
  }

  const int index_;
  const Config& config_;
  const Templates& t_;
  std::mt19937_64 rng_;
  std::string id_, site_;
  uint64_t first_global_;
  uint64_t next_flow_id_ = 1;
  uint64_t new_flows_ = 0;
  std::vector<TimeNs> last_reported_;
  std::vector<Recent> recent_;
  std::vector<std::vector<Habit>> habits_;  // per device of this sensor
};

// Streams one simulated sensor until `deadline`: the writer generates and sends, a reader takes
// the acknowledgments (in order) and records freshness.
void RunSensor(SimSensor& sensor, const Config& config, const std::shared_ptr<grpc::Channel>& channel,
               Clock::time_point deadline, Totals& totals) {
  auto stub = v1::Ingest::NewStub(channel);
  grpc::ClientContext context;
  auto stream = stub->Stream(&context);
  struct InFlight {
    TimeNs oldest;
    uint64_t flows, new_flows, devices;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::deque<InFlight> in_flight;
  bool reader_done = false;
  std::thread reader([&] {
    v1::BatchAck ack;
    std::vector<double> fresh;
    while (stream->Read(&ack)) {
      const TimeNs now = WallClockNs();
      InFlight done;
      {
        std::lock_guard lock(mu);
        if (in_flight.empty()) break;
        done = in_flight.front();
        in_flight.pop_front();
      }
      cv.notify_all();
      fresh.push_back(static_cast<double>(now - done.oldest) / kNanosPerSecond);
      totals.batches.fetch_add(1);
      totals.flows.fetch_add(done.flows);
      totals.new_flows.fetch_add(done.new_flows);
      totals.devices.fetch_add(done.devices);
    }
    std::lock_guard lock(mu);
    reader_done = true;
    cv.notify_all();
    std::lock_guard tl(totals.mu);
    totals.freshness.insert(totals.freshness.end(), fresh.begin(), fresh.end());
  });

  const double per_sensor_rate = config.rate / config.sensors;
  const TimeNs window = absl::ToInt64Nanoseconds(config.report_interval);
  const TimeNs start = WallClockNs();
  double generated = 0;
  uint64_t sequence = 0;
  bool ok = true;
  while (ok && Clock::now() < deadline) {
    v1::ObservationBatch batch;
    batch.mutable_sensor()->set_sensor_id(sensor.id());
    batch.mutable_sensor()->set_site(sensor.site());
    batch.mutable_sensor()->set_wing(absl::StrCat("wing-", sensor.index()));
    batch.mutable_sensor()->set_version("loadgen");
    batch.mutable_sensor()->set_hostname("loadgen");
    batch.set_epoch(config.epoch);
    batch.set_sequence(++sequence);
    TimeNs oldest = 0;
    // Fill: as fast as possible, or paced at the sensor's share of --rate; sealed when full or
    // when the window since its first observation has passed.
    // A flow adds at most three observations (itself and its two ends' devices).
    while (batch.devices_size() + batch.flows_size() + 3 <= config.batch_size && Clock::now() < deadline) {
      const TimeNs now = WallClockNs();
      if (oldest != 0 && now - oldest >= window) break;
      if (per_sensor_rate > 0) {
        const double due = per_sensor_rate * static_cast<double>(now - start) / kNanosPerSecond;
        if (generated >= due) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          continue;
        }
      }
      if (oldest == 0) oldest = now;
      sensor.AddFlow(batch, now);
      generated += 1;
    }
    if (batch.flows_size() == 0) break;
    SetNow(WallClockNs(), batch.mutable_created());
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return reader_done || static_cast<int>(in_flight.size()) < config.max_unacked; });
      if (reader_done) break;
      in_flight.push_back({oldest, static_cast<uint64_t>(batch.flows_size()), sensor.TakeNewFlows(),
                           static_cast<uint64_t>(batch.devices_size())});
    }
    ok = stream->Write(batch);
  }
  stream->WritesDone();
  {
    // Wait for the last acknowledgments (the reader ends when the collector closes the stream).
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(60), [&] { return reader_done || in_flight.empty(); });
  }
  const grpc::Status status = stream->Finish();
  reader.join();
  if (!status.ok()) {
    totals.failed_streams.fetch_add(1);
    std::fprintf(stderr, "%s: stream ended: %s\n", sensor.id().c_str(), status.error_message().c_str());
  }
}

// ---- The database side: the COPY baseline and the count of what was applied.

std::string CopyTimestamp(TimeNs t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E6S+00", absl::FromUnixNanos(t), absl::UTCTimeZone());
}

// One flow as a line of COPY text, in the columns the collector fills (collector/store/batch_writer.cc).
void AppendCopyLine(const std::string& site, const std::string& sensor_id, uint64_t epoch,
                    const v1::FlowObservation& f, std::string& out) {
  auto mac = [](const std::string& m) { return m.empty() ? std::string("\\N") : m; };
  auto ts = [](const google::protobuf::Timestamp& t) {
    return CopyTimestamp(t.seconds() * kNanosPerSecond + t.nanos());
  };
  absl::StrAppend(&out, site, "\t", sensor_id, "\t", epoch, "\t", f.flow_id(), "\t", f.vlan(), "\t", f.inner_vlan(), "\t",
                  f.transport(), "\t", f.application(), "\t", mac(f.initiator().mac()), "\t", f.initiator().ip(), "\t",
                  f.initiator().port(), "\t", mac(f.responder().mac()), "\t", f.responder().ip(), "\t",
                  f.responder().port(), "\t");
  absl::StrAppend(&out, f.to_responder().packets(), "\t", f.to_responder().bytes(), "\t", f.to_initiator().packets(),
                  "\t", f.to_initiator().bytes(), "\t", ts(f.first_seen()), "\t", ts(f.last_seen()), "\t",
                  absl::AsciiStrToLower(v1::FlowState_Name(f.state()).substr(11)), "\t", f.tcp_flags_initiator(), "\t",
                  f.tcp_flags_responder(), "\t", f.clinical() ? "t" : "f", "\t", f.phi_size() > 0 ? "t" : "f", "\t",
                  f.encrypted() ? "t" : "f", "\t", f.cleartext_credentials() ? "t" : "f", "\n");
}

// Raw COPY of `rows` generated flow rows into an unindexed copy of the flows table: the rate at
// which this PostgreSQL takes flow rows at all, on one connection.
double CopyBaseline(const std::string& uri, const Config& config, const Templates& t, int64_t rows) {
  Pg pg(uri);
  pg.Exec("DROP TABLE IF EXISTS loadgen_copy_baseline");
  pg.Exec("CREATE TABLE loadgen_copy_baseline (LIKE flows INCLUDING DEFAULTS)");
  // The rows, made before the clock starts: only the database's work is timed.
  SimSensor sensor(0, config, t);
  std::vector<std::string> chunks;
  std::string chunk;
  int64_t made = 0;
  TimeNs now = WallClockNs();
  while (made < rows) {
    v1::ObservationBatch b;
    while (b.flows_size() < 1000 && made < rows) {
      sensor.AddFlow(b, now++);
      ++made;
    }
    for (const auto& f : b.flows()) AppendCopyLine(sensor.site(), "copy-baseline", config.epoch, f, chunk);
    chunks.push_back(std::move(chunk));
    chunk.clear();
  }
  const auto started = Clock::now();
  PGresult* r =
      PQexec(pg.get(),
             "COPY loadgen_copy_baseline (site, sensor_id, epoch, flow_id, vlan, inner_vlan, transport, application, "
             "src_mac, src_ip, src_port, dst_mac, dst_ip, dst_port, packets_to_dst, bytes_to_dst, "
             "packets_to_src, bytes_to_src, first_seen, last_seen, state, tcp_flags_src, tcp_flags_dst, "
             "clinical, phi, encrypted, cleartext_credentials) FROM STDIN");
  if (PQresultStatus(r) != PGRES_COPY_IN) Fail(absl::StrCat("COPY: ", PQerrorMessage(pg.get())));
  PQclear(r);
  for (const auto& c : chunks) {
    if (PQputCopyData(pg.get(), c.data(), static_cast<int>(c.size())) != 1) {
      Fail(absl::StrCat("COPY: ", PQerrorMessage(pg.get())));
    }
  }
  if (PQputCopyEnd(pg.get(), nullptr) != 1) Fail(absl::StrCat("COPY: ", PQerrorMessage(pg.get())));
  r = PQgetResult(pg.get());
  if (PQresultStatus(r) != PGRES_COMMAND_OK) Fail(absl::StrCat("COPY: ", PQresultErrorMessage(r)));
  PQclear(r);
  while ((r = PQgetResult(pg.get())) != nullptr) PQclear(r);
  const double seconds = Seconds(Clock::now() - started);
  const std::string counted = pg.Exec("SELECT count(*) FROM loadgen_copy_baseline");
  pg.Exec("DROP TABLE loadgen_copy_baseline");
  if (std::stoll(counted) != rows) Fail(absl::StrCat("COPY baseline: ", counted, " rows of ", rows));
  return static_cast<double>(rows) / seconds;
}

long RssKb(int pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

int Run() {
  Config config{absl::GetFlag(FLAGS_sensors),
                absl::GetFlag(FLAGS_devices_per_sensor),
                absl::GetFlag(FLAGS_sites),
                absl::GetFlag(FLAGS_batch_size),
                absl::GetFlag(FLAGS_max_unacked),
                absl::GetFlag(FLAGS_rate),
                absl::GetFlag(FLAGS_update_fraction),
                absl::GetFlag(FLAGS_duration),
                absl::GetFlag(FLAGS_report_interval),
                static_cast<uint64_t>(WallClockNs() / 1000),
                absl::GetFlag(FLAGS_seed)};
  if (config.sensors < 1 || config.sensors > 10000) Fail("--sensors must be 1-10000");
  if (config.devices_per_sensor < 1 || static_cast<int64_t>(config.devices_per_sensor) * config.sensors > 16000000) {
    Fail("--devices_per_sensor must be at least 1, and sensors x devices at most 16 million");
  }
  if (config.sites < 1 || config.sites > config.sensors) Fail("--sites must be 1 to --sensors");
  if (config.batch_size < 2 || config.batch_size > 100000) Fail("--batch_size must be 2-100000");
  if (config.max_unacked < 1 || config.max_unacked > 1024) Fail("--max_unacked must be 1-1024");
  if (config.rate < 0 || config.update_fraction < 0 || config.update_fraction > 1) {
    Fail("--rate must be >= 0 and --update_fraction 0-1");
  }
  if (config.duration <= absl::ZeroDuration() || config.report_interval <= absl::ZeroDuration()) {
    Fail("--duration and --report_interval must be positive");
  }

  std::vector<std::filesystem::path> captures;
  for (absl::string_view dir : absl::StrSplit(absl::GetFlag(FLAGS_captures), ',', absl::SkipEmpty())) {
    captures.emplace_back(std::string(dir));
  }
  if (captures.empty()) {
    const std::filesystem::path source = AUSCULT_SOURCE_DIR;
    if (std::filesystem::exists(source / "../shared/captures")) {
      captures = {source / "../shared/captures", source / "tests/data/captures/clinical"};
    } else {
      captures = {source / "tests/data/captures"};
    }
  }
  const Templates templates = LoadTemplates(captures);
  PrintMix(templates);

  const std::string db = absl::GetFlag(FLAGS_db);
  double copy_rate = 0;
  if (!db.empty() && absl::GetFlag(FLAGS_copy_rows) > 0) {
    copy_rate = CopyBaseline(db, config, templates, absl::GetFlag(FLAGS_copy_rows));
    std::printf("baseline: raw COPY of %lld flow rows into an unindexed table: %.0f rows/s\n",
                static_cast<long long>(absl::GetFlag(FLAGS_copy_rows)), copy_rate);
  }

  std::vector<std::unique_ptr<SimSensor>> sensors;
  for (int i = 0; i < config.sensors; ++i) sensors.push_back(std::make_unique<SimSensor>(i, config, templates));
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(64 << 20);
  // Each simulated sensor gets its own connection, as real sensors have.
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < config.sensors; ++i) {
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection of its own
    channels.push_back(
        grpc::CreateCustomChannel(absl::GetFlag(FLAGS_collector), grpc::InsecureChannelCredentials(), args));
  }

  Totals totals;
  const int pid = absl::GetFlag(FLAGS_collector_pid);
  std::vector<std::pair<double, long>> rss;
  const auto started = Clock::now();
  const auto deadline = started + absl::ToChronoNanoseconds(config.duration);
  std::atomic<bool> sampling{true};
  std::thread sampler([&] {
    const auto interval = absl::ToChronoNanoseconds(absl::GetFlag(FLAGS_rss_interval));
    uint64_t last_flows = 0;
    auto last = Clock::now();
    while (sampling.load()) {
      std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(interval, std::chrono::milliseconds(200)));
      if (Clock::now() - last < interval) continue;
      const auto now = Clock::now();
      const uint64_t flows = totals.flows.load();
      const double rate = static_cast<double>(flows - last_flows) / Seconds(now - last);
      long kb = pid > 0 ? RssKb(pid) : -1;
      if (pid > 0) rss.emplace_back(Seconds(now - started), kb);
      std::printf("  %6.0f s: %9.0f flow observations/s%s\n", Seconds(now - started), rate,
                  pid > 0 ? absl::StrCat(", collector RSS ", kb / 1024, " MiB").c_str() : "");
      std::fflush(stdout);
      last_flows = flows;
      last = now;
    }
  });
  std::vector<std::thread> threads;
  for (int i = 0; i < config.sensors; ++i) {
    threads.emplace_back([&, i] { RunSensor(*sensors[i], config, channels[i], deadline, totals); });
  }
  for (auto& t : threads) t.join();
  const double seconds = Seconds(Clock::now() - started);
  sampling = false;
  sampler.join();

  const double flow_rate = static_cast<double>(totals.flows.load()) / seconds;
  std::printf("\n%d sensors, %d devices, %s, %.1f s:\n", config.sensors, config.sensors * config.devices_per_sensor,
              config.rate > 0 ? absl::StrCat("paced at ", config.rate, " flow observations/s").c_str()
                              : "as fast as acknowledged",
              seconds);
  std::printf(
      "  applied: %llu batches, %llu flow observations (%llu new flows), %llu device observations\n",
      static_cast<unsigned long long>(totals.batches.load()), static_cast<unsigned long long>(totals.flows.load()),
      static_cast<unsigned long long>(totals.new_flows.load()), static_cast<unsigned long long>(totals.devices.load()));
  std::printf("  rate: %.0f flow observations/s, %.0f device observations/s, %.1f batches/s\n", flow_rate,
              static_cast<double>(totals.devices.load()) / seconds,
              static_cast<double>(totals.batches.load()) / seconds);
  if (copy_rate > 0) std::printf("  ratio to raw COPY: %.2f (goal >= 0.5)\n", flow_rate / copy_rate);
  {
    std::lock_guard lock(totals.mu);
    const double p50 = Percentile(totals.freshness, 0.5);
    const double p99 = Percentile(totals.freshness, 0.99);
    const double max = totals.freshness.empty() ? 0 : totals.freshness.back();  // sorted by Percentile
    std::printf(
        "  freshness, oldest observation of a batch -> committed and acknowledged: p50 %.2f s, p99 %.2f s, "
        "max %.2f s (goal < 2 s)\n",
        p50, p99, max);
  }
  if (!rss.empty()) {
    long lo = rss.front().second, hi = lo;
    for (const auto& [t, kb] : rss) lo = std::min(lo, kb), hi = std::max(hi, kb);
    // Growth over the second half of the run against the first: a leak shows as a steady climb.
    const size_t half = rss.size() / 2;
    std::printf(
        "  collector RSS: %zu samples, min %ld MiB, max %ld MiB, first %ld MiB, at half time %ld MiB, last %ld MiB\n",
        rss.size(), lo / 1024, hi / 1024, rss.front().second / 1024, rss[half].second / 1024, rss.back().second / 1024);
  }
  if (!db.empty()) {
    Pg pg(db);
    const std::string stored =
        pg.Exec(absl::StrCat("SELECT count(*) FROM flows WHERE sensor_id LIKE 'loadgen-%' AND epoch = ", config.epoch));
    const std::string batches = pg.Exec(absl::StrCat(
        "SELECT count(*) FROM ingested_batches WHERE sensor_id LIKE 'loadgen-%' AND epoch = ", config.epoch));
    const bool equal = std::stoull(stored) == totals.new_flows.load() && std::stoull(batches) == totals.batches.load();
    std::printf("  in PostgreSQL: %s flows, %s batches of this run: %s\n", stored.c_str(), batches.c_str(),
                equal ? "equal to what was acknowledged" : "DIFFERENT from what was acknowledged");
    if (!equal) return 1;
  }
  return totals.failed_streams.load() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace auscult::bench

int main(int argc, char** argv) {
  auscult::ParseFlags(
      argc, argv, "auscult-loadgen",
      "Simulated sensors streaming realistic observation batches to a collector, with the "
      "database's raw COPY rate as the baseline.\n\n"
      "  auscult-loadgen --collector=127.0.0.1:7740 --sensors=20 --duration=60s --db=postgresql://...\n\n"
      "The collector must run with --insecure (simulated sensors have no certificates). "
      "bench/run_ingest_bench.sh starts a private PostgreSQL and a collector and runs it.");
  try {
    return auscult::bench::Run();
  } catch (const std::exception& e) {  // the database side (bench/pg.h)
    auscult::bench::Fail(e.what());
  }
}
