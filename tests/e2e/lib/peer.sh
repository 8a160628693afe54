# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# Traffic to the namespace peer: senders (clients/send.py, curl) and what the peer logged.
# Sourced by common.sh.

# peer_received PROTO PORT: number of connections/datagrams the peer logged on PORT.
peer_received() {
	grep -c "^$1 $2 " "$PEERLOG" || true
}

# peer_bytes PROTO PORT: bytes the peer received on PORT (closed connections).
peer_bytes() {
	awk -v p="$1" -v port="$2" '$1 == p && $2 == port { n += $6 } END { print n + 0 }' "$PEERLOG"
}

# http_post URL DATA [curl options...]: POST DATA as JSON, fail unless the peer answers 200.
http_post() {
	local url=$1 data=$2 code
	shift 2
	code=$(curl -sS -g -m 20 -o /dev/null -w '%{http_code}' -H 'Expect:' \
		-H 'Content-Type: application/json' --data-binary "$data" "$@" "$url") ||
		fail "curl POST $url failed"
	[[ "$code" == 200 ]] || fail "curl POST $url: HTTP $code"
}

# post_status URL DATA [curl options...]: POST DATA as JSON, print "CURL_EXIT HTTP_CODE" (000 when
# no answer came); never fails (run --block tests expect refusals)
post_status() {
	local url=$1 data=$2 rc=0 code
	shift 2
	code=$(curl -sS -g -m 10 -o /dev/null -w '%{http_code}' -H 'Expect:' \
		-H 'Content-Type: application/json' --data-binary "$data" "$@" "$url" 2>/dev/null) ||
		rc=$?
	echo "$rc $code"
}

# py_client FILE [ARGS...]: run tests/e2e/clients/FILE with the system python (comm "python3").
py_client() {
	local file=$1
	shift
	"$PY" -I "$E2E_DIR/clients/$file" "$@" || fail "python client $file failed: $*"
}

# py CODE [ARGS...]: run a short client with the system python (comm "python3").
py() {
	local code=$1
	shift
	"$PY" -I -c "$code" "$@" || fail "python client failed: $*"
}

# tcp_send IP PORT DATA: one connection, one send(), close.
tcp_send() {
	"$PY" -I "$E2E_DIR/clients/send.py" tcp "$@" || fail "tcp_send failed: $*"
}

# udp_send IP PORT DATA: one sendto().
udp_send() {
	"$PY" -I "$E2E_DIR/clients/send.py" udp "$@" || fail "udp_send failed: $*"
}

# wait_peer PROTO PORT COUNT: until the peer logged COUNT receptions on PORT (5 s), else fail.
wait_peer() {
	local i
	for ((i = 0; i < 50; i++)); do
		(($(peer_received "$1" "$2") >= $3)) && return 0
		sleep 0.1
	done
	fail "peer received $(peer_received "$1" "$2") of $3 expected on $1/$2"
}
