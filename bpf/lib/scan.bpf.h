/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel side of the scanner: copy user memory in CS_CHUNK pieces (bpf_loop), run the shared
 * tokeniser (include/cs_scan.h) over each piece in a global function, look every token of an
 * enrolled length up in the tag table, collect distinct hits, and emit one event per send.
 * One header per concern, in data-flow order:
 *
 *   token.bpf.h   the tokeniser's steps, its token sink, tag lookup and the send's hits
 *   carry.bpf.h   tokens carried from a flow's last send into its next
 *   uread.bpf.h   reads of user memory into the per-CPU state
 *   host.bpf.h    HTTP Host and request line, HTTP/2 preface, TLS record and SNI
 *   skip.bpf.h    run skipping (math: include/cs_skip.h), wide forms, anchors
 *   deep.bpf.h    hand-over of bytes to the collector, the walk over a send's segments
 *   chunk.bpf.h   the chunk loop over a send's user segments
 *   rescan.bpf.h  the second, whole pass when skipped runs may matter
 *   event.bpf.h   a send's begin and end: accounting, carry, hand-over, its event
 */
#ifndef CS_SCAN_BPF_H
#define CS_SCAN_BPF_H

#include "lib/maps.bpf.h"
#include "lib/token.bpf.h"
#include "lib/carry.bpf.h"
#include "lib/uread.bpf.h"
#include "lib/host.bpf.h"
#include "lib/skip.bpf.h"
#include "lib/deep.bpf.h"
#include "lib/chunk.bpf.h"
#include "lib/rescan.bpf.h"
#include "lib/event.bpf.h"

#endif /* CS_SCAN_BPF_H */
