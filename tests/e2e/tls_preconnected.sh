#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# A python3 client that connected and finished its TLS handshake (SNI included) before the
# monitor started sends its POST (head and body in one SSL_write_ex) once the monitor is
# ready: the probes cover processes and connections that existed at start, and the Host
# header in the plaintext names the recipient.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/tls.sh
source "$(dirname "$0")/lib/tls.sh"
e2e_setup
tls_setup
tls_pyraw_start '{"account":{"email":"chen.jie@example.com"},"action":"export"}'
cpid=$TLS_PID
monitor_start
tls_pyraw_send
tls_wait_requests 1
wait_findings 1
# Still alive (waiting to be told to exit): its exe and uid are readable when the event comes.
exe=$(readlink -f "/proc/$cpid/exe")
monitor_stop
tls_pyraw_finish
tls_expect_one u004 '["email"]' python3 openssl "$cpid" '.process.tid == '"$cpid"'
	and .process.exe == "'"$exe"'" and .process.uid == 0'
expect_no_raw_values
