#include "common/tls.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace auscult {
namespace {

// nginx's $ssl_client_escaped_cert of a (shortened) PEM: newlines, '+', '/' and '=' escaped.
TEST(DecodeForwardedCertificateTest, ReadsWhatNginxWrites) {
  const auto pem =
      DecodeForwardedCertificate("-----BEGIN%20CERTIFICATE-----%0AMIIB%2Bz%2FA%3D%3D%0A-----END%20CERTIFICATE-----%0A");
  ASSERT_TRUE(pem.ok()) << pem.status();
  EXPECT_EQ(*pem, "-----BEGIN CERTIFICATE-----\nMIIB+z/A==\n-----END CERTIFICATE-----\n");
  // Lower-case hex digits, and characters nginx leaves alone, as they are.
  EXPECT_EQ(*DecodeForwardedCertificate("a%2fb%2Bc~d"), "a/b+c~d");
  EXPECT_EQ(*DecodeForwardedCertificate(""), "");
}

TEST(DecodeForwardedCertificateTest, RefusesMalformedEscapesControlBytesAndHugeValues) {
  const std::vector<std::string> malformed = {"%", "%4", "abc%zz", "%G0", "a\nb", {"a\0b", 3}, "\xc3\xa9"};
  for (const std::string& bad : malformed) {
    const auto pem = DecodeForwardedCertificate(bad);
    EXPECT_EQ(pem.status().code(), absl::StatusCode::kPermissionDenied) << bad;
  }
  EXPECT_FALSE(DecodeForwardedCertificate(std::string(16 * 1024 + 1, 'A')).ok());
  EXPECT_TRUE(DecodeForwardedCertificate(std::string(16 * 1024, 'A')).ok());
}

TEST(CertificateVerifierTest, NeedsACertificateInTheCaFile) {
  EXPECT_EQ(CertificateVerifier::Create("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CertificateVerifier::Create("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace auscult
