#include "collector/store/pg_array.h"

#include <gtest/gtest.h>

namespace auscult::collector {
namespace {

// The literal's syntax (PostgreSQL arrays, section 8.15.6): quoted elements, backslash escapes.
// That PostgreSQL reads these back unchanged is checked against a real server in the e2e tests.
TEST(PgArray, QuotesEveryTextElement) {
  PgArray a;
  a.Add("plain");
  a.Add("with \"quotes\" and \\backslash\\");
  a.Add("{braces},commas");
  a.Add("");
  EXPECT_EQ(a.str(), R"({"plain","with \"quotes\" and \\backslash\\","{braces},commas",""})");
  EXPECT_EQ(a.size(), 4u);
}

TEST(PgArray, NumbersAndBooleans) {
  PgArray ints, bools;
  ints.Add(int64_t{-5});
  ints.Add(int64_t{9223372036854775807});
  bools.Add(true);
  bools.Add(false);
  EXPECT_EQ(ints.str(), "{-5,9223372036854775807}");
  EXPECT_EQ(bools.str(), "{t,f}");
  EXPECT_EQ(PgArray().str(), "{}");
}

}  // namespace
}  // namespace auscult::collector
