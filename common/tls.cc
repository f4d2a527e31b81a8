#include "common/tls.h"

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

}  // namespace auscult
