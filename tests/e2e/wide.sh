#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# Wide text forms of strong values, each in its own send: UTF-16LE with a BOM (a CSV export as
# Windows and .NET write it), UTF-16BE inside binary framing at an odd offset, a phone in
# full-width digits inside Chinese text (UTF-8), a full-width e-mail, and full-width digits in
# UTF-16. The kernel flags them (no run of ASCII letters or digits holds the value), the
# collector decodes them: one finding each with evidence.encodings "utf-16" / "fullwidth".
# Benign look-alikes (UTF-16 text and full-width digits of no enrolled value, little-endian
# integers, Chinese punctuation) give nothing.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup

# send_py PYEXPR: one connection to the raw sink of databroker, one send() of the bytes.
send_py() {
	py_client send_exprs.py "$IP_BROKER" "$PORT_RAW" "$1"
}

monitor_start
# u001: UTF-16LE CSV with a BOM, phone and e-mail
send_py '"id,mobile,email\r\n1,13712340001,zhang.wei@example.com\r\n".encode("utf-16")'
# u002: UTF-16BE e-mail in binary framing, at an odd offset
send_py 'b"\x07" + struct.pack(">H", 17) + "li.na@example.org".encode("utf-16-be") + b"\x00\x00"'
# u003: full-width phone inside Chinese text
send_py '("客户王芳，手机" + fw("18611112233") + "，已确认。").encode()'
# u004: full-width e-mail
send_py '("邮箱：" + fw("chen.jie@example.com")).encode()'
# u005: full-width digits of a phone in UTF-16LE Chinese text (no zero byte, no EF), 30 bytes,
# sent on CPU 0 after 128 bytes of plain text there: the kernel's per-CPU chunk buffer then
# holds no stale byte past the send's end that could raise the wide trigger in its place
taskset -c 0 "$PY" -I "$E2E_DIR/clients/send_exprs.py" "$IP_BROKER" "$PORT_RAW" 'b"x" * 128' \
	'("手机" + fw("13955550005") + "谢谢").encode("utf-16-le")' || fail "u005 client failed"
# benign: UTF-16 and full-width text of nobody, integers, Chinese punctuation
send_py '"id,mobile\r\n9,13900000000\r\n".encode("utf-16") + struct.pack("<8I", 65, 66, 67, 0, 7, 0, 1, 2)'
send_py '("电话" + fw("13900000000") + "，（测试）！").encode()'
wait_findings 5
monitor_stop

expect_findings 5
expect_every '.verdict == "unconsented" and .recipient == "databroker"
	and .destination.ip == $broker and .channel == $tcp and .process.comm == "python3"'
expect_finding '.subject == "u001" and .fields == ["email", "phone"] and .evidence.encodings == ["utf-16"]'
expect_finding '.subject == "u002" and .fields == ["email"] and .evidence.encodings == ["utf-16"]'
expect_finding '.subject == "u003" and .fields == ["phone"] and .evidence.encodings == ["fullwidth"]'
expect_finding '.subject == "u004" and .fields == ["email"] and .evidence.encodings == ["fullwidth"]'
expect_finding '.subject == "u005" and .fields == ["phone"]
	and .evidence.encodings == ["utf-16", "fullwidth"]'
# every byte to the peer inspected (the count is host-wide: other runs' flows may show)
if grep -a -E "^  flow .* -> \[?(::ffff:)?$IP_BROKER\]?:" "$MONLOG"; then
	fail "bytes to the peer left uninspected"
fi
n=$(summary_value "ringbuf drops")
((n == 0)) || fail "summary: ringbuf drops $n"
expect_no_raw_values
