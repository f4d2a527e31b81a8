#!/usr/bin/env bash
# The certificates of one Auscult site, with OpenSSL: a CA, the collector's, and one per sensor,
# analyst and admin. The common name says who holds a certificate and what it may do
# (docs/security.md, "Mutual TLS"):
#   sensor:<sensor id>   may send that sensor's observations, and only that sensor's
#   analyst:<name>       may query the collector
#   admin:<name>         may query and change: the segment map, analysts' values
#   proxy:<name>         a load balancer in front of collectors (deploy/nginx): opens nothing by
#                        itself, but may forward the certificate of the client it verified
#
# Usage:
#   deploy/pki.sh DIR init                                the site CA (DIR/ca.pem, DIR/ca.key)
#   deploy/pki.sh DIR collector HOST [ADDRESS...]         DIR/collector.pem, .key; valid for HOST,
#                                                         the addresses given, localhost and loopback
#   deploy/pki.sh DIR sensor SENSOR_ID                    DIR/sensor-SENSOR_ID.pem, .key
#   deploy/pki.sh DIR analyst NAME | admin NAME           DIR/analyst-NAME.pem, .key (admin-...)
#   deploy/pki.sh DIR proxy HOST [ADDRESS...]             DIR/proxy-HOST.pem, .key: the balancer's,
#                                                         as a server to clients (valid for HOST, the
#                                                         addresses, localhost and loopback) and as
#                                                         a client of the collectors
# Environment: AUSCULT_CERT_DAYS (default 825) for new certificates, 3650 for the CA.
#
# Keys are ECDSA P-256, written 0600. Keep ca.key offline once the site's certificates exist: who
# holds it can make a sensor or an admin. To withdraw a sensor's certificate before it expires,
# revoke it at the collector (auscult sensors revoke ID --certificate=FILE.pem; docs/security.md)
# and make the sensor a new one: remove its .pem and .key here first. Each certificate's SHA-256,
# by which it is revoked, is printed when it is made.
set -euo pipefail

usage() { sed -n '11,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[[ $# -ge 2 ]] || usage
dir=$1
command=$2
shift 2
days=${AUSCULT_CERT_DAYS:-825}
command -v openssl > /dev/null || { echo "pki.sh: openssl is not installed (apt-get install openssl)" >&2; exit 1; }
mkdir -p "$dir"
umask 077

# A name as it may appear in a common name and a file name: letters, digits, '.', '_', '-'.
check_name() {
  if [[ ! "$1" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$ ]]; then
    echo "pki.sh: '$1': use letters, digits, '.', '_' and '-' (at most 63)" >&2
    exit 2
  fi
}

need_ca() {
  [[ -f "$dir/ca.pem" && -f "$dir/ca.key" ]] || { echo "pki.sh: no CA in $dir: run '$0 $dir init' first" >&2; exit 1; }
}

# leaf NAME COMMON_NAME EXTENDED_KEY_USAGE [SUBJECT_ALT_NAMES]
leaf() {
  local name=$1 cn=$2 eku=$3 san=${4:-}
  need_ca
  if [[ -e "$dir/$name.pem" ]]; then
    echo "pki.sh: $dir/$name.pem exists; remove it first to make a new one" >&2
    exit 1
  fi
  tmp_ext=$(mktemp)
  tmp_csr="$dir/$name.csr"
  trap 'rm -f "$tmp_ext" "$tmp_csr"' EXIT
  local ext=$tmp_ext
  {
    echo "basicConstraints = critical, CA:false"
    echo "keyUsage = critical, digitalSignature, keyEncipherment"
    echo "extendedKeyUsage = $eku"
    [[ -n "$san" ]] && echo "subjectAltName = $san"
  } > "$ext"
  openssl ecparam -name prime256v1 -genkey -noout -out "$dir/$name.key" 2> /dev/null
  openssl req -new -key "$dir/$name.key" -subj "/O=Auscult/CN=$cn" -out "$dir/$name.csr" 2> /dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -days "$days" -sha256 -extfile "$ext" -out "$dir/$name.pem" 2> /dev/null
  chmod 0600 "$dir/$name.key"
  chmod 0644 "$dir/$name.pem"
  echo "$dir/$name.pem ($cn, $days days) and $dir/$name.key"
  echo "  $(openssl x509 -in "$dir/$name.pem" -noout -fingerprint -sha256)"
}

case "$command" in
  init)
    if [[ -e "$dir/ca.pem" ]]; then
      echo "pki.sh: $dir/ca.pem exists; a new CA would orphan every certificate it signed" >&2
      exit 1
    fi
    openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ca.key" 2> /dev/null
    openssl req -new -x509 -key "$dir/ca.key" -subj "/O=Auscult/CN=Auscult site CA" -days 3650 -sha256 \
      -addext "basicConstraints = critical, CA:true, pathlen:0" -addext "keyUsage = critical, keyCertSign, cRLSign" \
      -out "$dir/ca.pem" 2> /dev/null
    chmod 0600 "$dir/ca.key"
    chmod 0644 "$dir/ca.pem"
    echo "$dir/ca.pem (the site CA, 3650 days) and $dir/ca.key (keep it offline)"
    ;;
  collector)
    [[ $# -ge 1 ]] || usage
    host=$1
    shift
    san="DNS:$host,DNS:localhost,IP:127.0.0.1,IP:::1"
    for address in "$@"; do
      if [[ "$address" =~ ^[0-9.]+$ || "$address" == *:* ]]; then san+=",IP:$address"; else san+=",DNS:$address"; fi
    done
    leaf collector "collector:$host" "serverAuth" "$san"
    ;;
  proxy)
    # One certificate for both of the balancer's faces: clients connect to it by HOST (serverAuth),
    # and it connects to the collectors as proxy:HOST (clientAuth).
    [[ $# -ge 1 ]] || usage
    host=$1
    shift
    check_name "$host"
    san="DNS:$host,DNS:localhost,IP:127.0.0.1,IP:::1"
    for address in "$@"; do
      if [[ "$address" =~ ^[0-9.]+$ || "$address" == *:* ]]; then san+=",IP:$address"; else san+=",DNS:$address"; fi
    done
    leaf "proxy-$host" "proxy:$host" "serverAuth, clientAuth" "$san"
    ;;
  sensor | analyst | admin)
    [[ $# -eq 1 ]] || usage
    check_name "$1"
    leaf "$command-$1" "$command:$1" "clientAuth"
    ;;
  *)
    usage
    ;;
esac
