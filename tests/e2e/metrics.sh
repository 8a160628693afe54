#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# run --metrics: a real scrape of /metrics while the monitor runs. Findings counted by verdict
# and recipient kind, sends and bytes, reloads and failed reloads, per-program ns/call once
# kernel.bpf_stats_enabled is on; `promtool check metrics` accepts the exposition; other paths
# are 404; a bad address or a port in use is refused (exit 2).
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
PROMTOOL=$(command -v promtool || echo /opt/consentry-tools/prometheus/usr/bin/promtool)
[[ -x "$PROMTOOL" ]] || fail "promtool not found (scripts/setup unpacks it)"
PORT_M=$((20000 + $$ % 20000))
URL="http://127.0.0.1:$PORT_M/metrics"
scrape() { curl -sS -m 5 "$URL" >"$WORK/scrape" || fail "scrape of $URL failed"; }
# value NAME{LABELS}: the sample's value in the last scrape
value() { awk -v k="$1" '$1 == k { print $2 }' "$WORK/scrape"; }
expect_value() {
	[[ "$(value "$1")" == "$2" ]] || fail "metric $1 = '$(value "$1")', expected $2"
}

stats_was=$(cat /proc/sys/kernel/bpf_stats_enabled)
restore_stats() { echo "$stats_was" >/proc/sys/kernel/bpf_stats_enabled; }
trap 'restore_stats; cleanup' EXIT
echo 0 >/proc/sys/kernel/bpf_stats_enabled

monitor_start --metrics "127.0.0.1:$PORT_M"
scrape
expect_value 'consentry_findings_total{verdict="unconsented",recipient_kind="third-party"}' 0
http_post "http://$IP_BROKER:$PORT_HTTP/v1/events" '{"user":{"mobile":"13955550005"}}'
http_post "http://$IP_AD:$PORT_HTTP/v1/sync" '{"user":{"mobile":"13712340001"}}'
http_post "http://$IP_FIRST:$PORT_HTTP/v1/me" '{"user":{"mobile":"15898760002"}}'
wait_findings 1
sleep 0.5
scrape
expect_value 'consentry_findings_total{verdict="unconsented",recipient_kind="third-party"}' 1
expect_value 'consentry_findings_total{verdict="consented",recipient_kind="third-party"}' 1
expect_value 'consentry_findings_total{verdict="exempt",recipient_kind="first-party"}' 1
expect_value 'consentry_findings_total{verdict="unconsented",recipient_kind="unknown"}' 0
expect_value consentry_findings_reported_total 1
expect_value consentry_findings_blocked_total 0
expect_value consentry_ringbuf_drops_total 0
expect_value consentry_bpf_stats_enabled 0
(($(value consentry_sends_total) >= 3)) || fail "sends_total $(value consentry_sends_total) < 3"
(($(value consentry_bytes_inspected_total) > 0)) || fail "no bytes inspected counted"
grep -q '^# TYPE consentry_findings_total counter$' "$WORK/scrape" || fail "no TYPE line"
"$PROMTOOL" check metrics <"$WORK/scrape" >"$WORK/promtool.log" 2>&1 ||
	fail "promtool check metrics: $(cat "$WORK/promtool.log")"
info "ok: findings by verdict and kind, sends and bytes; promtool accepts the exposition"

# reloads: one good, one refused
kill -HUP "$MON_PID"
sleep 0.5
printf 'subject_id,recipient,fields,granted_at\nu001,adpartner,phone,not-a-time\n' >"$CONSENT"
kill -HUP "$MON_PID"
sleep 0.5
scrape
expect_value consentry_reloads_total 2
expect_value consentry_reload_failures_total 1
info "ok: reloads 2, failed 1"

# per-program cost once bpf_stats is on
echo 1 >/proc/sys/kernel/bpf_stats_enabled
http_post "http://$IP_BROKER:$PORT_HTTP/v1/events" '{"user":{"mobile":"13955550005"}}'
sleep 0.3
scrape
expect_value consentry_bpf_stats_enabled 1
n=$(awk '/^consentry_bpf_prog_ns_per_call\{program="[a-z_]+"\} [0-9.]+$/ && $2 > 0' "$WORK/scrape" | wc -l)
((n >= 1)) || fail "no per-program ns/call with bpf_stats on: $(grep bpf_prog "$WORK/scrape")"
"$PROMTOOL" check metrics <"$WORK/scrape" >"$WORK/promtool.log" 2>&1 ||
	fail "promtool check metrics (with gauges): $(cat "$WORK/promtool.log")"
restore_stats
code=$(curl -sS -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT_M/other")
[[ "$code" == 404 ]] || fail "GET /other: HTTP $code, expected 404"
info "ok: $n programs with ns/call; /other is 404"

# refused: a bad address, a port in use (this monitor's)
for bad in nonsense 127.0.0.1:0 "127.0.0.1:$PORT_M"; do
	rc=0
	"$CONSENTRY" run -f "$FP" -k "$KEY" -c "$DATA/consent.csv" -R "$RECIPIENTS" --metrics "$bad" \
		</dev/null >/dev/null 2>"$WORK/err" || rc=$?
	((rc == 2)) || fail "--metrics $bad: exit $rc, expected 2"
	grep -q -- "--metrics" "$WORK/err" || fail "--metrics $bad: $(cat "$WORK/err")"
done
monitor_stop
info "ok: bad address and a port in use refused with exit 2"
