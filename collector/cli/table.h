#ifndef AUSCULT_COLLECTOR_CLI_TABLE_H_
#define AUSCULT_COLLECTOR_CLI_TABLE_H_

#include <string>
#include <vector>

namespace auscult::cli {

// A plain-text table for terminals: columns as wide as their widest cell (up to a cap, then cut
// with "…"), numbers right-aligned.
class Table {
 public:
  explicit Table(std::vector<std::string> headers, std::vector<bool> right_aligned = {});
  void AddRow(std::vector<std::string> cells);
  std::string Render(size_t max_column_width = 48) const;
  size_t rows() const { return rows_.size(); }

 private:
  std::vector<std::string> headers_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

// A cell's text, or "-" for an empty one.
inline std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }

}  // namespace auscult::cli

#endif  // AUSCULT_COLLECTOR_CLI_TABLE_H_
