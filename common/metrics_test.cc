#include "common/metrics.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

namespace auscult {
namespace {

TEST(MetricsText, WritesFamiliesWithEscapedHelpAndLabels) {
  MetricsText m;
  m.Counter("auscult_x_total", "Things\\counted\nhere", 12345678901.0, {{"name", "a\"b\\c\nd"}});
  m.Gauge("auscult_y", "A level", 0.25);
  EXPECT_EQ(m.str(),
            "# HELP auscult_x_total Things\\\\counted\\nhere\n"
            "# TYPE auscult_x_total counter\n"
            "auscult_x_total{name=\"a\\\"b\\\\c\\nd\"} 12345678901\n"
            "# HELP auscult_y A level\n"
            "# TYPE auscult_y gauge\n"
            "auscult_y 0.25\n");
}

TEST(LatencyHistogram, BucketsAreCumulativeAndCountIsTheLast) {
  LatencyHistogram h({0.01, 0.1, 1});
  h.Observe(absl::Milliseconds(5));
  h.Observe(absl::Milliseconds(10));  // on a bound: counted in it (le)
  h.Observe(absl::Milliseconds(50));
  h.Observe(absl::Seconds(3));
  MetricsText m;
  h.Write(m, "auscult_t_seconds", "Time");
  EXPECT_EQ(m.str(),
            "# HELP auscult_t_seconds Time\n"
            "# TYPE auscult_t_seconds histogram\n"
            "auscult_t_seconds_bucket{le=\"0.01\"} 2\n"
            "auscult_t_seconds_bucket{le=\"0.1\"} 3\n"
            "auscult_t_seconds_bucket{le=\"1\"} 3\n"
            "auscult_t_seconds_bucket{le=\"+Inf\"} 4\n"
            "auscult_t_seconds_sum 3.065\n"
            "auscult_t_seconds_count 4\n");
}

TEST(HttpRequestLine, ParsesWhatAScraperSendsAndRefusesTheRest) {
  auto ok = ParseHttpRequestLine("GET /metrics?x=1 HTTP/1.1");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->method, "GET");
  EXPECT_EQ(ok->path, "/metrics");
  for (const char* bad : {"", "GET", "GET /metrics", "GET /metrics HTTP/2.0", "get /metrics HTTP/1.1",
                          "GET metrics HTTP/1.1", "GET  /metrics HTTP/1.1", "GET /met\x01rics HTTP/1.1",
                          "GET /metrics HTTP/1.1 extra", "VERYLONGMETHODNAMEX / HTTP/1.1"}) {
    EXPECT_FALSE(ParseHttpRequestLine(bad).ok()) << bad;
  }
  EXPECT_FALSE(ParseHttpRequestLine("GET /" + std::string(9000, 'a') + " HTTP/1.1").ok());
}

// One request over a real socket; returns everything the server sent before closing.
std::string Exchange(int port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return "connect failed";
  }
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close early (a request too long)
    sent += static_cast<size_t>(n);
  }
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

TEST(MetricsServer, AnswersScrapesAndRefusesEverythingElse) {
  int renders = 0;
  MetricsServerOptions options;
  options.read_timeout = absl::Milliseconds(300);
  auto server = MetricsServer::Start(
      "127.0.0.1:0", "metrics_listen",
      [&] {
        ++renders;
        return std::string("auscult_up 1\n");
      },
      options);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  ASSERT_GT(port, 0);

  const std::string page = Exchange(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n");
  EXPECT_EQ(page.substr(0, 15), "HTTP/1.1 200 OK") << page;
  EXPECT_NE(page.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << page;
  EXPECT_NE(page.find("Content-Length: 13\r\n"), std::string::npos) << page;
  EXPECT_EQ(page.substr(page.size() - 13), "auscult_up 1\n");
  EXPECT_EQ(renders, 1);

  const std::string head = Exchange(port, "HEAD /metrics HTTP/1.0\r\n\r\n");
  EXPECT_EQ(head.substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n") << "a HEAD answer has no body";
  EXPECT_EQ(Exchange(port, "GET /healthz HTTP/1.1\r\n\r\n").substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_EQ(Exchange(port, "GET /other HTTP/1.1\r\n\r\n").substr(0, 12), "HTTP/1.1 404");
  EXPECT_EQ(Exchange(port, "POST /metrics HTTP/1.1\r\n\r\n").substr(0, 12), "HTTP/1.1 405");
  EXPECT_EQ(Exchange(port, "\x16\x03\x01 hello\r\n\r\n").substr(0, 12), "HTTP/1.1 400");
  EXPECT_EQ(Exchange(port, "GET /" + std::string(20000, 'a')).substr(0, 12), "HTTP/1.1 431");
  EXPECT_EQ((*server)->bad_requests(), 2u);

  // A client that connects and says nothing is let go at the read timeout, and the next is served.
  std::thread silent([&] { EXPECT_EQ(Exchange(port, "").substr(0, 12), "HTTP/1.1 408"); });
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(Exchange(port, "GET /metrics HTTP/1.1\r\n\r\n").substr(0, 15), "HTTP/1.1 200 OK");
  silent.join();
  EXPECT_EQ((*server)->bad_requests(), 3u);
  EXPECT_EQ((*server)->requests(), 4u);  // three scrapes (one HEAD) and the health check
}

TEST(MetricsServer, RefusesAnAddressItCannotListenOn) {
  auto bad = MetricsServer::Start("nonsense", "metrics_listen", [] { return std::string(); });
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--metrics_listen"), absl::string_view::npos) << bad.status();
  auto first = MetricsServer::Start("127.0.0.1:0", "metrics_listen", [] { return std::string(); });
  ASSERT_TRUE(first.ok());
  auto taken = MetricsServer::Start("127.0.0.1:" + std::to_string((*first)->port()), "metrics_listen",
                                    [] { return std::string(); });
  ASSERT_FALSE(taken.ok());
  EXPECT_NE(taken.status().message().find("cannot listen"), absl::string_view::npos) << taken.status();
}

}  // namespace
}  // namespace auscult
