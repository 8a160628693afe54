#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# Weak fields (name, birthdate, address) count only next to a strong field of the same subject
# in the same message: alone they give nothing, with the subject's phone they join its finding,
# next to another subject's phone they are not added to that subject's finding, and a weak field
# disclosed with a consented strong one must itself be covered by the consent.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
# Twice: with the fingerprint DB compact in memory and read in place from the file's mapping
# (run --fp-memory): the name parts shared by subjects, the subject ids and the nparts of weak
# values must come out the same.
round=0
for form in compact mapped; do
	round=$((round + 1))
	monitor_start --fp-memory "$form"
	want="compact in memory"
	[[ "$form" == mapped ]] && want="mapped from the file"
	grep -q -F "($want)" "$MONLOG" || fail "ready line does not say '$want': $(cat "$MONLOG")"
	# 1. u001's name alone, then u001's name, birthdate and address together (all weak): nothing.
	tcp_send "$IP_BROKER" "$PORT_RAW" '{"name":"张伟","city":"Shanghai"}'
	tcp_send "$IP_BROKER" "$PORT_RAW" \
		'{"name":"张伟","birthdate":"1985-11-12","address":"Room 1203, 88 Example Road, Pudong, Shanghai"}'
	# 2. u001's name with u001's phone: one finding, fields name and phone.
	tcp_send "$IP_BROKER" "$PORT_HTTP2" '{"name":"张伟","phone":"13712340001"}'
	# 3. u002's (Chinese) name with u005's phone: u005's finding has the phone only, nothing for u002.
	tcp_send "$IP_BROKER" "$PORT_RAW2" '{"name":"李娜","phone":"13955550005"}'
	# 4. u005's (Latin) name with u005's phone, in a datagram: fields name and phone.
	udp_send "$IP_BROKER" "$PORT_UDP" 'name=Maria Ortiz&tel=13955550005'
	# 5. u003's email with u003's birthdate and address (CSV line), over IPv4 to an unknown peer:
	#    fields address, birthdate and email.
	tcp_send "$IP_UNKNOWN" "$PORT_RAW" $'email,born,addr\r\nwang.fang@example.net,1978-06-30,"21 Placeholder Street, Wuhou, Chengdu"\r\n'
	# 6. u002's name with u002's phone to adpartner, which u002 allowed the phone only: the name
	#    joins the finding and is not covered, so the disclosure is unconsented for the name.
	tcp_send "$IP_AD" "$PORT_RAW" 'phone=158-9876-0002&name=李娜'
	# 7. Chinese text: the name between full-width punctuation is a whole token (to the unknown .50).
	tcp_send "$IP_UNKNOWN" "$PORT_RAW2" '客户：张伟，电话：13712340001。'
	# 8. u005's name parts and phone in one run of bytes the tokeniser must see whole ('!' joins
	#    runs, splits words): nothing is skipped, yet the first pass, which looks up strong
	#    lengths only, did not look the name parts up; the send is tokenised again for them.
	tcp_send "$IP_UNKNOWN" "$PORT_HTTP2" 'maria!13955550005!ortiz'
	wait_peer tcp "$PORT_RAW2" "$round"
	wait_peer udp "$PORT_UDP" "$round"
	wait_findings 7
	monitor_stop
	expect_findings 7
	# To the broker (cases 2-4): exactly u001 [name, phone], u005 [phone], u005 [name, phone].
	expect_every '.destination.ip != $broker or (.verdict == "unconsented"
		and .recipient == "databroker" and .recipient_kind == "third-party"
		and .process.comm == "python3" and (.channel == $tcp or .channel == $udp))'
	expect_finding '.subject == "u001" and .fields == ["name", "phone"]
		and .unconsented_fields == ["name", "phone"] and .destination.ip == $broker
		and .destination.port == $port_http2'
	expect_finding '.subject == "u005" and .fields == ["phone"] and .unconsented_fields == ["phone"]
		and .destination.ip == $broker and .destination.port == $port_raw2'
	expect_finding '.subject == "u005" and .fields == ["name", "phone"]
		and .unconsented_fields == ["name", "phone"] and .destination.ip == $broker
		and .destination.port == $port_udp'
	# Case 5: u003 [address, birthdate, email] to the unknown .50.
	expect_finding '.subject == "u003" and .fields == ["address", "birthdate", "email"]
		and .unconsented_fields == ["address", "birthdate", "email"] and .verdict == "unconsented"
		and .recipient == null and .recipient_kind == "unknown" and .destination.ip == $unknown
		and .destination.port == $port_raw and .process.comm == "python3" and .channel == $tcp'
	# Case 6: u002 [name, phone] to adpartner, unconsented for the name only.
	expect_finding '.subject == "u002" and .fields == ["name", "phone"]
		and .unconsented_fields == ["name"] and .verdict == "unconsented"
		and .recipient == "adpartner" and .recipient_kind == "third-party"
		and .destination.ip == $ad and .destination.port == $port_raw
		and .process.comm == "python3" and .channel == $tcp'
	expect_finding '.subject == "u001" and .fields == ["name", "phone"]
		and .destination.ip == $unknown and .destination.port == $port_raw2'
	expect_finding '.subject == "u005" and .fields == ["name", "phone"]
		and .destination.ip == $unknown and .destination.port == $port_http2'
	# Case 1 gave nothing; case 3's name did not make a u002 finding.
	expect_every '.destination.ip != $broker or .destination.port != $port_raw'
	expect_every '.subject != "u002" or .destination.ip == $ad'
	expect_no_raw_values
	info "ok: --fp-memory $form"
done
