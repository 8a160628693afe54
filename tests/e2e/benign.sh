#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# Benign traffic (random numbers, other emails, near misses, weak fields alone, lorem,
# several MB via curl) yields zero findings, even with --all; the monitor did see it. Under
# --block unconsented, to unknown destinations and a third party without consent, nothing is
# refused (the uploads would fail).
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
# Deterministic payloads; no registered value (tests/data/registrations.csv) appears in them.
"$PY" -I "$E2E_DIR/clients/benign_data.py" "$WORK" "$DATA/registrations.csv"
monitor_start --all --block unconsented
curl -sS -m 60 -o /dev/null -H 'Expect:' -H 'Content-Type: text/plain' \
	--data-binary @"$WORK/big.txt" "http://$IP_BROKER:$PORT_HTTP/upload" || fail "curl upload failed"
curl -sS -m 20 -o /dev/null -H 'Content-Type: application/json' \
	--data-binary @"$WORK/near.json" "http://$IP_UNKNOWN:$PORT_HTTP/near" || fail "curl failed"
# Weak fields alone (name, birthdate, address of registered subjects) never make a finding.
tcp_send "$IP_BROKER" "$PORT_RAW" 'name=Maria Ortiz;birthdate=1992-05-21;address=Calle Ficticia 7, Madrid'
tcp_send "$IP_BROKER" "$PORT_RAW" '{"name":"张伟","birthdate":"1985-11-12"}'
udp_send "$IP6_BROKER" "$PORT_UDP" "$(head -c 600 "$WORK/big.txt")"
wait_peer udp "$PORT_UDP" 1
monitor_stop
expect_findings 0
bytes=$(peer_bytes tcp "$PORT_HTTP")
((bytes >= 4 * 1024 * 1024)) || fail "peer received only $bytes bytes over HTTP"
sends=$(summary_value sends)
inspected=$(summary_value "bytes inspected")
((sends >= 5)) || fail "summary: sends $sends, expected at least 5"
((inspected > 0)) || fail "summary: bytes inspected is 0"
blocked=$(summary_value blocked)
((blocked == 0)) || fail "summary: $blocked benign sends refused"
info "ok: sends $sends, bytes inspected $inspected, refused $blocked"
expect_no_raw_values
