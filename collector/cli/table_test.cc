#include "collector/cli/table.h"

#include <gtest/gtest.h>

namespace auscult::cli {
namespace {

TEST(Table, AlignsColumnsAndCutsLongCells) {
  Table t({"ID", "NAME", "BYTES"}, {true, false, true});
  t.AddRow({"1", "infusion-pump-7", "123"});
  t.AddRow({"12", "caf\xc3\xa9", "4"});
  t.AddRow({"3", std::string(60, 'x'), "5"});
  const std::string out = t.Render(20);
  EXPECT_EQ(out.substr(0, out.find('\n')), "ID  NAME                  BYTES");
  EXPECT_NE(out.find(" 1  infusion-pump-7         123\n"), std::string::npos) << out;
  // Display columns, not bytes: "café" pads like any four-letter name.
  EXPECT_NE(out.find("12  caf\xc3\xa9" + std::string(16 + 2 + 4, ' ') + "4\n"), std::string::npos) << out;
  EXPECT_NE(out.find(std::string(19, 'x') + "\u2026"), std::string::npos) << out;
}

// Host names and banners come off the wire: an escape sequence in one must not reach the terminal.
TEST(Table, DefusesTerminalControlSequences) {
  Table t({"HOSTNAME"});
  t.AddRow({"pump\x1b]0;pwned\x07\x1b[2J"});
  const std::string out = t.Render();
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
  EXPECT_NE(out.find("pump?]0;pwned??[2J"), std::string::npos) << out;
}

}  // namespace
}  // namespace auscult::cli
