#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# A value split across consecutive sends of one socket (the kernel carries the open token of a
# flow's last send into its next one): a phone in 2 sends, an email in 3, a grouped phone cut
# at a separator, and over TLS a national id cut across two SSL_write calls. A value that ends
# a send and is followed by a separator in the next is reported once, not again as "split";
# two sends that only look joined ("186" + "11112233" on different sockets) are not, over TCP
# nor over 20 pairs of fresh unbound UDP sockets (which have no local port yet when their send
# is probed, and often reuse the last one's file).
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/tls.sh
source "$(dirname "$0")/lib/tls.sh"
e2e_setup
tls_setup

# parts IP PORT PART...: one TCP connection, one send() per part, 50 ms apart.
parts() {
	py_client send.py parts "$@"
}

monitor_start
parts "$IP_BROKER" "$PORT_RAW" '{"tel":"1371234' '0001"}'                       # u001
parts "$IP_BROKER" "$PORT_RAW" 'mail: wang.' 'fang@exam' 'ple.net;'              # u003
parts "$IP_BROKER" "$PORT_RAW" 'call +86 139 ' '5555 0005 now'                   # u005
parts "$IP_BROKER" "$PORT_RAW" 'li.na@example.org' $'\r\nnext line'             # u002 once
tcp_send "$IP_BROKER" "$PORT_RAW" 'x=186'                                       # nothing:
tcp_send "$IP_BROKER" "$PORT_RAW" '11112233'                                    # other socket
py_client udp_split.py "$IP_BROKER" "$PORT_UDP"
# TLS: SSL_write("...id=51010719780630") then SSL_write("8840&...") on one connection (u003)
py_client tls_split.py "$IP_PEER" "$TLS_PORT" "$TLS_HOST" "$TLS_CA"
wait_findings 5
monitor_stop
expect_findings 5
expect_finding '.subject == "u001" and .fields == ["phone"] and .channel == $tcp
	and .evidence.encodings == ["split"]'
expect_finding '.subject == "u003" and .fields == ["email"] and .channel == $tcp
	and .evidence.encodings == ["split"]'
expect_finding '.subject == "u005" and .fields == ["phone"] and .evidence.encodings == ["split"]'
expect_finding '.subject == "u002" and .fields == ["email"] and .evidence.encodings == []'
expect_finding '.subject == "u003" and .fields == ["national_id"] and .channel == "openssl"
	and .destination.host == $tls_host and .evidence.encodings == ["split"]'
[[ "$(summary_value "carried sends")" -ge 4 ]] || fail "summary: fewer than 4 carried sends"
expect_no_raw_values
