#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# The collector stopped (SIGSTOP) for 10 s under load, then continued: the probes go on, the
# ring buffer fills, and every send that found it full is counted ("ringbuf drops"). Each
# message holds one registered value in one send, so the sent messages are exactly the
# findings plus the drops; the events queued before the ring filled are reported after
# SIGCONT, and so is every message sent after it. A 4 MiB ring (~4,300 events) keeps the load
# small: 1,500 messages/s fill it in 3 s, as ~70,000 would fill the default 64 MiB in 10 s.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
ring=$((4 << 20))
CONSENTRY_RINGBUF_BYTES=$ring monitor_start
load="$E2E_DIR/clients/fault_load.py"

out=$("$PY" -I "$load" --dst "$IP_BROKER:$PORT_RAW" --value 13712340001 --rate 1500 \
	--seconds 15 --stop "$MON_PID" --stop-at 2 --stop-for 10) || fail "load client failed"
sent=$(awk '$1 == "sent" { print $2 }' <<<"$out")
read -r _ t_stop t_cont < <(grep '^stopped' <<<"$out")
info "sent $sent messages of u001, collector stopped $t_stop .. $t_cont"
[[ "$(stat_state "$MON_PID")" != T ]] || fail "monitor still stopped after the load"
# after SIGCONT: the monitor has recovered when these come through, each one
out=$("$PY" -I "$load" --dst "$IP_BROKER:$PORT_RAW" --value 15898760002 --rate 50 --count 20) ||
	fail "second load failed"
wait_findings_settle 30
monitor_stop

drops=$(summary_value "ringbuf drops")
u1=$(findings_jq 'map(select(.subject == "u001")) | length')
u2=$(findings_jq 'map(select(.subject == "u002")) | length')
after=$(findings_jq "map(select(.subject == \"u001\" and
	((.time | sub(\"[.][0-9]+Z\$\"; \"Z\") | fromdateiso8601) > $t_cont))) | length")
info "findings u001 $u1 + ringbuf drops $drops (sent $sent); u002 $u2 of 20; u001 after SIGCONT $after"
((drops > 0)) || fail "no ring buffer drop counted while the collector was stopped for 10 s"
((u1 + drops == sent)) || fail "findings $u1 + drops $drops != sent $sent: $((sent - u1 - drops)) lost silently"
# the ring held ~4,300 events when it filled: they are reported after SIGCONT
((u1 >= ring / 1024)) || fail "only $u1 findings: the events queued in the ring were not reported"
((after > 0)) || fail "no finding of a send after SIGCONT"
((u2 == 20)) || fail "after SIGCONT $u2 of 20 messages reported: the monitor did not recover"
expect_every '.recipient == "databroker" and .verdict == "unconsented" and .fields == ["phone"]'
(($(summary_value "findings lost") == 0)) || fail "findings lost in writing"
info "ok: $sent sent = $u1 findings + $drops counted drops; recovered ($u2/20)"
