#!/usr/bin/env bash
# Installs the Debian packages ethp2p needs, and only those that are missing.
# Safe to run again and again; `apt-get update` runs only when something is missing.
set -euo pipefail

# Build and test dependencies.
PKGS=(build-essential cmake pkg-config clang libclang-rt-14-dev
      libsecp256k1-dev nettle-dev libuv1-dev libexpat1-dev libjansson-dev libssl-dev libsnappy-dev
      check
      iproute2 nftables valgrind)
# Real routers and reference clients for the network-namespace labs.
if [ "${ETHP2P_LAB_DEPS:-1}" = 1 ]; then
  PKGS+=(miniupnpd-nftables miniupnpc natpmpc coturn stun-client netcat-openbsd prometheus jq curl)
fi

# Node.js and npm run the real devp2p peers (tests/interop). Machines that ship their own
# Node.js (with npm) keep it; only a machine with neither gets Debian's.
if ! command -v npm >/dev/null 2>&1; then
  PKGS+=(nodejs npm)
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # miniupnpd's package asks debconf questions and would start a daemon; keep it quiet and stopped.
  echo 'miniupnpd miniupnpd/start_daemon boolean false' | $SUDO debconf-set-selections 2>/dev/null || true
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The real devp2p peers (@ethereumjs/devp2p, @chainsafe/discv5), pinned in
# tests/interop/package-lock.json; installed again only when the lock file changed.
if [ "${ETHP2P_LAB_DEPS:-1}" = 1 ] && command -v npm >/dev/null 2>&1; then
  interop="$(cd "$(dirname "$0")/.." && pwd)/tests/interop"
  stamp="$interop/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$interop/package-lock.json" -nt "$stamp" ]; then
    echo "install-deps: installing the npm interop peers" >&2
    (cd "$interop" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
fi
