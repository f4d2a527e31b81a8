#include "tests/support/test_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

extern char** environ;

namespace auscult::testing {
namespace fs = std::filesystem;

std::optional<std::string> CapturePath(const std::string& relative) {
  // AUSCULT_TEST_CAPTURES: a folder looked in first (captures made anew, see tests/fixtures/).
  const char* fresh = std::getenv("AUSCULT_TEST_CAPTURES");
  for (const std::string& dir :
       {std::string(fresh ? fresh : ""), std::string(AUSCULT_TEST_DATA_DIR) + "/captures", SharedCapturesDir()}) {
    if (dir.empty()) continue;
    const fs::path p = fs::path(dir) / relative;
    if (fs::is_regular_file(p)) return p.string();
  }
  return std::nullopt;
}

std::string SharedCapturesDir() {
  const fs::path p(AUSCULT_SHARED_CAPTURES);
  return fs::is_directory(p) ? p.string() : "";
}

std::vector<std::string> SharedCaptureFiles() {
  std::vector<std::string> out;
  const std::string dir = SharedCapturesDir();
  if (dir.empty()) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".pcap" || ext == ".pcapng"))
      out.push_back(fs::relative(e.path(), dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string BinaryPath(const std::string& name) { return std::string(AUSCULT_BIN_DIR) + "/" + name; }

namespace {

std::string MakeTempDir() {
  std::string templ = (fs::temp_directory_path() / "auscult-test-XXXXXX").string();
  if (mkdtemp(templ.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
  return templ;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// fork/exec rather than posix_spawn: the child asks to be killed when the test process dies, so a
// crashed test never leaves collectors or sensors running behind it.
int Spawn(const std::vector<std::string>& argv, const std::string& out, const std::string& err) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    ADD_FAILURE() << "cannot fork for " << argv[0] << ": " << strerror(errno);
    return -1;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died before prctl took effect
    const int in = open("/dev/null", O_RDONLY);
    const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || o < 0 || e < 0 || dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) _exit(127);
    execvp(args[0], args.data());
    _exit(127);
  }
  return pid;
}

// Waits for pid up to timeout; returns true and the decoded status if it ended.
bool WaitFor(int pid, absl::Duration timeout, int* exit_code) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return true;
    }
    if (r < 0) {
      *exit_code = -1;
      return true;
    }
    if (absl::Now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv, absl::Duration timeout) {
  CommandResult result;
  const std::string dir = MakeTempDir();
  const int pid = Spawn(argv, dir + "/out", dir + "/err");
  if (pid > 0 && !WaitFor(pid, timeout, &result.exit_code)) {
    result.timed_out = true;
    kill(pid, SIGKILL);
    WaitFor(pid, absl::Seconds(10), &result.exit_code);
  }
  result.out = ReadFile(dir + "/out");
  result.err = ReadFile(dir + "/err");
  fs::remove_all(dir);
  return result;
}

Process::Process(const std::vector<std::string>& argv) : dir_(MakeTempDir()) {
  pid_ = Spawn(argv, dir_ + "/out", dir_ + "/err");
}

Process::~Process() {
  if (pid_ > 0 && exit_code_ < 0) {
    kill(pid_, SIGKILL);
    WaitFor(pid_, absl::Seconds(10), &exit_code_);
  }
  fs::remove_all(dir_);
}

bool Process::Running() {
  if (pid_ <= 0 || exit_code_ >= 0) return false;
  return !WaitFor(pid_, absl::ZeroDuration(), &exit_code_);
}

int Process::Stop(absl::Duration timeout) {
  if (pid_ <= 0) return -1;
  if (exit_code_ >= 0) return exit_code_;
  kill(pid_, SIGTERM);
  if (!WaitFor(pid_, timeout, &exit_code_)) {
    kill(pid_, SIGKILL);
    WaitFor(pid_, absl::Seconds(10), &exit_code_);
  }
  return exit_code_;
}

int Process::Kill() {
  if (pid_ <= 0) return -1;
  if (exit_code_ >= 0) return exit_code_;
  kill(pid_, SIGKILL);
  WaitFor(pid_, absl::Seconds(10), &exit_code_);
  return exit_code_;
}

void Process::Signal(int signal) {
  if (pid_ > 0 && exit_code_ < 0) kill(pid_, signal);
}

int Process::Wait(absl::Duration timeout) {
  if (pid_ <= 0) return -1;
  if (exit_code_ >= 0) return exit_code_;
  return WaitFor(pid_, timeout, &exit_code_) ? exit_code_ : -1;
}

std::string Process::Stderr() const { return ReadFile(dir_ + "/err"); }
std::string Process::Stdout() const { return ReadFile(dir_ + "/out"); }

int FreeTcpPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

bool WaitForPort(int port, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

bool HaveTshark() {
  static const bool have = RunCommand({"tshark", "--version"}, absl::Seconds(30)).exit_code == 0;
  return have;
}

namespace {
std::vector<std::vector<std::string>> Tshark(const std::string& capture, const std::vector<std::string>& fields,
                                             const std::string& filter, const std::string& occurrence,
                                             char aggregator) {
  std::vector<std::string> argv = {"tshark", "-n",           "-r", capture,
                                   "-T",     "fields",       "-E", "occurrence=" + occurrence,
                                   "-E",     "separator=/t", "-E", std::string("aggregator=") + aggregator};
  for (const std::string& f : fields) {
    argv.push_back("-e");
    argv.push_back(f);
  }
  if (!filter.empty()) {
    argv.push_back("-Y");
    argv.push_back(filter);
  }
  const CommandResult r = RunCommand(argv);
  EXPECT_EQ(r.exit_code, 0) << "tshark failed on " << capture << ": " << r.err;
  std::vector<std::vector<std::string>> rows;
  for (absl::string_view line : absl::StrSplit(r.out, '\n', absl::SkipEmpty())) {
    std::vector<std::string> row = absl::StrSplit(line, '\t');
    row.resize(fields.size());
    rows.push_back(std::move(row));
  }
  return rows;
}
}  // namespace

std::vector<std::vector<std::string>> TsharkFields(const std::string& capture, const std::vector<std::string>& fields,
                                                   const std::string& filter) {
  return Tshark(capture, fields, filter, "f", ',');
}

std::vector<std::vector<std::string>> TsharkAllFields(const std::string& capture,
                                                      const std::vector<std::string>& fields, const std::string& filter,
                                                      char separator) {
  return Tshark(capture, fields, filter, "a", separator);
}

std::vector<TsharkConversation> TsharkConversations(const std::string& capture, const std::string& type) {
  const CommandResult r = RunCommand({"tshark", "-n", "-q", "-r", capture, "-z", "conv," + type});
  EXPECT_EQ(r.exit_code, 0) << "tshark failed on " << capture << ": " << r.err;
  std::vector<TsharkConversation> out;
  for (absl::string_view line : absl::StrSplit(r.out, '\n', absl::SkipEmpty())) {
    std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
    // "A <-> B  frames bytes-with-unit | ... | total-frames ..." : the columns after "<->".
    if (words.size() < 8 || words[1] != "<->") continue;
    TsharkConversation c;
    c.a = words[0];
    c.b = words[2];
    // Total frames: the 5th number after B (frames<-, bytes<-, unit, frames->, bytes->, unit, total).
    std::vector<uint64_t> numbers;
    for (size_t i = 3; i < words.size(); ++i) {
      uint64_t n;
      if (absl::SimpleAtoi(words[i], &n)) numbers.push_back(n);
    }
    if (numbers.size() >= 5) c.frames = numbers[4];
    out.push_back(c);
  }
  return out;
}

std::optional<std::string> AdminUri() {
  const char* uri = std::getenv("AUSCULT_TEST_PG_URI");
  if (uri == nullptr || *uri == '\0') return std::nullopt;
  return std::string(uri);
}

namespace {

// The parts of postgresql://[user[:password]@]host[:port][/database][?params].
struct PgUri {
  std::string scheme;  // "postgresql://"
  std::string user, password, host, query;
  // The same server and parameters with another login and database.
  std::string With(const std::string& login, const std::string& secret, const std::string& database) const {
    return absl::StrCat(scheme, login, secret.empty() ? "" : ":", secret, login.empty() ? "" : "@", host, "/", database,
                        query);
  }
};

PgUri ParsePgUri(const std::string& uri) {
  PgUri out;
  const size_t scheme = uri.find("://");
  if (scheme == std::string::npos) {
    ADD_FAILURE() << "AUSCULT_TEST_PG_URI must be a postgresql:// URI: " << uri;
    return out;
  }
  const size_t authority = scheme + 3;
  out.scheme = uri.substr(0, authority);
  const size_t path = std::min(uri.find_first_of("/?", authority), uri.size());
  const size_t at = uri.rfind('@', path);
  const size_t host = at != std::string::npos && at >= authority ? at + 1 : authority;
  if (host > authority) {
    const std::string login = uri.substr(authority, at - authority);
    const size_t colon = login.find(':');
    out.user = login.substr(0, colon);
    if (colon != std::string::npos) out.password = login.substr(colon + 1);
  }
  out.host = uri.substr(host, path - host);
  const size_t query = uri.find('?', path);
  if (query != std::string::npos) out.query = uri.substr(query);
  return out;
}

// Hex digits from the system's random source: names and passwords of the test's roles.
std::string RandomHex(int digits) {
  std::random_device rd;
  std::string out;
  while (static_cast<int>(out.size()) < digits) out += absl::StrCat(absl::Hex(rd(), absl::kZeroPad8));
  return out.substr(0, digits);
}

// CREATE ROLE ... LOGIN PASSWORD: a password (never needed on the suite's trust-authenticated
// cluster, but a cluster that asks for one gets it).
void CreateLogin(pqxx::connection& admin, const std::string& role, const std::string& password,
                 const std::string& extra) {
  pqxx::nontransaction(admin).exec(absl::StrCat("CREATE ROLE ", admin.quote_name(role), " LOGIN NOSUPERUSER PASSWORD ",
                                                admin.quote(password), extra));
}

}  // namespace

TestDatabase::TestDatabase(const std::string& admin_uri) : admin_uri_(admin_uri) {
  name_ = absl::StrCat("auscult_test_", getpid(), "_", RandomHex(6));
  owner_ = name_ + "_owner";
  const std::string password = RandomHex(32);
  pqxx::connection c(admin_uri_);
  // Roles belong to the cluster, which parallel tests (and other suites) share: two may find the
  // dashboard role missing at once, and the second CREATE then fails harmlessly.
  pqxx::nontransaction(c).exec(
      "DO $$ BEGIN"
      " IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'auscult_dashboard') THEN"
      "  BEGIN CREATE ROLE auscult_dashboard NOLOGIN;"
      "  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;"
      " END IF; END $$");
  CreateLogin(c, owner_, password, "");
  try {
    pqxx::nontransaction(c).exec(
        absl::StrCat("CREATE DATABASE ", c.quote_name(name_), " OWNER ", c.quote_name(owner_)));
  } catch (...) {
    pqxx::nontransaction(c).exec("DROP ROLE " + c.quote_name(owner_));  // no destructor runs after a throw
    throw;
  }
  const PgUri admin = ParsePgUri(admin_uri_);
  uri_ = admin.With(owner_, password, name_);
  superuser_uri_ = admin.With(admin.user, admin.password, name_);
}

TestDatabase::~TestDatabase() {
  try {
    pqxx::connection c(admin_uri_);
    pqxx::nontransaction(c).exec("DROP DATABASE IF EXISTS " + c.quote_name(name_) + " WITH (FORCE)");
    for (const std::string& role : {dashboard_login_, owner_}) {
      if (!role.empty()) pqxx::nontransaction(c).exec("DROP ROLE IF EXISTS " + c.quote_name(role));
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << "cannot drop test database " << name_ << " or its roles: " << e.what();
  }
}

std::string TestDatabase::DashboardUri() {
  if (dashboard_uri_.empty()) {
    const std::string login = name_ + "_dashboard";
    const std::string password = RandomHex(32);
    pqxx::connection c(admin_uri_);
    CreateLogin(c, login, password, " IN ROLE auscult_dashboard");
    dashboard_login_ = login;
    dashboard_uri_ = ParsePgUri(admin_uri_).With(login, password, name_);
  }
  return dashboard_uri_;
}

std::string TestDatabase::Scalar(const std::string& sql) const {
  const auto rows = Rows(sql);
  return rows.empty() || rows[0].empty() ? "" : rows[0][0];
}

std::vector<std::vector<std::string>> TestDatabase::Rows(const std::string& sql) const {
  pqxx::connection c(uri_);
  pqxx::nontransaction t(c);
  std::vector<std::vector<std::string>> out;
  for (const auto& row : t.exec(sql)) {
    std::vector<std::string> r;
    for (const auto& f : row) r.push_back(f.is_null() ? "" : f.as<std::string>());
    out.push_back(std::move(r));
  }
  return out;
}

google::protobuf::Value ParseJson(const std::string& text) {
  google::protobuf::Value v;
  const auto status = google::protobuf::util::JsonStringToMessage(text, &v);
  EXPECT_TRUE(status.ok()) << "not JSON: " << status.ToString() << "\n" << text.substr(0, 500);
  return v;
}

// tshark's packet tree as JSON (-T json, duplicate keys merged into arrays), one element per
google::protobuf::Value TsharkJson(const std::string& capture, const std::string& layers, const std::string& filter,
                                   const std::vector<std::string>& extra_args) {
  std::vector<std::string> argv = {"tshark", "-n", "-r", capture, "-T", "json", "--no-duplicate-keys", "-J", layers};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  if (!filter.empty()) argv.insert(argv.end(), {"-Y", filter});
  const auto r = RunCommand(argv);
  EXPECT_EQ(r.exit_code, 0) << "tshark failed on " << capture << ": " << r.err;
  const std::string text = r.out.empty() ? "[]" : r.out;
  return ParseJson(text);
}

std::string JsonFirst(const google::protobuf::Value& object, const std::string& key) {
  if (object.kind_case() != google::protobuf::Value::kStructValue) return "";
  const auto& fields = object.struct_value().fields();
  auto it = fields.find(key);
  if (it == fields.end()) return "";
  const google::protobuf::Value* v = &it->second;
  if (v->kind_case() == google::protobuf::Value::kListValue) {
    if (v->list_value().values().empty()) return "";
    v = &v->list_value().values(0);
  }
  return v->kind_case() == google::protobuf::Value::kStringValue ? v->string_value() : "";
}

const google::protobuf::Value* JsonLayer(const google::protobuf::Value& packet, const std::string& name) {
  const auto& source = packet.struct_value().fields();
  auto s = source.find("_source");
  if (s == source.end()) return nullptr;
  const auto& layers = s->second.struct_value().fields();
  auto l = layers.find("layers");
  if (l == layers.end()) return nullptr;
  const auto& by_name = l->second.struct_value().fields();
  auto it = by_name.find(name);
  if (it == by_name.end()) return nullptr;
  if (it->second.kind_case() == google::protobuf::Value::kListValue) {
    return it->second.list_value().values().empty() ? nullptr : &it->second.list_value().values(0);
  }
  return &it->second;
}

std::string FromTsharkHex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 2 <= hex.size(); i += 3) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

}  // namespace auscult::testing
