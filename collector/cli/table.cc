#include "collector/cli/table.h"

#include <algorithm>

#include "common/text.h"

namespace auscult::cli {
namespace {

// Display width in code points (continuation bytes do not take a column).
size_t Width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

std::string Cut(const std::string& s, size_t width) {
  if (Width(s) <= width) return s;
  std::string out;
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c & 0xc0) != 0x80 && ++n > width - 1) break;
    out += s[i];
  }
  return out + "\u2026";
}

}  // namespace

Table::Table(std::vector<std::string> headers, std::vector<bool> right_aligned)
    : headers_(std::move(headers)), right_(std::move(right_aligned)) {
  right_.resize(headers_.size(), false);
}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  // Values come from the network (host names, banners): no terminal control sequences get through.
  for (std::string& cell : cells) cell = Printable(cell, 4096);
  rows_.push_back(std::move(cells));
}

std::string Table::Render(size_t max_column_width) const {
  std::vector<size_t> widths(headers_.size());
  for (size_t c = 0; c < headers_.size(); ++c) {
    widths[c] = Width(headers_[c]);
    for (const auto& row : rows_) widths[c] = std::max(widths[c], std::min(Width(row[c]), max_column_width));
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (size_t c = 0; c < cells.size(); ++c) {
      const std::string cell = Cut(cells[c], max_column_width);
      const std::string pad(widths[c] - Width(cell), ' ');
      if (c > 0) l += "  ";
      l += right_[c] ? pad + cell : cell + (c + 1 < cells.size() ? pad : "");
    }
    out += l + "\n";
  };
  line(headers_);
  for (const auto& row : rows_) line(row);
  return out;
}

}  // namespace auscult::cli
