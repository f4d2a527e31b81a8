// libFuzzer target for what the metrics port (--metrics_listen, common/metrics.h) makes of a
// request's head: anyone who can reach the port can send it anything.
//
// Contracts checked besides what ASan/UBSan catch:
//  - the answer is one HTTP/1.1 response with a three-digit status and a Content-Length equal to
//    the body that follows (HEAD: no body);
//  - the page is rendered only for GET or HEAD of /metrics, and a malformed request is flagged.
//
// Input: the request head (request line and headers). Seeds: tests/data/fuzz-seeds/metrics_request_fuzz.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/strings/numbers.h"
#include "common/metrics.h"

namespace {

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "metrics request broke its contract: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view head(reinterpret_cast<const char*>(data), size);
  int renders = 0;
  bool bad = false;
  const std::string answer = auscult::AnswerMetricsRequest(
      head,
      [&] {
        ++renders;
        return std::string("auscult_up 1\n");
      },
      &bad);
  Require(answer.rfind("HTTP/1.1 ", 0) == 0 && answer.size() > 12, "status line");
  int status = 0;
  Require(absl::SimpleAtoi(absl::string_view(answer.data() + 9, 3), &status) && status >= 200 && status < 600,
          "three-digit status");
  const size_t end = answer.find("\r\n\r\n");
  Require(end != std::string::npos, "end of headers");
  const size_t length_at = answer.find("Content-Length: ");
  Require(length_at != std::string::npos && length_at < end, "Content-Length");
  size_t length = 0;
  const size_t length_end = answer.find("\r\n", length_at);
  Require(absl::SimpleAtoi(absl::string_view(answer.data() + length_at + 16, length_end - length_at - 16), &length),
          "Content-Length is a number");
  const size_t body = answer.size() - end - 4;
  const bool head_request = head.rfind("HEAD ", 0) == 0;
  Require(body == length || (head_request && body == 0 && status == 200), "body matches Content-Length");
  Require(renders <= 1, "rendered at most once");
  if (renders == 1)
    Require(status == 200 && (head.rfind("GET /metrics", 0) == 0 || head_request), "render on a scrape only");
  if (bad) Require(status == 400, "a malformed request is a 400");
  return 0;
}
