#include "common/tls.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

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

namespace {

// A common name's role and name: sensor:<id>, analyst:<name>, admin:<name>, or (when
// `proxy_allowed`) proxy:<name>.
absl::StatusOr<PeerIdentity> ParseCommonName(const std::string& cn, bool proxy_allowed) {
  const size_t colon = cn.find(':');
  PeerIdentity peer;
  if (colon != std::string::npos) {
    peer.role = cn.substr(0, colon);
    peer.name = cn.substr(colon + 1);
  }
  if ((peer.role != "sensor" && peer.role != "analyst" && peer.role != "admin" &&
       (peer.role != "proxy" || !proxy_allowed)) ||
      peer.name.empty() || (peer.role == "sensor" && !IsValidSensorId(peer.name))) {
    return absl::PermissionDeniedError(
        absl::StrCat("client certificate '", Printable(cn, 128), "': its common name must be sensor:<sensor id>, ",
                     "analyst:<name>", proxy_allowed ? ", admin:<name> or proxy:<name>" : " or admin:<name>",
                     proxy_allowed ? "" : " (a proxy's certificate is never forwarded)"));
  }
  return peer;
}

}  // namespace

absl::StatusOr<std::optional<PeerIdentity>> IdentityOf(const grpc::AuthContext& context) {
  if (!context.IsPeerAuthenticated()) return std::optional<PeerIdentity>();
  const std::vector<grpc::string_ref> names = context.FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME);
  if (names.size() != 1) return absl::PermissionDeniedError("the client certificate has no single common name");
  absl::StatusOr<PeerIdentity> peer =
      ParseCommonName(std::string(names[0].data(), names[0].size()), /*proxy_allowed=*/true);
  if (!peer.ok()) return peer.status();
  return std::optional<PeerIdentity>(*std::move(peer));
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

absl::StatusOr<std::string> DecodeForwardedCertificate(std::string_view value) {
  constexpr size_t kMax = 16 << 10;  // a certificate is some 1 KiB; a header this size is no certificate
  if (value.size() > kMax) return absl::PermissionDeniedError("forwarded client certificate: over 16 KiB");
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '%') {
      const int high = i + 2 < value.size() ? hex(value[i + 1]) : -1;
      const int low = i + 2 < value.size() ? hex(value[i + 2]) : -1;
      if (high < 0 || low < 0) {
        return absl::PermissionDeniedError(
            absl::StrCat("forwarded client certificate: a malformed %-escape at character ", i));
      }
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return absl::PermissionDeniedError(
          absl::StrCat("forwarded client certificate: an unescaped control or non-ASCII byte at character ", i));
    } else {
      out += c;
    }
  }
  return out;
}

struct CertificateVerifier::Store {
  X509_STORE* store = nullptr;
  ~Store() { X509_STORE_free(store); }
};

CertificateVerifier::CertificateVerifier(std::unique_ptr<Store> store) : store_(std::move(store)) {}
CertificateVerifier::~CertificateVerifier() = default;

absl::StatusOr<std::unique_ptr<CertificateVerifier>> CertificateVerifier::Create(std::string_view ca_pem) {
  auto store = std::make_unique<Store>();
  store->store = X509_STORE_new();
  if (store->store == nullptr || ca_pem.size() > (1u << 20)) return absl::InternalError("cannot make a CA store");
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())),
                                                &BIO_free);
  int added = 0;
  while (bio != nullptr) {
    std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr),
                                                     &X509_free);
    if (cert == nullptr) break;
    if (X509_STORE_add_cert(store->store, cert.get()) != 1) return absl::InternalError("cannot add a CA certificate");
    ++added;
  }
  ERR_clear_error();  // the end of the text reads as an error
  if (added == 0) return absl::InvalidArgumentError("the CA file holds no PEM certificate");
  return std::unique_ptr<CertificateVerifier>(new CertificateVerifier(std::move(store)));
}

absl::StatusOr<CertificateId> CertificateVerifier::Verify(std::string_view pem) const {
  if (pem.size() > (1u << 20)) return absl::PermissionDeniedError("not a PEM certificate (over 1 MiB)");
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (bio == nullptr) return absl::ResourceExhaustedError("cannot read the certificate");
  std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
  if (cert == nullptr) {
    ERR_clear_error();
    return absl::PermissionDeniedError("not a PEM certificate");
  }
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(), &X509_STORE_CTX_free);
  if (ctx == nullptr || X509_STORE_CTX_init(ctx.get(), store_->store, cert.get(), nullptr) != 1) {
    return absl::ResourceExhaustedError("cannot verify the certificate");
  }
  // As a TLS server checks its clients: the extended key usage must allow client authentication
  // (a collector's server certificate, say, is not a client's).
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
  if (X509_verify_cert(ctx.get()) != 1) {
    const int error = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return absl::PermissionDeniedError(
        absl::StrCat("the certificate does not verify against the site CA: ", X509_verify_cert_error_string(error)));
  }
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), &BIO_free);
  if (out == nullptr || PEM_write_bio_X509(out.get(), cert.get()) != 1) {
    return absl::ResourceExhaustedError("cannot read the certificate");
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(out.get(), &data);
  return IdentifyCertificate(std::string_view(data, static_cast<size_t>(length)));
}

absl::StatusOr<std::optional<Caller>> IdentifyCaller(const grpc::ServerContextBase& context,
                                                     const CertificateVerifier* verifier) {
  const auto& metadata = context.client_metadata();
  const auto forwarded = metadata.equal_range(kForwardedCertificateHeader);
  const size_t headers = static_cast<size_t>(std::distance(forwarded.first, forwarded.second));
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  absl::StatusOr<std::optional<PeerIdentity>> peer = IdentityOf(*auth);
  if (!peer.ok()) return peer.status();
  std::optional<Caller> caller;
  if (!peer->has_value()) {
    // Plain text: nobody is authenticated, and nobody's word about a certificate can be taken.
    if (headers > 0) {
      return absl::PermissionDeniedError(absl::StrCat(
          kForwardedCertificateHeader, " is honoured only from a proxy:<name> certificate over mutual TLS"));
    }
    return caller;
  }
  caller.emplace();
  caller->address = context.peer();
  if ((*peer)->role != "proxy") {
    // A direct client speaks for itself; a header of its own would claim someone else.
    if (headers > 0) {
      return absl::PermissionDeniedError(absl::StrCat(kForwardedCertificateHeader, " from ", (*peer)->role, ":",
                                                      Printable((*peer)->name, 64),
                                                      ": only a proxy:<name> certificate may forward a client's"));
    }
    absl::StatusOr<std::string> sha256 = PeerCertificateSha256(*auth);
    if (!sha256.ok()) return sha256.status();
    caller->identity = **std::move(peer);
    caller->certificate_sha256 = *std::move(sha256);
    return caller;
  }
  const std::string proxy = absl::StrCat("proxy:", Printable((*peer)->name, 64));
  if (headers != 1) {
    return absl::PermissionDeniedError(
        headers == 0 ? absl::StrCat(proxy, " forwarded no client certificate (", kForwardedCertificateHeader,
                                    "): a proxy's own certificate opens nothing")
                     : absl::StrCat(proxy, " forwarded ", headers, " client certificates; one is expected"));
  }
  if (verifier == nullptr) return absl::InternalError("no CA to verify forwarded certificates against");
  const grpc::string_ref value = forwarded.first->second;
  absl::StatusOr<std::string> pem = DecodeForwardedCertificate(std::string_view(value.data(), value.size()));
  if (!pem.ok()) return absl::PermissionDeniedError(absl::StrCat(proxy, ": ", pem.status().message()));
  absl::StatusOr<CertificateId> id = verifier->Verify(*pem);
  if (!id.ok()) {
    return absl::PermissionDeniedError(
        absl::StrCat(proxy, " forwarded a client certificate that is refused: ", id.status().message()));
  }
  absl::StatusOr<PeerIdentity> client = ParseCommonName(id->common_name, /*proxy_allowed=*/false);
  if (!client.ok()) return absl::PermissionDeniedError(absl::StrCat(proxy, " forwarded ", client.status().message()));
  caller->identity = *std::move(client);
  caller->certificate_sha256 = id->sha256;
  caller->proxy = proxy;
  const auto address = metadata.find(kForwardedForHeader);
  caller->address =
      address == metadata.end()
          ? absl::StrCat(context.peer(), " via ", proxy)
          : absl::StrCat(Printable(std::string(address->second.data(), address->second.size()), 64), " via ", proxy);
  return caller;
}

}  // namespace auscult
