#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# --pid scope: only the given process is reported; others sending the same data are not.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
mkfifo "$WORK/go"
# The in-scope sender exists before the monitor starts, and sends once told to.
"$PY" -I "$E2E_DIR/clients/fifo_sender.py" "$WORK/go" "$IP_BROKER" "$PORT_RAW" &
spid=$!
track_pid "$spid"
monitor_start --pid "$spid"
# Out of scope: the same data from curl and another python.
http_post "http://$IP_BROKER:$PORT_HTTP/" '{"phone":"13955550005","email":"chen.jie@example.com"}'
tcp_send "$IP_BROKER" "$PORT_RAW2" 'phone=13955550005'
timeout 10 bash -c 'echo go >"$1"' _ "$WORK/go" || fail "in-scope sender is gone"
wait "$spid" || fail "in-scope sender failed"
wait_findings 1
monitor_stop
expect_findings 1
expect_finding '.subject == "u005" and .fields == ["phone"] and .verdict == "unconsented"
	and .recipient == "databroker" and .destination.ip == $broker
	and .destination.port == $port_raw and .process.pid == '"$spid"'
	and .process.comm == "python3" and .channel == $tcp'
expect_no_raw_values
