#include "common/metrics.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/host_port.h"
#include "common/logging.h"

namespace auscult {
namespace {

// Counters print as integers (a double prints 12345678 as 1.23457e+07 otherwise).
std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) return absl::StrCat(static_cast<int64_t>(v));
  // The shortest text that reads back as the same double (0.1, not 0.10000000000000001).
  char buf[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

constexpr size_t kMaxRequestBytes = 8192;

int RemainingMs(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 60000));
}

// Writes all of `data` before `deadline`; false if the client stopped taking it.
bool WriteAll(int fd, std::string_view data, absl::Time deadline) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      const int ms = RemainingMs(deadline);
      if (ms == 0 || poll(&p, 1, ms) <= 0) return false;
      continue;
    }
    return false;
  }
  return true;
}

std::string Response(std::string_view status, std::string_view content_type, std::string_view body, bool head) {
  std::string out = absl::StrCat("HTTP/1.1 ", AsAbsl(status), "\r\nContent-Type: ", AsAbsl(content_type),
                                 "\r\nContent-Length: ", body.size(), "\r\nConnection: close\r\n\r\n");
  if (!head) out.append(body);
  return out;
}

}  // namespace

void MetricsText::Family(std::string_view name, std::string_view type, std::string_view help) {
  absl::StrAppend(&text_, "# HELP ", AsAbsl(name), " ");
  for (char c : help) {  // HELP text escapes backslash and newline
    if (c == '\\') {
      text_ += "\\\\";
    } else if (c == '\n') {
      text_ += "\\n";
    } else {
      text_ += c;
    }
  }
  absl::StrAppend(&text_, "\n# TYPE ", AsAbsl(name), " ", AsAbsl(type), "\n");
}

void MetricsText::Sample(std::string_view name, double value, const Labels& labels) {
  text_.append(name);
  if (!labels.empty()) {
    text_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) text_ += ',';
      absl::StrAppend(&text_, AsAbsl(labels[i].first), "=\"", EscapeLabelValue(labels[i].second), "\"");
    }
    text_ += '}';
  }
  absl::StrAppend(&text_, " ", FormatValue(value), "\n");
}

void MetricsText::Counter(std::string_view name, std::string_view help, double value, const Labels& labels) {
  Family(name, "counter", help);
  Sample(name, value, labels);
}

void MetricsText::Gauge(std::string_view name, std::string_view help, double value, const Labels& labels) {
  Family(name, "gauge", help);
  Sample(name, value, labels);
}

std::string MetricsText::EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

LatencyHistogram::LatencyHistogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

void LatencyHistogram::Observe(absl::Duration d) {
  const double seconds = absl::ToDoubleSeconds(d);
  const size_t bucket =
      static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), seconds) - bounds_.begin());
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(static_cast<uint64_t>(std::max<int64_t>(0, absl::ToInt64Microseconds(d))),
                    std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

void LatencyHistogram::Write(MetricsText& out, std::string_view name, std::string_view help) const {
  out.Family(name, "histogram", help);
  const std::string bucket = absl::StrCat(AsAbsl(name), "_bucket");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    const std::string le = FormatValue(bounds_[i]);
    out.Sample(bucket, static_cast<double>(cumulative), {{"le", le}});
  }
  cumulative += counts_[bounds_.size()].load(std::memory_order_relaxed);
  out.Sample(bucket, static_cast<double>(cumulative), {{"le", "+Inf"}});
  out.Sample(absl::StrCat(AsAbsl(name), "_sum"), static_cast<double>(sum_us_.load(std::memory_order_relaxed)) / 1e6);
  // The count is the +Inf bucket's, read once, so that the page is consistent with itself.
  out.Sample(absl::StrCat(AsAbsl(name), "_count"), static_cast<double>(cumulative));
}

absl::StatusOr<HttpRequestLine> ParseHttpRequestLine(std::string_view line) {
  if (line.size() > kMaxRequestBytes) return absl::InvalidArgumentError("request line too long");
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return absl::InvalidArgumentError("no target in the request line");
  const size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return absl::InvalidArgumentError("no version in the request line");
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (method.empty() || method.size() > 16 ||
      !std::all_of(method.begin(), method.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return absl::InvalidArgumentError("bad method");
  }
  if (target.empty() || target[0] != '/' ||
      !std::all_of(target.begin(), target.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
    return absl::InvalidArgumentError("bad request target");
  }
  if (version != "HTTP/1.0" && version != "HTTP/1.1") return absl::InvalidArgumentError("not HTTP/1.x");
  HttpRequestLine out;
  out.method = std::string(method);
  out.path = std::string(target.substr(0, target.find('?')));
  return out;
}

std::string AnswerMetricsRequest(std::string_view head, const MetricsRender& render, bool* bad) {
  *bad = false;
  const absl::StatusOr<HttpRequestLine> line = ParseHttpRequestLine(head.substr(0, head.find("\r\n")));
  if (!line.ok()) {
    *bad = true;
    return Response("400 Bad Request", "text/plain; charset=utf-8", std::string(AsStd(line.status().message())) + "\n",
                    false);
  }
  const bool head_only = line->method == "HEAD";
  if (line->method != "GET" && !head_only) {
    return Response("405 Method Not Allowed", "text/plain; charset=utf-8", "only GET\n", false);
  }
  if (line->path == "/metrics")
    return Response("200 OK", "text/plain; version=0.0.4; charset=utf-8", render(), head_only);
  if (line->path == "/healthz") return Response("200 OK", "text/plain; charset=utf-8", "ok\n", head_only);
  return Response("404 Not Found", "text/plain; charset=utf-8", "not found: try /metrics\n", false);
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& listen, std::string_view flag,
                                                                    Render render, MetricsServerOptions options) {
  absl::StatusOr<HostPort> hp = ParseHostPort(listen, flag);
  if (!hp.ok()) return hp.status();
  if (hp->host.rfind("unix:", 0) == 0 || listen.rfind("unix:", 0) == 0) {
    return absl::InvalidArgumentError(absl::StrCat("--", AsAbsl(flag), ": a TCP HOST:PORT, not a unix socket"));
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = absl::StrCat(hp->port);
  if (const int rc = getaddrinfo(hp->host.empty() ? nullptr : hp->host.c_str(), port.c_str(), &hints, &found);
      rc != 0) {
    return absl::InvalidArgumentError(absl::StrCat("--", AsAbsl(flag), ": ", listen, ": ", gai_strerror(rc)));
  }
  int fd = -1;
  std::string error = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      error = std::strerror(errno);
      continue;
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 16) == 0) break;
    error = std::strerror(errno);
    close(fd);
    fd = -1;
  }
  freeaddrinfo(found);
  if (fd < 0)
    return absl::UnavailableError(absl::StrCat("--", AsAbsl(flag), ": cannot listen on ", listen, ": ", error));
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  const int bound_port = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                                     : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  int wake[2];
  if (pipe2(wake, O_CLOEXEC) != 0) {
    close(fd);
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  return std::unique_ptr<MetricsServer>(
      new MetricsServer(fd, wake[0], wake[1], bound_port, std::move(render), options));
}

MetricsServer::MetricsServer(int listen_fd, int wake_read, int wake_write, int port, Render render,
                             MetricsServerOptions options)
    : listen_fd_(listen_fd),
      wake_read_(wake_read),
      wake_write_(wake_write),
      port_(port),
      render_(std::move(render)),
      options_(options),
      thread_([this] { Serve(); }) {}

MetricsServer::~MetricsServer() {
  const char byte = 0;
  while (write(wake_write_, &byte, 1) < 0 && errno == EINTR) {
  }
  thread_.join();
  close(listen_fd_);
  close(wake_read_);
  close(wake_write_);
}

void MetricsServer::Serve() {
  while (true) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_read_, POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[1].revents != 0) return;
    if ((p[0].revents & POLLIN) == 0) continue;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) continue;  // the client went away meanwhile, or out of descriptors for a moment
    Handle(fd);
    close(fd);
  }
}

void MetricsServer::Handle(int fd) {
  // Read up to the end of the headers (a GET has no body), within the size and time allowed.
  std::string request;
  const absl::Time read_deadline = absl::Now() + options_.read_timeout;
  const absl::Time write_deadline = read_deadline + options_.write_timeout;
  size_t end = std::string::npos;
  std::string_view status;
  while (true) {
    end = request.find("\r\n\r\n");
    if (end != std::string::npos) break;
    if (request.size() >= kMaxRequestBytes) {
      status = "431 Request Header Fields Too Large";
      break;
    }
    pollfd p{fd, POLLIN, 0};
    const int ms = RemainingMs(read_deadline);
    if (ms == 0 || poll(&p, 1, ms) <= 0) {
      status = "408 Request Timeout";
      break;
    }
    char buf[2048];
    const ssize_t n = recv(fd, buf, std::min(sizeof buf, kMaxRequestBytes - request.size()), 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {  // closed before a whole request: nothing to answer
      ++bad_requests_;
      return;
    }
    request.append(buf, static_cast<size_t>(n));
  }
  std::string response;
  if (!status.empty()) {
    ++bad_requests_;
    response = Response(status, "text/plain; charset=utf-8", absl::StrCat(AsAbsl(status), "\n"), false);
  } else {
    bool bad = false;
    response = AnswerMetricsRequest(std::string_view(request).substr(0, end), render_, &bad);
    if (bad) {
      ++bad_requests_;
    } else if (response.rfind("HTTP/1.1 200", 0) == 0) {
      ++requests_;
    }
  }
  if (!WriteAll(fd, response, write_deadline)) return;
  // Close gently: unread bytes at close() would reset the connection, and a client may then lose
  // the answer. Say we are done, and take what the client still sends for a moment.
  shutdown(fd, SHUT_WR);
  const absl::Time drain_deadline = absl::Now() + absl::Milliseconds(200);
  for (size_t drained = 0; drained < 65536;) {
    pollfd p{fd, POLLIN, 0};
    const int ms = RemainingMs(drain_deadline);
    if (ms == 0 || poll(&p, 1, ms) <= 0) break;
    char buf[2048];
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    drained += static_cast<size_t>(n);
  }
}

}  // namespace auscult
