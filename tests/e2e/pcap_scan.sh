#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# consentry scan-pcap against the live monitor on the same traffic: tcpdump runs in the peer's
# namespace (on eth0: Ethernet; on any: Linux cooked v2) while the monitor runs (--all) and the
# clients send: curl POSTs (to a third party by IP, to a host selector by Host header), a phone
# in two sends, a DNS lookup then a raw send to the answer (recipient by DNS), UDP and IPv6
# sends, HTTP/2 over cleartext (a phone in the Huffman-coded path, a phone in DATA across frames,
# a gzip'd body). scan-pcap --all on each capture must give the live monitor's findings: subject,
# fields, verdict, recipient, destination, consent ids, encodings, message.http, with channel
# "pcap", no process, and the packet's time (within 2 s of the send's). A file that is not a
# capture is refused with exit 2 and its name. Both load the same --geoip country database
# (generated) covering the peer's addresses.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/h2.sh
source "$(dirname "$0")/lib/h2.sh"
command -v tcpdump >/dev/null || fail "tcpdump not installed (scripts/setup)"
e2e_setup
h2_setup
"$PY" -I -c 'import sys; sys.stdout.write(" " * 16378 + "18611112233" + " " * 100)' >"$WORK/body_c"
printf '{"mail":"chen.jie@example.com","n":1}' | gzip -c >"$WORK/body_gz"
ip netns exec "$NS" "$PY" -I "$E2E_DIR/clients/dns_server.py" "$IP_PEER" "$IP_HOSTSEL" &
track_pid $!

# tcpdump_start IFACE FILE: capture in the peer's namespace until tcpdump_stop; waits for it.
TCPDUMP_PIDS=()
tcpdump_start() {
	local log="$WORK/tcpdump-$1.log" i
	ip netns exec "$NS" tcpdump -i "$1" -U -n -Z root -w "$2" 'tcp or udp' 2>"$log" &
	TCPDUMP_PIDS+=($!)
	track_pid $!
	for ((i = 0; i < 100; i++)); do
		grep -q 'listening on' "$log" && return 0
		sleep 0.1
	done
	fail "tcpdump on $1 did not start: $(cat "$log")"
}

tcpdump_stop() {
	local p
	sleep 0.5
	for p in "${TCPDUMP_PIDS[@]}"; do
		kill -INT "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

printf '%s DE\n%s/112 FR\n' "$IP_PEER/24" "$IP6_PEER" >"$WORK/geo.txt"
"$PY" -I "$REPO/scripts/gen/mkmmdb.py" "$WORK/geo.txt" "$WORK/geo.mmdb"

tcpdump_start eth0 "$WORK/eth.pcap"
tcpdump_start any "$WORK/any.pcap"
monitor_start --all --geoip "$WORK/geo.mmdb"
http_post "http://$IP_BROKER:$PORT_HTTP/v1/events" '{"user":{"mobile":"13955550005"}}'
http_post "http://$IP_HOSTSEL:$PORT_HTTP/t" '{"mail":"li.na@example.org"}' -H 'Host: www.tracker.example'
py_client send.py parts "$IP_BROKER" "$PORT_RAW" '{"tel":"1371234' '0001"}'
py_client dns_query.py "$IP_PEER" api.tracker.example "$IP_HOSTSEL"
tcp_send "$IP_HOSTSEL" "$PORT_RAW" '{"phone":"18611112233"}'
udp_send "$IP_AD" "$PORT_UDP" 'email=zhang.wei@example.com'
tcp_send "$IP6_BROKER" "$PORT_RAW" 'id=510107197806308840'
h2_curl "http://$IP_BROKER:$H2_PORT/users/13712340001/profile" -- -d '{"a":1}'
h2_curl "http://$IP_BROKER:$H2_PORT/v1/c" -- -H 'content-type: text/plain' --data-binary "@$WORK/body_c"
h2_curl "http://$IP_BROKER:$H2_PORT/v1/gz" -- -H 'content-encoding: gzip' --data-binary "@$WORK/body_gz"
wait_findings 9
monitor_stop
tcpdump_stop
expect_findings 9
expect_finding '.subject == "u005" and .recipient == "databroker" and .message.http.method == "POST"'
expect_finding '.subject == "u002" and .recipient == "tracker" and .destination.host == "www.tracker.example"'
expect_finding '.subject == "u001" and .fields == ["phone"] and .evidence.encodings == ["split"]'
expect_finding '.subject == "u003" and .fields == ["phone"] and .recipient == "tracker-api"
	and .destination.host == "api.tracker.example"'
expect_finding '.subject == "u001" and .fields == ["email"] and .verdict == "consented"
	and .destination.protocol == "udp"'
expect_finding '.subject == "u003" and .fields == ["national_id"] and .destination.ip == $broker6'
expect_finding '.subject == "u001" and .message.http.path == "/users/{phone}/profile"
	and .evidence.encodings == ["hpack"]'
expect_finding '.subject == "u003" and .message.http.path == "/v1/c" and .message.http.version == "2"'
expect_finding '.subject == "u004" and .message.http.path == "/v1/gz" and .evidence.encodings == ["gzip"]'

# The live findings of this run (other runs' set aside), as scan-pcap must give them.
findings_jq '.' >"$WORK/live.json"
# shellcheck disable=SC2016
CMP='def key: {verdict, subject, fields, unconsented_fields, recipient, recipient_kind,
		destination, consent_ids, enc: .evidence.encodings, http: .message.http,
		subjects: .message.subjects};
	def secs: .time | sub("\\.[0-9]+Z$"; "Z") | fromdate;
	($live[0] | map(key) | sort) == ($pcap | map(key) | sort)
	and all($pcap[]; . as $p | any($live[0][]; key == ($p | key)
		and ((secs - ($p | secs)) | if . < 0 then -. else . end) <= 2))'
for cap in eth any; do
	out="$WORK/findings-pcap-$cap.out"
	log="$WORK/monitor-pcap-$cap.log"
	"$CONSENTRY" scan-pcap -f "$FP" -k "$KEY" -c "$CONSENT" -R "$RECIPIENTS" --all \
		--geoip "$WORK/geo.mmdb" -o "$out" "$WORK/$cap.pcap" 2>"$log" || fail "scan-pcap $cap.pcap failed: $(cat "$log")"
	FINDINGS=$out
	MONLOG=$log
	expect_findings 9
	expect_every '.channel == "pcap" and .process == null'
	jq -e -n --slurpfile live "$WORK/live.json" --slurpfile pcap <(findings_jq '.[]') "$CMP" \
		>/dev/null || fail "scan-pcap on $cap.pcap differs from the live monitor (live: $(cat "$WORK/live.json"))"
	grep -q "scan-pcap summary ($WORK/$cap.pcap, link type $([[ $cap == eth ]] && echo EN10MB || echo LINUX_SLL2))" "$log" ||
		fail "no summary naming the capture and its link type in $log"
	info "ok: scan-pcap on $cap.pcap gives the live monitor's findings"
done

# not a capture: exit 2, the file named
rc=0
"$CONSENTRY" scan-pcap -f "$FP" -k "$KEY" -c "$CONSENT" -R "$RECIPIENTS" "$CONSENT" \
	>"$WORK/findings-bad.out" 2>"$WORK/monitor-bad.log" || rc=$?
((rc == 2)) || fail "scan-pcap of a CSV file: exit $rc, expected 2"
grep -q "$CONSENT: cannot read it as a pcap or pcapng capture" "$WORK/monitor-bad.log" ||
	fail "scan-pcap of a CSV file: no error naming it: $(cat "$WORK/monitor-bad.log")"
expect_no_raw_values
