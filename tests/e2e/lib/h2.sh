# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# HTTP/2 helpers for tests/e2e/h2_*.sh. Source after lib/common.sh (and lib/tls.sh for TLS); call h2_setup
# after e2e_setup (and tls_setup).
#
# h2_setup [--tls]: nghttpd (nghttp2-server) in the peer namespace, on every address: HTTP/2
# over cleartext with prior knowledge on $H2_PORT (8082); with --tls also HTTP/2 over TLS (ALPN
# h2) on $H2_TLS_PORT (8444) with lib/tls.sh's certificate (host $TLS_HOST, recipient $TLS_RCPT).
# It answers a request (any method) with the file of its path under $H2_DIR/docs once the
# request's body has ended, so a request that got its 200 was sent whole. Nothing is echoed:
# the server's own sends (the monitor sees the peer's too) carry no registered value.
#
# h2_doc PATH...: make the files the server answers PATHs with (h2_curl does it for its URLs).
#
# h2_curl URL... [-- curl options...]: one curl, one connection for all URLs (HTTP/2 with prior
# knowledge for http://, ALPN h2 for https://, which must resolve through --resolve), fails
# unless every response is 200 over HTTP/2. The client's PID is left in $H2_PID (comm "curl").
# jq filters see, besides common.sh's variables: $port_h2 and $port_h2tls.

H2_PORT=8082
H2_TLS_PORT=8444
H2_PID=
H2_DIR=

h2_setup() {
	local i want=("$H2_PORT") p
	[[ -n "$NS" ]] || fail "h2_setup: call e2e_setup first"
	command -v nghttpd >/dev/null || {
		[[ "${CI:-}" == true ]] && fail "nghttpd not installed (nghttp2-server; scripts/setup)"
		echo "SKIP: nghttpd not installed (apt-get install nghttp2-server)"
		exit 77
	}
	H2_DIR="$WORK/h2"
	mkdir -p "$H2_DIR/docs"
	echo ok >"$H2_DIR/docs/index.html"
	ip netns exec "$NS" nghttpd --no-tls -d "$H2_DIR/docs" "$H2_PORT" \
		</dev/null >"$H2_DIR/nghttpd.log" 2>&1 &
	SERVER_PIDS+=("$!")
	if [[ "${1:-}" == --tls ]]; then
		[[ -n "$TLS_DIR" ]] || fail "h2_setup --tls: call tls_setup first"
		ip netns exec "$NS" nghttpd -d "$H2_DIR/docs" "$H2_TLS_PORT" \
			"$TLS_DIR/key.pem" "$TLS_DIR/cert.pem" </dev/null >"$H2_DIR/nghttpd-tls.log" 2>&1 &
		SERVER_PIDS+=("$!")
		want+=("$H2_TLS_PORT")
	fi
	JQ_VARS+=(--argjson port_h2 "$H2_PORT" --argjson port_h2tls "$H2_TLS_PORT")
	for p in "${want[@]}"; do
		for ((i = 0; i < 100; i++)); do
			ip netns exec "$NS" ss -Hltn "sport = :$p" | grep -q . && break
			sleep 0.1
		done
		((i < 100)) || fail "nghttpd is not listening on $p: $(cat "$H2_DIR"/nghttpd*.log)"
	done
}

h2_doc() {
	local p
	for p in "$@"; do
		p=${p%%\?*}
		mkdir -p "$H2_DIR/docs$(dirname "$p")"
		echo ok >"$H2_DIR/docs$p"
	done
}

h2_curl() {
	local urls=() opts=() out code n=0 rc=0 u
	while (($#)) && [[ "$1" != -- ]]; do
		urls+=("$1")
		shift
	done
	[[ "${1:-}" == -- ]] && shift
	opts=("$@")
	[[ "${urls[0]}" == https://* ]] && opts+=(--http2) || opts+=(--http2-prior-knowledge)
	out="$H2_DIR/curl.out"
	for u in "${urls[@]}"; do
		h2_doc "/${u#*://*/}"
		opts+=("$u" -o /dev/null)
	done
	curl -sS -m 20 -w '%{http_code} %{http_version}\n' "${opts[@]}" >"$out" \
		2>"$H2_DIR/curl.err" </dev/null &
	H2_PID=$!
	wait "$H2_PID" || rc=$?
	((rc == 0)) || fail "curl ${urls[*]} failed (exit $rc): $(cat "$H2_DIR/curl.err")"
	while read -r code; do
		[[ "$code" == "200 2" ]] || fail "curl ${urls[*]}: response '$code', expected '200 2'"
		n=$((n + 1))
	done <"$out"
	((n == ${#urls[@]})) || fail "curl ${urls[*]}: $n responses for ${#urls[@]} URLs"
}
