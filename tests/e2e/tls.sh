# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash disable=SC2016 # Python, Go and JS sources are single-quoted on purpose
#
# TLS helpers for tests/e2e/tls_*.sh. Source after lib.sh, call tls_setup after e2e_setup.
#
# tls_setup: a throwaway self-signed certificate (CN $TLS_HOST, SANs api.partner.example and
# *.partner.example, in $WORK/tls), an HTTPS/1.1 server in the peer namespace on every address,
# port $TLS_PORT (8443), and one recipient line appended to $WORK/recipients.csv:
#   partner,third-party,*.partner.example
# The peer's own address ($IP_PEER, .2) stays unmapped, and nobody consented to "partner", so a
# finding resolves to "partner" only through a host name (HTTP Host header or TLS SNI), and
# every registered value posted there is unconsented. Clients reach $TLS_HOST:$TLS_PORT at
# $IP_PEER; curl through --resolve, the others through /etc/hosts in a private mount namespace
# ($TLS_IN_HOSTS), so they resolve, verify the certificate and send SNI as with a real name.
#
# The server logs to $TLS_LOG, per request (once its whole body is read, before answering):
#   req PORT from ADDR sni NAME|- host HOSTHEADER|- method M path P body N
# and per closed connection:
#   conn PORT from ADDR sni NAME|- bytes N requests R
# A message that does not start like an HTTP request is read up to a newline, answered "ok\n"
# and logged as "raw PORT from ADDR sni NAME|- bytes N".
# Handshake or parse errors are logged as "err PORT from ADDR ...".
#
# Clients (each fails the test unless the server answered 200; the client's PID is left in
# $TLS_PID, its comm is given per client):
#   tls_curl BODY [curl options...]  curl (libssl SSL_write), comm "curl"
#   tls_python BODY                  /usr/bin/python3 urllib (libssl SSL_write_ex), "python3";
#                                    http.client writes the header and the body separately
#   tls_wget BODY                    wget --post-data (GnuTLS gnutls_record_send), "wget"; also
#                                    writes header and body separately
#   tls_node BODY                    /usr/bin/node https.request (OpenSSL, static in nodesource
#                                    builds, libssl.so.3 in Debian's), "node"
#   tls_go BODY                      Go net/http client (crypto/tls), built by tls_go_build into
#                                    $TLS_GO_BIN, comm "cs-gotls"
#   tls_go_start BODY WAIT           the same in the background, sending after WAIT ("1s"), or
#                                    (WAIT "fifo") once tls_go_release is called; tls_go_wait
#   tls_pyraw BODY                   /usr/bin/python3 ssl socket, the whole request (head and
#                                    body) in one sendall (one SSL_write_ex), "python3"
#   tls_pyraw_msg SNI BODY           /usr/bin/python3 ssl socket, SNI as given, BODY sent as one
#                                    newline-terminated non-HTTP message (no Host header)
#   tls_pyraw_start BODY             like tls_pyraw, but connects and finishes the TLS
#                                    handshake now, then waits: tls_pyraw_send makes it send
#                                    (and waits for the answer), tls_pyraw_finish makes it
#                                    exit. $TLS_PID.
# BODY arguments that start with "@" name a file (the body is its content).
# jq filters see, besides lib.sh's variables: $tls_host, $tls_rcpt, $port_tls.

TLS_HOST=api.partner.example
TLS_DOMAIN=partner.example
TLS_RCPT=partner
TLS_PORT=8443
TLS_PATH=/v1/collect
TLS_DIR=
TLS_CA=
TLS_LOG=
TLS_HOSTS=
TLS_PID=
TLS_GO_BIN=
TLS_IN_HOSTS=()
TLS_CTL=
TLS_STATUS=

# tls_need CMD PACKAGE: skip (exit 77) without CMD, or fail under CI=true.
tls_need() {
	command -v "$1" >/dev/null && return 0
	if [[ "${CI:-}" == true ]]; then
		fail "$1 not installed (Debian package $2; scripts/setup)"
	fi
	echo "SKIP: $1 not installed (apt-get install $2)"
	exit 77
}

TLS_SERVER_PY='
import socket, ssl, sys, threading, time
log_path, cert, key, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
logf = open(log_path, "a", buffering=1)
lock = threading.Lock()
def log(msg):
    with lock:
        logf.write(msg + "\n")
        logf.flush()
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ctx.set_alpn_protocols(["http/1.1"])
def on_sni(sobj, name, c):
    sobj.cs_sni = name
ctx.sni_callback = on_sni
OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n"
class Conn:
    # a bytearray: appends and cuts from the front in linear time (16 MB bodies in 16 KB records)
    def __init__(self, s):
        self.s, self.buf, self.total = s, bytearray(), 0
    def more(self):
        d = self.s.recv(262144)
        if not d:
            raise EOFError
        self.total += len(d)
        self.buf += d
    def line(self):
        while b"\r\n" not in self.buf:
            self.more()
        i = self.buf.index(b"\r\n")
        l = bytes(self.buf[:i])
        del self.buf[:i + 2]
        return l
    def take(self, n):
        while len(self.buf) < n:
            self.more()
        d = bytes(self.buf[:n])
        del self.buf[:n]
        return d
def serve(raw, peer):
    sni, requests, c, what = "-", 0, None, "conn"
    try:
        raw.settimeout(30)
        s = ctx.wrap_socket(raw, server_side=True)
        sni = getattr(s, "cs_sni", None) or "-"
        c = Conn(s)
        while True:
            try:
                while b"\n" not in c.buf:
                    c.more()
            except EOFError:
                break
            if not c.buf.split(b" ", 1)[0].isalpha():
                # Not HTTP: a newline-terminated message, answered "ok".
                msg, _, c.buf = c.buf.partition(b"\n")
                requests += 1
                log("raw %d from %s sni %s bytes %d" % (port, peer, sni, len(msg) + 1))
                s.sendall(b"ok\n")
                continue
            first = c.line()
            if not first:
                continue
            parts = first.decode("latin-1").split(" ")
            hdr = {}
            while True:
                l = c.line()
                if not l:
                    break
                k, _, v = l.decode("latin-1").partition(":")
                hdr[k.strip().lower()] = v.strip()
            if "100-continue" in hdr.get("expect", "").lower():
                s.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            n = 0
            if "chunked" in hdr.get("transfer-encoding", "").lower():
                while True:
                    size = int(c.line().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while c.line():
                            pass
                        break
                    n += len(c.take(size))
                    c.take(2)
            else:
                n = len(c.take(int(hdr.get("content-length", "0") or 0)))
            requests += 1
            log("req %d from %s sni %s host %s method %s path %s body %d" % (port, peer, sni,
                hdr.get("host", "-"), parts[0], parts[1] if len(parts) > 1 else "-", n))
            s.sendall(OK)
            if hdr.get("connection", "").lower() == "close":
                break
    except (OSError, ValueError, EOFError) as e:
        what = "err"
        log("err %d from %s sni %s %s: %s" % (port, peer, sni, type(e).__name__, e))
    finally:
        log("conn %d from %s sni %s bytes %d requests %d%s" % (port, peer, sni,
            c.total if c else 0, requests, "" if what == "conn" else " (error)"))
        raw.close()
ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
ls.bind(("::", port))
ls.listen(128)
log("ready")
while True:
    conn, addr = ls.accept()
    threading.Thread(target=serve, args=(conn, addr[0].removeprefix("::ffff:")),
                     daemon=True).start()
'

# One TLS connection from /usr/bin/python3's ssl module (SNI HOST), the request written in one
# sendall(). argv: IP PORT HOST CAFILE PATH BODYFILE [CTLFIFO STATUSFILE]. PATH "-": no HTTP, the
# body as one newline-terminated message (the server answers "ok"). With the fifo, the handshake is
# done first, "connected" written to STATUSFILE, and the request sent only after a line has been
# read from the fifo; then "done CODE len REQUESTBYTES" is written and the client exits after a
# second line. Status lines are printed on stdout too.
TLS_PYRAW_PY='
import socket, ssl, sys
ip, port, host, ca, path, bodyfile = sys.argv[1:7]
ctl = sys.argv[7] if len(sys.argv) > 7 else None
status = sys.argv[8] if len(sys.argv) > 8 else None
def say(msg):
    print(msg, flush=True)
    if status:
        with open(status, "a") as f:
            f.write(msg + "\n")
body = open(bodyfile, "rb").read()
ctx = ssl.create_default_context(cafile=ca)
raw = socket.create_connection((ip, int(port)), timeout=20)
s = ctx.wrap_socket(raw, server_hostname=host)
say("connected")
def wait_ctl():
    if ctl:
        with open(ctl) as f:
            f.readline()
wait_ctl()
if path == "-":
    req = body if body.endswith(b"\n") else body + b"\n"
else:
    req = ("POST %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: cs-pyraw\r\nAccept: */*\r\n"
           "Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
           % (path, host, port, len(body))).encode() + body
s.sendall(req)
resp = b""
while b"\n" not in resp:
    d = s.recv(4096)
    if not d:
        break
    resp += d
if path == "-":
    code = "200" if resp == b"ok\n" else "none"
else:
    code = resp.split(b" ")[1].decode() if resp.startswith(b"HTTP/1.1 ") else "none"
say("done %s len %d" % (code, len(req)))
s.close()
wait_ctl()
sys.exit(0 if code == "200" else 1)
'

TLS_PYURLLIB_PY='
import ssl, sys, urllib.request
url, ca, bodyfile = sys.argv[1:4]
ctx = ssl.create_default_context(cafile=ca)
req = urllib.request.Request(url, data=open(bodyfile, "rb").read(), method="POST",
                             headers={"Content-Type": "application/json"})
with urllib.request.urlopen(req, context=ctx, timeout=20) as r:
    r.read()
    sys.exit(0 if r.status == 200 else 1)
'

TLS_NODE_JS='
const fs = require("fs"), https = require("https");
const [url, ca, bodyfile] = process.argv.slice(1);
const body = fs.readFileSync(bodyfile);
const req = https.request(url, {
	method: "POST", ca: fs.readFileSync(ca), agent: false,
	headers: {"Content-Type": "application/json", "Content-Length": body.length},
}, (res) => {
	res.resume();
	res.on("end", () => process.exit(res.statusCode === 200 ? 0 : 1));
});
req.on("error", (e) => { console.error("node client: " + e.message); process.exit(1); });
req.setTimeout(20000, () => { console.error("node client: timeout"); process.exit(1); });
req.end(body);
'

TLS_GO_MAIN='package main

// A minimal HTTPS client: POST BODY (a file) to URL, trusting only CAFILE; exit 0 on HTTP 200.
// WAIT, if given, is a duration to sleep first ("1s") or a fifo to read a line from first.

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 4 && len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: cs-gotls URL CAFILE BODYFILE [WAIT]")
		os.Exit(2)
	}
	if len(os.Args) == 5 {
		if d, err := time.ParseDuration(os.Args[4]); err == nil {
			time.Sleep(d)
		} else {
			fmt.Println("waiting") // opening a fifo blocks until the writer comes
			f, err := os.Open(os.Args[4])
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			bufio.NewReader(f).ReadString(10) // up to a newline
			f.Close()
		}
	}
	ca, err := os.ReadFile(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		fmt.Fprintln(os.Stderr, "no certificate in", os.Args[2])
		os.Exit(1)
	}
	body, err := os.ReadFile(os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	c := &http.Client{
		Timeout: 20 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: pool},
			DisableKeepAlives: true,
		},
	}
	resp, err := c.Post(os.Args[1], "application/json", bytes.NewReader(body))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		fmt.Fprintln(os.Stderr, "HTTP", resp.StatusCode)
		os.Exit(1)
	}
}
'

# tls_setup: certificate, hosts file, recipient line, HTTPS server in $NS. After e2e_setup.
tls_setup() {
	local i
	[[ -n "$NS" && -n "${IP_PEER:-}" ]] || fail "tls_setup: call e2e_setup first"
	tls_need openssl openssl
	tls_need unshare util-linux
	TLS_DIR="$WORK/tls"
	mkdir -p "$TLS_DIR"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=$TLS_HOST" \
		-addext "subjectAltName=DNS:$TLS_HOST,DNS:*.$TLS_DOMAIN" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-keyout "$TLS_DIR/key.pem" -out "$TLS_DIR/cert.pem" >"$TLS_DIR/openssl.log" 2>&1 ||
		fail "openssl could not make a test certificate: $(cat "$TLS_DIR/openssl.log")"
	TLS_CA="$TLS_DIR/cert.pem"
	TLS_HOSTS="$TLS_DIR/hosts"
	printf '127.0.0.1 localhost\n::1 localhost\n%s %s www.%s\n' "$IP_PEER" "$TLS_HOST" \
		"$TLS_DOMAIN" >"$TLS_HOSTS"
	# "${TLS_IN_HOSTS[@]}" CMD...: CMD exec'd (same PID, its own comm) in a private mount
	# namespace where /etc/hosts maps $TLS_HOST to $IP_PEER. A command, not a function, so
	# that $! of a background client is the client's PID.
	TLS_IN_HOSTS=(unshare -m -- /bin/sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$TLS_HOSTS")
	echo "$TLS_RCPT,third-party,*.$TLS_DOMAIN" >>"$RECIPIENTS"
	JQ_VARS+=(--arg tls_host "$TLS_HOST" --arg tls_rcpt "$TLS_RCPT" --argjson port_tls "$TLS_PORT")
	TLS_LOG="$WORK/tls-server.log"
	: >"$TLS_LOG"
	# shellcheck disable=SC2094 # the server appends to TLS_LOG, we only poll it
	ip netns exec "$NS" "$PY" -I -u -c "$TLS_SERVER_PY" "$TLS_LOG" "$TLS_DIR/cert.pem" \
		"$TLS_DIR/key.pem" "$TLS_PORT" </dev/null 2>>"$TLS_LOG" &
	SERVER_PIDS+=("$!")
	for ((i = 0; i < 100; i++)); do
		grep -qx ready "$TLS_LOG" && return 0
		kill -0 "$!" 2>/dev/null || break
		sleep 0.1
	done
	fail "HTTPS server did not start: $(cat "$TLS_LOG")"
}

# tls_body_file BODY: a file holding BODY ("@FILE": FILE itself); prints its path.
tls_body_file() {
	local f
	if [[ "$1" == @* ]]; then
		echo "${1#@}"
		return
	fi
	f=$(mktemp "$TLS_DIR/body.XXXXXX")
	printf '%s' "$1" >"$f"
	echo "$f"
}

# tls_run NAME CMD...: run a client in the background (PID in $TLS_PID), wait for it, fail
# unless it exits 0. Output in $TLS_DIR/NAME.out.
tls_run() {
	local name=$1 rc=0
	shift
	"$@" >"$TLS_DIR/$name.out" 2>&1 </dev/null &
	TLS_PID=$!
	wait "$TLS_PID" || rc=$?
	((rc == 0)) || fail "$name client failed (exit $rc): $(head -c 2000 "$TLS_DIR/$name.out")"
}

tls_url() {
	echo "https://$TLS_HOST:$TLS_PORT$TLS_PATH"
}

tls_curl() {
	local body=$1 code
	shift
	tls_run curl curl -sS -m 20 --http1.1 -o /dev/null -w '%{http_code}' --cacert "$TLS_CA" \
		--resolve "$TLS_HOST:$TLS_PORT:$IP_PEER" -H 'Expect:' \
		-H 'Content-Type: application/json' --data-binary "@$(tls_body_file "$body")" "$@" \
		"$(tls_url)"
	code=$(cat "$TLS_DIR/curl.out")
	[[ "$code" == 200 ]] || fail "curl POST $(tls_url): HTTP $code"
}

tls_python() {
	tls_run python "${TLS_IN_HOSTS[@]}" "$PY" -I -c "$TLS_PYURLLIB_PY" "$(tls_url)" "$TLS_CA" \
		"$(tls_body_file "$1")"
}

tls_wget() {
	local f
	tls_need wget wget
	f=$(tls_body_file "$1")
	tls_run wget "${TLS_IN_HOSTS[@]}" wget -q -O /dev/null --tries=1 --timeout=20 --no-hsts \
		--ca-certificate="$TLS_CA" --header='Content-Type: application/json' \
		--post-data="$(cat "$f")" "$(tls_url)"
}

tls_node() {
	tls_need node nodejs
	tls_run node "${TLS_IN_HOSTS[@]}" /usr/bin/node -e "$TLS_NODE_JS" "$(tls_url)" "$TLS_CA" \
		"$(tls_body_file "$1")"
}

# tls_go_build: build the Go client into $TLS_GO_BIN (stdlib only, no network, cache in $WORK).
tls_go_build() {
	local d="$WORK/go"
	tls_need go golang-go
	mkdir -p "$d/src"
	printf '%s' "$TLS_GO_MAIN" >"$d/src/main.go"
	printf 'module csgotls\n\ngo 1.19\n' >"$d/src/go.mod"
	TLS_GO_BIN="$d/cs-gotls"
	(cd "$d/src" && env GOCACHE="$d/cache" GOPATH="$d/path" GOMODCACHE="$d/path/mod" \
		GOENV=off GOFLAGS= GOPROXY=off GOTOOLCHAIN=local GO111MODULE=on CGO_ENABLED=0 \
		go build -o "$TLS_GO_BIN" .) >"$d/build.log" 2>&1 ||
		fail "go build of the test client failed: $(cat "$d/build.log")"
	info "built $TLS_GO_BIN ($(go version))"
}

tls_go() {
	[[ -x "$TLS_GO_BIN" ]] || fail "tls_go: call tls_go_build first"
	tls_run go "${TLS_IN_HOSTS[@]}" "$TLS_GO_BIN" "$(tls_url)" "$TLS_CA" "$(tls_body_file "$1")"
}

# tls_go_start BODY WAIT: start the Go client in the background (PID in $TLS_PID), sending
# after WAIT (a duration like "1s", or "fifo": after tls_go_release). tls_go_wait: wait for
# it, fail unless it got a 200.
tls_go_start() {
	local wait=$2 i
	[[ -x "$TLS_GO_BIN" ]] || fail "tls_go_start: call tls_go_build first"
	if [[ "$wait" == fifo ]]; then
		wait="$TLS_DIR/go.ctl"
		rm -f "$wait"
		mkfifo "$wait"
	fi
	: >"$TLS_DIR/go.out"
	"${TLS_IN_HOSTS[@]}" "$TLS_GO_BIN" "$(tls_url)" "$TLS_CA" "$(tls_body_file "$1")" "$wait" \
		>"$TLS_DIR/go.out" 2>&1 </dev/null &
	TLS_PID=$!
	track_pid "$TLS_PID"
	[[ "$2" == fifo ]] || return 0
	for ((i = 0; i < 100; i++)); do
		grep -qx waiting "$TLS_DIR/go.out" && return 0
		kill -0 "$TLS_PID" 2>/dev/null || break
		sleep 0.1
	done
	fail "Go client did not start: $(cat "$TLS_DIR/go.out")"
}

tls_go_release() {
	timeout 10 bash -c 'echo go >"$1"' _ "$TLS_DIR/go.ctl" || fail "Go client is gone"
}

tls_go_wait() {
	wait "$TLS_PID" || fail "Go client failed: $(cat "$TLS_DIR/go.out")"
}

tls_pyraw() {
	tls_run pyraw "$PY" -I -c "$TLS_PYRAW_PY" "$IP_PEER" "$TLS_PORT" "$TLS_HOST" "$TLS_CA" \
		"$TLS_PATH" "$(tls_body_file "$1")"
}

tls_pyraw_msg() {
	tls_run pyraw "$PY" -I -c "$TLS_PYRAW_PY" "$IP_PEER" "$TLS_PORT" "$1" "$TLS_CA" - \
		"$(tls_body_file "$2")"
}

# tls_requests: requests (HTTP or raw messages) the HTTPS server has read completely.
tls_requests() {
	grep -c -E '^(req|raw) ' "$TLS_LOG" || true
}

# tls_pyraw_start BODY: connected (handshake done) and waiting when this returns; PID $TLS_PID.
tls_pyraw_start() {
	local i
	TLS_CTL="$TLS_DIR/pyraw.ctl"
	TLS_STATUS="$TLS_DIR/pyraw.status"
	rm -f "$TLS_CTL" "$TLS_STATUS"
	mkfifo "$TLS_CTL"
	"$PY" -I -c "$TLS_PYRAW_PY" "$IP_PEER" "$TLS_PORT" "$TLS_HOST" "$TLS_CA" "$TLS_PATH" \
		"$(tls_body_file "$1")" "$TLS_CTL" "$TLS_STATUS" >"$TLS_DIR/pyraw.out" 2>&1 </dev/null &
	TLS_PID=$!
	track_pid "$TLS_PID"
	for ((i = 0; i < 100; i++)); do
		grep -qx connected "$TLS_STATUS" 2>/dev/null && return 0
		kill -0 "$TLS_PID" 2>/dev/null || break
		sleep 0.1
	done
	fail "pre-connected client did not connect: $(cat "$TLS_DIR/pyraw.out")"
}

# tls_pyraw_send: let the waiting client send its request; fail unless it got a 200.
tls_pyraw_send() {
	local i
	timeout 10 bash -c 'echo send >"$1"' _ "$TLS_CTL" || fail "pre-connected client is gone"
	for ((i = 0; i < 200; i++)); do
		grep -q '^done ' "$TLS_STATUS" && break
		sleep 0.1
	done
	grep -q '^done 200 ' "$TLS_STATUS" ||
		fail "pre-connected client: $(cat "$TLS_STATUS" "$TLS_DIR/pyraw.out")"
}

# tls_pyraw_finish: let it exit, check its status.
tls_pyraw_finish() {
	timeout 10 bash -c 'echo exit >"$1"' _ "$TLS_CTL" || fail "pre-connected client is gone"
	wait "$TLS_PID" || fail "pre-connected client failed: $(cat "$TLS_DIR/pyraw.out")"
}

# tls_wait_requests N: until the server has read N requests (10 s), else fail.
tls_wait_requests() {
	local i
	for ((i = 0; i < 100; i++)); do
		(($(tls_requests) >= $1)) && return 0
		sleep 0.1
	done
	fail "HTTPS server read $(tls_requests) of $1 expected requests: $(cat "$TLS_LOG")"
}

# tls_expect_one SUBJECT FIELDS_JSON COMM CHANNEL PID [EXTRA_FILTER]: exactly one finding in
# total, and it is SUBJECT's disclosure of FIELDS to the partner, resolved by host name, from
# process PID/COMM on CHANNEL (so the ciphertext sent on the socket was not reported again).
tls_expect_one() {
	local subject=$1 fields=$2 comm=$3 channel=$4 pid=$5 extra=${6:-true}
	expect_findings 1
	expect_finding '.verdict == "unconsented" and .subject == "'"$subject"'"
		and .fields == '"$fields"' and .unconsented_fields == '"$fields"'
		and .recipient == $tls_rcpt and .recipient_kind == "third-party"
		and .destination.ip == $peer and .destination.port == $port_tls
		and .destination.host == $tls_host
		and .process.comm == "'"$comm"'" and .process.pid == '"$pid"'
		and .channel == "'"$channel"'" and .evidence.bytes_inspected > 0
		and (.evidence.fingerprints | length) >= 1 and .consent_ids == []
		and ('"$extra"')'
}

# Executed rather than sourced (tests/run runs every tests/e2e/*.sh except lib.sh): a self-test
# of this harness without the monitor. Every client reaches the server with SNI and Host
# $TLS_HOST, and the server reads each whole body.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
	# shellcheck source-path=SCRIPTDIR source=lib.sh
	source "$(dirname "$0")/lib.sh"
	e2e_setup
	tls_setup
	tls_selftest_body='{"selftest":"harness","n":1}'
	tls_selftest_n=0
	tls_selftest_check() {
		local want="req $TLS_PORT from $NS_V4.1 sni $TLS_HOST host $TLS_HOST:$TLS_PORT"
		want+=" method POST path $TLS_PATH body ${#tls_selftest_body}"
		tls_selftest_n=$((tls_selftest_n + 1))
		tls_wait_requests "$tls_selftest_n"
		got=$(grep '^req ' "$TLS_LOG" | sed -n "${tls_selftest_n}p")
		[[ "$got" == "$want" ]] || fail "$1: server logged '$got', expected '$want'"
		info "ok: $1 (pid $TLS_PID)"
	}
	for c in curl python pyraw wget node go; do
		case $c in
		wget | node | go)
			cmd=$c pkg=$c
			[[ $c == node ]] && pkg=nodejs
			[[ $c == go ]] && pkg=golang-go
			if ! command -v "$cmd" >/dev/null; then
				[[ "${CI:-}" == true ]] && fail "$cmd not installed (Debian package $pkg)"
				info "skipped $c: $cmd not installed (apt-get install $pkg)"
				continue
			fi
			[[ $c == go ]] && tls_go_build
			;;
		esac
		"tls_$c" "$tls_selftest_body"
		tls_selftest_check "$c"
	done
	tls_pyraw_start "$tls_selftest_body"
	sleep 0.2
	(($(tls_requests) == tls_selftest_n)) || fail "pre-connected client sent before told to"
	tls_pyraw_send
	tls_selftest_check "pre-connected python"
	tls_pyraw_finish
	if command -v go >/dev/null; then
		tls_go_start "$tls_selftest_body" fifo
		sleep 0.2
		(($(tls_requests) == tls_selftest_n)) || fail "waiting Go client sent before told to"
		tls_go_release
		tls_go_wait
		tls_selftest_check "waiting go"
	fi
	tls_pyraw_msg "events.$TLS_DOMAIN" "$tls_selftest_body"
	tls_wait_requests $((tls_selftest_n + 1))
	want="raw $TLS_PORT from $NS_V4.1 sni events.$TLS_DOMAIN bytes $((${#tls_selftest_body} + 1))"
	[[ "$(tail -n 2 "$TLS_LOG" | grep '^raw ')" == "$want" ]] ||
		fail "raw message: server logged '$(tail -n 2 "$TLS_LOG")', expected '$want'"
	info "ok: raw message with SNI"
	info "ok: HTTPS harness works"
fi
