#!/bin/sh
# Installs tapwatch as a systemd service:
#   /opt/tapwatch                         dist/ (compiled), the libpcap addon, production node_modules
#   /etc/tapwatch/tapwatch.json           configuration (the example, only when none exists yet)
#   /etc/systemd/system/tapwatch.service  the unit
#   /etc/logrotate.d/tapwatch             rotation of /var/log/tapwatch/*.jsonl
#   user and group "tapwatch"             system account, no home, no login shell
# then `systemctl daemon-reload`. The service is not enabled or started unless
# --enable / --start is given. Safe to run again (upgrades): an existing
# /etc/tapwatch/tapwatch.json is never overwritten; the code in /opt/tapwatch is
# replaced by a staged copy moved into place.
#
# Usage: systemd/install.sh [--dry-run] [--no-build] [--prefix DIR] [--destdir DIR] [--enable] [--start]
#   --dry-run      print every command instead of running it (no root needed)
#   --no-build     use dist/ and the addon already built in this tree (no npm ci, no tsc)
#   --prefix DIR   install directory (default /opt/tapwatch; the unit is adjusted to it)
#   --destdir DIR  packaging: install under DIR (DIR/opt/tapwatch, DIR/etc/...), no user,
#                  no ownership changes, no systemctl
#   --enable       systemctl enable tapwatch.service
#   --start        systemctl restart tapwatch.service
#
# Needs: Node >= 20.19 at /usr/bin/node (the unit's ExecStart), npm; to build the capture
# addon: libpcap-dev, python3, make, g++ (apt-get install libpcap-dev build-essential).
set -eu

PREFIX=/opt/tapwatch
ETC=/etc/tapwatch
UNIT_DIR=/etc/systemd/system
LOGROTATE_DIR=/etc/logrotate.d
USER_NAME=tapwatch
NODE=/usr/bin/node
DESTDIR=
DRY=0
BUILD=1
ENABLE=0
START=0

usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; }
die() { printf '%s\n' "install.sh: $*" >&2; exit 1; }
say() { printf '%s\n' "install.sh: $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --no-build) BUILD=0 ;;
    --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; PREFIX=$2; shift ;;
    --prefix=*) PREFIX=${1#--prefix=} ;;
    --destdir) [ $# -ge 2 ] || die "--destdir needs a directory"; DESTDIR=$2; shift ;;
    --destdir=*) DESTDIR=${1#--destdir=} ;;
    --enable) ENABLE=1 ;;
    --start) START=1 ;;
    -h|--help) usage; exit 0 ;;
    *) printf '%s\n' "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$PREFIX" in /*) ;; *) die "--prefix must be an absolute path" ;; esac
case "$DESTDIR" in ''|/*) ;; *) die "--destdir must be an absolute path" ;; esac
DESTDIR=${DESTDIR%/}

SRC=$(cd "$(dirname "$0")/.." && pwd)
ADDON=src/capture/native/build/Release/tapwatch_pcap.node
# where files go (the same as the paths the service uses, unless --destdir)
T_PREFIX=$DESTDIR$PREFIX
T_ETC=$DESTDIR$ETC
T_UNIT_DIR=$DESTDIR$UNIT_DIR
T_LOGROTATE_DIR=$DESTDIR$LOGROTATE_DIR

# run CMD...: print it (shell-quoted), execute it unless --dry-run
run() {
  printf '+'
  for a in "$@"; do
    case "$a" in
      *[!A-Za-z0-9_./:=,+@%-]*|'') printf " '%s'" "$(printf '%s' "$a" | sed "s/'/'\\\\''/g")" ;;
      *) printf ' %s' "$a" ;;
    esac
  done
  printf '\n'
  if [ "$DRY" = 0 ]; then "$@"; fi
}

if [ "$DRY" = 1 ]; then say "dry run: nothing is changed; these are the commands a real run executes"; fi
if [ "$DRY" = 0 ] && [ -z "$DESTDIR" ] && [ "$(id -u)" != 0 ]; then die "run as root (or try --dry-run)"; fi

# --- prerequisites --------------------------------------------------------------------
[ -x "$NODE" ] || die "$NODE not found: the unit runs $NODE (install Node >= 20.19 there, or symlink it)"
"$NODE" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || die "$NODE is $("$NODE" -v): Node >= 20.19 is needed"
command -v npm >/dev/null 2>&1 || die "npm not found"
if [ ! -f "$SRC/package.json" ] || [ ! -f "$SRC/systemd/tapwatch.service" ]; then
  die "$SRC does not look like the tapwatch source tree"
fi

# owner options for install(1): none when packaging
if [ -n "$DESTDIR" ]; then OWN_ETC=""; else OWN_ETC="-o root -g $USER_NAME"; fi

# --- build (in the source tree) -------------------------------------------------------
if [ "$BUILD" = 1 ]; then
  # npm ci also builds the capture addon (node-gyp) when libpcap-dev is installed
  run env -C "$SRC" npm ci --no-audit --no-fund
  run env -C "$SRC" npm run build
fi
if [ "$DRY" = 0 ] || [ "$BUILD" = 0 ]; then
  [ -f "$SRC/dist/cli/main.js" ] || die "$SRC/dist is missing (npm run build)"
  [ -f "$SRC/$ADDON" ] || die "the capture addon was not built ($ADDON missing): apt-get install libpcap-dev build-essential, then npm ci in $SRC"
fi

# --- user ---------------------------------------------------------------------------
if [ -n "$DESTDIR" ]; then
  say "packaging into $DESTDIR: create the user at package install (useradd --system --user-group $USER_NAME)"
elif getent passwd "$USER_NAME" >/dev/null 2>&1; then
  say "user $USER_NAME exists"
else
  run useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
    --comment "tapwatch network sensor" "$USER_NAME"
fi

# --- code: /opt/tapwatch --------------------------------------------------------------
# Staged next to the target and moved into place: a failed install leaves the old
# version untouched, and a running sensor keeps its open files until it restarts.
STAGE=$T_PREFIX.new
run rm -rf "$STAGE"
run install -d -m 0755 "$STAGE" "$STAGE/src/capture/native/build/Release" "$STAGE/systemd"
run cp -R "$SRC/dist" "$STAGE/dist"
run install -m 0644 "$SRC/package.json" "$SRC/package-lock.json" "$SRC/README.md" "$STAGE/"
run install -m 0644 "$SRC/src/capture/native/package.json" "$SRC/src/capture/native/index.js" "$STAGE/src/capture/native/"
run install -m 0755 "$SRC/$ADDON" "$STAGE/$ADDON"
run install -m 0644 "$SRC/systemd/README.md" "$SRC/systemd/tapwatch.json" "$SRC/systemd/tapwatch.service" \
  "$SRC/systemd/tapwatch.logrotate" "$STAGE/systemd/"
# production dependencies only; the addon is the one built above (no compiler needed here)
run env -C "$STAGE" npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund
if [ -z "$DESTDIR" ]; then run chown -R root:root "$STAGE"; fi
run chmod -R u=rwX,go=rX "$STAGE"
run "$NODE" "$STAGE/dist/cli/main.js" --version
if [ -e "$T_PREFIX" ]; then
  run rm -rf "$T_PREFIX.old"
  run mv "$T_PREFIX" "$T_PREFIX.old"
fi
run mv "$STAGE" "$T_PREFIX"
run rm -rf "$T_PREFIX.old"

# --- configuration --------------------------------------------------------------------
# shellcheck disable=SC2086 # OWN_ETC is two options or nothing
run install -d -m 0750 $OWN_ETC "$T_ETC"
if [ -e "$T_ETC/tapwatch.json" ]; then
  say "$T_ETC/tapwatch.json exists: kept (the example is $PREFIX/systemd/tapwatch.json)"
else
  # shellcheck disable=SC2086
  run install -m 0640 $OWN_ETC "$SRC/systemd/tapwatch.json" "$T_ETC/tapwatch.json"
  say "edit $ETC/tapwatch.json: capture.interface, network.homeNet, outputs"
fi
if [ "$DRY" = 1 ]; then
  run "$NODE" "$T_PREFIX/dist/cli/main.js" check-config "$T_ETC/tapwatch.json"
elif ! "$NODE" "$T_PREFIX/dist/cli/main.js" check-config "$T_ETC/tapwatch.json" >/dev/null; then
  die "$T_ETC/tapwatch.json is not valid (message above): fix it before starting the service"
fi

# --- unit, logrotate ------------------------------------------------------------------
run install -d -m 0755 "$T_UNIT_DIR"
if [ "$PREFIX" = /opt/tapwatch ]; then
  run install -m 0644 "$SRC/systemd/tapwatch.service" "$T_UNIT_DIR/tapwatch.service"
else
  run sh -c 'sed "s#/opt/tapwatch#$1#g" "$2" > "$3" && chmod 0644 "$3"' sh "$PREFIX" \
    "$SRC/systemd/tapwatch.service" "$T_UNIT_DIR/tapwatch.service"
fi
if [ -n "$DESTDIR" ] || [ -d "$LOGROTATE_DIR" ] || [ "$DRY" = 1 ]; then
  run install -d -m 0755 "$T_LOGROTATE_DIR"
  run install -m 0644 "$SRC/systemd/tapwatch.logrotate" "$T_LOGROTATE_DIR/tapwatch"
else
  say "$LOGROTATE_DIR missing (logrotate not installed): rotation not set up"
fi

if [ -n "$DESTDIR" ]; then
  say "packaged into $DESTDIR (systemctl skipped)"
elif [ -d /run/systemd/system ] || [ "$DRY" = 1 ]; then
  run systemctl daemon-reload
  if [ "$ENABLE" = 1 ]; then run systemctl enable tapwatch.service; fi
  if [ "$START" = 1 ]; then run systemctl restart tapwatch.service; fi
  say "done. Next: edit $ETC/tapwatch.json, then: systemctl enable --now tapwatch; journalctl -u tapwatch -f"
else
  say "systemd is not running here (no /run/systemd/system): unit installed, daemon-reload skipped"
fi
