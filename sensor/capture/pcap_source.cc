#include "sensor/capture/pcap_source.h"

#include <poll.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "sensor/decode/decoder.h"

namespace auscult::sensor {

PcapSource::PcapSource(pcap_t* handle, std::string name, bool is_file)
    : handle_(handle),
      name_(std::move(name)),
      is_file_(is_file),
      link_type_(pcap_datalink(handle)),
      nanosecond_(pcap_get_tstamp_precision(handle) == PCAP_TSTAMP_PRECISION_NANO) {}

PcapSource::~PcapSource() { pcap_close(handle_); }

absl::StatusOr<std::unique_ptr<PcapSource>> PcapSource::OpenFile(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("capture file ", path, ": ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat("capture file ", path, ": not a regular file"));
  }
  char err[PCAP_ERRBUF_SIZE] = {};
  // Ask for nanoseconds: libpcap scales microsecond files up, so both kinds read the same way.
  pcap_t* p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  if (p == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("capture file ", path, ": ", err));
  }
  auto source = std::unique_ptr<PcapSource>(new PcapSource(p, path, /*is_file=*/true));
  source->file_size_ = static_cast<uint64_t>(st.st_size);
  if (!IsSupportedLinkType(source->link_type_)) {
    const char* dlt = pcap_datalink_val_to_name(source->link_type_);
    return absl::InvalidArgumentError(absl::StrCat("capture file ", path, ": link type ", source->link_type_, " (",
                                                   dlt ? dlt : "unknown", ") is not supported"));
  }
  return source;
}

absl::StatusOr<std::unique_ptr<PcapSource>> PcapSource::OpenLive(const std::string& interface,
                                                                 const LiveCaptureOptions& options) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_create(interface.c_str(), err);
  if (p == nullptr) return absl::InvalidArgumentError(absl::StrCat("interface ", interface, ": ", err));
  pcap_set_snaplen(p, options.snap_length);
  pcap_set_promisc(p, options.promiscuous ? 1 : 0);
  pcap_set_timeout(p, options.timeout_ms);
  pcap_set_immediate_mode(p, 1);
  // libpcap takes the size as an int: --buffer_mb stops below 2 GiB.
  pcap_set_buffer_size(p, static_cast<int>(std::min<int64_t>(int64_t{options.buffer_size_mb} << 20, INT32_MAX)));
  pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);  // falls back to micro where unsupported
  const int rc = pcap_activate(p);
  if (rc < 0) {
    std::string why = rc == PCAP_ERROR_PERM_DENIED
                          ? "permission denied (run as root or grant cap_net_raw,cap_net_admin)"
                          : absl::StrCat(pcap_statustostr(rc), ": ", pcap_geterr(p));
    pcap_close(p);
    return absl::InvalidArgumentError(absl::StrCat("interface ", interface, ": ", why));
  }
  auto source = std::unique_ptr<PcapSource>(new PcapSource(p, interface, /*is_file=*/false));
  // Libpcap's own read timeout never fires on an idle Linux interface (TPACKET_V3 wakes only when a
  // block fills or retires), so the sensor would not notice time passing or a stop signal. Read
  // without blocking and wait in poll() with a timeout of our own instead.
  source->timeout_ms_ = options.timeout_ms;
  source->selectable_fd_ = pcap_get_selectable_fd(p);
  if (source->selectable_fd_ < 0 || pcap_setnonblock(p, 1, err) != 0) {
    return absl::InternalError(absl::StrCat("interface ", interface, ": cannot read without blocking: ", err));
  }
  if (!IsSupportedLinkType(source->link_type_)) {
    const char* dlt = pcap_datalink_val_to_name(source->link_type_);
    return absl::InvalidArgumentError(absl::StrCat("interface ", interface, ": link type ", source->link_type_, " (",
                                                   dlt ? dlt : "unknown", ") is not supported"));
  }
  return source;
}

absl::StatusOr<PcapSource::ReadResult> PcapSource::Next(RawFrame& frame) {
  struct pcap_pkthdr* header;
  const u_char* data;
  int rc = pcap_next_ex(handle_, &header, &data);
  if (rc == 0 && selectable_fd_ >= 0) {
    // Nothing buffered: wait for the interface, or for the timeout (a signal also ends the wait).
    struct pollfd pfd = {selectable_fd_, POLLIN, 0};
    if (poll(&pfd, 1, timeout_ms_) <= 0) return ReadResult::kTimeout;
    rc = pcap_next_ex(handle_, &header, &data);
  }
  if (rc == 1) {
    frame.data = data;
    frame.captured_length = header->caplen;
    frame.wire_length = header->len < header->caplen ? header->caplen : header->len;
    const int64_t sub = header->ts.tv_usec;
    frame.timestamp = static_cast<TimeNs>(header->ts.tv_sec) * kNanosPerSecond + (nanosecond_ ? sub : sub * 1000);
    frame.link_type = link_type_;
    return ReadResult::kFrame;
  }
  if (rc == 0) return ReadResult::kTimeout;
  if (rc == PCAP_ERROR_BREAK) return ReadResult::kEnd;
  return absl::DataLossError(
      absl::StrCat(is_file_ ? "capture file " : "interface ", name_, ": ", pcap_geterr(handle_)));
}

uint64_t PcapSource::bytes_read() const {
  if (!is_file_) return 0;
  FILE* f = pcap_file(handle_);
  if (f == nullptr) return 0;
  const long pos = std::ftell(f);
  return pos < 0 ? 0 : static_cast<uint64_t>(pos);
}

CaptureDrops PcapSource::Drops() const {
  CaptureDrops d;
  if (is_file_) return d;
  struct pcap_stat st;
  if (pcap_stats(handle_, &st) == 0) {
    d.kernel = st.ps_drop;
    d.interface = st.ps_ifdrop;
  }
  return d;
}

}  // namespace auscult::sensor
