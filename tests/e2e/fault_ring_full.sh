#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# The ring buffer full with the collector running: a 16 KiB ring (17 events) and a flood of
# sends from two processes outrun the collector. Every send that found the ring full is
# counted ("ringbuf drops"), so sent = findings + drops exactly, and the findings file and the
# summary agree. A second flood with the ring emptied in between is then reported whole when
# paced: a full ring loses nothing after it drains.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
CONSENTRY_RINGBUF_BYTES=16384 monitor_start
load="$E2E_DIR/clients/fault_load.py"

"$PY" -I "$load" --dst "$IP_BROKER:$PORT_RAW" --value 13712340001 --rate 1000000 \
	--count 20000 >"$WORK/a.out" &
a=$!
"$PY" -I "$load" --dst "$IP_AD:$PORT_RAW" --value 18611112233 --rate 1000000 \
	--count 20000 >"$WORK/b.out" || fail "load client b failed"
wait "$a" || fail "load client a failed"
sent=$(($(awk '{ print $2 }' "$WORK/a.out") + $(awk '{ print $2 }' "$WORK/b.out")))
wait_findings_settle 20
paced=$("$PY" -I "$load" --dst "$IP_BROKER:$PORT_RAW" --value 15898760002 --rate 200 \
	--count 200 | awk '{ print $2 }') || fail "paced client failed"
wait_findings_settle 20
monitor_stop

drops=$(summary_value "ringbuf drops")
flood=$(findings_jq 'map(select(.subject == "u001" or .subject == "u003")) | length')
u2=$(findings_jq 'map(select(.subject == "u002")) | length')
events=$(summary_value events)
info "flood: sent $sent, findings $flood, ringbuf drops $drops; paced: $u2 of $paced; events $events"
((drops > 0)) || fail "no ring buffer drop counted: the 16 KiB ring never filled"
((flood + drops == sent)) || fail "findings $flood + drops $drops != sent $sent: $((sent - flood - drops)) lost silently"
((u2 == paced)) || fail "paced after the flood: $u2 of $paced reported"
((events == flood + u2)) || fail "summary events $events != findings $((flood + u2))"
(($(summary_value "findings lost") == 0)) || fail "findings lost in writing"
expect_every '(.subject == "u003" and .recipient == "adpartner") or
	(.subject != "u003" and .recipient == "databroker")'
info "ok: $sent sent = $flood findings + $drops counted drops; $u2 paced, all reported"
