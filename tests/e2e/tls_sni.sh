#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# A TLS message that is not HTTP (no Host header): the recipient is resolved through the SNI of
# the ClientHello (events.partner.example -> *.partner.example), sent while the monitor runs.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/tls.sh
source "$(dirname "$0")/lib/tls.sh"
e2e_setup
tls_setup
sni=events.$TLS_DOMAIN
monitor_start
tls_pyraw_msg "$sni" '{"type":"identify","traits":{"phone":"18611112233"}}'
cpid=$TLS_PID
tls_wait_requests 1
grep -q "^raw $TLS_PORT from .* sni $sni bytes " "$TLS_LOG" ||
	fail "server did not get the message with SNI $sni: $(cat "$TLS_LOG")"
wait_findings 1
monitor_stop
expect_findings 1
expect_finding '.verdict == "unconsented" and .subject == "u003" and .fields == ["phone"]
	and .unconsented_fields == ["phone"] and .recipient == $tls_rcpt
	and .recipient_kind == "third-party" and .destination.ip == $peer
	and .destination.port == $port_tls and .destination.host == "'"$sni"'"
	and .process.comm == "python3" and .process.pid == '"$cpid"' and .channel == "openssl"'
expect_no_raw_values
