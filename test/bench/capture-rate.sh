#!/bin/bash
# Capture-rate benchmark: at which packet rate does `tapwatch run` (the whole daemon,
# every detector at its defaults, alerts to a file) start to drop, next to
# `tcpdump -w /dev/null` on the same traffic?
#
#   sudo test/bench/capture-rate.sh [--rates "10000 50000 100000 200000"] [--seconds 3]
#                                   [--profile syn|dns|flow] [--tools "tcpdump tapwatch"] [--buffer-mib 64]
#                                   [--workers "1 N"]
#
# Setup (removed on exit, also on failure or ^C): a network namespace twd-bench-<random>
# with a veth pair in a free /27 of 10.77.2.0/24. A small C sender (compiled here with
# gcc) inside the namespace writes Ethernet frames to its veth end through an AF_PACKET
# socket at a fixed rate for a bounded time (≤ 5 s per run, sendmmsg batches of 32,
# paced on CLOCK_MONOTONIC). The frames' destination MAC is not the host end's, so the
# host kernel drops them after the capture taps (PACKET_OTHERHOST; both tools capture in
# promiscuous mode): the captured packet count is exactly what arrived, with no replies.
#
# Profiles (what each frame is):
#   syn   TCP SYN from 4096 sources to 1024 ports, a new source port each packet: every
#         packet is a new flow (flow table, tcp_syn events, scan/flood detectors) — worst case
#   dns   DNS queries (UDP 53) from 256 sources, a new name and id each packet: DNS decode
#         and an event per packet
#   flow  ACK+PSH segments with 512 bytes of payload in 64 long-lived TCP connections:
#         bulk traffic, the cheapest per packet
#
# Each tool runs alone on the traffic (one run per rate), with the same kernel buffer
# (--buffer-mib, default 64 = tapwatch's default capture.bufferSize; tcpdump's own
# default is 2) and snap length (262144). Reported per run: frames sent (and the rate
# the sender reached), frames that arrived on the host end (rx_packets delta: what any
# capture can see), what the tool received and dropped (kernel ring full; for tapwatch
# also its hand-off queue), the share lost, for tapwatch the packets it analysed over its
# whole run (its sustained rate when it is behind; the per-second stats line is logged
# rarely then, as the analysis holds the event loop) and how long SIGTERM took (tapwatch
# analyses everything already captured before it exits, so a backlog makes the stop long).
# The hand-off queue (64 batches of 1 MiB: some 600 k 60-byte frames) absorbs a
# burst: drops begin once the backlog beyond the analysis rate outgrows it, so a short run
# at a rate above the analysis rate can still show no loss.
# Workers: tapwatch runs once per --workers count (default "1 $(nproc)") when `run` takes
# --workers; while it does not (live capture has one analysis thread today: `analyze
# --workers` exists, `run --workers` does not), only 1 is measured and the script says so.
# The last lines give, per tool, the highest rate measured with no loss (< 0.1 %) and the
# lowest rate at which drops began.
# CAPTURE_RATE_LOGS=DIR keeps each tool's stderr (tapwatch: its log and summary) in DIR.
# Needs root, gcc, iproute2, tcpdump, node and a built dist/ (npm run build).
set -euo pipefail

RATES="10000 50000 100000 200000"
SECONDS_PER_RUN=3
PROFILE=syn
TOOLS="tcpdump tapwatch"
BUF_MIB=64
WORKERS="1 $(nproc)"
while [ $# -gt 0 ]; do
  case "$1" in
    --rates) RATES=$2; shift ;;
    --seconds) SECONDS_PER_RUN=$2; shift ;;
    --profile) PROFILE=$2; shift ;;
    --tools) TOOLS=$2; shift ;;
    --buffer-mib) BUF_MIB=$2; shift ;;
    --workers) WORKERS=$2; shift ;;
    -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "capture-rate.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
case "$PROFILE" in syn|dns|flow) ;; *) echo "capture-rate.sh: --profile syn, dns or flow" >&2; exit 2 ;; esac
if [ "$SECONDS_PER_RUN" -gt 5 ] || [ "$SECONDS_PER_RUN" -lt 1 ]; then echo "capture-rate.sh: --seconds 1..5" >&2; exit 2; fi
[ "$(id -u)" = 0 ] || { echo "capture-rate.sh: needs root (namespace, capture)" >&2; exit 1; }
for t in gcc ip tcpdump node; do command -v "$t" >/dev/null || { echo "capture-rate.sh: $t not found" >&2; exit 1; }; done

REPO=$(cd "$(dirname "$0")/../.." && pwd)
[ -f "$REPO/dist/cli/main.js" ] || { echo "capture-rate.sh: run npm run build first" >&2; exit 1; }
for w in $WORKERS; do case "$w" in ''|*[!0-9]*) echo "capture-rate.sh: --workers takes counts, e.g. \"1 2\"" >&2; exit 2 ;; esac; done
# tapwatch with each worker count (tapwatch = 1 worker; tapwatch-wN when run takes --workers)
RUN_WORKERS=no
if node "$REPO/dist/cli/main.js" run --help 2>/dev/null | grep -q -- '--workers'; then RUN_WORKERS=yes; fi
WORKER_NOTE=""
EXPANDED=""
for t in $TOOLS; do
  if [ "$t" != tapwatch ]; then EXPANDED="$EXPANDED $t"; continue; fi
  for w in $(printf '%s\n' $WORKERS | sort -nu); do
    if [ "$w" = 1 ]; then EXPANDED="$EXPANDED tapwatch"
    elif [ $RUN_WORKERS = yes ]; then EXPANDED="$EXPANDED tapwatch-w$w"
    else WORKER_NOTE="tapwatch run has no --workers yet (live capture analyses on one thread; only analyze --workers exists): measured with 1 worker only, not with $w"
    fi
  done
done
TOOLS=$EXPANDED

ID=$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
NS=twd-bench-$ID
HIF=twb${ID}h
NIF=twb${ID}n
TMP=$(mktemp -d /tmp/tapwatch-capture-rate.XXXXXX)
TOOL_PID=""
SEND_PID=""

cleanup() {
  if [ -n "$SEND_PID" ]; then kill -KILL "$SEND_PID" 2>/dev/null || true; fi
  if [ -n "$TOOL_PID" ]; then kill -KILL "$TOOL_PID" 2>/dev/null || true; fi
  ip link del "$HIF" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

# a free /27 of 10.77.2.0/24
BASE=""
USED=$(ip -4 -o addr show | grep -o 'inet 10\.77\.2\.[0-9]*' | sed 's/.*\.//' || true)
for b in $(shuf -e 0 32 64 96 128 160 192 224); do
  free=1
  for o in $USED; do if [ "$o" -ge "$b" ] && [ "$o" -lt $((b + 32)) ]; then free=0; fi; done
  if [ $free = 1 ]; then BASE=$b; break; fi
done
[ -n "$BASE" ] || { echo "capture-rate.sh: no free /27 in 10.77.2.0/24" >&2; exit 1; }
HOST_IP=10.77.2.$((BASE + 1))
NS_IP=10.77.2.$((BASE + 2))

ip netns add "$NS"
ip link add "$HIF" type veth peer name "$NIF" netns "$NS"
sysctl -qw "net.ipv6.conf.$HIF.disable_ipv6=1" || true
ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$NIF.disable_ipv6=1" || true
ip addr add "$HOST_IP/27" dev "$HIF"
ip link set "$HIF" up
ip netns exec "$NS" ip addr add "$NS_IP/27" dev "$NIF"
ip netns exec "$NS" ip link set "$NIF" up
for _ in $(seq 50); do ip link show "$HIF" | grep -q LOWER_UP && break; sleep 0.1; done

# ---- the sender --------------------------------------------------------------------------
cat > "$TMP/twsend.c" <<'EOF'
/* twsend IFNAME PROFILE RATE_PPS SECONDS DST_IP: paced AF_PACKET frames; prints "sent N elapsed S" */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32
#define FRAME_MAX 600

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum) {
  for (; n > 1; p += 2, n -= 2) sum += (uint32_t)(p[0] << 8 | p[1]);
  if (n) sum += (uint32_t)(p[0] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

static size_t build(uint8_t *f, int profile, uint64_t i, uint32_t dst) {
  static const uint8_t dmac[6] = {0x02, 0x00, 0x5e, 0x77, 0x02, 0x99}; /* nobody's: PACKET_OTHERHOST */
  static const uint8_t smac[6] = {0x02, 0x00, 0x5e, 0x77, 0x02, 0x01};
  memcpy(f, dmac, 6); memcpy(f + 6, smac, 6); f[12] = 0x08; f[13] = 0x00;
  uint8_t *ip = f + 14, *l4 = ip + 20;
  uint32_t src; size_t l4len; uint8_t proto;
  if (profile == 0) { /* syn */
    src = htonl(0x0a4d0000u | (10u << 12) | (uint32_t)(i % 4096)); /* 10.77.160.0/20 */
    proto = 6; l4len = 20;
    memset(l4, 0, 20);
    uint16_t sport = htons((uint16_t)(1024 + (i / 4096) % 60000)), dport = htons((uint16_t)(1 + i % 1024));
    memcpy(l4, &sport, 2); memcpy(l4 + 2, &dport, 2);
    uint32_t seq = htonl((uint32_t)(i * 2654435761u)); memcpy(l4 + 4, &seq, 4);
    l4[12] = 5 << 4; l4[13] = 0x02; l4[14] = 0xfa; l4[15] = 0xf0;
  } else if (profile == 1) { /* dns */
    src = htonl(0x0a4db000u | (uint32_t)(i % 256)); /* 10.77.176.0/24 */
    proto = 17;
    uint8_t *d = l4 + 8;
    uint16_t id = htons((uint16_t)i); memcpy(d, &id, 2);
    d[2] = 0x01; d[3] = 0x00; d[4] = 0; d[5] = 1; memset(d + 6, 0, 6);
    char name[64];
    int n = snprintf(name, sizeof name, "%c%08llx%c%s", 8, (unsigned long long)i, 7, "example");
    memcpy(d + 12, name, (size_t)n);
    d[12 + n] = 3; memcpy(d + 13 + n, "com", 3); d[16 + n] = 0;
    d[17 + n] = 0; d[18 + n] = 1; d[19 + n] = 0; d[20 + n] = 1;
    size_t dnslen = 21 + (size_t)n;
    l4len = 8 + dnslen;
    uint16_t sport = htons((uint16_t)(1024 + (i / 256) % 60000)), dport = htons(53), ul = htons((uint16_t)l4len);
    memcpy(l4, &sport, 2); memcpy(l4 + 2, &dport, 2); memcpy(l4 + 4, &ul, 2); l4[6] = l4[7] = 0;
  } else { /* flow */
    uint32_t c = (uint32_t)(i % 64);
    src = htonl(0x0a4dc000u | c); /* 10.77.192.0/26 */
    proto = 6; l4len = 20 + 512;
    memset(l4, 0, 20);
    uint16_t sport = htons((uint16_t)(40000 + c)), dport = htons(9000);
    memcpy(l4, &sport, 2); memcpy(l4 + 2, &dport, 2);
    uint32_t seq = htonl((uint32_t)(1000 + (i / 64) * 512)), ack = htonl(1);
    memcpy(l4 + 4, &seq, 4); memcpy(l4 + 8, &ack, 4);
    l4[12] = 5 << 4; l4[13] = 0x18; l4[14] = 0xfa; l4[15] = 0xf0;
    memset(l4 + 20, 'x', 512);
  }
  size_t iplen = 20 + l4len;
  ip[0] = 0x45; ip[1] = 0; ip[2] = (uint8_t)(iplen >> 8); ip[3] = (uint8_t)iplen;
  ip[4] = (uint8_t)(i >> 8); ip[5] = (uint8_t)i; ip[6] = 0x40; ip[7] = 0; ip[8] = 64; ip[9] = proto;
  ip[10] = ip[11] = 0;
  memcpy(ip + 12, &src, 4); memcpy(ip + 16, &dst, 4);
  uint16_t c1 = htons(csum(ip, 20, 0)); memcpy(ip + 10, &c1, 2);
  if (proto == 6) { /* TCP checksum over the pseudo header */
    uint32_t s = 0; const uint8_t *a = ip + 12;
    for (int k = 0; k < 8; k += 2) s += (uint32_t)(a[k] << 8 | a[k + 1]);
    s += 6 + (uint32_t)l4len;
    uint16_t c2 = htons(csum(l4, l4len, s)); memcpy(l4 + 16, &c2, 2);
  }
  return 14 + iplen;
}

int main(int argc, char **argv) {
  if (argc != 6) { fprintf(stderr, "usage: twsend IF syn|dns|flow RATE SECONDS DST_IP\n"); return 2; }
  int profile = !strcmp(argv[2], "syn") ? 0 : !strcmp(argv[2], "dns") ? 1 : 2;
  double rate = atof(argv[3]), secs = atof(argv[4]);
  if (secs > 5) secs = 5;
  uint32_t dst; inet_pton(AF_INET, argv[5], &dst);
  int fd = socket(AF_PACKET, SOCK_RAW, 0);
  if (fd < 0) { perror("socket"); return 1; }
  struct sockaddr_ll sll = {0};
  sll.sll_family = AF_PACKET; sll.sll_ifindex = (int)if_nametoindex(argv[1]); sll.sll_halen = 6;
  if (!sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) { perror("bind"); return 1; }
  int one = 1;
  setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
  static uint8_t frames[BATCH][FRAME_MAX];
  struct iovec iov[BATCH]; struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof msgs);
  uint64_t total = (uint64_t)(rate * secs), sent = 0, failed = 0;
  double t0 = now();
  while (sent + failed < total && now() - t0 < secs + 2) {
    double due = t0 + (double)(sent + failed) / rate;
    double t = now();
    if (t < due) { if (due - t > 0.0002) { struct timespec ts = {0, (long)((due - t) * 1e9) - 100000}; nanosleep(&ts, NULL); } continue; }
    int n = 0;
    for (; n < BATCH && sent + failed + (uint64_t)n < total; n++) {
      iov[n].iov_base = frames[n]; iov[n].iov_len = build(frames[n], profile, sent + failed + (uint64_t)n, dst);
      msgs[n].msg_hdr.msg_iov = &iov[n]; msgs[n].msg_hdr.msg_iovlen = 1;
    }
    int r = sendmmsg(fd, msgs, (unsigned)n, 0);
    if (r < 0) { failed += (uint64_t)n; continue; }
    sent += (uint64_t)r; failed += (uint64_t)(n - r);
  }
  printf("sent %llu failed %llu elapsed %.3f\n", (unsigned long long)sent, (unsigned long long)failed, now() - t0);
  return 0;
}
EOF
gcc -O2 -Wall -o "$TMP/twsend" "$TMP/twsend.c"

stat_of() { cat "/sys/class/net/$1/statistics/$2"; }

# run_one TOOL RATE: prints one table row
run_one() {
  local tool=$1 rate=$2 out="$TMP/$1.err" rx0 rx1 txd0 txd1 sent recv drop extra
  : > "$out"
  if [ "$tool" = tcpdump ]; then
    tcpdump -i "$HIF" -w /dev/null -B $((BUF_MIB * 1024)) -s 262144 -n -q 2> "$out" &
    TOOL_PID=$!
    for _ in $(seq 100); do grep -q "listening on" "$out" && break; sleep 0.05; done
  else
    local wflag=()
    case "$tool" in tapwatch-w*) wflag=(--workers "${tool#tapwatch-w}") ;; esac
    node "$REPO/dist/cli/main.js" run -i "$HIF" -o "$TMP/alerts.jsonl" --buffer-size "$BUF_MIB" \
      --set 'daemon.statsSchedule=* * * * * *' "${wflag[@]}" 2> "$out" &
    TOOL_PID=$!
    for _ in $(seq 200); do grep -q '"capture started"' "$out" && break; sleep 0.05; done
  fi
  sleep 0.3
  rx0=$(stat_of "$HIF" rx_packets)
  txd0=$(ip netns exec "$NS" cat "/sys/class/net/$NIF/statistics/tx_dropped")
  ip netns exec "$NS" "$TMP/twsend" "$NIF" "$PROFILE" "$rate" "$SECONDS_PER_RUN" "$HOST_IP" > "$TMP/send.out" &
  SEND_PID=$!
  wait "$SEND_PID"; SEND_PID=""
  sleep 1.5 # let the tool drain its ring
  rx1=$(stat_of "$HIF" rx_packets)
  txd1=$(ip netns exec "$NS" cat "/sys/class/net/$NIF/statistics/tx_dropped")
  local t_stop; t_stop=$(date +%s.%N)
  local sig=TERM rc=0 died=""
  if [ "$tool" = tcpdump ]; then sig=INT; fi
  kill -"$sig" "$TOOL_PID" 2>/dev/null || died="exited before the signal: "
  wait "$TOOL_PID" || rc=$?
  if [ "$rc" != 0 ]; then died="${died}exit status $rc; "; fi
  local stop_s; stop_s=$(awk -v a="$t_stop" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  TOOL_PID=""
  if [ -n "${CAPTURE_RATE_LOGS:-}" ]; then mkdir -p "$CAPTURE_RATE_LOGS"; cp "$out" "$CAPTURE_RATE_LOGS/$PROFILE-$rate-$tool.log"; fi
  sent=$(awk '{print $2}' "$TMP/send.out")
  local elapsed; elapsed=$(awk '{print $6}' "$TMP/send.out")
  local arrived=$((rx1 - rx0)) vdrop=$((txd1 - txd0))
  if [ "$tool" = tcpdump ]; then
    recv=$(sed -n 's/^\([0-9]*\) packets received by filter.*/\1/p' "$out")
    drop=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$out")
    extra="captured $(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$out")"
  else
    # capture: received R, dropped by kernel K, by interface I, by the hand-off queue (not analysed) Q, delivered D
    local line; line=$(grep '^capture: received' "$out" || echo "")
    recv=$(echo "$line" | sed -n 's/.*received \([0-9]*\),.*/\1/p')
    local kd qd dl
    kd=$(echo "$line" | sed -n 's/.*dropped by kernel \([0-9]*\),.*/\1/p')
    qd=$(echo "$line" | sed -n 's/.*(not analysed) \([0-9]*\),.*/\1/p')
    dl=$(echo "$line" | sed -n 's/.*delivered \([0-9]*\).*/\1/p')
    drop=$(( ${kd:-0} + ${qd:-0} ))
    local took; took=$(sed -n 's/.*analysis took \([0-9.]*\) s.*/\1/p' "$out")
    # the analysis rate over the whole run (first packet to the end of the backlog): the stats
    # timer shares the event loop with the analysis, so while it is behind it logs rarely
    local arate; arate=$(awk -v d="${dl:-0}" -v t="${took:-0}" 'BEGIN { if (t > 0) printf "%.0f", d / t; else printf "?" }')
    extra="kernel $kd, queue $qd, analysed $dl in ${took}s = ${arate}/s; alerts $(sed -n 's/^alerts written: \([0-9]*\).*/\1/p' "$out")"
  fi
  local peak="-"
  if [ "$tool" != tcpdump ]; then
    # highest packets/s between consecutive stats lines (pino: "time" ms, "packets")
    peak=$(grep '"msg":"stats"' "$out" | sed -n 's/.*"time":\([0-9]*\).*"packets":\([0-9]*\),.*/\1 \2/p' |
      awk 'NR > 1 && $1 > t { r = ($2 - p) * 1000 / ($1 - t); if (r > m) m = r } { t = $1; p = $2 } END { if (NR < 2) printf "-"; else printf "%.0f", m }')
  fi
  local lost="?"
  if [ -n "$recv" ] && [ "$arrived" -gt 0 ]; then
    lost=$(awk -v a="$arrived" -v r="$recv" -v d="${drop:-0}" 'BEGIN { printf "%.1f%%", 100 * (a - (r - d)) / a }')
    # for the summary: tool, target rate, rate that arrived, loss in per cent
    awk -v t="$tool" -v x="$rate" -v a="$arrived" -v e="$elapsed" -v r="$recv" -v d="${drop:-0}" \
      'BEGIN { printf "%s %s %.0f %.3f\n", t, x, a / e, 100 * (a - (r - d)) / a }' >> "$TMP/summary"
  fi
  printf '| %-8s | %3s | %7s | %7s | %6.0f | %7s | %7s | %7s | %6s | %7s | %5s | %s |\n' \
    "$tool" "$BUF_MIB" "$rate" "$sent" "$(awk -v s="$sent" -v e="$elapsed" 'BEGIN { print s / e }')" "$arrived" "${recv:-?}" "${drop:-?}" "$lost" "$peak" "$stop_s" "$died$extra (veth tx_dropped $vdrop)"
}

echo "capture-rate: profile $PROFILE, ${SECONDS_PER_RUN} s per run, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $(uname -r), node $(node -v), $(tcpdump --version 2>&1 | head -1)"
echo
echo "| tool     | MiB | target  |    sent | sent/s | arrived | received | dropped |   lost | peak pps | stop s | detail |"
echo "|----------|----:|--------:|--------:|-------:|--------:|--------:|--------:|-------:|--------:|------:|--------|"
for rate in $RATES; do
  for tool in $TOOLS; do
    run_one "$tool" "$rate"
  done
done
echo
echo "lost = (arrived - (received - dropped)) / arrived: packets on the interface the tool did not get to analyse/write."
echo "peak pps = most packets tapwatch analysed between two stats lines (- : fewer than two, the analysis kept the event loop busy); stop s = SIGTERM (tcpdump: SIGINT) to exit."
echo
for tool in $TOOLS; do
  if [ ! -s "$TMP/summary" ]; then break; fi
  sort -k2,2n "$TMP/summary" | awk -v t="$tool" '$1 == t {
      if ($4 < 0.1) { if (!began) { ok = $2; okr = $3 } } else if (!began) { began = $2; br = $3; bl = $4 }
    } END {
      printf "%s: ", t
      if (ok != "") printf "no loss up to %s pps (%s arrived/s)", ok, okr; else printf "loss at every rate measured"
      if (began != "") printf "; drops begin by %s pps (%s arrived/s, %.1f%% lost)\n", began, br, bl; else printf "; no drops at any rate measured\n"
    }'
done
if [ -n "$WORKER_NOTE" ]; then echo "$WORKER_NOTE"; fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
