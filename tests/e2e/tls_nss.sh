#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# An NSS client (NSPR PR_Write over an SSL-layered socket, built here from
# tests/e2e/clients/nss_post.c) POSTs JSON over HTTPS: one finding, channel "nss", started
# after the monitor (libnspr4 is probed as a system library).
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/tls.sh
source "$(dirname "$0")/lib/tls.sh"
e2e_setup
tls_setup
pkg-config --exists nss || fail "NSS headers missing (Debian package libnss3-dev, scripts/setup)"
NSS_BIN="$WORK/cs-nss"
read -ra NSS_FLAGS <<<"$(pkg-config --cflags --libs nss)"
gcc -O2 -o "$NSS_BIN" "$E2E_DIR/clients/nss_post.c" "${NSS_FLAGS[@]}" ||
	fail "cannot build the NSS test client"
monitor_start
tls_run cs-nss "$NSS_BIN" "$IP_PEER" "$TLS_PORT" "$TLS_HOST" '{"contact":{"email":"chen.jie@example.com"}}'
tls_wait_requests 1
wait_findings 1
monitor_stop
tls_expect_one u004 '["email"]' cs-nss nss "$TLS_PID"
expect_no_raw_values
