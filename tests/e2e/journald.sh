#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016 # jq filters are single-quoted on purpose
# run -o journal: each finding as a systemd journal entry with CONSENTRY_* fields, and the fleet
# path of docs/operations.md (scripts/fleet/rsyslog-consentry.conf) reading that journal. The
# test hosts run no journald (no systemd as PID 1): one is started as a journal namespace
# instance (no /dev/kmsg, no audit) in a private mount namespace, tmpfs on /run/systemd, /run/log
# and /var/log/journal, its socket bound where sd_journal_send looks; the monitor, journalctl
# and rsyslogd join that namespace, so nothing of the host's journal or syslog is touched.
# 1. journald not reachable: the finding is counted lost, said once, and monitoring goes on;
#    once reachable, findings arrive (unconsented PRIORITY 4, consented 5 with --all), every
#    field as spec'd and equal to CONSENTRY_JSON, and no raw value in the whole journal.
# 2. CONSENTRY_JSON is the line -o FILE writes for the same traffic (time, pid, tid and
#    message id aside).
# 3. rsyslogd -N1 accepts the fleet config; rsyslogd runs it (imjournal on this journal, omfwd
#    over TCP to a listener on loopback) and each finding arrives as JSON with its host.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"

MSGID=a3ad02e83b2f44e3b80f40cb89a0129b
JOURNALD=/lib/systemd/systemd-journald
FLEET_CONF="$REPO/scripts/fleet/rsyslog-consentry.conf"
[[ -x "$JOURNALD" ]] || fail "$JOURNALD not found (package systemd)"
for c in journalctl rsyslogd unshare nsenter; do
	command -v "$c" >/dev/null || fail "$c not found (scripts/setup)"
done
e2e_setup
JNS=csj$$

# journald in its own mount namespace; $JPID is journald itself (unshare and bash exec it)
unshare -m --propagation private -- bash -c '
	set -e
	for d in /run/systemd /run/log /var/log/journal; do
		if [[ -d $d ]]; then mount -t tmpfs -o mode=0755 tmpfs "$d"; fi
	done
	mkdir -p "/run/systemd/journald@$1.conf.d" /run/systemd/journal /run/log/journal
	printf "[Journal]\nStorage=volatile\n" >"/run/systemd/journald@$1.conf.d/test.conf"
	exec "$2" "$1"' journald "$JNS" "$JOURNALD" >"$WORK/journald.log" 2>&1 &
JPID=$!
track_pid "$JPID"
jns() {
	nsenter -t "$JPID" -m -- "$@"
}
for ((i = 0; i < 50; i++)); do
	jns test -S "/run/systemd/journal.$JNS/socket" 2>/dev/null && break
	kill -0 "$JPID" 2>/dev/null || fail "journald exited: $(cat "$WORK/journald.log")"
	sleep 0.1
done
jns test -S "/run/systemd/journal.$JNS/socket" || fail "journald made no socket in 5 s"
REAL=$CONSENTRY
CONSENTRY="$WORK/consentry-ns"
printf '#!/bin/sh\nexec nsenter -t %s -m -- %s "$@"\n' "$JPID" "$REAL" >"$CONSENTRY"
chmod +x "$CONSENTRY"

# entries FILE: this run's consentry entries (journalctl -o json), one JSON array
entries() {
	jns journalctl --namespace="$JNS" -o json SYSLOG_IDENTIFIER=consentry "MESSAGE_ID=$MSGID" |
		jq -s -c "${JQ_VARS[@]}" 'map(select(.CONSENTRY_DEST_IP | startswith($v4p)))'
}
wait_entries() {
	local n=$1 i
	for ((i = 0; i < 50; i++)); do
		(($(entries | jq length) >= n)) && return 0
		sleep 0.1
	done
	fail "$(entries | jq length) journal entries of $n expected"
}
# expect_entry 'FILTER': exactly one of this run's entries satisfies FILTER
expect_entry() {
	local got
	got=$(entries | jq "${JQ_VARS[@]}" --arg msgid "$MSGID" "map(select($1)) | length") ||
		fail "bad jq filter: $1"
	[[ "$got" == 1 ]] || fail "expected one journal entry matching: $1 (got $got): $(entries)"
	info "ok: one journal entry: $1"
}

info "step 1: -o journal"
monitor_start -o journal --all
# journald's socket is not where clients look yet: the finding is lost
http_post "http://$IP_BROKER:$PORT_HTTP/v1/events" '{"user":{"mobile":"13955550005"}}'
for ((i = 0; i < 50; i++)); do
	grep -q 'cannot send a finding to the systemd journal' "$MONLOG" && break
	sleep 0.1
done
grep -q 'cannot send a finding to the systemd journal' "$MONLOG" ||
	fail "no finding lost while journald was not reachable"
jns mount --bind "/run/systemd/journal.$JNS" /run/systemd/journal
http_post "http://$IP_BROKER:$PORT_HTTP/v1/events" '{"user":{"mobile":"13712340001"}}'
http_post "http://$IP_AD:$PORT_HTTP/v1/audience" '{"user":{"mobile":"13712340001"}}'
wait_entries 2
monitor_stop
[[ $(grep -c 'cannot send a finding to the systemd journal' "$MONLOG") == 1 ]] ||
	fail "the unreachable journal was not said exactly once"
grep -q 'the systemd journal takes findings again' "$MONLOG" || fail "no recovery said"
[[ "$(summary_value 'findings lost')" == 1 ]] || fail "findings lost: expected 1"
sent=$(jns journalctl --namespace="$JNS" -o json SYSLOG_IDENTIFIER=consentry | grep -c .)
grep -q "findings lost *1 (not sent to the systemd journal: journald not reachable in 1 episodes; $sent sent)" \
	"$MONLOG" || fail "summary: expected 1 lost in 1 episode and $sent sent"
[[ $(entries | jq length) == 2 ]] || fail "expected 2 journal entries: $(entries)"
expect_entry '.PRIORITY == "4" and .SYSLOG_IDENTIFIER == "consentry" and .MESSAGE_ID == $msgid
	and .CONSENTRY_VERDICT == "unconsented" and .CONSENTRY_ACTION == "reported" and .CONSENTRY_SUBJECT == "u001"
	and .CONSENTRY_FIELDS == "phone" and .CONSENTRY_UNCONSENTED_FIELDS == "phone"
	and .CONSENTRY_RECIPIENT == "databroker" and .CONSENTRY_RECIPIENT_KIND == "third-party"
	and .CONSENTRY_DEST_IP == $broker and .CONSENTRY_DEST_PORT == "8080"
	and .CONSENTRY_DEST_HOST == $broker and .CONSENTRY_PROTOCOL == "tcp"
	and .CONSENTRY_COMM == "curl" and .CONSENTRY_CHANNEL == $tcp
	and .CONSENTRY_HTTP_METHOD == "POST" and .CONSENTRY_HTTP_PATH == "/v1/events"
	and .CONSENTRY_MESSAGE_SUBJECTS == "1" and .CONSENTRY_TRUNCATED == "false"
	and (.CONSENTRY_CONSENT_ID == null) and (.CONSENTRY_BYTES_TOTAL | tonumber) > 0
	and (.MESSAGE | startswith("unconsented subject=u001 fields=phone unconsented=phone violations=no-consent recipient=databroker(third-party) dest=\($broker):8080 host=\($broker) comm=curl pid="))
	and (.CONSENTRY_JSON | fromjson | .verdict == "unconsented" and .subject == "u001")'
expect_entry '.PRIORITY == "5" and .CONSENTRY_VERDICT == "consented"
	and .CONSENTRY_SUBJECT == "u001" and .CONSENTRY_RECIPIENT == "adpartner"
	and .CONSENTRY_FIELDS == "phone" and .CONSENTRY_UNCONSENTED_FIELDS == ""
	and .CONSENTRY_DEST_IP == $ad and .CONSENTRY_HTTP_PATH == "/v1/audience"
	and (.CONSENTRY_CONSENT_ID | type) == "string"
	and (.MESSAGE | startswith("consented subject=u001 fields=phone recipient=adpartner(third-party)"))'
# every field is the jsonl line's value; the field names are the documented ones (CONSENTRY_EXE
# is absent when exe is null: a sender that exited first, which curl can)
keys='["CONSENTRY_ACTION","CONSENTRY_BYTES_INSPECTED","CONSENTRY_BYTES_TOTAL","CONSENTRY_CGROUP","CONSENTRY_CHANNEL",
	"CONSENTRY_COMM","CONSENTRY_DEST_HOST","CONSENTRY_DEST_IP","CONSENTRY_DEST_PORT",
	"CONSENTRY_ENCODINGS","CONSENTRY_FIELDS","CONSENTRY_FINGERPRINTS",
	"CONSENTRY_HTTP_METHOD","CONSENTRY_HTTP_PATH","CONSENTRY_HTTP_VERSION","CONSENTRY_JSON",
	"CONSENTRY_MESSAGE","CONSENTRY_MESSAGE_SUBJECTS","CONSENTRY_MINOR","CONSENTRY_PID",
	"CONSENTRY_PROTOCOL","CONSENTRY_RECIPIENT","CONSENTRY_RECIPIENT_KIND",
	"CONSENTRY_SENSITIVE_FIELDS","CONSENTRY_SUBJECT","CONSENTRY_TID",
	"CONSENTRY_TIME","CONSENTRY_TRUNCATED","CONSENTRY_UID","CONSENTRY_UNCONSENTED_FIELDS",
	"CONSENTRY_VERDICT","CONSENTRY_VIOLATIONS"]'
n=$(entries | jq --argjson keys "$keys" 'map(select(
	(.CONSENTRY_JSON | fromjson) as $j
	| ([keys[] | select(startswith("CONSENTRY_")) | select(IN("CONSENTRY_CONSENT_ID", "CONSENTRY_EXE", "CONSENTRY_PURPOSE",
		"CONSENTRY_DEST_COUNTRY", "CONSENTRY_CROSS_BORDER") | not)] == $keys)
	and all(keys[]; test("^[A-Z0-9_]+$")) and .CODE_FILE == null
	and .CONSENTRY_TIME == $j.time and .CONSENTRY_VERDICT == $j.verdict
	and .CONSENTRY_ACTION == $j.action
	and .CONSENTRY_SUBJECT == $j.subject and .CONSENTRY_FIELDS == ($j.fields | join(","))
	and .CONSENTRY_UNCONSENTED_FIELDS == ($j.unconsented_fields | join(","))
	and .CONSENTRY_RECIPIENT == $j.recipient and .CONSENTRY_RECIPIENT_KIND == $j.recipient_kind
	and .CONSENTRY_DEST_IP == $j.destination.ip
	and .CONSENTRY_DEST_PORT == ($j.destination.port | tostring)
	and .CONSENTRY_DEST_HOST == $j.destination.host
	and .CONSENTRY_PROTOCOL == $j.destination.protocol
	and .CONSENTRY_PID == ($j.process.pid | tostring) and .CONSENTRY_TID == ($j.process.tid | tostring)
	and .CONSENTRY_COMM == $j.process.comm and .CONSENTRY_EXE == $j.process.exe
	and .CONSENTRY_UID == ($j.process.uid | tostring) and .CONSENTRY_CGROUP == $j.process.cgroup
	and .CONSENTRY_CHANNEL == $j.channel
	and ([.CONSENTRY_CONSENT_ID // empty] | flatten) == $j.consent_ids
	and .CONSENTRY_FINGERPRINTS == ($j.evidence.fingerprints | join(","))
	and .CONSENTRY_ENCODINGS == ($j.evidence.encodings | join(","))
	and .CONSENTRY_BYTES_INSPECTED == ($j.evidence.bytes_inspected | tostring)
	and .CONSENTRY_BYTES_TOTAL == ($j.evidence.bytes_total | tostring)
	and .CONSENTRY_TRUNCATED == ($j.evidence.truncated | tostring)
	and .CONSENTRY_MESSAGE == $j.message.id
	and .CONSENTRY_MESSAGE_SUBJECTS == ($j.message.subjects | tostring)
	and .CONSENTRY_HTTP_VERSION == $j.message.http.version
	and .CONSENTRY_HTTP_METHOD == $j.message.http.method
	and .CONSENTRY_HTTP_PATH == $j.message.http.path
	and .CONSENTRY_VIOLATIONS == ($j.violations | join(","))
	and .CONSENTRY_PURPOSE == $j.purpose and .CONSENTRY_MINOR == ($j.minor | tostring)
	and .CONSENTRY_SENSITIVE_FIELDS == ($j.sensitive_fields | join(","))
	and .CONSENTRY_DEST_COUNTRY == $j.destination.country
	and .CONSENTRY_CROSS_BORDER == ($j.cross_border | if . == null then null else tostring end))) | length')
[[ "$n" == 2 ]] || fail "$((2 - n)) journal entries whose fields are not their CONSENTRY_JSON's: $(entries)"
info "ok: every CONSENTRY_* field is the finding's, names valid"
# the whole journal, every field of every entry, in the files expect_no_raw_values reads
jns journalctl --namespace="$JNS" -o export >"$WORK/findings-journal.export"
grep -q "^MESSAGE_ID=$MSGID$" "$WORK/findings-journal.export" || fail "journal export is empty"
expect_no_raw_values

info "step 2: CONSENTRY_JSON is the -o FILE line"
monitor_start --all
http_post "http://$IP_BROKER:$PORT_HTTP/v1/events" '{"user":{"mobile":"13712340001"}}'
http_post "http://$IP_AD:$PORT_HTTP/v1/audience" '{"user":{"mobile":"13712340001"}}'
wait_findings 2
monitor_stop
expect_findings 2
# exe aside too: null when curl exited before it was read (summary "exe unknown")
norm='del(.time, .process.pid, .process.tid, .process.exe, .message.id)'
a=$(entries | jq -c "map(.CONSENTRY_JSON | fromjson | $norm) | sort_by(.verdict)")
b=$(findings_jq "map($norm) | sort_by(.verdict)")
[[ "$a" == "$b" ]] || fail "CONSENTRY_JSON differs from -o FILE:
$a
$b"
info "ok: CONSENTRY_JSON equals the -o FILE line"

info "step 3: the fleet config, rsyslog"
mkdir "$WORK/rsyslog"
printf 'global(workDirectory="%s")\ninclude(file="%s")\n' "$WORK/rsyslog" "$FLEET_CONF" \
	>"$WORK/rsyslog/check.conf"
rsyslogd -N1 -f "$WORK/rsyslog/check.conf" >"$WORK/rsyslog/check.log" 2>&1 ||
	fail "rsyslogd -N1 refuses $FLEET_CONF: $(cat "$WORK/rsyslog/check.log")"
info "ok: rsyslogd -N1 accepts $FLEET_CONF"
# the Kafka variant of docs/operations.md (rsyslog-kafka)
sed -e 's|action(type="omfwd" target="collector.example" port="6514" protocol="tcp"|action(type="omkafka" broker=["kafka1:9092"] topic="consentry-findings"|' \
	"$FLEET_CONF" >"$WORK/rsyslog/kafka.conf"
grep -q omkafka "$WORK/rsyslog/kafka.conf" || fail "no omfwd action to replace in $FLEET_CONF"
printf 'global(workDirectory="%s")\nmodule(load="omkafka")\ninclude(file="%s")\n' "$WORK/rsyslog" \
	"$WORK/rsyslog/kafka.conf" >"$WORK/rsyslog/kafka-check.conf"
rsyslogd -N1 -f "$WORK/rsyslog/kafka-check.conf" >"$WORK/rsyslog/kafka-check.log" 2>&1 ||
	fail "rsyslogd -N1 refuses the omkafka variant: $(cat "$WORK/rsyslog/kafka-check.log")"
info "ok: rsyslogd -N1 accepts the omkafka variant"
# a listener on loopback stands for the collector
"$PY" -I -c '
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
open(sys.argv[2], "w").write("%d\n" % s.getsockname()[1])
c, _ = s.accept()
with open(sys.argv[1], "wb") as out:
    while True:
        b = c.recv(65536)
        if not b:
            break
        out.write(b)
        out.flush()
' "$WORK/collector.out" "$WORK/collector.port" &
track_pid $!
for ((i = 0; i < 50; i++)); do
	[[ -s "$WORK/collector.port" ]] && break
	sleep 0.1
done
port=$(cat "$WORK/collector.port")
sed -e 's/target="collector.example" port="6514"/target="127.0.0.1" port="'"$port"'"/' \
	"$FLEET_CONF" >"$WORK/rsyslog/consentry.conf"
grep -q "port=\"$port\"" "$WORK/rsyslog/consentry.conf" || fail "no target to replace in $FLEET_CONF"
printf 'global(workDirectory="%s")\ninclude(file="%s")\n' "$WORK/rsyslog" \
	"$WORK/rsyslog/consentry.conf" >"$WORK/rsyslog/run.conf"
# imjournal reads the local journal: the namespace's files are bound where it looks
jdir=$(jns find /run/log/journal -maxdepth 1 -name "*.$JNS")
[[ -n "$jdir" ]] || fail "no journal directory of namespace $JNS"
jns mkdir "${jdir%."$JNS"}"
jns mount --bind "$jdir" "${jdir%."$JNS"}"
# nsenter itself, not jns: a function in the background is a subshell, $! not rsyslogd
nsenter -t "$JPID" -m -- rsyslogd -n -f "$WORK/rsyslog/run.conf" -i "$WORK/rsyslog/pid" \
	>"$WORK/rsyslog/run.log" 2>&1 &
track_pid $!
for ((i = 0; i < 100; i++)); do
	(($(grep -c "\"ip\":\"${IP_BROKER%.*}\." "$WORK/collector.out" 2>/dev/null || true) >= 2)) && break
	sleep 0.1
done
jq -e -s 'all(type == "object")' "$WORK/collector.out" >/dev/null ||
	fail "the collector got lines that are not JSON objects: $(head -c 2000 "$WORK/collector.out")"
a=$(entries | jq -c 'map(.CONSENTRY_JSON | fromjson) | sort_by(.time)')
b=$(jq -s -c "${JQ_VARS[@]}" --arg host "$(hostname)" \
	'map(select(.host == $host) | .finding | select(.destination.ip | startswith($v4p))) | sort_by(.time)' \
	"$WORK/collector.out")
[[ "$a" == "$b" ]] || fail "the collector's findings are not the journal's:
$a
$b
$(cat "$WORK/rsyslog/run.log")"
info "ok: rsyslog forwarded the $(jq length <<<"$a") findings of the journal as JSON with their host"
cp "$WORK/collector.out" "$WORK/findings-collector.out"
expect_no_raw_values
