#include "sensor/capture/capture_file.h"

#include <fcntl.h>
#include <pcap/dlt.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace auscult::sensor {
namespace {

// pcap: 24-byte file header, then per record a 16-byte header and the frame.
//   magic (4) | version major (2) minor (2) | thiszone (4) | sigfigs (4) | snaplen (4) | linktype (4)
//   ts seconds (4) | ts micro- or nanoseconds (4) | captured length (4) | original length (4) | data
constexpr uint32_t kPcapMicro = 0xa1b2c3d4;
constexpr uint32_t kPcapNano = 0xa1b23c4d;
constexpr size_t kPcapFileHeader = 24;
constexpr size_t kPcapRecordHeader = 16;

// pcapng: blocks of | type (4) | total length (4) | body | total length (4) |, lengths multiples of 4.
constexpr uint32_t kSectionHeader = 0x0a0d0d0a;
constexpr uint32_t kInterfaceDescription = 1;
constexpr uint32_t kObsoletePacket = 2;
constexpr uint32_t kSimplePacket = 3;
constexpr uint32_t kEnhancedPacket = 6;
constexpr uint32_t kByteOrderMagic = 0x1a2b3c4d;

constexpr size_t kReadSize = 1 << 20;

uint32_t Le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}
uint32_t Be32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 |
         static_cast<uint32_t>(p[3]);
}

}  // namespace

int DltFromLinkType(uint32_t link_type) {
  switch (link_type) {
    case 101:  // LINKTYPE_RAW
      return DLT_RAW;
    default:  // the others the sensor decodes have the same value in both tables
      return static_cast<int>(link_type);
  }
}

// A small file gets a small buffer (it grows if a record needs more); FIFOs and big files the full one.
CaptureFile::CaptureFile(int fd, std::string path, uint64_t size)
    : fd_(fd), path_(std::move(path)), file_size_(size),
      buf_(size == 0 ? kReadSize : std::min<size_t>(kReadSize, std::max<size_t>(size, 4096))) {}

CaptureFile::~CaptureFile() { close(fd_); }

absl::StatusOr<std::unique_ptr<CaptureFile>> CaptureFile::Open(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(absl::StrCat("capture file ", path, ": ", std::strerror(errno)));
  return FromDescriptor(fd, path);
}

absl::StatusOr<std::unique_ptr<CaptureFile>> CaptureFile::FromDescriptor(int fd, const std::string& path) {
  struct stat st;
  if (fstat(fd, &st) != 0 || (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode))) {
    close(fd);
    return absl::InvalidArgumentError(absl::StrCat("capture file ", path, ": not a regular file"));
  }
  auto file = std::unique_ptr<CaptureFile>(new CaptureFile(fd, path, S_ISREG(st.st_mode) ? st.st_size : 0));
  file->regular_ = S_ISREG(st.st_mode);
  auto have = file->Fill(kPcapFileHeader);
  if (!have.ok()) return have.status();
  if (!*have) return absl::InvalidArgumentError(absl::StrCat("capture file ", path, ": too short to be a capture"));
  const uint8_t* h = file->buf_.data();
  const uint32_t le = Le32(h);
  const uint32_t be = Be32(h);
  if (le == kSectionHeader) {
    file->pcapng_ = true;
    if (auto s = file->ReadSectionHeader(); !s.ok()) return s;
    return file;
  }
  if (le == kPcapMicro || le == kPcapNano) {
    file->swapped_ = false;
    file->nanosecond_ = le == kPcapNano;
  } else if (be == kPcapMicro || be == kPcapNano) {
    file->swapped_ = true;
    file->nanosecond_ = be == kPcapNano;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("capture file ", path,
                                                   ": not a pcap or pcapng file (unknown magic number 0x",
                                                   absl::Hex(be, absl::kZeroPad8), ")"));
  }
  file->pcap_link_type_ = DltFromLinkType(file->U32(h + 20) & 0x0fffffff);  // upper bits: FCS info
  file->link_types_.push_back(file->pcap_link_type_);
  file->pos_ += kPcapFileHeader;
  file->offset_ += kPcapFileHeader;
  return file;
}

uint16_t CaptureFile::U16(const uint8_t* p) const {
  return swapped_ ? static_cast<uint16_t>(p[0] << 8 | p[1]) : static_cast<uint16_t>(p[1] << 8 | p[0]);
}
uint32_t CaptureFile::U32(const uint8_t* p) const { return swapped_ ? Be32(p) : Le32(p); }

absl::Status CaptureFile::Corrupt(const std::string& what) const {
  return absl::DataLossError(absl::StrCat("capture file ", path_, ": ", what, " at byte ", offset_));
}

absl::StatusOr<bool> CaptureFile::Fill(size_t n) {
  while (end_ - pos_ < n) {
    if (eof_) return false;
    if (pos_ > 0) {  // keep what is left at the front
      std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
      end_ -= pos_;
      pos_ = 0;
    }
    if (buf_.size() < n) buf_.resize(n);
    if (wait_hook_ && !regular_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 0) == 0) wait_hook_();
    }
    const ssize_t r = read(fd_, buf_.data() + end_, buf_.size() - end_);
    if (r < 0) {
      if (errno == EINTR) continue;
      return absl::DataLossError(absl::StrCat("capture file ", path_, ": ", std::strerror(errno)));
    }
    if (r == 0) eof_ = true;
    end_ += static_cast<size_t>(r);
  }
  return true;
}

absl::StatusOr<PacketSource::ReadResult> CaptureFile::Next(RawFrame& frame) {
  return pcapng_ ? NextPcapng(frame) : NextPcap(frame);
}

absl::StatusOr<PacketSource::ReadResult> CaptureFile::NextPcap(RawFrame& frame) {
  auto have = Fill(kPcapRecordHeader);
  if (!have.ok()) return have.status();
  if (!*have) {
    if (end_ != pos_) return Corrupt(absl::StrCat("record header cut off after ", end_ - pos_, " bytes"));
    return ReadResult::kEnd;
  }
  const uint8_t* h = buf_.data() + pos_;
  const uint32_t seconds = U32(h);
  const uint32_t fraction = U32(h + 4);
  const uint32_t captured = U32(h + 8);
  const uint32_t original = U32(h + 12);
  if (captured > kMaxFrameBytes) return Corrupt(absl::StrCat("record claims ", captured, " captured bytes"));
  if (fraction >= (nanosecond_ ? 1000000000u : 1000000u)) return Corrupt("record timestamp fraction out of range");
  have = Fill(kPcapRecordHeader + captured);
  if (!have.ok()) return have.status();
  if (!*have) return Corrupt(absl::StrCat("record of ", captured, " bytes cut off"));
  frame.data = buf_.data() + pos_ + kPcapRecordHeader;
  frame.captured_length = captured;
  frame.wire_length = original < captured ? captured : original;
  frame.timestamp =
      static_cast<TimeNs>(seconds) * kNanosPerSecond + (nanosecond_ ? fraction : static_cast<TimeNs>(fraction) * 1000);
  frame.link_type = pcap_link_type_;
  pos_ += kPcapRecordHeader + captured;
  offset_ += kPcapRecordHeader + captured;
  return ReadResult::kFrame;
}

absl::Status CaptureFile::ReadSectionHeader() {
  // | type | total length | byte-order magic | major | minor | section length (8) | options | length |
  auto have = Fill(12);
  if (!have.ok()) return have.status();
  if (!*have) return Corrupt("section header cut off");
  const uint8_t* h = buf_.data() + pos_;
  if (Le32(h + 8) == kByteOrderMagic) {
    swapped_ = false;
  } else if (Be32(h + 8) == kByteOrderMagic) {
    swapped_ = true;
  } else {
    return Corrupt("section header without a byte-order magic");
  }
  const uint32_t length = U32(h + 4);
  if (length < 28 || length % 4 != 0 || length > kMaxBlockBytes) {
    return Corrupt(absl::StrCat("section header of impossible length ", length));
  }
  have = Fill(length);
  if (!have.ok()) return have.status();
  if (!*have) return Corrupt("section header cut off");
  if (U16(buf_.data() + pos_ + 12) != 1) {
    return Corrupt(absl::StrCat("pcapng major version ", U16(buf_.data() + pos_ + 12), " (only 1 exists)"));
  }
  interfaces_.clear();  // interface ids restart in every section
  pos_ += length;
  offset_ += length;
  return absl::OkStatus();
}

absl::Status CaptureFile::ReadInterface(const uint8_t* body, uint32_t length) {
  // | link type (2) | reserved (2) | snap length (4) | options: code (2) length (2) value, padded |
  if (length < 8) return Corrupt("interface description too short");
  Interface i;
  i.link_type = DltFromLinkType(U16(body));
  i.snap_length = U32(body + 4);
  for (uint32_t off = 8; off + 4 <= length;) {
    const uint16_t code = U16(body + off);
    const uint16_t size = U16(body + off + 2);
    if (code == 0) break;  // opt_endofopt
    if (off + 4 + size > length) return Corrupt("interface option runs past its block");
    const uint8_t* v = body + off + 4;
    if (code == 9 && size >= 1) {  // if_tsresol: 10^-n, or 2^-n when the top bit is set
      i.binary_resolution = (v[0] & 0x80) != 0;
      i.resolution_exponent = v[0] & 0x7f;
      if ((!i.binary_resolution && i.resolution_exponent > 18) || (i.binary_resolution && i.resolution_exponent > 62)) {
        return Corrupt(absl::StrCat("timestamp resolution exponent ", i.resolution_exponent));
      }
    } else if (code == 14 && size >= 8) {  // if_tsoffset: seconds to add
      const uint64_t hi = U32(v);
      const uint64_t lo = U32(v + 4);
      i.offset_seconds = static_cast<int64_t>(swapped_ ? (hi << 32 | lo) : (lo << 32 | hi));
    }
    off += 4 + ((size + 3u) & ~3u);
  }
  interfaces_.push_back(i);
  link_types_.push_back(i.link_type);
  return absl::OkStatus();
}

TimeNs CaptureFile::PcapngTime(const Interface& i, uint64_t ticks) const {
  // Ticks to nanoseconds without overflow; times outside 1970-2100 are refused downstream.
  unsigned __int128 ns;
  if (i.binary_resolution) {
    ns = (static_cast<unsigned __int128>(ticks) * 1000000000u) >> i.resolution_exponent;
  } else if (i.resolution_exponent <= 9) {
    unsigned __int128 scale = 1;
    for (int k = i.resolution_exponent; k < 9; ++k) scale *= 10;
    ns = static_cast<unsigned __int128>(ticks) * scale;
  } else {
    uint64_t scale = 1;
    for (int k = 9; k < i.resolution_exponent; ++k) scale *= 10;
    ns = ticks / scale;
  }
  const unsigned __int128 limit = static_cast<unsigned __int128>(INT64_MAX);
  TimeNs t = ns > limit ? INT64_MAX : static_cast<TimeNs>(ns);
  if (i.offset_seconds != 0) {
    const __int128 shifted = static_cast<__int128>(t) + static_cast<__int128>(i.offset_seconds) * kNanosPerSecond;
    t = shifted > INT64_MAX ? INT64_MAX : shifted < INT64_MIN ? INT64_MIN : static_cast<TimeNs>(shifted);
  }
  return t;
}

absl::StatusOr<PacketSource::ReadResult> CaptureFile::NextPcapng(RawFrame& frame) {
  for (;;) {
    auto have = Fill(8);
    if (!have.ok()) return have.status();
    if (!*have) {
      if (end_ != pos_) return Corrupt(absl::StrCat("block header cut off after ", end_ - pos_, " bytes"));
      return ReadResult::kEnd;
    }
    const uint8_t* h = buf_.data() + pos_;
    if (Le32(h) == kSectionHeader) {  // a new section, possibly in the other byte order
      if (auto s = ReadSectionHeader(); !s.ok()) return s;
      continue;
    }
    const uint32_t type = U32(h);
    const uint32_t length = U32(h + 4);
    if (length < 12 || length % 4 != 0 || length > kMaxBlockBytes) {
      return Corrupt(absl::StrCat("block of impossible length ", length));
    }
    have = Fill(length);
    if (!have.ok()) return have.status();
    if (!*have) return Corrupt(absl::StrCat("block of ", length, " bytes cut off"));
    const uint8_t* b = buf_.data() + pos_ + 8;  // body
    const uint32_t body = length - 12;
    if (U32(b + body) != length) return Corrupt("block lengths at its start and end differ");
    const uint64_t block_offset = offset_;
    pos_ += length;
    offset_ += length;

    uint32_t interface = 0;
    uint64_t ticks = 0;
    uint32_t captured = 0;
    uint32_t original = 0;
    const uint8_t* data = nullptr;
    switch (type) {
      case kInterfaceDescription:
        if (auto s = ReadInterface(b, body); !s.ok()) return s;
        continue;
      case kEnhancedPacket:  // | interface (4) | ts high (4) | ts low (4) | captured (4) | original (4) | data |
      case kObsoletePacket:  // | interface (2) | drops (2) | ts high | ts low | captured | original | data |
        if (body < 20) return Corrupt("packet block too short");
        interface = type == kEnhancedPacket ? U32(b) : U16(b);
        ticks = static_cast<uint64_t>(U32(b + 4)) << 32 | U32(b + 8);
        captured = U32(b + 12);
        original = U32(b + 16);
        data = b + 20;
        if (captured > body - 20) return Corrupt("packet data runs past its block");
        break;
      case kSimplePacket: {  // | original length (4) | data |: interface 0, no timestamp
        if (body < 4) return Corrupt("simple packet block too short");
        original = U32(b);
        captured = std::min(original, body - 4);
        if (!interfaces_.empty() && interfaces_[0].snap_length != 0) {
          captured = std::min(captured, interfaces_[0].snap_length);
        }
        data = b + 4;
        break;
      }
      default:  // name resolution, statistics, decryption secrets, custom blocks: not needed
        continue;
    }
    if (interface >= interfaces_.size()) {
      offset_ = block_offset;
      return Corrupt(absl::StrCat("packet for interface ", interface, " of ", interfaces_.size()));
    }
    if (captured > kMaxFrameBytes) {
      offset_ = block_offset;
      return Corrupt(absl::StrCat("packet claims ", captured, " captured bytes"));
    }
    const Interface& i = interfaces_[interface];
    frame.data = data;
    frame.captured_length = captured;
    frame.wire_length = original < captured ? captured : original;
    frame.timestamp = type == kSimplePacket ? 0 : PcapngTime(i, ticks);
    frame.link_type = i.link_type;
    return ReadResult::kFrame;
  }
}

}  // namespace auscult::sensor
