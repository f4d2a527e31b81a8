#ifndef AUSCULT_SENSOR_CAPTURE_RAW_FRAME_H_
#define AUSCULT_SENSOR_CAPTURE_RAW_FRAME_H_

#include <cstdint>

#include "common/time.h"

namespace auscult::sensor {

// One captured frame as libpcap hands it over. Non-owning: the bytes are valid until the next read
// from the same source.
struct RawFrame {
  const uint8_t* data = nullptr;
  uint32_t captured_length = 0;  // bytes available at data (may be cut by the snap length)
  uint32_t wire_length = 0;      // length of the frame on the wire
  TimeNs timestamp = 0;
  int link_type = 0;  // DLT_* of the source
};

}  // namespace auscult::sensor

#endif  // AUSCULT_SENSOR_CAPTURE_RAW_FRAME_H_
