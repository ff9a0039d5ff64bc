#!/usr/bin/env bash
# Make a local TEST certificate authority for the Redis bus: a CA, a server certificate and
# one client certificate per role (EC P-256 keys, signed by the CA). Not for production.
#
#   scripts/make_test_ca.sh OUTDIR [CLIENT ...]
#
# Writes OUTDIR/ca.crt, OUTDIR/ca.key, OUTDIR/server.{crt,key} and OUTDIR/<CLIENT>.{crt,key}
# for each CLIENT (default: admin sun-main planet-technical planet-risk planet-sentiment
# planet-execution). A client's certificate CN is its name (use the ACL user name).
# Environment: CERT_DAYS (default 30) validity; SERVER_SANS (default
# "DNS:localhost,IP:127.0.0.1") subject alternative names of the server certificate.
# An existing CA in OUTDIR is reused, so more clients can be added later.
set -euo pipefail

if [[ $# -lt 1 ]]; then
    echo "usage: $0 OUTDIR [CLIENT ...]" >&2
    exit 2
fi
out=$1
shift
if [[ $# -gt 0 ]]; then
    clients=("$@")
else
    clients=(admin sun-main planet-technical planet-risk planet-sentiment planet-execution)
fi
days=${CERT_DAYS:-30}
server_sans=${SERVER_SANS:-DNS:localhost,IP:127.0.0.1}

umask 077
mkdir -p "$out"

new_key() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

# sign NAME CN EXTENSIONS: a certificate for OUTDIR/NAME.key signed by the CA
sign() {
    local name=$1 cn=$2 extensions=$3
    new_key "$out/$name.key"
    openssl req -new -key "$out/$name.key" -subj "/CN=$cn" -out "$out/$name.csr"
    printf '%s\n' "$extensions" >"$out/$name.ext"
    openssl x509 -req -in "$out/$name.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" \
        -CAcreateserial -days "$days" -sha256 -extfile "$out/$name.ext" \
        -out "$out/$name.crt" 2>/dev/null
    rm -f "$out/$name.csr" "$out/$name.ext"
}

for client in "${clients[@]}"; do
    if [[ ! $client =~ ^[A-Za-z0-9_.-]+$ ]] || [[ $client == ca || $client == server ]]; then
        echo "bad client name: $client" >&2
        exit 2
    fi
done

if [[ ! -f $out/ca.crt || ! -f $out/ca.key ]]; then
    new_key "$out/ca.key"
    openssl req -x509 -new -key "$out/ca.key" -sha256 -days "$days" \
        -subj "/CN=heliarch test CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash" \
        -out "$out/ca.crt"
fi

common="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid"

sign server localhost "$common
extendedKeyUsage=serverAuth
subjectAltName=$server_sans"

for client in "${clients[@]}"; do
    sign "$client" "$client" "$common
extendedKeyUsage=clientAuth"
done

chmod 644 "$out"/*.crt
echo "wrote CA, server and ${#clients[@]} client certificates to $out"
