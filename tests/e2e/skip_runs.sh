#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# Runs too short for a strong value are not tokenised (the test DB's shortest strong token is an
# 11-digit phone), in binary sends of 4-16 KiB: a phone in the middle, with the subject's
# Chinese name (weak, in a skipped run) 300 bytes before it, which the whole-send rescan of a
# send with a hit must still find; a phone split across two sends whose first ends in a 6-digit
# run; an email across the 1 KiB chunk boundary; a phone in digit groups followed by a space and
# a word; a benign binary send. The same sends with
# --scan-all give the same findings and tokenise every byte.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup

send_all() {
	py_client skip_runs.py "$IP_BROKER" "$PORT_RAW"
}

check() {
	expect_findings 4
	expect_every '.recipient == "databroker" and .destination.ip == $broker and .channel == $tcp'
	expect_finding '.subject == "u001" and .fields == ["name", "phone"] and .evidence.encodings == []'
	expect_finding '.subject == "u002" and .fields == ["phone"] and .evidence.encodings == ["split"]'
	expect_finding '.subject == "u004" and .fields == ["email"] and .evidence.encodings == []'
	expect_finding '.subject == "u005" and .fields == ["phone"] and .evidence.encodings == []'
	expect_no_raw_values
}

monitor_start
send_all
wait_findings 4
monitor_stop
check
skipped=$(summary_value 'bytes not tokenised')
((skipped > 20000)) || fail "expected most of the noise not tokenised, got $skipped bytes"
grep -q "bytes not tokenised .*; 4 sends tokenised again whole, 0 bytes of them unreadable again" "$MONLOG" ||
	fail "expected the 4 sends with a hit and skipped runs rescanned whole: $(grep 'not tokenised' "$MONLOG")"
info "ok: $skipped bytes not tokenised, 4 sends tokenised again"
hits=$(summary_value hits)
tokens=$(summary_value 'tokens hashed')

monitor_start --scan-all
send_all
wait_findings 4
monitor_stop
check
[[ "$(summary_value 'bytes not tokenised')" == 0 ]] || fail "--scan-all skipped bytes"
# a rescan's tokens and hits are not counted twice: no more distinct hits than a full scan
# (which also hashes the skipped runs of sends without a strong hit), and fewer tokens
((hits <= $(summary_value hits))) ||
	fail "hits: $hits with skipping, more than $(summary_value hits) with --scan-all"
(($(summary_value 'tokens hashed') > tokens)) ||
	fail "tokens hashed: $tokens with skipping, not fewer than $(summary_value 'tokens hashed')"
info "ok: $hits hits against $(summary_value hits), $tokens tokens hashed against $(summary_value 'tokens hashed')"
