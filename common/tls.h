#ifndef AUSCULT_COMMON_TLS_H_
#define AUSCULT_COMMON_TLS_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace auscult {

// Mutual TLS between sensors, the CLI and the collector. Every party holds a certificate of the
// site's CA (deploy/pki.sh makes them) whose common name says who it is: "sensor:<sensor id>",
// "analyst:<name>" (may query) or "admin:<name>" (may also change: segment map, analysts' values,
// revoked sensors).
// The collector verifies every client against the CA; clients verify the collector.
struct TlsFiles {
  std::string ca;    // PEM: the CA that signed the other side
  std::string cert;  // PEM: our certificate
  std::string key;   // PEM: its private key
  bool empty() const { return ca.empty() && cert.empty() && key.empty(); }
};

// The three files read (each at most 1 MiB, PEM), or an error naming the flag and file.
absl::StatusOr<TlsFiles> ReadTlsFiles(const std::string& ca_path, const std::string& cert_path,
                                      const std::string& key_path);

// The collector's credentials: TLS 1.2 or later, a client certificate required and verified.
std::shared_ptr<grpc::ServerCredentials> ServerTlsCredentials(const TlsFiles& files);
// A client's (sensor, CLI): the collector's certificate verified against the CA, ours presented.
std::shared_ptr<grpc::ChannelCredentials> ClientTlsCredentials(const TlsFiles& files);

// Who a verified peer is, from its certificate's common name.
struct PeerIdentity {
  std::string role;  // sensor, analyst, admin
  std::string name;  // the sensor id, or the person's name
};
// nullopt when the call is not over TLS with a verified client certificate; an error when the
// certificate's common name is not one of the forms above.
absl::StatusOr<std::optional<PeerIdentity>> IdentityOf(const grpc::AuthContext& context);

// What tells one certificate from another naming the same party (a re-issued one): the SHA-256
// of its DER encoding as 64 lower-case hex digits (`openssl x509 -noout -fingerprint -sha256`
// prints the same digits, upper case with colons), and its common name.
struct CertificateId {
  std::string sha256;
  std::string common_name;  // "" when it has none
};
// The first certificate of a PEM text; an error when there is none.
absl::StatusOr<CertificateId> IdentifyCertificate(std::string_view pem);
// The SHA-256 (as above) of a verified client's certificate; "" when the call is not over TLS with
// a verified certificate; an error when it is but the certificate cannot be read.
absl::StatusOr<std::string> PeerCertificateSha256(const grpc::AuthContext& context);
// A SHA-256 fingerprint as people copy it ("AB:CD:…" or "abcd…", any case, colons optional) in
// the form above; nullopt when it is not 32 bytes in hex.
std::optional<std::string> NormalizeSha256(std::string_view text);

}  // namespace auscult

#endif  // AUSCULT_COMMON_TLS_H_
