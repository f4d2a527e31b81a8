#include "sensor/capture/live_capture.h"

#include <poll.h>

#include <algorithm>
#include <climits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sensor/decode/decoder.h"

namespace auscult::sensor {

absl::StatusOr<std::unique_ptr<LiveCapture>> LiveCapture::Open(const std::vector<std::string>& interfaces,
                                                               const LiveCaptureOptions& options) {
  auto capture = std::unique_ptr<LiveCapture>(new LiveCapture());
  capture->timeout_ms_ = options.timeout_ms;
  for (const std::string& name : interfaces) {
    if (auto s = capture->Add(name, options); !s.ok()) return s;
  }
  capture->name_ = absl::StrJoin(interfaces, ",");
  for (const Interface& i : capture->interfaces_) capture->poll_fds_.push_back({i.fd, POLLIN, 0});
  return capture;
}

LiveCapture::~LiveCapture() {
  for (Interface& i : interfaces_) pcap_close(i.handle);
}

absl::Status LiveCapture::Add(const std::string& interface, const LiveCaptureOptions& options) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_create(interface.c_str(), err);
  if (p == nullptr) return absl::InvalidArgumentError(absl::StrCat("interface ", interface, ": ", err));
  Interface i;
  i.handle = p;
  i.name = interface;
  interfaces_.push_back(i);  // closed by the destructor from here on
  pcap_set_snaplen(p, options.snap_length);
  pcap_set_promisc(p, options.promiscuous ? 1 : 0);
  pcap_set_timeout(p, options.timeout_ms);
  pcap_set_immediate_mode(p, 1);
  // libpcap takes the size as an int: --buffer_mb stops below 2 GiB.
  pcap_set_buffer_size(p, static_cast<int>(std::min<int64_t>(int64_t{options.buffer_size_mb} << 20, INT_MAX)));
  pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);  // falls back to micro where unsupported
  const int rc = pcap_activate(p);
  if (rc < 0) {
    const std::string why = rc == PCAP_ERROR_PERM_DENIED
                                ? "permission denied (run as root or grant cap_net_raw,cap_net_admin)"
                                : absl::StrCat(pcap_statustostr(rc), ": ", pcap_geterr(p));
    return absl::InvalidArgumentError(absl::StrCat("interface ", interface, ": ", why));
  }
  Interface& added = interfaces_.back();
  added.link_type = pcap_datalink(p);
  added.nanosecond = pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
  if (!IsSupportedLinkType(added.link_type)) {
    const char* dlt = pcap_datalink_val_to_name(added.link_type);
    return absl::InvalidArgumentError(absl::StrCat("interface ", interface, ": link type ", added.link_type, " (",
                                                   dlt ? dlt : "unknown", ") is not supported"));
  }
  if (!options.bpf.empty()) {
    struct bpf_program program;
    if (pcap_compile(p, &program, options.bpf.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("--bpf='", options.bpf, "': ", pcap_geterr(p)));
    }
    const int set = pcap_setfilter(p, &program);
    pcap_freecode(&program);
    if (set != 0) return absl::InvalidArgumentError(absl::StrCat("--bpf on ", interface, ": ", pcap_geterr(p)));
  }
  // Libpcap's own read timeout never fires on an idle Linux interface (TPACKET_V3 wakes only when a
  // block fills or retires), so the sensor would not notice time passing or a stop signal. Read
  // without blocking and wait in poll() with a timeout of our own instead.
  added.fd = pcap_get_selectable_fd(p);
  if (added.fd < 0 || pcap_setnonblock(p, 1, err) != 0) {
    return absl::InternalError(absl::StrCat("interface ", interface, ": cannot read without blocking: ", err));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> LiveCapture::TryRead(Interface& i, RawFrame& frame) {
  struct pcap_pkthdr* header;
  const u_char* data;
  const int rc = pcap_next_ex(i.handle, &header, &data);
  if (rc == 0) return false;
  if (rc != 1) {
    return absl::UnavailableError(absl::StrCat("interface ", i.name, ": ", pcap_geterr(i.handle)));
  }
  frame.data = data;
  frame.captured_length = header->caplen;
  frame.wire_length = header->len < header->caplen ? header->caplen : header->len;
  const int64_t sub = header->ts.tv_usec;
  frame.timestamp = static_cast<TimeNs>(header->ts.tv_sec) * kNanosPerSecond + (i.nanosecond ? sub : sub * 1000);
  frame.link_type = i.link_type;
  return true;
}

absl::StatusOr<PacketSource::ReadResult> LiveCapture::Next(RawFrame& frame) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    for (size_t k = 0; k < interfaces_.size(); ++k) {
      Interface& i = interfaces_[(next_ + k) % interfaces_.size()];
      auto got = TryRead(i, frame);
      if (!got.ok()) return got.status();
      if (*got) {
        next_ = (next_ + k + 1) % interfaces_.size();
        return ReadResult::kFrame;
      }
    }
    if (attempt == 1) break;
    // Nothing buffered anywhere: wait for any interface, or for the timeout (a signal also ends it).
    if (poll(poll_fds_.data(), poll_fds_.size(), timeout_ms_) <= 0) return ReadResult::kTimeout;
  }
  return ReadResult::kTimeout;
}

CaptureDrops LiveCapture::Drops() const {
  CaptureDrops d;
  for (const Interface& i : interfaces_) {
    struct pcap_stat st;
    if (pcap_stats(i.handle, &st) == 0) {
      d.kernel += st.ps_drop;
      d.interface += st.ps_ifdrop;
    }
  }
  return d;
}

}  // namespace auscult::sensor
