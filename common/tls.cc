#include "common/tls.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/identifiers.h"
#include "common/text.h"

namespace auscult {

absl::StatusOr<TlsFiles> ReadTlsFiles(const std::string& ca_path, const std::string& cert_path,
                                      const std::string& key_path) {
  if (ca_path.empty() || cert_path.empty() || key_path.empty()) {
    return absl::InvalidArgumentError("--tls_ca, --tls_cert and --tls_key go together (deploy/pki.sh makes them)");
  }
  TlsFiles files;
  for (auto [path, out, flag] : {std::tuple{&ca_path, &files.ca, "--tls_ca"},
                                 {&cert_path, &files.cert, "--tls_cert"},
                                 {&key_path, &files.key, "--tls_key"}}) {
    absl::StatusOr<std::string> text = ReadFileAtMost(*path, 1 << 20, flag);
    if (!text.ok()) return text.status();
    if (text->find("-----BEGIN ") == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(flag, "=", Printable(*path, 256), ": not a PEM file"));
    }
    *out = *std::move(text);
  }
  return files;
}

std::shared_ptr<grpc::ServerCredentials> ServerTlsCredentials(const TlsFiles& files) {
  grpc::SslServerCredentialsOptions options(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = files.ca;
  options.pem_key_cert_pairs.push_back({files.key, files.cert});
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> ClientTlsCredentials(const TlsFiles& files) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = files.ca;
  options.pem_private_key = files.key;
  options.pem_cert_chain = files.cert;
  return grpc::SslCredentials(options);
}

absl::StatusOr<std::optional<PeerIdentity>> IdentityOf(const grpc::AuthContext& context) {
  if (!context.IsPeerAuthenticated()) return std::optional<PeerIdentity>();
  const std::vector<grpc::string_ref> names = context.FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME);
  if (names.size() != 1) return absl::PermissionDeniedError("the client certificate has no single common name");
  const std::string cn(names[0].data(), names[0].size());
  const size_t colon = cn.find(':');
  PeerIdentity peer;
  if (colon != std::string::npos) {
    peer.role = cn.substr(0, colon);
    peer.name = cn.substr(colon + 1);
  }
  if ((peer.role != "sensor" && peer.role != "analyst" && peer.role != "admin") || peer.name.empty() ||
      (peer.role == "sensor" && !IsValidSensorId(peer.name))) {
    return absl::PermissionDeniedError(
        absl::StrCat("client certificate '", Printable(cn, 128),
                     "': its common name must be sensor:<sensor id>, analyst:<name> or admin:<name>"));
  }
  return std::optional<PeerIdentity>(peer);
}

absl::StatusOr<CertificateId> IdentifyCertificate(std::string_view pem) {
  // OpenSSL decodes the PEM: the digest is of exactly the DER bytes the TLS handshake carried, as
  // openssl's command line computes it.
  if (pem.size() > (1u << 20)) return absl::InvalidArgumentError("not a PEM certificate (over 1 MiB)");
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (bio == nullptr) return absl::ResourceExhaustedError("cannot read the certificate");
  std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
  if (cert == nullptr) return absl::InvalidArgumentError("not a PEM certificate");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(cert.get(), EVP_sha256(), digest, &length) != 1 || length != 32) {
    return absl::InternalError("cannot compute the certificate's SHA-256");
  }
  CertificateId id;
  id.sha256 = absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), length));
  char cn[256];
  const int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof cn);
  if (n > 0) id.common_name.assign(cn, static_cast<size_t>(n));
  return id;
}

absl::StatusOr<std::string> PeerCertificateSha256(const grpc::AuthContext& context) {
  if (!context.IsPeerAuthenticated()) return std::string();
  const std::vector<grpc::string_ref> pems = context.FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (pems.size() != 1) return absl::PermissionDeniedError("the client certificate cannot be read");
  absl::StatusOr<CertificateId> id = IdentifyCertificate(std::string_view(pems[0].data(), pems[0].size()));
  if (!id.ok()) return absl::PermissionDeniedError("the client certificate cannot be read");
  return id->sha256;
}

std::optional<std::string> NormalizeSha256(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == ':') continue;
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c)) || out.size() == 64) return std::nullopt;
    out += absl::ascii_tolower(static_cast<unsigned char>(c));
  }
  if (out.size() != 64) return std::nullopt;
  return out;
}

}  // namespace auscult
