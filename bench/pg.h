#ifndef AUSCULT_BENCH_PG_H_
#define AUSCULT_BENCH_PG_H_

// One libpq connection for the benchmarks: they COPY and run plain statements on a database they
// own, so libpq directly (libpqxx 6's stream_to takes tuples only). Errors throw std::runtime_error.
#include <libpq-fe.h>

#include <stdexcept>
#include <string>

#include "absl/strings/str_cat.h"

namespace auscult::bench {

class Pg {
 public:
  explicit Pg(const std::string& uri) : c_(PQconnectdb(uri.c_str())) {
    if (PQstatus(c_) != CONNECTION_OK) {
      const std::string e = PQerrorMessage(c_);
      PQfinish(c_);
      throw std::runtime_error(absl::StrCat("PostgreSQL: ", e));
    }
  }
  ~Pg() { PQfinish(c_); }
  Pg(const Pg&) = delete;
  Pg& operator=(const Pg&) = delete;
  // Runs a statement; returns the first column of the first row ("" when none).
  std::string Exec(const std::string& sql) {
    PGresult* r = PQexec(c_, sql.c_str());
    const ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      const std::string e = PQresultErrorMessage(r);
      PQclear(r);
      throw std::runtime_error(absl::StrCat(sql.substr(0, 80), ": ", e));
    }
    std::string out = st == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    PQclear(r);
    return out;
  }
  PGconn* get() { return c_; }

 private:
  PGconn* c_;
};

}  // namespace auscult::bench

#endif  // AUSCULT_BENCH_PG_H_
