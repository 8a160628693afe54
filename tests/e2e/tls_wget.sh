#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# wget --post-data over HTTPS: GnuTLS (gnutls_record_send), channel "gnutls". wget writes the
# request head and the body separately; the Host header of the head names the recipient.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/tls.sh
source "$(dirname "$0")/lib/tls.sh"
e2e_setup
tls_setup
tls_need wget wget
monitor_start
tls_wget '{"kyc":{"id_number":"510107197806308840"}}'
tls_wait_requests 1
wait_findings 1
monitor_stop
tls_expect_one u003 '["national_id"]' wget gnutls "$TLS_PID"
expect_no_raw_values
