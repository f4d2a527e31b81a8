#include "common/logging.h"

#include <gtest/gtest.h>

namespace auscult {
namespace {

TEST(LogLimiter, LetsABurstThroughThenOneAnIntervalAndCountsTheRest) {
  LogLimiter limiter(3, absl::Milliseconds(200));
  uint64_t held = 99;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(limiter.Allow(held)) << i;
    EXPECT_EQ(held, 0u);
  }
  for (int i = 0; i < 7; ++i) EXPECT_FALSE(limiter.Allow(held)) << i;
  absl::SleepFor(absl::Milliseconds(250));  // one line's worth back
  ASSERT_TRUE(limiter.Allow(held));
  EXPECT_EQ(held, 7u) << "the next line that passes says how many were left out";
  EXPECT_FALSE(limiter.Allow(held));
}

TEST(Logging, RefusesAnUnknownFormatOrLevel) {
  EXPECT_FALSE(InitLogging("t", "info", "xml").ok());
  EXPECT_FALSE(InitLogging("t2", "loud", "text").ok());
}

}  // namespace
}  // namespace auscult
