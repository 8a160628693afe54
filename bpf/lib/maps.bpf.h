/* SPDX-License-Identifier: GPL-2.0-only */
/* Maps and load-time configuration of the consentry BPF object. */
#ifndef CS_MAPS_BPF_H
#define CS_MAPS_BPF_H

#include "cs_abi.h"
#include "lib/match.bpf.h"

/* Set by the loader before load (rodata); read-only afterwards. */
const volatile __u32 cfg_scan_limit = CS_SCAN_LIMIT_DEFAULT;
const volatile __u32 cfg_self_tgid = 0; /* the collector: never scanned */
const volatile __u8 cfg_include_loopback = 0;
const volatile __u8 cfg_scope_pid = 0;
const volatile __u8 cfg_scope_cgroup = 0;
const volatile __u8 cfg_decode = 1; /* --decode auto: hand flagged sends over (cs_deep) */
/*
 * Runs of bytes that can hold a strong ASCII token shorter than this are left out of the
 * tokeniser (skip.bpf.h, cs_scan_live); 0 tokenises every byte. Set by the loader from the
 * fingerprint DB: min(shortest strong token, 12), 0 when a strong token is not ASCII.
 */
const volatile __u32 cfg_skip_len = 0;
/* a short run needs this many digits or another anchor (cs_abi.h CS_ANCHOR_LONG); 0: off */
const volatile __u32 cfg_anchor_digits = 0;
/*
 * With skipping on, the shortest strong token (else 0): the first pass over a send looks up only
 * tokens this long. Shorter ones can only be weak, and weak hits count only next to a strong
 * hit, whose send is tokenised again whole (cs_scan_done), every length looked up.
 */
const volatile __u32 cfg_strong_min = 0;
/* the DB has weak fields: a send with a hit and skipped runs is tokenised again whole */
const volatile __u8 cfg_rescan = 1;
const volatile __u8 cfg_tls = 0; /* TLS library probes attached: claim their plaintext */
/*
 * --scan-in collector: no send is tokenised here; every send's bytes go to the collector
 * (cs_deep records, event flag CS_EVX_CSCAN), which scans them with SIMD (user/decode/cscan.h).
 */
const volatile __u8 cfg_scan_collector = 0;

/* Peer and process of the send being scanned. */
struct cs_peer {
	__u64 flow;
	__u8 daddr[16];
	__u16 dport;
	__u8 proto;
	__u8 v6;
	__u32 _pad;
};

/* What tp_scan is asked to scan (set by the entry program before the tail call). */
enum cs_req {
	CS_REQ_BUF = 1, /* a0 = user buffer, a1 = length */
	CS_REQ_IOV,	/* a0 = user iovec array, a1 = count */
	CS_REQ_MMSG,	/* a0 = user mmsghdr array, a1 = count, fd */
};

/* A user memory range scanned in this send. */
struct cs_seg {
	__u64 ubuf;
	__u32 len;
	__u32 _pad;
};

#define CS_CARRY_LOOKED 1  /* the carry map was consulted for this send */
#define CS_CARRY_FOUND	2  /* the flow had an entry */
#define CS_CARRY_OPEN	4  /* st->cscan holds carried tokens still open */
#define CS_CARRY_EMPTY	8  /* the entry found held nothing (no tokens, no deep budget) */
#define CS_CARRY_STALE	16 /* ... for CS_CARRY_IDLE_MAX sends in a row */

/* cs_state.sflags */
#define CS_SK_RUN_OPEN	1 /* the last chunk ended inside a run the tokeniser was given */
#define CS_SK_AGAIN	2 /* tokens seen again (cs_scan_done): not counted, nor known hits */
#define CS_SK_DEEP_FULL 4 /* --scan-in collector: ring full, the rest not handed over */

/*
 * Who sent a send, when the current task is not the sender (the socket hooks' bytes queued
 * without a verdict: lib/sockhook.bpf.h); events and flows take it instead of the current task.
 */
struct cs_who {
	__u32 pid, tid, uid, gid;
	__u64 cgroup;
	char comm[16];
};

/*
 * run --block: keyed hashes of a destination host (cs_hash.h cs_host_hash): h[0] the whole
 * name, h[1..n) the suffixes after its dots, shortest first, with CS_ENF_WILD set.
 */
struct cs_enf_hosts {
	__u64 h[CS_ENF_HOSTH];
	__u32 n;
	__u32 cut; /* the name filled CS_HOST_LEN - 1 bytes: maybe cut, matches no host */
};

/* run --block: the keys enforce.bpf.h looks up (in the map value: no stack on the deep path) */
struct cs_enf_keys {
	struct cs_enf_addr a;
	__u32 _pad;
	struct cs_enf_net net;
	struct cs_enf_pair pair;
};

/* Per-CPU scratch for one send: tokeniser state, hits so far, the chunk being scanned. */
struct cs_state {
	struct cs_scan scan;
	struct cs_peer peer;
	__u32 budget;	 /* bytes that may still be scanned in this send */
	__u32 inspected; /* bytes scanned in this send */
	__u64 total;	 /* bytes handed to this send */
	__u32 nhits;
	__u32 flags;   /* CS_EV_* */
	__u32 nstrong; /* hits on strong (not weak-only) tags */
	__u32 host_len;
	__u32 req_kind; /* enum cs_req */
	__u32 channel;	/* enum cs_channel of the bytes being scanned */
	__u64 req_a0;
	__u64 req_a1;
	__u32 req_fd;
	__u32 req_path;
	__u64 seq; /* message id, taken at the first cs_hits record or at the event (0: none yet) */
	__u64 retried; /* bytes of this send scanned by an earlier call (cs_retry) */
	__u32 unkept;  /* bytes scanned in segments past CS_MAX_IOV (not in segs) */
	__u32 kmem;    /* segs and pre hold kernel addresses (socket hooks), not user ones */
	__u32 who_set; /* `who` holds the sender (else: the current task) */
	__u32 _pad4;
	struct cs_who who;
	__u32 direct; /* --scan-in collector: bytes handed over as read (cs_deep_direct) */
	struct cs_hit hits[CS_MAX_HITS];
	struct cs_scan cscan; /* the flow's open tokens continued over this send's first bytes */
	__u32 carry;	      /* CS_CARRY_* */
	__u32 cover;	      /* bytes the carry pass covered */
	__u32 deep_left;      /* flow bytes still to hand over after a Content-Encoding header */
	__u32 nsegs;
	struct cs_seg segs[CS_MAX_IOV]; /* scanned user ranges, for the deep hand-over */
	struct cs_seg pre;	     /* chunk holds pre.len bytes from pre.ubuf (see cs_preload) */
	__u32 skipped;		     /* bytes of this send the tokeniser left out */
	__u32 sflags;		     /* CS_SK_* */
	__u32 live_start, live_done; /* cs_next_range: the open range, bytes up to its start */
	__u32 tok_min;		     /* cs_scan_chunk_step: shortest token length looked up */
	struct cs_scan fscan;	     /* cs_scan_done: the open tokens, flushed on a copy */
	__u64 smask[CS_CHUNK /
		    64]; /* chunk byte i may be in a strong token: bit i % 64 of [i / 64] */
	__u64 rmask[CS_CHUNK / 64]; /* the bytes to tokenise (cs_live_mask) */
	__u64 pmask[CS_CHUNK / 64]; /* cs_smask: the pure separators (space ( ) /) */
	__u32 eblocks;		    /* cs_exact_blocks: the chunk's blocks cs_smask classifies */
	__u32 wide; /* cs_exact_blocks: blocks that may hold wide forms (cs_wide4) */
	__u8 host[CS_HOST_LEN];
	__u32 enf;		  /* run --block: CS_ENFS_* (enforce.bpf.h) */
	struct cs_enf_rcpt enf_r; /* ... the recipient, with CS_ENFS_KNOWN */
	__u32 _pad5;
	struct cs_enf_hosts hh;	  /* ... this send's host hashed, with CS_ENFS_HH */
	struct cs_enf_keys enf_k; /* ... lookup keys */
	__u8 req[CS_REQ_LEN];	  /* cs_http_reqline: the request line (flags CS_EV_REQ) */
	__u32 req_len;
	__u32 _pad3;
	__u64 h2_off; /* flags CS_EV_H2: offset of this send in the flow's HTTP/2 bytes */
	__u8 chunk[CS_CHUNK];
	/* cs_http_host copies CS_HOST_LEN bytes from any offset, a scan step reads CS_STEP */
	__u8 chunk_pad[CS_STEP > CS_HOST_LEN ? CS_STEP : CS_HOST_LEN];
};

struct cs_counters {
	__u64 c[CS_CNT_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cs_state);
} state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cs_counters);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, CS_RINGBUF_DEFAULT);
} events SEC(".maps");

/*
 * Plaintext a TLS library was asked to send, keyed by thread (pid_tgid), recorded by the
 * library's uprobe at function entry. The first ciphertext send of that thread inside the call
 * claims it: the socket of that send is the peer, and the plaintext (still in the caller's
 * buffer, the call has not returned) is scanned instead of the ciphertext.
 */
struct cs_tls_pending {
	__u64 buf; /* user address of the plaintext */
	__u64 len;
	__u64 ts_ns;
	__u64 conn;    /* the library's connection object (SSL *, session, PRFileDesc *, *Conn) */
	__u32 channel; /* enum cs_channel */
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CS_FLOWS_MAX);
	__type(key, __u64);
	__type(value, struct cs_tls_pending);
} tls_pending SEC(".maps");

/*
 * Connection object -> socket, learnt when a ciphertext send claims a write of that object:
 * later writes of the same object are scanned at once by the uprobe (up_scan), whichever
 * thread sends the ciphertext and whenever. Entries go when the library frees the object.
 */
struct cs_tls_key {
	__u32 tgid;
	__u32 _pad;
	__u64 conn;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CS_FLOWS_MAX);
	__type(key, struct cs_tls_key);
	__type(value, struct cs_peer);
} tls_conn SEC(".maps");

/* Flows whose TLS plaintext is inspected (a probed library's write was claimed on them). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CS_FLOWS_MAX);
	__type(key, __u64);
	__type(value, __u8);
} tls_flows SEC(".maps");

/* Mark a flow in tls_flows: a lookup first, as an LRU update allocates an element each time. */
static __always_inline void tls_flow_mark(__u64 flow)
{
	__u8 one = 1;

	if (!bpf_map_lookup_elem(&tls_flows, &flow))
		bpf_map_update_elem(&tls_flows, &flow, &one, BPF_ANY);
}

/* Last HTTP Host (or TLS SNI) seen on a flow: requests often send headers and body apart. */
struct cs_host {
	__u8 name[CS_HOST_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CS_FLOWS_MAX);
	__type(key, __u64);
	__type(value, struct cs_host);
} flow_host SEC(".maps");

/* Flows with uninspected bytes, key: flow id. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CS_FLOWS_MAX);
	__type(key, __u64);
	__type(value, struct cs_flow);
} flows SEC(".maps");

/*
 * Per flow: the tokeniser state at the end of its last send when a token was still open (a
 * value split across sends), and the deep hand-over budget after a Content-Encoding header.
 */
struct cs_carry {
	struct cs_scan scan;
	__u32 deep_left;
	__u32 idle; /* sends in a row that found the entry empty */
	/*
	 * An HTTP/2 flow (its bytes began with the client preface): every send is handed over,
	 * and h2_off is the offset of its next byte since the preface. Such an entry is kept
	 * (never found empty) until the LRU evicts it.
	 */
	__u32 h2;
	__u32 _pad;
	__u64 h2_off;
};

/* An entry found empty by this many sends in a row is deleted (cs_carry_end). */
#define CS_CARRY_IDLE_MAX 8

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CS_FLOWS_MAX);
	__type(key, __u64);
	__type(value, struct cs_carry);
} carry SEC(".maps");

/*
 * How many carry entries each of CS_CARRY_HINTS slots (by flow id) may hold: a send whose slot
 * is 0 skips the carry lookup (~70 ns, most flows never end a send inside a token). Entries the
 * LRU evicts leave their count behind, which only costs a lookup that finds nothing.
 */
#define CS_CARRY_HINTS 65536
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CS_CARRY_HINTS);
	__type(key, __u32);
	__type(value, __u32);
} carry_hint SEC(".maps");

static __always_inline __u32 *carry_hint_get(__u64 flow)
{
	__u32 slot = (flow * 0x9e3779b97f4a7c15ULL) >> 48;

	return bpf_map_lookup_elem(&carry_hint, &slot);
}

/*
 * The last large buffer scanned on a flow (cs_retry): a non-blocking sender whose send() or
 * SSL_write() took only part of it (or none: EAGAIN, WANT_WRITE) calls again with the rest, or
 * the same buffer; those bytes were scanned and reported with the first call.
 */
struct cs_retry {
	__u64 start; /* user address range [start, end) of the buffer scanned whole */
	__u64 end;
	__u64 head;  /* its first 8 bytes */
	__u64 tail;  /* its last 8 bytes */
	__u64 ts_ns; /* of the last call that took part of it */
};

/* Buffers at least this long are remembered (smaller sends are rarely cut, cheap to rescan). */
#define CS_RETRY_MIN (64 * 1024)
/*
 * The whole buffer again (same address, length, first and last 8 bytes) more than this after
 * the last call on it is a new send; a receiver may stall a sender that long.
 */
#define CS_RETRY_NS (60ULL * 1000 * 1000 * 1000)

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CS_FLOWS_MAX);
	__type(key, __u64);
	__type(value, struct cs_retry);
} retry SEC(".maps");

/* Message ids (cs_event.seq): sends with a hit or a hand-over, in the order they took one. */
__u64 deep_seq;

/* The send's message id, taken once. */
static __always_inline __u64 msg_seq(struct cs_state *st)
{
	if (!st->seq)
		st->seq = __sync_fetch_and_add(&deep_seq, 1) + 1;
	return st->seq;
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CS_SCOPE_MAX);
	__type(key, __u32);
	__type(value, __u8);
} scope_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CS_SCOPE_MAX);
	__type(key, __u64);
	__type(value, __u8);
} scope_cgroups SEC(".maps");

static __always_inline struct cs_state *state_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&state, &zero);
}

static __always_inline struct cs_counters *counters_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&counters, &zero);
}

static __always_inline void cnt_add(enum cs_counter i, __u64 v)
{
	struct cs_counters *c = counters_get();

	if (c && i < CS_CNT_MAX)
		c->c[i] += v;
}

#endif
