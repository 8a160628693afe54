#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# libc sendmmsg() (python ctypes) of several UDP messages in one call: one finding per message
# that carries a subject's data. First on a connected socket (3 messages: u001's phone, benign,
# u002's email), then on an unconnected one with a destination per message (msg_name).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
e2e_setup

# sendmmsg IP PORT|- MSG... : one sendmmsg() call. With PORT, the socket is connected to
# IP:PORT and msg_name is NULL; with "-", every MSG is "IP:PORT:PAYLOAD" and carries its own
# msg_name. Fails unless every message was sent.
SENDMMSG='
import ctypes, ctypes.util, socket, struct, sys

class iovec(ctypes.Structure):
    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]

class msghdr(ctypes.Structure):
    _fields_ = [("msg_name", ctypes.c_void_p), ("msg_namelen", ctypes.c_uint32),
                ("msg_iov", ctypes.POINTER(iovec)), ("msg_iovlen", ctypes.c_size_t),
                ("msg_control", ctypes.c_void_p), ("msg_controllen", ctypes.c_size_t),
                ("msg_flags", ctypes.c_int)]

class mmsghdr(ctypes.Structure):
    _fields_ = [("msg_hdr", msghdr), ("msg_len", ctypes.c_uint)]

libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
libc.sendmmsg.argtypes = [ctypes.c_int, ctypes.POINTER(mmsghdr), ctypes.c_uint, ctypes.c_int]
libc.sendmmsg.restype = ctypes.c_int

ip, port, msgs = sys.argv[1], sys.argv[2], sys.argv[3:]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if port != "-":
    s.connect((ip, int(port)))
vec = (mmsghdr * len(msgs))()
keep = []
for i, m in enumerate(msgs):
    name = None
    if port == "-":
        dip, dport, m = m.split(":", 2)
        name = ctypes.create_string_buffer(
            struct.pack("=HH4s8x", socket.AF_INET, socket.htons(int(dport)),
                        socket.inet_aton(dip)), 16)
    data = ctypes.create_string_buffer(m.encode(), len(m.encode()))
    iov = (iovec * 1)(iovec(ctypes.cast(data, ctypes.c_void_p), len(m.encode())))
    keep += [name, data, iov]
    h = vec[i].msg_hdr
    if name is not None:
        h.msg_name = ctypes.cast(name, ctypes.c_void_p)
        h.msg_namelen = 16
    h.msg_iov = iov
    h.msg_iovlen = 1
n = libc.sendmmsg(s.fileno(), vec, len(msgs), 0)
if n != len(msgs):
    raise SystemExit("sendmmsg returned %d (errno %d)" % (n, ctypes.get_errno()))
for i, m in enumerate(msgs):
    want = len(m.split(":", 2)[2] if port == "-" else m)
    assert vec[i].msg_len == want, (i, vec[i].msg_len, want)
s.close()
'

monitor_start
# Connected socket, 3 messages: u001's phone, nothing registered, u002's email.
py "$SENDMMSG" "$IP_BROKER" "$PORT_UDP" \
	'{"seq":1,"phone":"13712340001"}' \
	'{"seq":2,"event":"page_view","lang":"zh-CN"}' \
	'{"seq":3,"email":"li.na@example.org"}'
wait_peer udp "$PORT_UDP" 3
wait_findings 2
monitor_stop
expect_findings 2
expect_every '.verdict == "unconsented" and .recipient == "databroker"
	and .recipient_kind == "third-party" and .destination.ip == $broker
	and .destination.port == $port_udp and .process.comm == "python3"
	and .channel == $udp'
expect_finding '.subject == "u001" and .fields == ["phone"] and .unconsented_fields == ["phone"]'
expect_finding '.subject == "u002" and .fields == ["email"] and .unconsented_fields == ["email"]'
expect_no_raw_values

# Unconnected socket, a destination per message: u003's email to the broker, benign to the
# broker, u005's phone to an unknown recipient (.50).
monitor_start
py "$SENDMMSG" - - \
	"$IP_BROKER:$PORT_UDP:email=wang.fang@example.net" \
	"$IP_BROKER:$PORT_UDP:ping=1" \
	"$IP_UNKNOWN:$PORT_UDP:tel=13955550005"
wait_peer udp "$PORT_UDP" 6
wait_findings 2
monitor_stop
expect_findings 2
expect_every '.verdict == "unconsented" and .destination.port == $port_udp
	and .process.comm == "python3" and .channel == $udp'
expect_finding '.subject == "u003" and .fields == ["email"] and .recipient == "databroker"
	and .recipient_kind == "third-party" and .destination.ip == $broker'
expect_finding '.subject == "u005" and .fields == ["phone"] and .recipient == null
	and .recipient_kind == "unknown" and .destination.ip == $unknown'
expect_no_raw_values

# Every message of a call is inspected: 200 messages (the monitor takes 64 per program run and
# goes on by tail call), the 130th with u001's phone, the 200th with u004's email.
monitor_start
msgs=()
for ((i = 1; i <= 198; i++)); do
	if ((i == 130)); then
		msgs+=('{"seq":130,"phone":"13712340001"}')
	else
		msgs+=("{\"seq\":$i,\"event\":\"heartbeat\"}")
	fi
done
msgs+=('{"seq":199,"event":"heartbeat"}' '{"seq":200,"email":"chen.jie@example.com"}')
py "$SENDMMSG" "$IP_BROKER" "$PORT_UDP" "${msgs[@]}"
wait_peer udp "$PORT_UDP" 206
wait_findings 2 3
monitor_stop
expect_findings 2
expect_every '.verdict == "unconsented" and .recipient == "databroker"
	and .destination.ip == $broker and .destination.port == $port_udp
	and .process.comm == "python3" and .channel == $udp'
expect_finding '.subject == "u001" and .fields == ["phone"]'
expect_finding '.subject == "u004" and .fields == ["email"]'
expect_no_raw_values
