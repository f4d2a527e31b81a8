#ifndef AUSCULT_COMMON_OBSERVATION_LIMITS_H_
#define AUSCULT_COMMON_OBSERVATION_LIMITS_H_

#include <cstddef>

namespace auscult {

// What one device observation may carry. The collector refuses a batch that exceeds them (a
// hostile or broken sensor); the sensor keeps within them, so that one chatty device cannot cost the
// batch that carries everyone else's observations.
inline constexpr int kMaxFactsPerDevice = 256;
inline constexpr size_t kMaxFactValueBytes = 1024;

}  // namespace auscult

#endif  // AUSCULT_COMMON_OBSERVATION_LIMITS_H_
