#ifndef AUSCULT_COMMON_METRICS_H_
#define AUSCULT_COMMON_METRICS_H_

// Prometheus metrics: the text exposition format (version 0.0.4) and a small HTTP server that
// answers a scraper's GET /metrics on a port of its own (--metrics_listen).
//
// Why our own server and not a library: Debian 12 has no prometheus-cpp, and the embeddable web
// servers it has (civetweb) bring file serving, CGI and more into a process that holds capture
// capabilities. A scrape needs one request line and one answer: that is all this server reads
// and writes, one connection at a time, with a bounded request and a deadline.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace auscult {

// Builds a page of metrics. Families are written in the order they are begun; each family's
// samples follow its # HELP and # TYPE lines, as the format requires.
class MetricsText {
 public:
  using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

  // `type`: counter, gauge or histogram. `name` must be a valid metric name (ours are literals).
  void Family(std::string_view name, std::string_view type, std::string_view help);
  void Sample(std::string_view name, double value, const Labels& labels = {});
  // Counter and gauge shorthands: a family with one sample.
  void Counter(std::string_view name, std::string_view help, double value, const Labels& labels = {});
  void Gauge(std::string_view name, std::string_view help, double value, const Labels& labels = {});

  const std::string& str() const { return text_; }

  // A label value as the format quotes it: backslash, double quote and newline escaped.
  static std::string EscapeLabelValue(std::string_view value);

 private:
  std::string text_;
};

// A histogram of durations in seconds with fixed buckets, safe to observe from any thread.
class LatencyHistogram {
 public:
  // Upper bounds in seconds, ascending (+Inf is implied).
  explicit LatencyHistogram(std::vector<double> bounds);
  void Observe(absl::Duration d);
  // Writes the family `name` (_bucket, _sum, _count), cumulative as the format requires.
  void Write(MetricsText& out, std::string_view name, std::string_view help) const;

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, not cumulative; last is +Inf
  std::atomic<uint64_t> sum_us_{0};
  std::atomic<uint64_t> count_{0};
};

// The request line of an HTTP/1.x request, as much of it as a metrics endpoint needs.
struct HttpRequestLine {
  std::string method;
  std::string path;  // without the query string
};
// Parses "METHOD SP TARGET SP HTTP/1.x" (the line without its CRLF). Untrusted input: bounded,
// printable ASCII only; an error says what is wrong.
absl::StatusOr<HttpRequestLine> ParseHttpRequestLine(std::string_view line);

using MetricsRender = std::function<std::string()>;
// The whole answer (status line, headers, body) to a request whose head (request line and headers,
// without the blank line that ends them) is `head`: GET or HEAD of /metrics (the page `render`
// returns) or /healthz; 400, 404 or 405 otherwise. `bad` is set when the request was malformed.
std::string AnswerMetricsRequest(std::string_view head, const MetricsRender& render, bool* bad);

struct MetricsServerOptions {
  // How long a client may take to send its request, and to take the answer.
  absl::Duration read_timeout = absl::Seconds(2);
  absl::Duration write_timeout = absl::Seconds(5);
};

// Serves GET /metrics (the page `render` returns at that moment) and GET /healthz ("ok") on its own
// thread, one connection at a time; anything else is answered 400, 404 or 405 and closed.
class MetricsServer {
 public:
  using Render = MetricsRender;
  // `listen`: HOST:PORT (port 0 picks a free one; see port()). `flag` names the flag in errors.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& listen, std::string_view flag,
                                                              Render render, MetricsServerOptions options = {});
  ~MetricsServer();  // stops serving and joins the thread
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  int port() const { return port_; }
  uint64_t requests() const { return requests_.load(); }          // answered 200 (metrics or health)
  uint64_t bad_requests() const { return bad_requests_.load(); }  // malformed, too long or too slow

 private:
  MetricsServer(int listen_fd, int wake_read, int wake_write, int port, Render render, MetricsServerOptions options);
  void Serve();
  void Handle(int fd);

  const int listen_fd_;
  const int wake_read_, wake_write_;  // a pipe: written to stop the thread
  const int port_;
  const Render render_;
  const MetricsServerOptions options_;
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> bad_requests_{0};
  std::thread thread_;
};

}  // namespace auscult

#endif  // AUSCULT_COMMON_METRICS_H_
