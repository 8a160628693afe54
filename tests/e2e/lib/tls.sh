# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash disable=SC2016 # sh -c scripts and jq filters are single-quoted on purpose
#
# TLS helpers for tests/e2e/tls_*.sh. Source after lib/common.sh, call tls_setup after e2e_setup.
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
# The server is clients/https_server.py (ALPN http/1.1 only); it logs to $TLS_LOG, per request
# (once its whole body is read, before answering):
#   req PORT from ADDR sni NAME|- host HOSTHEADER|- method M path P body N
# and per closed connection:
#   conn PORT tls from ADDR sni NAME|- bytes N requests R http H sink 0 h2 0
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
# jq filters see, besides common.sh's variables: $tls_host, $tls_rcpt, $port_tls.

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
	ip netns exec "$NS" "$PY" -I -u "$E2E_DIR/clients/https_server.py" "$TLS_LOG" \
		"$TLS_DIR/cert.pem" "$TLS_DIR/key.pem" "" "$TLS_PORT" --alpn http/1.1 </dev/null \
		2>>"$TLS_LOG" &
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
	tls_run python "${TLS_IN_HOSTS[@]}" "$PY" -I "$E2E_DIR/clients/tls_urllib.py" "$(tls_url)" "$TLS_CA" \
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
	tls_run node "${TLS_IN_HOSTS[@]}" /usr/bin/node "$E2E_DIR/clients/tls_node.js" "$(tls_url)" "$TLS_CA" \
		"$(tls_body_file "$1")"
}

# tls_go_build [BIN [go build options...]]: build the Go client (clients/tls_go, stdlib only, no
# network, cache in $WORK) into BIN, by default $WORK/go/cs-gotls, which is then $TLS_GO_BIN.
tls_go_build() {
	local bin=${1:-} d
	shift || true
	tls_need go golang-go
	if [[ -z "$bin" ]]; then
		TLS_GO_BIN="$WORK/go/cs-gotls"
		bin=$TLS_GO_BIN
	fi
	d="$(dirname "$bin")"
	mkdir -p "$d/src"
	cp "$E2E_DIR/clients/tls_go/main.go" "$E2E_DIR/clients/tls_go/go.mod" "$d/src/"
	(cd "$d/src" && env GOCACHE="$d/cache" GOPATH="$d/path" GOMODCACHE="$d/path/mod" \
		GOENV=off GOFLAGS= GOPROXY=off GOTOOLCHAIN=local GO111MODULE=on CGO_ENABLED=0 \
		go build "$@" -o "$bin" .) >"$d/build.log" 2>&1 ||
		fail "go build of the test client failed: $(cat "$d/build.log")"
	info "built $bin ($(go version))"
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
	tls_run pyraw "$PY" -I "$E2E_DIR/clients/tls_pyraw.py" "$IP_PEER" "$TLS_PORT" "$TLS_HOST" "$TLS_CA" \
		"$TLS_PATH" "$(tls_body_file "$1")"
}

tls_pyraw_msg() {
	tls_run pyraw "$PY" -I "$E2E_DIR/clients/tls_pyraw.py" "$IP_PEER" "$TLS_PORT" "$1" "$TLS_CA" - \
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
	"$PY" -I "$E2E_DIR/clients/tls_pyraw.py" "$IP_PEER" "$TLS_PORT" "$TLS_HOST" "$TLS_CA" "$TLS_PATH" \
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
