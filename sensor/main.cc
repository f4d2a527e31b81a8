// auscult-sensor: watches one hospital network segment passively and streams what it sees (devices
// and flows) to an auscult-collector. Flags and wiring only; the work is in the libraries.
#include <net/if.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/cidr.h"
#include "common/flags.h"
#include "common/host_port.h"
#include "common/identifiers.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/oui_database.h"
#include "common/text.h"
#include "common/version.h"
#include "sensor/capture/bpf_filter.h"
#include "sensor/capture/capture_file.h"
#include "sensor/capture/live_capture.h"
#include "sensor/engine.h"
#include "sensor/export/batch_exporter.h"
#include "sensor/export/batch_transport.h"
#include "sensor/export/sensor_metrics.h"
#include "sensor/flow/clinical_services.h"
#include "sensor/parsers/registry.h"
#include "spdlog/spdlog.h"

ABSL_FLAG(std::vector<std::string>, pcap, {}, "Capture files to read (pcap or pcapng), comma-separated, in order");
ABSL_FLAG(std::vector<std::string>, interface, {},
          "Network interfaces to capture from live (SPAN or TAP ports), comma-separated");
ABSL_FLAG(std::string, bpf, "", "Capture filter in tcpdump syntax, e.g. \"not port 22\" (live: in the kernel)");
ABSL_FLAG(std::vector<std::string>, vlan, {},
          "Only these 802.1Q VLAN ids (outer tag), comma-separated; 0 means untagged frames");
ABSL_FLAG(std::vector<std::string>, local_networks, {},
          "The segment's own networks (CIDR), comma-separated: addresses outside them are behind a router");
ABSL_FLAG(absl::Duration, stats_interval, absl::Seconds(60), "Live capture: how often to log a line of capture health");
ABSL_FLAG(std::string, collector, "127.0.0.1:7740", "Collector address HOST:PORT for --output=grpc");
ABSL_FLAG(bool, insecure, false, "Send to the collector in plain text, unauthenticated (trusted networks only)");
ABSL_FLAG(std::string, tls_ca, "", "Mutual TLS: the site CA (PEM) the collector's certificate must be of");
ABSL_FLAG(std::string, tls_cert, "", "Mutual TLS: this sensor's certificate (PEM, common name sensor:<--sensor_id>)");
ABSL_FLAG(std::string, tls_key, "", "Mutual TLS: its private key (PEM)");
ABSL_FLAG(std::string, sensor_id, "", "Unique id of this sensor, e.g. north-wing-1 (letters, digits, . _ -)");
ABSL_FLAG(std::string, site, "", "Hospital or campus this sensor is in");
ABSL_FLAG(std::string, wing, "", "Wing, floor or VLAN group this sensor watches");
ABSL_FLAG(std::string, output, "grpc",
          "Where observations go: grpc (the collector), jsonl (JSON lines on stdout), null (discard)");
ABSL_FLAG(std::string, oui_dir, "/usr/share/ieee-data", "Folder of IEEE OUI CSV files (Debian package ieee-data)");
ABSL_FLAG(std::string, tcp_fingerprints, "",
          "TCP SYN/SYN-ACK fingerprint file mapping signatures to OS families (default: the one shipped, "
          "share/auscult/tcp_os_fingerprints.txt beside the binary or in the source tree)");
ABSL_FLAG(std::string, clinical_services, "",
          "Ports of clinical services and device protocols that name and tag flows (default: the one shipped, "
          "share/auscult/clinical_services.txt beside the binary or in the source tree)");
ABSL_FLAG(absl::Duration, report_interval, absl::Seconds(10), "Length of a report window (devices, live flows)");
ABSL_FLAG(absl::Duration, flow_idle_timeout, absl::Seconds(60), "A flow without packets this long has ended");
ABSL_FLAG(absl::Duration, flow_active_timeout, absl::Seconds(60), "How often a long-lived flow is reported");
ABSL_FLAG(int64_t, max_flows, 1000000, "Most flows tracked at once; the least recently seen is evicted beyond it");
ABSL_FLAG(int64_t, max_memory_mb, 256,
          "Memory for flows and stream reassembly; the least recently seen flows are evicted to stay below it");
ABSL_FLAG(int64_t, max_devices, 100000, "Most MAC addresses tracked at once");
ABSL_FLAG(int64_t, batch_size, 1000, "Most observations (devices + flows) in one batch");
ABSL_FLAG(int64_t, max_unacked_batches, 64,
          "Batches sent but not yet acknowledged, kept in memory for resending; beyond it the sensor waits");
ABSL_FLAG(std::string, spool_dir, "",
          "Folder where each batch is stored before it is sent, until the collector acknowledges it; batches "
          "left by a run that was killed or cut off are sent at the next start (empty: memory only)");
ABSL_FLAG(int64_t, spool_max_mb, 1024,
          "Most disk the spool may use; when full, a live sensor drops the oldest unsent batches (counted as "
          "spool_batches_dropped) and a file replay waits for the collector");
ABSL_FLAG(absl::Duration, connect_timeout, absl::Seconds(10), "How long to wait for the collector at start");
ABSL_FLAG(absl::Duration, ack_timeout, absl::Seconds(120),
          "File mode: how long to wait for the collector to acknowledge every batch before giving up");
ABSL_FLAG(int32_t, snaplen, 65535, "Live capture: bytes kept of each frame");
ABSL_FLAG(int32_t, buffer_mb, 64, "Live capture: kernel buffer size in MiB");
ABSL_FLAG(std::string, progress, "auto", "Progress on stderr while reading files: auto (after 2 s), always, never");
ABSL_FLAG(std::string, log_format, "text",
          "Log lines as text (time, level, program, message) or json (one object a line, for log shippers)");
ABSL_FLAG(std::string, log_level, "info", "Log level: trace, debug, info, warn, error, critical, off");
ABSL_FLAG(bool, check_config, false,
          "Check the flags and the files they name (TLS, data files, capture files, interfaces, BPF filter), "
          "print what is wrong or 'configuration OK', and exit (2 or 0) without capturing or connecting");
ABSL_FLAG(std::string, metrics_listen, "",
          "Serve Prometheus metrics (GET /metrics) and GET /healthz on HOST:PORT, e.g. 0.0.0.0:9750; empty: off");

namespace auscult::sensor {
namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

absl::Status ValidateFlags() {
  const bool files = !absl::GetFlag(FLAGS_pcap).empty();
  const bool live = !absl::GetFlag(FLAGS_interface).empty();
  for (const std::string& v : absl::GetFlag(FLAGS_vlan)) {
    int id = -1;
    if (!absl::SimpleAtoi(v, &id) || id < 0 || id > 4095) {
      return absl::InvalidArgumentError(absl::StrCat("--vlan: '", v, "' is not a VLAN id (0-4095)"));
    }
  }
  for (const std::string& n : absl::GetFlag(FLAGS_local_networks)) {
    if (!Cidr::Parse(n))
      return absl::InvalidArgumentError(absl::StrCat("--local_networks: '", n, "' is not a CIDR network"));
  }
  if (const std::string m = absl::GetFlag(FLAGS_metrics_listen); !m.empty()) {
    const absl::StatusOr<HostPort> hp = ParseHostPort(m, "metrics_listen");
    if (!hp.ok()) return hp.status();
    if (m.rfind("unix:", 0) == 0)
      return absl::InvalidArgumentError("--metrics_listen: a TCP HOST:PORT, not a unix socket");
  }
  const std::string output = absl::GetFlag(FLAGS_output);
  const bool spool = !absl::GetFlag(FLAGS_spool_dir).empty();
  // Neither input: only with a spool, to deliver what an earlier run left there.
  if (files && live) return absl::InvalidArgumentError("give exactly one of --pcap=FILE[,FILE...] or --interface=IF");
  if (!files && !live && !spool) {
    return absl::InvalidArgumentError(
        "give one of --pcap=FILE[,FILE...] or --interface=IF (or only --spool_dir, to deliver what it holds)");
  }
  if (spool && output != "grpc") return absl::InvalidArgumentError("--spool_dir: only with --output=grpc");
  if (output != "grpc" && output != "jsonl" && output != "null") {
    return absl::InvalidArgumentError(absl::StrCat("--output='", output, "': must be grpc, jsonl or null"));
  }
  const std::string id = absl::GetFlag(FLAGS_sensor_id);
  if (output == "grpc" && id.empty()) return absl::InvalidArgumentError("--sensor_id is required with --output=grpc");
  if (!id.empty() && !IsValidSensorId(id)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--sensor_id='", id, "': use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"));
  }
  for (const auto& [name, value] :
       {std::pair{"site", absl::GetFlag(FLAGS_site)}, {"wing", absl::GetFlag(FLAGS_wing)}}) {
    if (value.size() > kMaxSiteLength) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, ": at most ", kMaxSiteLength, " bytes"));
    }
    if (Printable(value, kMaxSiteLength) != value) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, ": must be printable UTF-8 text"));
    }
  }
  auto positive = [](const char* name, absl::Duration d) -> absl::Status {
    if (d <= absl::ZeroDuration() || d == absl::InfiniteDuration()) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, ": must be a positive, finite duration like 30s"));
    }
    return absl::OkStatus();
  };
  for (const auto& [name, d] : {std::pair{"report_interval", absl::GetFlag(FLAGS_report_interval)},
                                {"flow_idle_timeout", absl::GetFlag(FLAGS_flow_idle_timeout)},
                                {"flow_active_timeout", absl::GetFlag(FLAGS_flow_active_timeout)},
                                {"connect_timeout", absl::GetFlag(FLAGS_connect_timeout)},
                                {"stats_interval", absl::GetFlag(FLAGS_stats_interval)},
                                {"ack_timeout", absl::GetFlag(FLAGS_ack_timeout)}}) {
    if (auto s = positive(name, d); !s.ok()) return s;
  }
  for (const auto& [name, v, lo, hi] :
       {std::tuple{"max_flows", absl::GetFlag(FLAGS_max_flows), int64_t{1}, int64_t{100'000'000}},
        {"max_devices", absl::GetFlag(FLAGS_max_devices), 1, 10'000'000},
        {"max_memory_mb", absl::GetFlag(FLAGS_max_memory_mb), 16, 1'000'000},
        {"batch_size", absl::GetFlag(FLAGS_batch_size), 1, 100'000},
        {"max_unacked_batches", absl::GetFlag(FLAGS_max_unacked_batches), 1, 100'000},
        {"spool_max_mb", absl::GetFlag(FLAGS_spool_max_mb), 1, 100'000'000},
        {"snaplen", absl::GetFlag(FLAGS_snaplen), 64, 262144},
        {"buffer_mb", absl::GetFlag(FLAGS_buffer_mb), 1, 2047}}) {
    if (v < lo || v > hi)
      return absl::InvalidArgumentError(absl::StrCat("--", name, "=", v, ": must be from ", lo, " to ", hi));
  }
  const std::string progress = absl::GetFlag(FLAGS_progress);
  if (progress != "auto" && progress != "always" && progress != "never") {
    return absl::InvalidArgumentError(absl::StrCat("--progress='", progress, "': must be auto, always or never"));
  }
  if (output == "grpc") {
    if (auto hp = ParseHostPort(absl::GetFlag(FLAGS_collector), "collector"); !hp.ok()) return hp.status();
  }
  return absl::OkStatus();
}

TimeNs ToNs(absl::Duration d) { return absl::ToInt64Nanoseconds(d); }

// Prints how far through the capture files the sensor is: with "auto", from two seconds into a run
// and then every two seconds; with "always", at every check (each 4096 packets) and file end.
class Progress {
 public:
  Progress(std::string mode, uint64_t total_bytes) : mode_(std::move(mode)), total_(total_bytes), tty_(isatty(2)) {
    start_ = last_ = absl::Now();
  }
  void Update(const PacketSource& source, uint64_t done_before, uint64_t packets, bool file_end = false) {
    if (mode_ == "never") return;
    const absl::Time now = absl::Now();
    if (mode_ == "auto" && (file_end || now - start_ < absl::Seconds(2) || now - last_ < absl::Seconds(2))) return;
    last_ = now;
    const uint64_t done = file_end ? done_before + source.file_size() : done_before + source.bytes_read();
    std::fprintf(stderr, "%sauscult-sensor: %s: %.0f%% of %.1f MB read, %llu packets%s", tty_ ? "\r" : "",
                 source.name().c_str(), total_ ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 0.0,
                 static_cast<double>(total_) / 1e6, static_cast<unsigned long long>(packets), tty_ ? "   " : "\n");
    shown_ = true;
  }
  void Done() {
    if (shown_ && tty_) std::fputc('\n', stderr);
  }

 private:
  std::string mode_;
  uint64_t total_;
  bool tty_;
  bool shown_ = false;
  absl::Time start_, last_;
};

// Live capture: a line of capture health every --stats_interval, so that a sensor left alone on a
// SPAN port can be checked from its journal (the same counters reach the collector with each batch).
class StatsLine {
 public:
  explicit StatsLine(absl::Duration interval) : interval_(interval), last_(absl::Now()) {}
  void Maybe(const Engine& engine, const PacketSource& source, const TransportStats& transport) {
    const absl::Time now = absl::Now();
    if (now - last_ < interval_) return;
    const EngineStats& e = engine.stats();
    const double seconds = absl::ToDoubleSeconds(now - last_);
    const CaptureDrops drops = source.Drops();
    spdlog::info(
        "stats: {} packets ({:.0f}/s), dropped {} by the kernel and {} by the interface, {} malformed, "
        "{} flows active ({} evicted), {} devices, {} batches sent, {} acknowledged",
        e.packets, static_cast<double>(e.packets - last_packets_) / seconds, drops.kernel, drops.interface, e.malformed,
        engine.flows().stats().flows_active, engine.flows().stats().flows_evicted, engine.devices().size(),
        transport.batches_sent, transport.batches_acknowledged);
    last_ = now;
    last_packets_ = e.packets;
  }

 private:
  absl::Duration interval_;
  absl::Time last_;
  uint64_t last_packets_ = 0;
};

int Run() {
  const std::string output = absl::GetFlag(FLAGS_output);
  const bool file_mode = !absl::GetFlag(FLAGS_pcap).empty();
  const bool deliver_only = !file_mode && absl::GetFlag(FLAGS_interface).empty();  // only the spool's batches

  // Check every input before anything else, so a wrong path fails at once and not after an hour.
  // Files are then opened one at a time (a rotated capture may be thousands of files).
  std::vector<std::string> files;
  std::unique_ptr<LiveCapture> live;
  uint64_t total_bytes = 0;
  if (file_mode) {
    for (const std::string& path : absl::GetFlag(FLAGS_pcap)) {
      if (path.empty()) continue;
      // A pipe or FIFO (tcpdump -w - | auscult-sensor --pcap=/dev/stdin) is only looked at here:
      // opening it would take the first bytes its writer sends.
      struct stat st;
      if (stat(path.c_str(), &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) {
        files.push_back(path);
        continue;
      }
      auto file = CaptureFile::Open(path);
      if (!file.ok()) {
        spdlog::error("{}", file.status().message());
        return 1;
      }
      total_bytes += (*file)->file_size();
      files.push_back(path);
    }
    if (files.empty()) {
      spdlog::error("--pcap: no capture files given");
      return 1;
    }
  } else if (!deliver_only && absl::GetFlag(FLAGS_check_config)) {
    // Opening needs the capture capabilities, which a check run (as any user) may not have.
    for (const std::string& name : absl::GetFlag(FLAGS_interface)) {
      if (if_nametoindex(name.c_str()) == 0) {
        spdlog::error("--interface: no interface named '{}' on this host", Printable(name, 64));
        return 2;
      }
    }
  } else if (!deliver_only) {
    LiveCaptureOptions options;
    options.snap_length = absl::GetFlag(FLAGS_snaplen);
    options.buffer_size_mb = absl::GetFlag(FLAGS_buffer_mb);
    options.bpf = absl::GetFlag(FLAGS_bpf);
    auto capture = LiveCapture::Open(absl::GetFlag(FLAGS_interface), options);
    if (!capture.ok()) {
      spdlog::error("{}", capture.status().message());
      return 1;
    }
    live = *std::move(capture);
  }
  std::unique_ptr<BpfFilter> file_filter;
  if ((file_mode || absl::GetFlag(FLAGS_check_config)) && !absl::GetFlag(FLAGS_bpf).empty()) {
    auto filter = BpfFilter::Create(absl::GetFlag(FLAGS_bpf));
    if (!filter.ok()) {
      spdlog::error("{}", filter.status().message());
      return 2;
    }
    file_filter = *std::move(filter);
  }

  std::unique_ptr<OuiDatabase> oui;
  if (auto db = OuiDatabase::Load(absl::GetFlag(FLAGS_oui_dir)); db.ok()) {
    oui = *std::move(db);
  } else {
    spdlog::warn("{}; devices will have no vendor from their MAC", db.status().message());
  }

  // An explicitly named fingerprint file must load; the default one may be missing (a binary copied
  // without its data), which only costs the OS-family hints.
  std::unique_ptr<tcp_os::Database> tcp_fingerprints;
  {
    const std::string configured = absl::GetFlag(FLAGS_tcp_fingerprints);
    const std::string path = configured.empty() ? tcp_os::DefaultDatabasePath() : configured;
    auto db = path.empty() ? absl::StatusOr<std::unique_ptr<tcp_os::Database>>(
                                 absl::NotFoundError("no tcp_os_fingerprints.txt found beside the binary"))
                           : tcp_os::Database::Load(path);
    if (db.ok()) {
      tcp_fingerprints = *std::move(db);
      spdlog::debug("{} TCP fingerprints from {}", tcp_fingerprints->size(), path);
    } else if (!configured.empty() || !absl::IsNotFound(db.status())) {
      // A file that is there but wrong is an operator's edit gone bad: say so rather than run blind.
      spdlog::error("--tcp_fingerprints: {}", db.status().message());
      return 2;
    } else {
      spdlog::warn("{}; devices will have TCP signatures but no OS family from them", db.status().message());
    }
  }

  // The same for the clinical services file: without it, flows are named by the built-in port
  // table only and no port tags a flow clinical.
  std::unique_ptr<ClinicalServices> clinical_services;
  {
    const std::string configured = absl::GetFlag(FLAGS_clinical_services);
    const std::string path = configured.empty() ? DefaultClinicalServicesPath() : configured;
    auto table = path.empty() ? absl::StatusOr<std::unique_ptr<ClinicalServices>>(
                                    absl::NotFoundError("no clinical_services.txt found beside the binary"))
                              : ClinicalServices::Load(path);
    if (table.ok()) {
      clinical_services = *std::move(table);
      spdlog::debug("{} clinical service ports from {}", clinical_services->services().size(), path);
    } else if (!configured.empty() || !absl::IsNotFound(table.status())) {
      spdlog::error("--clinical_services: {}", table.status().message());
      return 2;
    } else {
      spdlog::warn("{}; no flow will be tagged clinical by its port", table.status().message());
    }
  }

  if (absl::GetFlag(FLAGS_check_config)) {
    if (!absl::GetFlag(FLAGS_tls_ca).empty() || !absl::GetFlag(FLAGS_tls_cert).empty() ||
        !absl::GetFlag(FLAGS_tls_key).empty()) {
      if (auto tls =
              ReadTlsFiles(absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key));
          !tls.ok()) {
        spdlog::error("{}", tls.status().message());
        return 2;
      }
    } else if (output == "grpc" && !absl::GetFlag(FLAGS_insecure)) {
      spdlog::error("--output=grpc: give --tls_ca, --tls_cert and --tls_key, or --insecure for plain text");
      return 2;
    }
    if (const std::string dir = absl::GetFlag(FLAGS_spool_dir); !dir.empty()) {
      // The folder may not exist yet (the sensor makes it), but where it goes must.
      const std::string parent = dir.find('/') == std::string::npos ? "." : dir.substr(0, dir.find_last_of('/') + 1);
      struct stat st;
      if (stat(dir.c_str(), &st) != 0 && stat(parent.c_str(), &st) != 0) {
        spdlog::error("--spool_dir: neither {} nor the folder it would be made in exists", dir);
        return 2;
      }
    }
    std::fprintf(stdout, "auscult-sensor: configuration OK\n");
    return 0;
  }

  std::unique_ptr<Spool> spool;
  if (const std::string dir = absl::GetFlag(FLAGS_spool_dir); !dir.empty()) {
    auto opened = Spool::Open(dir);
    if (!opened.ok()) {
      spdlog::error("{}", opened.status().message());
      return 2;
    }
    spool = *std::move(opened);
    // Batches of another sensor id would be refused (or, without TLS, filed under the wrong sensor).
    if (!spool->recovered().empty()) {
      auto first = spool->Read(spool->recovered().front());
      if (first.ok() && (*first)->sensor().sensor_id() != absl::GetFlag(FLAGS_sensor_id)) {
        spdlog::error("--spool_dir: {} holds batches of sensor '{}', not of --sensor_id={}; deliver them with that id "
                      "or give another folder",
                      dir, Printable((*first)->sensor().sensor_id(), 64), absl::GetFlag(FLAGS_sensor_id));
        return 2;
      }
    }
  } else if (output == "grpc" && !file_mode) {
    spdlog::warn("no --spool_dir: batches the collector has not acknowledged are lost if this sensor stops");
  }

  // Up before the collector is reached, so that a sensor waiting for it can be seen waiting.
  const absl::Time process_started = absl::Now();
  v1::SensorInfo metrics_info;
  metrics_info.set_sensor_id(absl::GetFlag(FLAGS_sensor_id));
  metrics_info.set_site(absl::GetFlag(FLAGS_site));
  metrics_info.set_wing(absl::GetFlag(FLAGS_wing));
  metrics_info.set_version(kVersion);
  MetricsPage metrics_page;
  std::unique_ptr<MetricsServer> metrics_server;
  if (const std::string listen = absl::GetFlag(FLAGS_metrics_listen); !listen.empty()) {
    SensorMetricsInput first;
    first.info = metrics_info;
    first.live = !file_mode;
    first.spool = spool != nullptr;
    first.start_time_seconds = first.now_seconds = absl::ToDoubleSeconds(process_started - absl::UnixEpoch());
    metrics_page.Set(RenderSensorMetrics(first));
    auto server = MetricsServer::Start(listen, "metrics_listen", [&metrics_page] { return metrics_page.Get(); });
    if (!server.ok()) {
      spdlog::error("{}", server.status().message());
      return 2;
    }
    metrics_server = *std::move(server);
    spdlog::info("metrics on http://{}/metrics",
                 listen.substr(0, listen.rfind(':') + 1) + std::to_string(metrics_server->port()));
  }

  std::unique_ptr<BatchTransport> transport;
  if (output == "jsonl") {
    transport = MakeJsonLinesTransport();
  } else if (output == "null") {
    transport = MakeNullTransport();
  } else {
    GrpcTransportOptions options;
    options.target = ParseHostPort(absl::GetFlag(FLAGS_collector), "collector")->ToString();
    options.insecure = absl::GetFlag(FLAGS_insecure);
    if (!absl::GetFlag(FLAGS_tls_ca).empty() || !absl::GetFlag(FLAGS_tls_cert).empty() ||
        !absl::GetFlag(FLAGS_tls_key).empty()) {
      auto tls_files =
          ReadTlsFiles(absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key));
      if (!tls_files.ok()) {
        spdlog::error("{}", tls_files.status().message());
        return 2;
      }
      options.tls = *std::move(tls_files);
    }
    options.connect_timeout = absl::GetFlag(FLAGS_connect_timeout);
    if (file_mode) options.send_timeout = absl::GetFlag(FLAGS_ack_timeout);
    options.stop_requested = &g_stop;
    options.max_unacknowledged = static_cast<size_t>(absl::GetFlag(FLAGS_max_unacked_batches));
    options.spool = spool.get();
    options.spool_max_bytes = static_cast<uint64_t>(absl::GetFlag(FLAGS_spool_max_mb)) << 20;
    options.drop_when_spool_full = !file_mode;
    auto t = MakeGrpcTransport(options);
    if (!t.ok()) {
      spdlog::error("{}", t.status().message());
      return 1;
    }
    transport = *std::move(t);
  }

  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  signal(SIGPIPE, SIG_IGN);

  if (deliver_only) {
    const absl::Time started = absl::Now();
    const auto closed = transport->Close(absl::GetFlag(FLAGS_ack_timeout));
    if (!closed.ok()) spdlog::error("{}", closed.message());
    const TransportStats ts = transport->stats();
    std::fprintf(stderr, "auscult-sensor: spool %s: %llu batches found, %llu acknowledged, %llu dropped in %.2f s\n",
                 spool->dir().c_str(), static_cast<unsigned long long>(ts.spool_recovered),
                 static_cast<unsigned long long>(ts.batches_acknowledged),
                 static_cast<unsigned long long>(ts.spool_dropped + ts.batches_rejected),
                 absl::ToDoubleSeconds(absl::Now() - started));
    return closed.ok() && ts.batches_rejected == 0 && ts.spool_dropped == 0 ? 0 : 1;
  }

  BatchExporterOptions export_options;
  export_options.sensor.set_sensor_id(absl::GetFlag(FLAGS_sensor_id));
  export_options.sensor.set_site(absl::GetFlag(FLAGS_site));
  export_options.sensor.set_wing(absl::GetFlag(FLAGS_wing));
  export_options.sensor.set_version(kVersion);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  export_options.sensor.set_hostname(ToValidUtf8(host));
  // File names need not be UTF-8, and a rotated capture may be hundreds of files: name what fits.
  const std::vector<std::string> source_names = file_mode ? files : absl::GetFlag(FLAGS_interface);
  const size_t max_sources = static_cast<size_t>(kMaxSensorSources);
  for (size_t i = 0; i < source_names.size(); ++i) {
    if (i + 1 == max_sources && source_names.size() > max_sources) {
      export_options.sensor.add_sources(absl::StrCat("... and ", source_names.size() - i, " more"));
      break;
    }
    export_options.sensor.add_sources(ToValidUtf8(source_names[i].substr(0, kMaxSourceLength)));
  }
  export_options.epoch = static_cast<uint64_t>(WallClockNs());
  export_options.max_observations = static_cast<size_t>(absl::GetFlag(FLAGS_batch_size));
  export_options.send_empty_batches = !file_mode;

  EngineOptions engine_options;
  engine_options.report_interval = ToNs(absl::GetFlag(FLAGS_report_interval));
  engine_options.flows.idle_timeout = ToNs(absl::GetFlag(FLAGS_flow_idle_timeout));
  engine_options.flows.active_timeout = ToNs(absl::GetFlag(FLAGS_flow_active_timeout));
  engine_options.flows.max_flows = static_cast<size_t>(absl::GetFlag(FLAGS_max_flows));
  engine_options.flows.max_memory_mb = static_cast<size_t>(absl::GetFlag(FLAGS_max_memory_mb));
  engine_options.flows.parsers = Parsers();
  engine_options.flows.clinical_services = clinical_services.get();
  engine_options.frame_parsers = FrameParsers();
  engine_options.tcp_os = tcp_fingerprints.get();
  engine_options.devices.max_devices = static_cast<size_t>(absl::GetFlag(FLAGS_max_devices));
  for (const std::string& v : absl::GetFlag(FLAGS_vlan)) engine_options.vlans.push_back(std::stoi(v));
  for (const std::string& n : absl::GetFlag(FLAGS_local_networks)) {
    engine_options.devices.local_networks.push_back(*Cidr::Parse(n));
  }

  const Engine* engine_view = nullptr;
  const LiveCapture* live_source = live.get();
  uint64_t read_errors = 0;
  uint64_t filtered = 0;
  auto fill_stats = [&](v1::SensorStats& s) {
    const EngineStats& e = engine_view->stats();
    s.set_packets_received(e.packets);
    s.set_bytes_received(e.bytes);
    s.set_packets_malformed(e.malformed);
    s.set_flows_active(engine_view->flows().stats().flows_active);
    s.set_flows_evicted(engine_view->flows().stats().flows_evicted);
    if (live_source != nullptr) {
      const CaptureDrops drops = live_source->Drops();
      s.set_packets_dropped_kernel(drops.kernel);
      s.set_packets_dropped_interface(drops.interface);
    }
    auto* anomalies = s.mutable_anomalies();
    engine_view->anomalies().ForEachNonZero(
        [&](std::string_view name, uint64_t n) { (*anomalies)[std::string(name)] = n; });
    if (read_errors > 0) (*anomalies)["capture_read_error"] = read_errors;
    for (const auto& [name, n] : engine_view->devices().parser_anomalies()) (*anomalies)[std::string(name)] = n;
    if (const uint64_t untracked = engine_view->devices().stats().devices_not_tracked) {
      (*anomalies)["device_table_full"] = untracked;  // frames from new MACs beyond --max_devices
    }
    // Facts beyond a device's per-window limit: a device that says too much is noted, not obeyed.
    if (const uint64_t n = engine_view->devices().stats().facts_dropped) (*anomalies)["facts_dropped"] = n;
    // Names resolved for addresses that no device here holds (internet servers): expected, counted.
    if (const uint64_t n = engine_view->devices().stats().address_facts_unplaced) {
      (*anomalies)["address_facts_unplaced"] = n;
    }
    if (filtered + e.filtered > 0) (*anomalies)["filtered_out"] = filtered + e.filtered;
    // Batches this run's spool gave up (full, or a damaged file): the collector shows the loss.
    if (spool != nullptr) {
      if (const uint64_t n = transport->stats().spool_dropped) (*anomalies)["spool_batches_dropped"] = n;
    }
  };
  BatchExporter exporter(export_options, transport.get(), fill_stats);
  Engine engine(engine_options, oui.get(), &exporter);
  engine_view = &engine;

  // The metrics page, rendered on this thread from its own counters (sensor/export/sensor_metrics.h).
  uint64_t inputs_done = 0;
  absl::Time last_publish = absl::InfinitePast();
  auto publish = [&] {
    if (metrics_server == nullptr) return;
    SensorMetricsInput in;
    in.info = export_options.sensor;
    fill_stats(in.stats);
    in.transport = transport->stats();
    in.live = !file_mode;
    in.spool = spool != nullptr;
    in.flows_created = engine.flows().stats().flows_created;
    in.devices_tracked = engine.devices().size();
    in.devices_seen = engine.devices().stats().devices_seen;
    in.inputs_done = inputs_done;
    last_publish = absl::Now();
    in.start_time_seconds = absl::ToDoubleSeconds(process_started - absl::UnixEpoch());
    in.now_seconds = absl::ToDoubleSeconds(last_publish - absl::UnixEpoch());
    metrics_page.Set(RenderSensorMetrics(in));
  };
  auto maybe_publish = [&] {
    if (metrics_server != nullptr && absl::Now() - last_publish >= absl::Seconds(1)) publish();
  };
  publish();

  const absl::Time started = absl::Now();
  Progress progress(absl::GetFlag(FLAGS_progress), total_bytes);
  StatsLine stats_line(absl::GetFlag(FLAGS_stats_interval));
  uint64_t bytes_before = 0;
  RawFrame frame;
  // Reads one source to its end (files) or until asked to stop (live).
  auto drain = [&](PacketSource& source) {
    uint64_t n = 0;
    while (!g_stop && exporter.status().ok()) {
      auto r = source.Next(frame);
      if (!r.ok()) {
        // A file cut off mid-record: what came before it is sound, counted and still sent; the
        // exit status will say that the input was not read to its end (as tcpdump's does).
        ++read_errors;
        spdlog::error("{}; continuing with the next input", r.status().message());
        return;
      }
      if (*r == PacketSource::ReadResult::kEnd) return;
      if (*r == PacketSource::ReadResult::kTimeout) {
        engine.Tick(WallClockNs());
        maybe_publish();
      } else if (file_filter != nullptr && !file_filter->Matches(frame)) {
        ++filtered;
      } else {
        engine.Process(frame);
      }
      if ((++n & 0xff) == 0) {
        maybe_publish();
        if ((n & 0xfff) == 0 && source.is_file()) progress.Update(source, bytes_before, engine.stats().packets);
      }
      if (!source.is_file()) stats_line.Maybe(engine, source, transport->stats());
    }
  };
  if (live != nullptr) {
    spdlog::info("capturing on {}", live->name());
    drain(*live);
  }
  for (const std::string& path : files) {
    auto file = CaptureFile::Open(path);
    if (!file.ok()) {  // it was there a moment ago
      ++read_errors;
      spdlog::error("{}; continuing with the next input", file.status().message());
      continue;
    }
    spdlog::info("reading {}", path);
    (*file)->set_wait_hook(publish);
    const uint64_t unsupported_before = engine.anomalies().Get(Anomaly::kUnsupportedLinkType);
    drain(**file);
    if (const uint64_t skipped = engine.anomalies().Get(Anomaly::kUnsupportedLinkType) - unsupported_before) {
      std::vector<std::string> types;
      for (int t : (*file)->link_types()) {
        if (!IsSupportedLinkType(t)) types.push_back(absl::StrCat(t, " (", LinkTypeName(t), ")"));
      }
      spdlog::warn("capture file {}: {} frames skipped: link type {} is not supported", path, skipped,
                   absl::StrJoin(types, ", "));
    }
    progress.Update(**file, bytes_before, engine.stats().packets, /*file_end=*/true);
    bytes_before += (*file)->file_size();
    ++inputs_done;
    publish();
    if (g_stop || !exporter.status().ok()) break;
  }
  progress.Done();
  engine.Finish();
  exporter.EnsureOneBatch();
  publish();

  int rc = 0;
  if (!exporter.status().ok()) {
    spdlog::error("{}", exporter.status().message());
    rc = 1;
  }
  // Asked to stop: give the collector a moment for what is in flight, not the full file-mode wait.
  const absl::Duration close_timeout =
      g_stop ? std::min(absl::GetFlag(FLAGS_ack_timeout), absl::Seconds(5)) : absl::GetFlag(FLAGS_ack_timeout);
  if (auto s = transport->Close(close_timeout); !s.ok()) {
    spdlog::error("{}", s.message());
    rc = 1;
  }
  publish();
  const TransportStats ts = transport->stats();
  if (ts.batches_rejected > 0) rc = 1;
  if (ts.spool_dropped > 0) rc = 1;
  if (read_errors > 0) rc = 1;
  const EngineStats& e = engine.stats();
  std::fprintf(stderr,
               "auscult-sensor: %llu packets (%llu malformed), %llu devices, %llu flows, %llu batches sent, "
               "%llu acknowledged%s%s in %.2f s\n",
               static_cast<unsigned long long>(e.packets), static_cast<unsigned long long>(e.malformed),
               static_cast<unsigned long long>(engine.devices().stats().devices_seen),
               static_cast<unsigned long long>(engine.flows().stats().flows_created),
               static_cast<unsigned long long>(ts.batches_sent),
               static_cast<unsigned long long>(ts.batches_acknowledged),
               ts.batches_rejected ? absl::StrCat(", ", ts.batches_rejected, " rejected").c_str() : "",
               spool == nullptr ? ""
                                : absl::StrCat(", spool: ", ts.spool_recovered, " batches from earlier runs, ",
                                               ts.spool_batches, " left, ", ts.spool_dropped, " dropped")
                                      .c_str(),
               absl::ToDoubleSeconds(absl::Now() - started));
  return rc;
}

}  // namespace
}  // namespace auscult::sensor

int main(int argc, char** argv) {
  auscult::ParseFlags(
      argc, argv, "auscult-sensor",
      "Passive network sensor for one hospital segment: decodes traffic and streams devices and flows to a collector.\n"
      "\n"
      "  auscult-sensor --pcap=FILE[,FILE...] --collector=HOST:PORT --tls_ca=CA --tls_cert=CERT --tls_key=KEY\n"
      "                 --sensor_id=ID --site=S --wing=W        (or --insecure instead of --tls_*: plain text)\n"
      "  auscult-sensor --interface=eth1 --collector=HOST:PORT --insecure --sensor_id=ID --site=S --wing=W\n"
      "  auscult-sensor --pcap=FILE --output=jsonl | jq .\n"
      "\n"
      "The sensor never transmits on the monitored interface. In file mode it exits 0 once the collector has\n"
      "acknowledged every batch, and prints a one-line summary on stderr.");
  if (auto s = auscult::InitLogging("auscult-sensor", absl::GetFlag(FLAGS_log_level), absl::GetFlag(FLAGS_log_format));
      !s.ok()) {
    std::fprintf(stderr, "auscult-sensor: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  if (auto s = auscult::sensor::ValidateFlags(); !s.ok()) {
    std::fprintf(stderr, "auscult-sensor: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  return auscult::sensor::Run();
}
