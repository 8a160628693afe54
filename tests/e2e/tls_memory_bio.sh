#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# The SSL*-to-socket cache. A python3 client drives OpenSSL through memory BIOs (ssl.MemoryBIO,
# as asyncio does) and moves the ciphertext to the socket itself: the first request from the
# writing thread (its send claims the plaintext and teaches the cache which socket the SSL
# object uses), the second from another thread after SSL_write_ex has returned, which no
# per-thread claim can see. Both must be found, on the right socket, once each.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/tls.sh
source "$(dirname "$0")/lib/tls.sh"
e2e_setup
tls_setup
monitor_start
py_client tls_memory_bio.py "$IP_PEER" "$TLS_PORT" "$TLS_HOST"
tls_wait_requests 2
wait_findings 2
monitor_stop
expect_findings 2
expect_every '.verdict == "unconsented" and .fields == ["phone"] and .recipient == $tls_rcpt
	and .destination.ip == $peer and .destination.port == $port_tls
	and .destination.host == $tls_host and .process.comm == "python3"
	and .channel == "openssl"'
expect_finding '.subject == "u001"'
expect_finding '.subject == "u002"'
[[ "$(summary_value 'tls writes')" -ge 2 ]] || fail "summary does not count the TLS writes"
expect_no_raw_values
