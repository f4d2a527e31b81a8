#ifndef AUSCULT_COMMON_MAC_ADDRESS_H_
#define AUSCULT_COMMON_MAC_ADDRESS_H_

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace auscult {

// An IEEE 802 MAC-48 address. Plain value type: cheap to copy, hash and compare.
struct MacAddress {
  std::array<uint8_t, 6> bytes{};

  static MacAddress FromBytes(const uint8_t* p) {
    MacAddress m;
    std::memcpy(m.bytes.data(), p, 6);
    return m;
  }
  // Accepts "aa:bb:cc:dd:ee:ff" and "aa-bb-cc-dd-ee-ff" (either case).
  static std::optional<MacAddress> Parse(std::string_view text);

  // Lower-case, colon-separated: the canonical form on the wire and in the database.
  std::string ToString() const;

  bool IsZero() const { return bytes == std::array<uint8_t, 6>{}; }
  bool IsBroadcast() const { return bytes == std::array<uint8_t, 6>{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}; }
  // Group bit: multicast or broadcast destination. Never a valid source address.
  bool IsGroup() const { return (bytes[0] & 0x01) != 0; }
  // U/L bit: locally administered, which is how randomized (private) MACs present themselves.
  bool IsLocallyAdministered() const { return (bytes[0] & 0x02) != 0; }
  uint64_t ToU64() const {
    uint64_t v = 0;
    for (uint8_t b : bytes) v = (v << 8) | b;
    return v;
  }

  friend bool operator==(const MacAddress&, const MacAddress&) = default;
  friend auto operator<=>(const MacAddress&, const MacAddress&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const MacAddress& m) {
    return H::combine(std::move(h), m.ToU64());
  }
};

}  // namespace auscult

#endif  // AUSCULT_COMMON_MAC_ADDRESS_H_
