#ifndef AUSCULT_COMMON_TIME_H_
#define AUSCULT_COMMON_TIME_H_

#include <chrono>
#include <cstdint>

namespace auscult {

// Packet and observation times: nanoseconds since the Unix epoch. Capture files carry their own
// clock, so all sensor-side timing (timeouts, windows) runs on packet time, not the wall clock.
using TimeNs = int64_t;

constexpr TimeNs kNanosPerSecond = 1'000'000'000;

inline TimeNs WallClockNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace auscult

#endif  // AUSCULT_COMMON_TIME_H_
