#include "collector/store/database.h"

#include <pqxx/pqxx>
#include <regex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "spdlog/spdlog.h"

namespace auscult::collector {

std::string RedactUri(const std::string& uri) {
  // postgresql://user:secret@host/db  and  key=value strings with password=secret
  static const std::regex kUriPassword(R"(^(postgres(ql)?://[^:/@]*:)[^@]*@)");
  static const std::regex kKeywordPassword(R"((password\s*=\s*)('[^']*'|\S+))");
  std::string out = std::regex_replace(uri, kUriPassword, "$1***@");
  return std::regex_replace(out, kKeywordPassword, "$1***");
}

struct ConnectionPool::Slot {
  std::unique_ptr<pqxx::connection> connection;
};

namespace {

// Adds libpq keepalive settings to a URI or keyword/value connection string (the caller's own
// settings, written after ours, win for keyword strings; URIs keep the first occurrence, so ours
// go last there and the caller can still set them).
std::string WithKeepalives(const std::string& uri) {
  constexpr char kParams[] = "keepalives=1&keepalives_idle=30&keepalives_interval=10&keepalives_count=3";
  if (uri.rfind("postgresql://", 0) == 0 || uri.rfind("postgres://", 0) == 0) {
    if (uri.find("keepalives") != std::string::npos) return uri;
    return uri + (uri.find('?') == std::string::npos ? "?" : "&") + kParams;
  }
  return "keepalives=1 keepalives_idle=30 keepalives_interval=10 keepalives_count=3 " + uri;
}

}  // namespace

ConnectionPool::ConnectionPool(std::string uri, int statement_timeout_ms)
    : uri_(std::move(uri)), statement_timeout_ms_(statement_timeout_ms) {}
ConnectionPool::~ConnectionPool() = default;

namespace {

std::unique_ptr<pqxx::connection> Connect(const std::string& uri, int statement_timeout_ms) {
  auto c = std::make_unique<pqxx::connection>(WithKeepalives(uri));
  // set_config rather than SET, which takes no parameters: no value is ever spliced into SQL.
  // JIT off: the collector's statements are short and many, over arrays whose size the planner
  // cannot see, so their cost estimates pass jit_above_cost while they run in milliseconds, and
  // compiling them took longer than running them (identity resolution: 14 ms of JIT for 25 ms of
  // work, each batch; docs/performance.md).
  pqxx::nontransaction(*c).exec_params(
      "SELECT set_config('statement_timeout', $1::text, false), set_config('jit', 'off', false)",
      std::to_string(statement_timeout_ms));
  return c;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ConnectionPool>> ConnectionPool::Create(const std::string& uri, size_t size,
                                                                       int statement_timeout_ms) {
  auto pool = std::unique_ptr<ConnectionPool>(new ConnectionPool(uri, statement_timeout_ms));
  for (size_t i = 0; i < size; ++i) {
    auto slot = std::make_unique<Slot>();
    try {
      slot->connection = Connect(uri, statement_timeout_ms);
    } catch (const std::exception& e) {
      std::string why = e.what();
      while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
      return absl::UnavailableError(absl::StrCat("cannot connect to PostgreSQL at ", RedactUri(uri), ": ", why));
    }
    pool->slots_.push_back(std::move(slot));
    pool->free_.push_back(i);
  }
  return pool;
}

ConnectionPool::Lease ConnectionPool::Acquire() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !free_.empty(); });
  const size_t index = free_.back();
  free_.pop_back();
  return Lease(this, index);
}

std::optional<ConnectionPool::Lease> ConnectionPool::TryAcquire() {
  std::lock_guard lock(mu_);
  if (free_.empty()) return std::nullopt;
  const size_t index = free_.back();
  free_.pop_back();
  return Lease(this, index);
}

ConnectionPool::Lease::~Lease() {
  if (pool_ == nullptr) return;
  {
    std::lock_guard lock(pool_->mu_);
    pool_->free_.push_back(index_);
  }
  pool_->cv_.notify_one();
}

pqxx::connection_base& ConnectionPool::Lease::get() {
  Slot& slot = *pool_->slots_[index_];
  if (!slot.connection) slot.connection = Connect(pool_->uri_, pool_->statement_timeout_ms_);
  return *slot.connection;
}

void ConnectionPool::Lease::MarkBroken() { pool_->slots_[index_]->connection.reset(); }

namespace {

// FNV-1a: a stable fingerprint of a migration's text, to notice one edited after it was applied.
std::string Fingerprint(std::string_view text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return absl::StrCat(absl::Hex(h, absl::kZeroPad16));
}

}  // namespace

absl::StatusOr<int> ApplyMigrations(pqxx::connection_base& connection, int up_to) {
  int applied = 0;
  try {
    // Session-level advisory lock: held across the per-migration transactions below.
    pqxx::nontransaction(connection).exec("SELECT pg_advisory_lock(7740001)");
    auto unlock = [&] {
      try {
        pqxx::nontransaction(connection).exec("SELECT pg_advisory_unlock(7740001)");
      } catch (...) {
      }
    };
    try {
      {
        pqxx::work w(connection);
        w.exec(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL, fingerprint text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())");
        w.commit();
      }
      for (const Migration& m : Migrations()) {
        int version = 0;
        const std::string name = m.name;
        if (!absl::SimpleAtoi(name.substr(0, name.find('_')), &version)) {
          return absl::InternalError(absl::StrCat("migration ", name, " does not start with a version number"));
        }
        if (version > up_to) break;
        const std::string fingerprint = Fingerprint(m.sql);
        pqxx::work w(connection);
        const pqxx::result r = w.exec_params("SELECT fingerprint FROM schema_migrations WHERE version = $1", version);
        if (!r.empty()) {
          if (r.at(0).at(0).as<std::string>() != fingerprint) {
            spdlog::warn("migration {} was changed after it was applied to this database", name);
          }
          continue;
        }
        // A migration may rewrite a table of months of flows (022): not bounded by the timeout that
        // keeps a query from holding a connection (--db_statement_timeout).
        w.exec("SET LOCAL statement_timeout = 0");
        w.exec(m.sql);
        w.exec_params("INSERT INTO schema_migrations (version, name, fingerprint) VALUES ($1, $2, $3)", version, name,
                      fingerprint);
        w.commit();
        spdlog::info("applied database migration {}", name);
        ++applied;
      }
      // A database a newer collector has migrated: this one would write rows its schema no longer
      // matches (a rolling upgrade started the other way round). Refused, naming both versions.
      if (up_to == std::numeric_limits<int>::max() && !Migrations().empty()) {
        int known = 0;
        const std::string last = Migrations().back().name;
        if (absl::SimpleAtoi(last.substr(0, last.find('_')), &known)) {
          int newest = 0;
          std::string newest_name;
          {
            pqxx::read_transaction r(connection);  // closed before the lock is given back
            const pqxx::row row = r.exec1("SELECT version, name FROM schema_migrations ORDER BY version DESC LIMIT 1");
            newest = row.at(0).as<int>();
            newest_name = row.at(1).as<std::string>();
          }
          if (newest > known) {
            unlock();
            return absl::FailedPreconditionError(absl::StrCat(
                "the database is at schema version ", newest, " (", newest_name, "), newer than this collector knows (",
                known, "): a newer collector has upgraded it; run that version here too"));
          }
        }
      }
    } catch (...) {
      unlock();
      throw;
    }
    unlock();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("database migration failed: ", e.what()));
  }
  return applied;
}

absl::StatusOr<DatabaseLogin> CurrentLogin(pqxx::connection_base& connection) {
  try {
    pqxx::read_transaction t(connection);
    const pqxx::row r = t.exec1(
        "SELECT current_user, current_database(), rolsuper, pg_is_in_recovery(),"
        " current_setting('default_transaction_read_only') = 'on'"
        " FROM pg_roles WHERE rolname = current_user");
    DatabaseLogin login;
    login.user = r.at(0).as<std::string>();
    login.database = r.at(1).as<std::string>();
    login.superuser = r.at(2).as<bool>();
    login.in_recovery = r.at(3).as<bool>();
    login.read_only = r.at(4).as<bool>();
    const char* host = connection.hostname();
    const char* port = connection.port();
    login.server = absl::StrCat(host != nullptr ? host : "", ":", port != nullptr ? port : "");
    return login;
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("cannot tell who the database user is: ", e.what()));
  }
}

absl::Status SaveSetting(pqxx::connection_base& connection, const std::string& name, const std::string& value) {
  try {
    pqxx::work w(connection);
    w.exec_params(
        "INSERT INTO collector_settings (name, value) VALUES ($1::text, $2::text)"
        " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        name, value);
    w.commit();
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("cannot save setting ", name, ": ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace auscult::collector
