#ifndef AUSCULT_COLLECTOR_STORE_PG_ARRAY_H_
#define AUSCULT_COLLECTOR_STORE_PG_ARRAY_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace auscult::collector {

// Builds a PostgreSQL array literal ("{...}") to pass as ONE bound parameter, e.g. to unnest(). The
// literal is data, never SQL text: elements are double-quoted with backslash escapes, so any string
// is safe. This is how a whole batch goes to the database in one statement per table.
class PgArray {
 public:
  void Add(std::string_view text) {
    Separator();
    out_ += '"';
    for (char c : text) {
      if (c == '"' || c == '\\') out_ += '\\';
      out_ += c;
    }
    out_ += '"';
  }
  // Without this, a string literal would convert to bool and pick that overload.
  void Add(const char* text) { Add(std::string_view(text)); }
  void Add(int64_t v) {
    Separator();
    absl::StrAppend(&out_, v);
  }
  void Add(double v) {
    Separator();
    absl::StrAppend(&out_, v);
  }
  void Add(bool v) {
    Separator();
    out_ += v ? 't' : 'f';
  }
  void AddNull() {
    Separator();
    out_ += "NULL";
  }
  std::string str() const { return "{" + out_ + "}"; }
  size_t size() const { return count_; }

 private:
  void Separator() {
    if (count_++ > 0) out_ += ',';
  }
  std::string out_;
  size_t count_ = 0;
};

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_STORE_PG_ARRAY_H_
