#!/usr/bin/env bash
# Installs the Debian 12 packages Auscult needs, if any are missing. As root it runs apt-get; as a
# normal user it uses sudo when that works without a password prompt, and otherwise prints the
# command to run. Usage: deploy/install-deps.sh [--test]   (--test adds what the test suite uses)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libgrpc++-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev
  libabsl-dev libspdlog-dev libfmt-dev libgtest-dev libgmock-dev
  libpqxx-dev libpq-dev libpcap-dev libssl-dev libre2-dev postgresql-15 postgresql-client-15 ieee-data openssl
)
if [[ "${1:-}" == "--test" ]]; then
  # tshark and tcpdump are the independent oracles the tests compare against; iproute2 builds the
  # network namespaces of the live-capture tests; DCMTK and ethtool make the DICOM fixtures anew
  # (tests/fixtures/), curl the FHIR one; the HTML graph is opened in chromium-headless-shell and its
  # screenshots decoded with zlib. nginx balances two collectors in the scale-out test (started
  # by the test itself, as any user; the package's own service is not needed).
  # clang with its sanitizer and libFuzzer runtimes (libclang-rt-dev, only recommended by clang)
  # builds the fuzz targets; llvm's llvm-symbolizer puts source lines in their crash reports.
  # systemd's analyzer checks the units in deploy/systemd; dpkg-dev (dpkg-shlibdeps) and file let
  # CPack make the .deb packages that the deploy test installs into a temporary root; python3-yaml
  # reads the Kubernetes manifests (tests/deploy/check_deploy_files.py). nftables (nft -c) and
  # iptables (iptables-restore --test) check the segmentation policies' firewall forms.
  packages+=(tshark tcpdump iproute2 dcmtk ethtool curl chromium-headless-shell zlib1g-dev clang libclang-rt-dev llvm
    nginx systemd dpkg-dev file python3-yaml nftables iptables)
  # The packet-path benchmark compares the sensor with nDPI's ndpiReader (bench/, not the tests).
  packages+=(libndpi-bin)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
as_root=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    echo "install-deps: these Debian packages are missing: ${missing[*]}" >&2
    echo "install-deps: run as root:  apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | "${as_root[@]}" debconf-set-selections
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  -o DPkg::Lock::Timeout=600 "${missing[@]}"
