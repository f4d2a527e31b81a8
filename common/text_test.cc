#include "common/text.h"

#include <gtest/gtest.h>

#include <fstream>

namespace auscult {
namespace {

TEST(Text, ToValidUtf8KeepsGoodTextAndReplacesBadBytes) {
  EXPECT_EQ(ToValidUtf8("caf\xc3\xa9 \xe2\x82\xac"), "caf\xc3\xa9 \xe2\x82\xac");
  EXPECT_EQ(ToValidUtf8("caf\xe9.pcap"), "caf\xef\xbf\xbd.pcap");          // Latin-1 file name
  EXPECT_EQ(ToValidUtf8("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");           // overlong '/'
  EXPECT_EQ(ToValidUtf8("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // surrogate
  EXPECT_EQ(ToValidUtf8("end \xe2\x82"), "end \xef\xbf\xbd\xef\xbf\xbd");   // cut sequence
}

TEST(Text, PrintableDefusesTerminalControls) {
  EXPECT_EQ(Printable("pump\x1b]0;owned\x07"), "pump?]0;owned?");
  EXPECT_EQ(Printable("a\nb\tc"), "a?b?c");
  EXPECT_EQ(Printable("csi \xc2\x9b" "2J"), "csi ?2J");
  EXPECT_EQ(Printable("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(Printable("abcdef", 3), "abc\xe2\x80\xa6");
  EXPECT_EQ(Printable("abc", 3), "abc");
}

TEST(Text, FactValueIsStorable) {
  EXPECT_EQ(FactValue(std::string("pump-7\0\0", 8), 1024), "pump-7");
  EXPECT_EQ(FactValue("ok\xff", 1024), "ok\xef\xbf\xbd");
  // Cut at a character boundary: "é" is two bytes and does not fit in 4.
  EXPECT_EQ(FactValue("caf\xc3\xa9", 4), "caf");
  EXPECT_EQ(FactValue("caf\xc3\xa9", 5), "caf\xc3\xa9");
  EXPECT_EQ(FactValue(std::string(5000, 'x'), 1024).size(), 1024u);
  EXPECT_EQ(FactValue("", 10), "");
}

}  // namespace
}  // namespace auscult

namespace auscult {
namespace {

TEST(Text, ControlCharacters) {
  EXPECT_FALSE(HasControlCharacter("ICU 3, bed 12 — Süd"));
  EXPECT_TRUE(HasControlCharacter("a\tb"));
  EXPECT_TRUE(HasControlCharacter(std::string("a\0b", 3)));
  EXPECT_TRUE(HasControlCharacter("\x7f"));
}

TEST(Text, ReadFileAtMost) {
  const std::string path = ::testing::TempDir() + "auscult_read_at_most.txt";
  std::ofstream(path) << "0123456789";
  EXPECT_EQ(*ReadFileAtMost(path, 10, "test file"), "0123456789");
  const auto big = ReadFileAtMost(path, 9, "test file");
  ASSERT_FALSE(big.ok());
  EXPECT_NE(std::string(big.status().message()).find("larger than 9 bytes"), std::string::npos);
  const auto missing = ReadFileAtMost(path + ".none", 10, "test file");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(std::string(missing.status().message()).find("cannot read test file"), std::string::npos);
}

}  // namespace
}  // namespace auscult
