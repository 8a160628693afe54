#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# Strings from traffic and processes with bytes that are not UTF-8 or are controls, through real
# sends: a Host header (curl), a request path and Host (python, raw bytes), a TLS SNI (a
# ClientHello with a hostile server_name, then a plaintext send on the flow), a process name
# (prctl) and an executable path. The summary's flow lines escape the process name too. Every jsonl and ocsf line must parse with python's json
# module (strict UTF-8) and with jq, bad bytes as U+FFFD (the request path is percent-encoded
# by its redaction); every text line stays one line of valid UTF-8 without controls.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup

# raw_http IP PORT: a POST whose path and Host hold raw bytes, u002's email in the body.

# sni_then_data IP PORT: a ClientHello naming a hostile server, then (same connection)
# plaintext with u003's phone; the process renames itself with bad bytes first.

# The SNI client runs from an executable path with bad bytes and a control.
EXE_DIR="$WORK/"$'bin\xff\xfe\x01'
mkdir "$EXE_DIR"
cp -L "$PY" "$EXE_DIR/py3"

# every_line_parses FILE: python (strict UTF-8, json.loads per line) and jq both accept it.
every_line_parses() {
	"$PY" -I "$E2E_DIR/clients/json_lines.py" "$1" >"$WORK/py.out" 2>&1 || fail "python json rejects $1: $(cat "$WORK/py.out")"
	jq -e -s 'all(type == "object")' "$1" >/dev/null || fail "jq rejects $1"
	info "ok: $(cat "$WORK/py.out") line(s) of $1 parse with python json and jq"
}

send_all() {
	local code
	code=$(curl -sS -g -m 20 -o /dev/null -w '%{http_code}' -H 'Expect:' \
		-H $'Host: api.\xff\xfe.example' -H 'Content-Type: application/json' \
		--data-binary '{"phone":"13712340001"}' "http://$IP_BROKER:$PORT_HTTP/x") ||
		fail "curl failed"
	[[ "$code" == 200 ]] || fail "curl: HTTP $code"
	py_client hostile_http.py "$IP_BROKER" "$PORT_HTTP"
	"$EXE_DIR/py3" -I "$E2E_DIR/clients/hostile_sni.py" "$IP_BROKER" "$PORT_RAW" || fail "SNI client failed"
	wait_findings 3
}

# jsonl
monitor_start
send_all
monitor_stop
every_line_parses "$FINDINGS"
expect_findings 3
expect_finding '.subject == "u001" and .destination.host == "api.\ufffd\ufffd.example"
	and .process.comm == "curl"'
expect_finding '.subject == "u002" and .destination.host == "h.\ufffd\ufffd.example"
	and .message.http.method == "POST"
	and .message.http.path == "/users/%FF%FE/%01x?q=%ED%A0%80"'
expect_finding '.subject == "u003" and .destination.host == "sni.\ufffd\ufffd\u0001\"\\.example"
	and .process.comm == "\ufffd\ufffd\u0001ev\u007fx"
	and (.process.exe | endswith("/bin\ufffd\ufffd\u0001/py3"))'
# the summary's flow line names the process escaped, on one line
grep -a -q -F "  flow \\xff\\xfe\\x01ev\\x7fx pid " "$MONLOG" ||
	fail "summary: no flow line with the escaped process name: $(grep -a -A1 '  flow ' "$MONLOG" | cat -A)"
info "ok: summary flow line: $(grep -a -F '  flow \xff' "$MONLOG")"
expect_no_raw_values

# ocsf
monitor_start --format ocsf
send_all
monitor_stop
every_line_parses "$FINDINGS"
n=$(jq -s "${JQ_VARS[@]}" '[.[] | select(.dst_endpoint.ip == $broker and .class_uid == 2006
	and (.dst_endpoint.hostname | test("\ufffd")))] | length' "$FINDINGS")
((n == 3)) || fail "ocsf: expected 3 findings with U+FFFD in the hostname, got $n"
n=$(jq -s "${JQ_VARS[@]}" '[.[] | select(.dst_endpoint.ip == $broker
	and .actor.process.comm == "\ufffd\ufffd\u0001ev\u007fx")] | length' "$FINDINGS")
((n == 1)) || fail "ocsf: expected the hostile comm once, got $n"
info "ok: ocsf findings carry the hostile strings as U+FFFD"

# text: one line per finding, valid UTF-8, no control byte
monitor_start --format text
send_all
monitor_stop
"$PY" -I "$E2E_DIR/clients/text_lines.py" "$FINDINGS" || fail "text: invalid UTF-8 or a control byte in: $(cat -A "$FINDINGS")"
n=$(grep -a -c -F "dest=$IP_BROKER:" "$FINDINGS" || true)
((n == 3)) || fail "text: expected 3 lines for $IP_BROKER, got $n: $(cat -A "$FINDINGS")"
grep -a -q -F 'host=api.\xff\xfe.example' "$FINDINGS" || fail "text: Host not escaped"
info "ok: text: 3 lines, valid UTF-8, no controls"
expect_no_raw_values
