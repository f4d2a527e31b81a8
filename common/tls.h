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
// "analyst:<name>" (may query), "admin:<name>" (may also change: segment map, analysts' values,
// revoked sensors) or "proxy:<name>" (a load balancer in front of collectors: opens nothing itself,
// but may forward the certificate of the client it verified; see IdentifyCaller).
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
  std::string role;  // sensor, analyst, admin, proxy
  std::string name;  // the sensor id, or the person's or balancer's name
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

// ---- Behind a load balancer (docs/security.md, "Collectors behind nginx") ----
// A balancer that terminates its clients' TLS (nginx grpc_pass) connects to the collectors with a
// proxy:<name> certificate of its own and forwards the client certificate it verified in this
// header, as nginx's $ssl_client_escaped_cert writes it (the PEM, URL-escaped). The collector reads
// the header only on a proxy: connection, and verifies the certificate against the site CA itself.
inline constexpr char kForwardedCertificateHeader[] = "x-auscult-client-cert";
// The client's address as the balancer saw it (nginx: $remote_addr), for log lines only.
inline constexpr char kForwardedForHeader[] = "x-forwarded-for";

// The PEM text of a forwarded certificate header: %XX sequences decoded, other characters kept;
// an error for a malformed escape, a control character, or more than 16 KiB.
absl::StatusOr<std::string> DecodeForwardedCertificate(std::string_view value);

// Verifies certificates forwarded by a proxy against the site CA, as the TLS handshake verifies
// a direct client's: signed by the CA, current, and for client authentication.
class CertificateVerifier {
 public:
  // `ca_pem`: the site CA (every certificate in the text is trusted).
  static absl::StatusOr<std::unique_ptr<CertificateVerifier>> Create(std::string_view ca_pem);
  ~CertificateVerifier();
  CertificateVerifier(const CertificateVerifier&) = delete;
  CertificateVerifier& operator=(const CertificateVerifier&) = delete;
  // The certificate's SHA-256 and common name when it verifies (thread-safe); PERMISSION_DENIED
  // saying why otherwise.
  absl::StatusOr<CertificateId> Verify(std::string_view pem) const;

 private:
  struct Store;
  explicit CertificateVerifier(std::unique_ptr<Store> store);
  std::unique_ptr<Store> store_;
};

// The party a call to the collector speaks for.
struct Caller {
  PeerIdentity identity;           // sensor, analyst or admin: never proxy
  std::string certificate_sha256;  // of the certificate that names it (revocations use it)
  std::string proxy;               // "proxy:<name>" when a balancer forwarded it, else ""
  std::string address;             // where it connected from: the peer, or the balancer's X-Forwarded-For
};
// Who a call comes from:
//  - a direct client over mutual TLS: its own certificate (a forwarded header is refused);
//  - a proxy: connection: the forwarded certificate, verified by `verifier` (a proxy without the
//    header has no role, and is refused);
//  - plain text (--insecure, `verifier` null): nullopt, and a forwarded header is refused (there is
//    no CA to verify it against, and nobody to vouch for it).
// Errors are PERMISSION_DENIED.
absl::StatusOr<std::optional<Caller>> IdentifyCaller(const grpc::ServerContextBase& context,
                                                     const CertificateVerifier* verifier);

}  // namespace auscult

#endif  // AUSCULT_COMMON_TLS_H_
