#ifndef AUSCULT_COLLECTOR_STORE_DATABASE_H_
#define AUSCULT_COLLECTOR_STORE_DATABASE_H_

#include <condition_variable>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace pqxx {
class connection_base;
}

namespace auscult::collector {

// The URI with any password replaced by "***", for messages and logs.
std::string RedactUri(const std::string& uri);

// A fixed set of PostgreSQL connections shared by the collector's threads. A connection found
// broken is replaced on its next use, so a restarted database heals without restarting us.
class ConnectionPool {
 public:
  // Opens `size` connections; fails with a message naming the (redacted) URI if the first fails.
  // Every connection gets TCP keepalives (a silently dead database is noticed) and a statement
  // timeout (no query holds a worker forever).
  static absl::StatusOr<std::unique_ptr<ConnectionPool>> Create(const std::string& uri, size_t size,
                                                                int statement_timeout_ms = 60000);
  ~ConnectionPool();

  class Lease {
   public:
    Lease(Lease&& other) noexcept : pool_(other.pool_), index_(other.index_) { other.pool_ = nullptr; }
    ~Lease();
    // The connection, reconnected first if it was marked broken. Throws pqxx::broken_connection if
    // the database cannot be reached.
    pqxx::connection_base& get();
    // Call after a pqxx::broken_connection: the next get() reconnects.
    void MarkBroken();

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, size_t index) : pool_(pool), index_(index) {}
    ConnectionPool* pool_;
    size_t index_;
  };

  // Blocks until a connection is free.
  Lease Acquire();
  // A free connection if there is one now, without waiting: for work that can also be done on the
  // connection the caller already holds (a caller waiting for a second connection while holding
  // one could wait for ever once every caller does).
  std::optional<Lease> TryAcquire();
  const std::string& uri() const { return uri_; }

 private:
  struct Slot;
  ConnectionPool(std::string uri, int statement_timeout_ms);

  std::string uri_;
  int statement_timeout_ms_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<size_t> free_;
};

struct Migration {
  const char* name;  // file name, e.g. "001_foundation.sql"; the number is the version
  const char* sql;
};
// The migrations compiled into this binary (collector/store/migrations/*.sql), in order.
const std::vector<Migration>& Migrations();

// Applies every migration not yet recorded in schema_migrations, each in its own transaction, under
// an advisory lock so that collectors starting together do not race. Returns how many it applied.
// Migrations after `up_to` are left for later (tests of a migration on data stored before it).
absl::StatusOr<int> ApplyMigrations(pqxx::connection_base& connection, int up_to = std::numeric_limits<int>::max());

// Who the collector is in the database: current_user, whether it is a superuser, the database;
// and which server it reached and whether that server takes writes.
struct DatabaseLogin {
  std::string user;
  std::string database;
  bool superuser = false;
  std::string server;        // "host:port" as libpq connected (a socket folder for a local socket)
  bool in_recovery = false;  // a standby (pg_is_in_recovery()): read-only until promoted
  bool read_only = false;    // default_transaction_read_only is on for this login or database
};
absl::StatusOr<DatabaseLogin> CurrentLogin(pqxx::connection_base& connection);

// Records a collector setting the database's functions read (collector_settings): the collector's
// flags are the truth, written at every start.
absl::Status SaveSetting(pqxx::connection_base& connection, const std::string& name, const std::string& value);

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_STORE_DATABASE_H_
