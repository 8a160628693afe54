// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test-only object: one global per struct shared with userspace, so their BPF-side layout is in
 * BTF (ring-buffer and map value types are otherwise absent). Never loaded; tests/bpf compares
 * the sizes with sizeof() in userspace.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "cs_abi.h"

char LICENSE[] SEC("license") = "GPL";

struct cs_event abi_event;
struct cs_hit abi_hit;
struct cs_flow abi_flow;
struct cs_bucket abi_bucket;
struct cs_scan abi_scan;
struct cs_exec abi_exec;
struct cs_exe_key abi_exe_key;
struct cs_hold abi_hold;
struct cs_hold_key abi_hold_key;
