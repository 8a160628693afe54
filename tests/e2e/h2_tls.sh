#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016 # jq filters are single-quoted on purpose
# HTTP/2 over TLS (curl --http2, ALPN h2, nghttpd in the peer namespace): the preface and the
# frames are in the plaintext the OpenSSL uprobes see. A phone in the path and an email in a
# custom header of one request (two subjects, one message), a phone in DATA cut across two
# frames, and a header repeated on three requests of one connection (indexed after the first).
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/tls.sh
source "$(dirname "$0")/lib/tls.sh"
# shellcheck source-path=SCRIPTDIR source=lib/h2.sh
source "$(dirname "$0")/lib/h2.sh"
e2e_setup
tls_setup
h2_setup --tls
url="https://$TLS_HOST:$H2_TLS_PORT"
tls=(--cacert "$TLS_CA" --resolve "$TLS_HOST:$H2_TLS_PORT:$IP_PEER")
"$PY" -I -c 'import sys; sys.stdout.write(" " * 16378 + "18611112233" + " " * 100)' >"$WORK/body_c"

monitor_start
h2_curl "$url/users/13712340001/profile" -- "${tls[@]}" -H 'x-user-email: li.na@example.org' \
	-d '{"a":1}'
h2_curl "$url/v1/c" -- "${tls[@]}" -H 'content-type: text/plain' --data-binary "@$WORK/body_c"
h2_curl "$url/v1/d1" "$url/v1/d2" "$url/v1/d3" -- "${tls[@]}" \
	-H 'x-account: chen.jie@example.com' -d '{}'
wait_findings 6
monitor_stop
expect_findings 6
expect_every '.verdict == "unconsented" and .channel == "openssl" and .process.comm == "curl"
	and .recipient == $tls_rcpt and .recipient_kind == "third-party"
	and .destination.ip == $peer and .destination.port == $port_h2tls
	and .destination.host == $tls_host
	and .message.http.version == "2" and .message.http.method == "POST"'
expect_finding '.subject == "u001" and .fields == ["phone"] and .message.subjects == 2
	and .message.http.path == "/users/{phone}/profile" and .evidence.encodings == ["hpack"]'
expect_finding '.subject == "u002" and .fields == ["email"] and .message.subjects == 2
	and .message.http.path == "/users/{phone}/profile" and .evidence.encodings == ["hpack"]'
n=$(findings_jq '[.[] | select(.message.subjects == 2) | .message.id] | unique | length')
((n == 1)) || fail "the two subjects of one request are not one message ($n ids)"
expect_finding '.subject == "u003" and .fields == ["phone"] and .message.http.path == "/v1/c"
	and .evidence.encodings == []'
for p in d1 d2 d3; do
	expect_finding '.subject == "u004" and .fields == ["email"]
		and .message.http.path == "/v1/'"$p"'" and .evidence.encodings == ["hpack"]'
done
(($(summary_value "http/2 flows") == 3)) || fail "summary: http/2 flows is not 3"
(($(summary_value "http/2 desyncs") == 0)) || fail "summary: http/2 desyncs is not 0"
expect_no_raw_values
