#ifndef AUSCULT_TESTS_SUPPORT_TEST_SUPPORT_H_
#define AUSCULT_TESTS_SUPPORT_TEST_SUPPORT_H_

// Helpers for tests that use real parts: capture files, tshark as an oracle, child processes
// (the project's binaries), and a private PostgreSQL database per test.

#include <google/protobuf/struct.pb.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace auscult::testing {

// ---- captures ----
// $AUSCULT_TEST_CAPTURES/<relative> when that is set, else tests/data/captures/<relative>, else
// ../shared/captures/<relative>, else nullopt.
std::optional<std::string> CapturePath(const std::string& relative);
// The workplace corpus beside the clone, or empty when this clone has none.
std::string SharedCapturesDir();
// Every capture file of the corpus (sorted relative paths), or empty when absent.
std::vector<std::string> SharedCaptureFiles();
std::string BinaryPath(const std::string& name);  // build/bin/<name>
// Names parameterized tests after their capture: "mixed/example.pcap" -> "mixed_example_pcap".
struct CaptureTestName {
  template <typename Info>
  std::string operator()(const Info& param_info) const {
    std::string name = param_info.param;
    for (char& c : name) {
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) c = '_';
    }
    return name;
  }
};

// ---- processes ----
struct CommandResult {
  int exit_code = -1;  // 128 + signal when killed by one
  bool timed_out = false;
  std::string out;
  std::string err;
};
CommandResult RunCommand(const std::vector<std::string>& argv, absl::Duration timeout = absl::Seconds(120));

// A child process running in the background, its output going to files; killed when destroyed.
class Process {
 public:
  explicit Process(const std::vector<std::string>& argv);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  bool Running();
  // Sends SIGTERM and waits; returns the exit code (or 128 + signal).
  int Stop(absl::Duration timeout = absl::Seconds(20));
  // SIGKILL (no chance to clean up, as a crash or the OOM killer) and waits; returns 128 + 9.
  int Kill();
  // Sends a signal and returns at once (SIGSTOP/SIGCONT: a process that hangs, then resumes).
  void Signal(int signal);
  // Waits for the process to exit by itself; -1 if it is still running after `timeout`.
  int Wait(absl::Duration timeout);
  std::string Stderr() const;
  std::string Stdout() const;
  int pid() const { return pid_; }

 private:
  int pid_ = -1;
  std::string dir_;
  int exit_code_ = -1;
};

int FreeTcpPort();
// Waits until something accepts TCP connections on 127.0.0.1:port.
bool WaitForPort(int port, absl::Duration timeout);

// ---- tshark ----
bool HaveTshark();
// One row per frame: the first occurrence of each field ("" when absent). `filter` is a display
// filter (may be empty).
std::vector<std::vector<std::string>> TsharkFields(const std::string& capture, const std::vector<std::string>& fields,
                                                   const std::string& filter = "");
// The same with every occurrence of each field, joined by `separator` ("1,3,6" for DHCP option 55).
std::vector<std::vector<std::string>> TsharkAllFields(const std::string& capture,
                                                      const std::vector<std::string>& fields, const std::string& filter,
                                                      char separator);
// tshark's packet tree as JSON (-T json, duplicate keys merged into arrays), one element per
// frame, for the protocols in `layers` ("eth ip ipv6 snmp"); frames filtered by `filter`. For
// fields that flat lists cannot keep apart (which record or attribute a value belongs to).
google::protobuf::Value TsharkJson(const std::string& capture, const std::string& layers, const std::string& filter,
                                   const std::vector<std::string>& extra_args = {});
// The first value of `key` in a JSON object (merged duplicates are arrays), or "" when absent.
std::string JsonFirst(const google::protobuf::Value& object, const std::string& key);
// The packet's layer `name` ("eth", "ip"), the first when it repeats (tunnels), or null.
const google::protobuf::Value* JsonLayer(const google::protobuf::Value& packet, const std::string& name);
// "52:31:2e" (tshark's bytes) as the bytes themselves.
std::string FromTsharkHex(const std::string& hex);
// Number of conversations tshark lists for `type` ("ipv4", "ipv6", "tcp", "udp").
struct TsharkConversation {
  std::string a, b;  // "addr" or "addr:port"
  uint64_t frames = 0;
};
std::vector<TsharkConversation> TsharkConversations(const std::string& capture, const std::string& type);

// ---- PostgreSQL ----
// The superuser URI of the cluster tests/run.sh started (AUSCULT_TEST_PG_URI), or nullopt.
std::optional<std::string> AdminUri();
// A fresh, uniquely named database owned by a role of its own (LOGIN, not a superuser), as a
// deployment's is (docs/security.md): collectors started on uri() run as that role, so every test
// shows the collector needs nothing more. Role auscult_dashboard is made beforehand, as the
// quickstart makes it, since its owner may not create roles. All dropped when the object goes away.
class TestDatabase {
 public:
  explicit TestDatabase(const std::string& admin_uri);
  ~TestDatabase();
  // The owner's URI: for the collector and the tests' own queries.
  const std::string& uri() const { return uri_; }
  // The same database as the cluster's superuser, for what the owner may not do (SET ROLE to the
  // dashboard role, running a collector as a superuser to see it refused).
  const std::string& superuser_uri() const { return superuser_uri_; }
  const std::string& name() const { return name_; }
  const std::string& owner() const { return owner_; }
  // A login in role auscult_dashboard, made on first use, as a dashboard's login is made
  // (docs/dashboards.md); its URI.
  std::string DashboardUri();
  // Runs a query and returns the first column of the first row as text ("" for NULL/no rows).
  std::string Scalar(const std::string& sql) const;
  std::vector<std::vector<std::string>> Rows(const std::string& sql) const;

 private:
  std::string admin_uri_;
  std::string name_;
  std::string owner_;
  std::string uri_;
  std::string superuser_uri_;
  std::string dashboard_login_;
  std::string dashboard_uri_;
};

// ---- JSON ----
// Parses any JSON text (via protobuf's JSON mapping of google.protobuf.Value); fails the test on error.
google::protobuf::Value ParseJson(const std::string& text);

}  // namespace auscult::testing

#endif  // AUSCULT_TESTS_SUPPORT_TEST_SUPPORT_H_
