// auscult-collector: receives sensors' observation streams, merges them into PostgreSQL and answers
// queries. Flags and wiring only.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>
#include <unistd.h>

#include <pqxx/pqxx>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "collector/classify/classifier.h"
#include "collector/classify/classifier_loop.h"
#include "collector/collector_metrics.h"
#include "collector/ingest/batch_applier.h"
#include "collector/ingest/ingest_service.h"
#include "collector/query/query_service.h"
#include "collector/query/server_poller.h"
#include "collector/store/database.h"
#include "common/flags.h"
#include "common/host_port.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/text.h"
#include "common/tls.h"
#include "common/version.h"
#include "spdlog/spdlog.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7740", "Address to serve ingest and queries on, HOST:PORT");
ABSL_FLAG(std::string, db, "", "PostgreSQL connection URI, e.g. postgresql://auscult@/auscult?host=/run/postgresql");
ABSL_FLAG(bool, insecure, false, "Serve plain-text gRPC, unauthenticated (trusted networks only; else --tls_*)");
ABSL_FLAG(std::string, tls_cert, "", "Mutual TLS: the collector's certificate (PEM; deploy/pki.sh makes it)");
ABSL_FLAG(std::string, tls_key, "", "Mutual TLS: its private key (PEM)");
ABSL_FLAG(std::string, tls_ca, "",
          "Mutual TLS: the site CA (PEM). Every client needs a certificate of it: sensor:<id> may send that "
          "sensor's observations, analyst:<name> may query, admin:<name> may also change; proxy:<name> (a balancer) "
          "may forward its client's certificate, which is verified against this CA too");
ABSL_FLAG(bool, allow_superuser, false,
          "Development only: run even when --db logs in as a PostgreSQL superuser (refused otherwise: the "
          "collector's role should own its database and nothing more; docs/security.md)");
ABSL_FLAG(int32_t, db_connections, 4,
          "Database connections for applying batches (the same again serve queries; one more merges the graph)");
ABSL_FLAG(int32_t, max_message_mb, 16, "Largest batch accepted from a sensor, in MiB");
ABSL_FLAG(int32_t, max_sensors, 1000,
          "Most sensor streams this collector serves at once; more are refused (RESOURCE_EXHAUSTED). Behind a "
          "balancer each collector has its own");
ABSL_FLAG(int32_t, max_memory_mb, 2048,
          "Memory gRPC may use for connections and messages; beyond it, it reads more slowly (backpressure)");
ABSL_FLAG(absl::Duration, db_statement_timeout, absl::Seconds(60), "Longest a single database statement may run");
ABSL_FLAG(absl::Duration, inactive_after, absl::Hours(24 * 7),
          "A device is marked inactive (never deleted) when its site has seen traffic this much newer than its own");
ABSL_FLAG(std::string, device_rules, "",
          "Classification rules file (default: the shipped device_rules.txt, share/auscult/ beside the binary or "
          "collector/data/ of the source tree). Read again when it changes or on SIGHUP");
ABSL_FLAG(absl::Duration, ip_identity_ttl, absl::Hours(24),
          "An address identifies a host seen only behind a router while it is current: a sighting belongs to a "
          "device that held the address (or was known by it) within this time; DHCP may give it to another after");
ABSL_FLAG(absl::Duration, learning_period, absl::Hours(24 * 7),
          "The baseline: what a device does in its first this-long is normal; edges that appear later are new "
          "(ListEdges only_new, edge_new events)");
ABSL_FLAG(absl::Duration, event_retention, absl::Hours(24 * 30),
          "Watch events are kept this long (a subscriber can resume from any kept event)");
ABSL_FLAG(absl::Duration, flow_retention, absl::Hours(24 * 30),
          "Raw flows are kept this long (daily partitions; a replayed capture's from when it was stored); the "
          "communication graph keeps their totals");
ABSL_FLAG(absl::Duration, sensor_silent_after, absl::Seconds(60),
          "A sensor whose last batch is this old is silent: not up in `auscult sensors`, a sensor_down event");
ABSL_FLAG(int32_t, max_watchers, 16, "Most Watch streams at once; more are refused (RESOURCE_EXHAUSTED)");
ABSL_FLAG(bool, check_config, false,
          "Check the flags and the files they name (TLS, device rules), print what is wrong or 'configuration OK', "
          "and exit (2 or 0) without connecting to the database or listening");
ABSL_FLAG(std::string, metrics_listen, "",
          "Serve Prometheus metrics (GET /metrics) and GET /healthz on HOST:PORT, e.g. 0.0.0.0:9751; empty: off");
ABSL_FLAG(std::string, log_format, "text",
          "Log lines as text (time, level, program, message) or json (one object a line, for log shippers)");
ABSL_FLAG(std::string, log_level, "info", "Log level: trace, debug, info, warn, error, critical, off");

namespace auscult::collector {
namespace {

// Most devices classified on an applier's connection after one batch (those it queued itself, or
// queued again since it started); more wait for the loop.
constexpr size_t kClassifyAfterBatch = 20000;

int Run() {
  const absl::Time started = absl::Now();
  auto listen = ParseHostPort(absl::GetFlag(FLAGS_listen), "listen");
  if (!listen.ok()) {
    spdlog::error("{}", listen.status().message());
    return 2;
  }
  if (const std::string m = absl::GetFlag(FLAGS_metrics_listen); !m.empty()) {
    if (auto hp = ParseHostPort(m, "metrics_listen"); !hp.ok() || m.rfind("unix:", 0) == 0) {
      spdlog::error("{}", hp.ok() ? "--metrics_listen: a TCP HOST:PORT, not a unix socket" : hp.status().message());
      return 2;
    }
  }
  const bool insecure = absl::GetFlag(FLAGS_insecure);
  const bool any_tls = !absl::GetFlag(FLAGS_tls_cert).empty() || !absl::GetFlag(FLAGS_tls_key).empty() ||
                       !absl::GetFlag(FLAGS_tls_ca).empty();
  if (insecure == any_tls) {
    spdlog::error(insecure ? "--insecure and --tls_*: choose one"
                           : "give --tls_cert, --tls_key and --tls_ca (deploy/pki.sh makes them), or --insecure for "
                             "plain text on a trusted network");
    return 2;
  }
  TlsFiles tls;
  if (any_tls) {
    auto files = ReadTlsFiles(absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key));
    if (!files.ok()) {
      spdlog::error("{}", files.status().message());
      return 2;
    }
    tls = *std::move(files);
  }
  // Certificates a balancer forwards are verified here, against the same CA (docs/security.md).
  std::unique_ptr<CertificateVerifier> verifier;
  if (any_tls) {
    auto created = CertificateVerifier::Create(tls.ca);
    if (!created.ok()) {
      spdlog::error("--tls_ca: {}", created.status().message());
      return 2;
    }
    verifier = *std::move(created);
  }
  const std::string uri = absl::GetFlag(FLAGS_db);
  if (uri.empty()) {
    spdlog::error("--db is required: a PostgreSQL URI such as postgresql://auscult@/auscult?host=/run/postgresql");
    return 2;
  }
  const int connections = absl::GetFlag(FLAGS_db_connections);
  if (connections < 1 || connections > 256) {
    spdlog::error("--db_connections={}: must be from 1 to 256", connections);
    return 2;
  }
  const int max_message_mb = absl::GetFlag(FLAGS_max_message_mb);
  if (max_message_mb < 1 || max_message_mb > 1024) {
    spdlog::error("--max_message_mb={}: must be from 1 to 1024", max_message_mb);
    return 2;
  }

  for (const auto& [name, value, lo, hi] : {std::tuple{"max_sensors", absl::GetFlag(FLAGS_max_sensors), 1, 100000},
                                            {"max_memory_mb", absl::GetFlag(FLAGS_max_memory_mb), 64, 1 << 20}}) {
    if (value < lo || value > hi) {
      spdlog::error("--{}={}: must be from {} to {}", name, value, lo, hi);
      return 2;
    }
  }
  const absl::Duration statement_timeout = absl::GetFlag(FLAGS_db_statement_timeout);
  if (statement_timeout < absl::Milliseconds(100) || statement_timeout > absl::Hours(24)) {
    spdlog::error("--db_statement_timeout: must be from 100ms to 24h");
    return 2;
  }
  const int timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(statement_timeout));
  const absl::Duration inactive_after = absl::GetFlag(FLAGS_inactive_after);
  if (inactive_after < absl::Minutes(1) || inactive_after > absl::Hours(24 * 3650)) {
    spdlog::error("--inactive_after: must be from 1m to 87600h (ten years)");
    return 2;
  }
  const absl::Duration ip_identity_ttl = absl::GetFlag(FLAGS_ip_identity_ttl);
  if (ip_identity_ttl < absl::Seconds(1) || ip_identity_ttl > absl::Hours(24 * 365)) {
    spdlog::error("--ip_identity_ttl: must be from 1s to 8760h (a year)");
    return 2;
  }

  const absl::Duration learning_period = absl::GetFlag(FLAGS_learning_period);
  if (learning_period < absl::ZeroDuration() || learning_period > absl::Hours(24 * 3650)) {
    spdlog::error("--learning_period: must be from 0s to 87600h (ten years)");
    return 2;
  }
  if (absl::GetFlag(FLAGS_event_retention) < absl::Minutes(1) ||
      absl::GetFlag(FLAGS_event_retention) > absl::Hours(24 * 3650)) {
    spdlog::error("--event_retention: must be from 1m to 87600h (ten years)");
    return 2;
  }
  if (absl::GetFlag(FLAGS_flow_retention) < absl::Hours(1) ||
      absl::GetFlag(FLAGS_flow_retention) > absl::Hours(24 * 3650)) {
    spdlog::error("--flow_retention: must be from 1h to 87600h (ten years)");
    return 2;
  }
  const absl::Duration silent_after = absl::GetFlag(FLAGS_sensor_silent_after);
  if (silent_after < absl::Seconds(1) || silent_after > absl::Hours(24 * 30)) {
    spdlog::error("--sensor_silent_after: must be from 1s to 720h (30 days)");
    return 2;
  }
  if (absl::GetFlag(FLAGS_max_watchers) < 0 || absl::GetFlag(FLAGS_max_watchers) > 32) {
    spdlog::error("--max_watchers: from 0 to 32 (each stream holds one of the server's 64 threads)");
    return 2;
  }

  const std::string rules_path =
      absl::GetFlag(FLAGS_device_rules).empty() ? DefaultRulesPath() : absl::GetFlag(FLAGS_device_rules);
  if (rules_path.empty()) {
    spdlog::error("--device_rules: no device_rules.txt found beside the binary; name one");
    return 2;
  }
  auto classifier = Classifier::Load(rules_path);
  if (!classifier.ok()) {
    spdlog::error("--device_rules: {}", classifier.status().message());
    return 2;
  }
  spdlog::info("device rules {}: {} rules (version {})", rules_path, (*classifier)->rules()->rules.size(),
               (*classifier)->rules()->version);

  if (absl::GetFlag(FLAGS_check_config)) {
    std::fprintf(stdout, "auscult-collector: configuration OK\n");
    return 0;
  }

  // One connection per ingest worker, and one for the thread that merges committed batches' graph
  // edges and acknowledges them (collector/ingest/batch_applier.h).
  auto ingest_pool = ConnectionPool::Create(uri, static_cast<size_t>(connections) + 1, timeout_ms);
  if (!ingest_pool.ok()) {
    spdlog::error("{}", ingest_pool.status().message());
    return 1;
  }
  {
    ConnectionPool::Lease lease = (*ingest_pool)->Acquire();
    // The collector reads what sensors send, which anyone on the wire can shape: as a superuser a
    // flaw in it would reach every database of the cluster and the server's files and programs.
    // Owning its database is all it needs (the migrations are written for that).
    auto login = CurrentLogin(lease.get());
    if (!login.ok()) {
      spdlog::error("{}", login.status().message());
      return 1;
    }
    if (login->superuser) {
      if (!absl::GetFlag(FLAGS_allow_superuser)) {
        spdlog::error(
            "--db logs in as '{}', a PostgreSQL superuser; the collector does not run as one. Give it a role of its "
            "own that owns the database; as a superuser: CREATE ROLE auscult LOGIN; ALTER DATABASE {} OWNER TO "
            "auscult; (a database a superuser has filled already: psql -v owner=auscult -f deploy/db-hand-over.sql), "
            "then name that role in --db (docs/security.md). For development only, --allow_superuser runs anyway",
            Printable(login->user, 64), Printable(login->database, 64));
        return 2;
      }
      spdlog::warn("running as PostgreSQL superuser '{}' (--allow_superuser): for development only",
                   Printable(login->user, 64));
    }
    // A read replica is where dashboards belong, not the collector: every batch, the migrations and
    // the housekeeping write. Said at start, naming the server (the migrations would otherwise fail
    // on their first CREATE with "read-only transaction", which names neither the server nor the
    // fix); exit 2, as for the other refusals of a wrong --db.
    if (login->in_recovery || login->read_only) {
      spdlog::error(
          "--db reaches {} (database {}), a read-only server: {}. The collector writes every batch there; point "
          "--db at the primary (naming several hosts, add target_session_attrs=read-write so that libpq picks the "
          "primary). Dashboards may read a standby (docs/scale-out.md)",
          Printable(login->server, 256), Printable(login->database, 64),
          login->in_recovery ? "a standby in recovery (pg_is_in_recovery() is true)"
                             : "default_transaction_read_only is on for this login or database");
      return 2;
    }
    auto applied = ApplyMigrations(lease.get());
    if (!applied.ok()) {
      spdlog::error("{}", applied.status().message());
      return 1;
    }
    // The settings the database's views read (see migration 007).
    if (auto s =
            SaveSetting(lease.get(), "inactive_after", absl::StrCat(absl::ToInt64Seconds(inactive_after), " seconds"));
        !s.ok()) {
      spdlog::error("{}", s.message());
      return 1;
    }
    // Today's flow partition exists before the first batch: rows that land in the default
    // partition keep their day from getting one (migration 014; the housekeeping makes the next).
    try {
      pqxx::work w(lease.get());
      w.exec("SELECT auscult_make_flow_partitions(3)");
      w.commit();
    } catch (const std::exception& e) {
      spdlog::error("flow partitions: {}", e.what());
      return 1;
    }
    if (auto s = SaveSetting(lease.get(), "sensor_silent_after",
                             absl::StrCat(absl::ToInt64Seconds(silent_after), " seconds"));  // migration 013
        !s.ok()) {
      spdlog::error("{}", s.message());
      return 1;
    }
    if (auto s = SaveSetting(lease.get(), "learning_period",
                             absl::StrCat(absl::ToInt64Seconds(learning_period), " seconds"));  // migration 013
        !s.ok()) {
      spdlog::error("{}", s.message());
      return 1;
    }
    if (auto s = SaveSetting(lease.get(), "ip_identity_ttl",
                             absl::StrCat(absl::ToInt64Seconds(ip_identity_ttl), " seconds"));  // migration 009
        !s.ok()) {
      spdlog::error("{}", s.message());
      return 1;
    }
  }
  auto query_pool = ConnectionPool::Create(uri, static_cast<size_t>(connections), timeout_ms);
  if (!query_pool.ok()) {
    spdlog::error("{}", query_pool.status().message());
    return 1;
  }
  auto classify_pool = ConnectionPool::Create(uri, 1, timeout_ms);
  if (!classify_pool.ok()) {
    spdlog::error("{}", classify_pool.status().message());
    return 1;
  }

  // Signals are taken by a thread of our own (blocked everywhere else), so that shutdown runs
  // outside a signal handler.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // Classification and risk: after batches commit, for the devices they touched (on the applier's
  // settling connection); and on a thread of its own, which reads the rules file again when it changes and
  // works off whatever is still queued (a new rules version queues every device).
  ClassifierLoop classify_loop(classifier->get(), classify_pool->get());
  BatchApplier applier(ingest_pool->get(), static_cast<size_t>(connections),
                       [c = classifier->get()](pqxx::connection_base& connection, int64_t since_us) {
                         c->ProcessQueue(connection, kClassifyAfterBatch, since_us);
                       });
  IngestService ingest(&applier, absl::GetFlag(FLAGS_max_sensors), verifier.get());
  EventHub::Options event_options;
  event_options.retention = absl::GetFlag(FLAGS_event_retention);
  event_options.flow_retention = absl::GetFlag(FLAGS_flow_retention);
  event_options.max_subscribers = absl::GetFlag(FLAGS_max_watchers);
  EventHub events(uri, event_options);
  QueryService query(
      query_pool->get(),
      [c = classifier->get()](pqxx::connection_base& connection, int64_t since_us) {
        c->ProcessQueue(connection, kClassifyAfterBatch, since_us);
      },
      &events, verifier.get());

  query.set_process_status([&applier, &ingest, started](v1::CollectorStatus* s) {
    s->set_version(kVersion);
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    s->set_hostname(ToValidUtf8(host));
    const int64_t started_us = absl::ToUnixMicros(started);
    s->mutable_started()->set_seconds(started_us / 1000000);
    s->mutable_started()->set_nanos(static_cast<int32_t>(started_us % 1000000) * 1000);
    s->set_ingest_streams(ingest.active_streams());
    const ApplierStats a = applier.stats();
    s->set_batches_applied(a.applied);
    s->set_batches_duplicate(a.duplicates);
    s->set_batches_failed(a.failed);
    s->set_database_errors(a.database_errors);
    s->set_batches_queued(a.queued);
  });

  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(listen->ToString(), insecure ? grpc::InsecureServerCredentials() : ServerTlsCredentials(tls),
                           &bound_port);
  builder.SetMaxReceiveMessageSize(max_message_mb * 1024 * 1024);
  // Memory for connections and messages is capped; the sync query service gets a bounded pool of
  // threads. Ingest memory is further bounded by one batch in flight per stream and --max_sensors.
  grpc::ResourceQuota quota("auscult-collector");
  quota.Resize(static_cast<size_t>(absl::GetFlag(FLAGS_max_memory_mb)) << 20);
  quota.SetMaxThreads(64);
  builder.SetResourceQuota(quota);
  builder.RegisterService(&ingest);
  builder.RegisterService(&query);
  // The standard health service ("" and each service: SERVING until shutdown begins) and server
  // reflection, so that orchestrators and grpcurl-style tools work without our .proto files.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  ServerPoller poller(builder);  // queries are read at once (see server_poller.h)
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || (listen->port != 0 && bound_port == 0)) {
    spdlog::error("cannot listen on {} (address in use, or not an address of this host?)", listen->ToString());
    return 1;
  }
  poller.Start();
  for (const char* service : {"auscult.v1.Ingest", "auscult.v1.Query"}) {
    server->GetHealthCheckService()->SetServingStatus(service, true);
  }
  if (insecure) {
    spdlog::warn("serving plain-text gRPC without authentication (--insecure): use only on a trusted network");
  } else {
    spdlog::info("serving mutual TLS: clients need a certificate of {}", absl::GetFlag(FLAGS_tls_ca));
  }
  spdlog::info("auscult-collector {} listening on {} (port {}), database {}", kVersion, listen->ToString(), bound_port,
               RedactUri(uri));
  CollectorMetrics metrics(query_pool->get(), &applier, &ingest, &events, started);
  std::unique_ptr<MetricsServer> metrics_server;
  if (const std::string m = absl::GetFlag(FLAGS_metrics_listen); !m.empty()) {
    auto created = MetricsServer::Start(m, "metrics_listen", [&metrics] { return metrics.Render(); });
    if (!created.ok()) {
      spdlog::error("{}", created.status().message());
      server->Shutdown();
      return 1;
    }
    metrics_server = *std::move(created);
    spdlog::info("metrics on http://{}{}/metrics", m.substr(0, m.rfind(':') + 1), metrics_server->port());
  }

  int signal_number = 0;
  for (;;) {
    sigwait(&signals, &signal_number);
    if (signal_number != SIGHUP) break;
    spdlog::info("SIGHUP: reading the device rules again");
    classify_loop.RequestReload();
  }
  spdlog::info("received signal {}; finishing in-flight batches and stopping", signal_number);
  // Sensor streams never end by themselves: give in-flight batches a moment to commit and be
  // acknowledged, then cancel the streams. Sensors resend whatever was not acknowledged.
  server->GetHealthCheckService()->Shutdown();  // NOT_SERVING from now on
  events.Stop();                                // Watch streams end (clients resume after their last event)
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server->Wait();
  poller.Stop();
  const ApplierStats stats = applier.stats();
  spdlog::info("stopped: {} batches applied, {} duplicates, {} failed, {} refused (revoked)", stats.applied,
               stats.duplicates, stats.failed, stats.refused);
  return 0;
}

}  // namespace
}  // namespace auscult::collector

int main(int argc, char** argv) {
  auscult::ParseFlags(
      argc, argv, "auscult-collector",
      "Central collector: receives sensor streams, keeps the asset database in PostgreSQL and serves queries.\n"
      "\n"
      "  auscult-collector --listen=127.0.0.1:7740 --db=postgresql://auscult@/auscult?host=/run/postgresql --insecure\n"
      "\n"
      "Applies its database migrations at start. Classifies devices by --device_rules (read again when the file\n"
      "changes or on SIGHUP). Stops cleanly on SIGINT or SIGTERM.");
  if (auto s =
          auscult::InitLogging("auscult-collector", absl::GetFlag(FLAGS_log_level), absl::GetFlag(FLAGS_log_format));
      !s.ok()) {
    std::fprintf(stderr, "auscult-collector: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  return auscult::collector::Run();
}
