#!/bin/sh
# Sets up everything the test suite needs on a fresh Debian machine with Node 20:
# Debian packages (installed when run as root; otherwise listed) and the npm
# dependencies (npm ci, which also builds the libpcap capture addon when
# libpcap-dev is present). Safe to run again: it only installs what is missing.
set -eu
cd "$(dirname "$0")/.."

# tool -> Debian package
NEED="tcpdump:tcpdump tshark:tshark rsyslogd:rsyslog pcap-config:libpcap-dev ip:iproute2 nmap:nmap dig:dnsutils
hping3:hping3 sshd:openssh-server ssh:openssh-client sshpass:sshpass dnsmasq:dnsmasq curl:curl python3:python3
logrotate:logrotate redis-server:redis-server chromium:chromium"
missing=""
for pair in $NEED; do
  tool=${pair%%:*}; pkg=${pair#*:}
  if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ] && [ ! -x "/usr/bin/$tool" ]; then
    missing="$missing $pkg"
  fi
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "setup: missing Debian packages:$missing"
    echo "setup: run as root, or: sudo apt-get install -y$missing (tests that need them will say they were skipped)"
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# On a fresh machine `npm ci && npm run demo` runs before this script installs
# libpcap-dev, so npm skipped the optional addon's build (or dropped it): build
# it now that the headers are here, or the live-capture tests would be skipped.
if ! node -e 'require("./src/capture/native")' >/dev/null 2>&1; then
  if command -v pcap-config >/dev/null 2>&1; then
    echo "setup: building the libpcap addon (src/capture/native)"
    if [ -e node_modules/tapwatch-pcap ]; then
      npm rebuild tapwatch-pcap --no-audit --no-fund
    else
      # npm removed the link after the failed optional build: reinstall it
      npm install --no-save --no-audit --no-fund ./src/capture/native
    fi
    node -e 'require("./src/capture/native")' >/dev/null 2>&1 || { echo "setup: the libpcap addon still does not load" >&2; exit 1; }
  else
    echo "setup: libpcap-dev missing: the libpcap addon is not built (live-capture tests will be skipped)"
  fi
fi
