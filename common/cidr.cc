#include "common/cidr.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace auscult {

Cidr Cidr::Of(const IpAddress& address, uint8_t prefix_length) {
  Cidr c;
  c.network = address;
  const int bits = address.IsV4() ? 32 : 128;
  c.prefix_length = static_cast<uint8_t>(std::min<int>(prefix_length, bits));
  for (int bit = c.prefix_length; bit < bits; ++bit) c.network.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  return c;
}

std::optional<Cidr> Cidr::Parse(std::string_view text) {
  const size_t slash = text.find('/');
  const auto address = IpAddress::Parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  const int bits = address->IsV4() ? 32 : 128;
  int length = bits;
  if (slash != std::string_view::npos &&
      (!absl::SimpleAtoi(AsAbsl(text.substr(slash + 1)), &length) || length < 0 || length > bits)) {
    return std::nullopt;
  }
  return Of(*address, static_cast<uint8_t>(length));
}

bool Cidr::Contains(const IpAddress& address) const {
  if (address.version != network.version) return false;
  return Of(address, prefix_length).network == network;
}

std::string Cidr::ToString() const { return absl::StrCat(network.ToString(), "/", prefix_length); }

}  // namespace auscult
