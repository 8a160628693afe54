/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ABI shared by the BPF programs (bpf/) and the collector (user/).
 *
 * Only fixed-width types, fixed arrays and explicit padding: the same bytes are read by both
 * sides. Every struct size is pinned with _Static_assert; tests/bpf/bpftest_scan.c checks them
 * against the BTF of the BPF object.
 */
#ifndef CS_ABI_H
#define CS_ABI_H

#ifdef __BPF__
/* vmlinux.h already provides __u8..__u64 */
#else
#include <linux/types.h>
#endif

/* Helpers of the shared headers (cs_hash.h, cs_skip.h), inlined in BPF and userspace alike. */
#ifndef CS_INLINE
#ifdef __BPF__
#define CS_INLINE static __always_inline
#else
#define CS_INLINE static inline __attribute__((always_inline))
#endif
#endif

/* Chunk the kernel copies from user memory and scans in one global-function call. */
#define CS_CHUNK 1024
/*
 * Bytes one call of the BPF tokeniser handles (~10 ns a call). It bounds the verifier's work:
 * the tokeniser's loop is walked once per byte of it, and tp_scan, which holds every scanning
 * function, must stay under the kernel's 1M processed instructions (at 256: 965k; at 128:
 * 615k; CONSENTRY_VERIFIER_LOG=2 prints each program's count).
 */
#define CS_STEP 128
/*
 * --scan-limit (bytes scanned per send, across all iovecs): 0, the default, scans whole sends of
 * any size; a limit is an opt-in cap (bytes past it are counted uninspected).
 */
#define CS_SCAN_LIMIT_DEFAULT 0
#define CS_SCAN_LIMIT_MAX     0xfffff000u
/*
 * Distinct fingerprint hits per record. A send with more hands its hits over in cs_hits
 * records before its event (see there): no hit is capped, only a full ring loses some.
 */
#define CS_MAX_HITS 32
/* iovec segments of a writev/sendmsg kept for a rescan or hand-over (all are scanned). */
#define CS_MAX_IOV 16
/* Segments per writev/sendmsg the kernel takes (UIO_MAXIOV): all are scanned. */
#define CS_UIO_MAXIOV 1024
/*
 * Messages scanned per run of the scan program (it goes on by tail call: every message of a
 * sendmmsg call is scanned), and segments per message (later ones counted in
 * CS_CNT_MSGS_UNINSPECTED). The verifier's call depth keeps bpf_loop off this path.
 */
#define CS_MAX_MMSG	64
#define CS_MAX_MMSG_IOV 64
/* HTTP Host header bytes kept (NUL-terminated). */
#define CS_HOST_LEN 64
/* Bytes of an HTTP/1 request line kept for the finding (message.http); longer lines are cut. */
#define CS_REQ_LEN 256
/* Ancestor levels checked for --cgroup scope (deeper cgroups are refused at start). */
#define CS_MAX_CGROUP_LEVEL 32
/* Slots per bucket of the in-kernel tag table (one 32-byte array value). */
#define CS_TAG_SLOTS 8

#define CS_RINGBUF_DEFAULT (64u << 20) /* events and the cs_hits/cs_deep records before them */
/* Bytes of one send handed over for decoding (cs_deep), a quarter of the ring; more: counted */
#define CS_DEEP_SEND_MAX (CS_RINGBUF_DEFAULT / 4)
#define CS_FLOWS_MAX	 16384
/* sockets under the sk_msg hook at once (--capture sockets); more are counted, not seen */
#define CS_SOCKS_MAX 262144
/* the largest UDP payload the cgroup_skb hook copies out (a datagram's payload is < 64 KiB) */
#define CS_DGRAM_MAX 65536
#define CS_SCOPE_MAX 1024

/* Field types of registrations.csv (spec §3). Values are stored in the fingerprint file. */
enum cs_field {
	CS_F_PHONE = 1,
	CS_F_EMAIL,
	CS_F_NATIONAL_ID,
	CS_F_BANK_CARD,
	CS_F_PASSPORT,
	CS_F_USERNAME,
	CS_F_NAME, /* first weak field: everything >= CS_F_NAME is weak */
	CS_F_BIRTHDATE,
	CS_F_ADDRESS,
	CS_F_MAX,
};
#define CS_F_FIRST_WEAK CS_F_NAME

enum cs_channel {
	CS_CH_SYSCALL = 1,
	CS_CH_OPENSSL,
	CS_CH_GNUTLS,
	CS_CH_NSS,
	CS_CH_GO_TLS,
	CS_CH_SKB,
	CS_CH_SK_MSG,
	CS_CH_PCAP, /* `consentry scan-pcap`: a capture file, no process (userspace only) */
};

/* run --capture: which hooks carry plaintext sends (the TLS uprobes work with either). */
enum cs_capture {
	CS_CAPTURE_AUTO,	/* sockets, else tracepoints where the socket hooks cannot load */
	CS_CAPTURE_SOCKETS,	/* cgroup sockops + sk_msg (TCP), cgroup_skb egress (UDP) */
	CS_CAPTURE_TRACEPOINTS, /* syscall tracepoints (every syscall of the host pays) */
};

/* run --block: what the kernel refuses (enforce.bpf.h); off is audit, the default. */
enum cs_block {
	CS_BLOCK_OFF,
	CS_BLOCK_UNKNOWN,     /* a strong hit to a destination no recipient matches */
	CS_BLOCK_UNCONSENTED, /* ... or to a third party without the subject's consent */
};

/*
 * Enforce mode's tables (bpf/lib/enforce.bpf.h, filled by user/monitor/enforce.c). A recipient
 * as the kernel knows it: its index in recipients.csv order and CS_ENF_R_* flags.
 */
struct cs_enf_rcpt {
	__u32 rid;
	__u32 flags;
};
_Static_assert(sizeof(struct cs_enf_rcpt) == 8, "cs_enf_rcpt size");
/* first-party or processor: a disclosure needs no consent */
#define CS_ENF_R_EXEMPT 1u
/*
 * The selector's host is shared by recipients told apart by path prefixes, which the kernel
 * does not see: a known destination, never blocked for consent.
 */
#define CS_ENF_R_NOCHECK 2u

/* An address (v4 in the first 4 bytes) and port (host order; 0 in enf_dns keys). */
struct cs_enf_addr {
	__u8 addr[16];
	__u16 port;
	__u8 v6;
	__u8 _pad;
};
_Static_assert(sizeof(struct cs_enf_addr) == 20, "cs_enf_addr size");

/* LPM trie key: prefixlen counts the family byte (8 bits) and the address bits. */
struct cs_enf_net {
	__u32 prefixlen;
	__u8 v6;
	__u8 addr[16];
	__u8 _pad[3];
};
_Static_assert(sizeof(struct cs_enf_net) == 24, "cs_enf_net size");

/* A (fingerprint, recipient) pair the consent table covers now (enf_consent). */
struct cs_enf_pair {
	__u64 fp;
	__u32 rid;
	__u32 _pad;
};
_Static_assert(sizeof(struct cs_enf_pair) == 16, "cs_enf_pair size");

/*
 * Host names in enf_host: a keyed hash of the lower-cased name (cs_host_hash, cs_hash.h), with
 * CS_ENF_WILD set for the suffix of a *.domain selector. The kernel hashes a destination's host
 * and its suffixes after each dot (at most CS_ENF_HOSTH - 1 of them, the shortest: a *.domain
 * selector whose domain has more labels than that never matches in the kernel).
 */
#define CS_ENF_WILD  (1ULL << 63)
#define CS_ENF_HOSTH 8
/*
 * The collector renews its lease every second; a kernel that finds it older than this stops
 * blocking (fail-open): a collector that died or hangs cannot keep sends blocked.
 */
#define CS_ENF_LEASE_NS (3ULL * 1000 * 1000 * 1000)

/* Which send path produced an event (process/syscall detail for -v and tests). */
enum cs_path {
	CS_P_WRITE = 1,
	CS_P_WRITEV,
	CS_P_SENDTO,
	CS_P_SENDMSG,
	CS_P_SENDMMSG,
};

/* Per-CPU counters (array map "counters", one __u64 per index per CPU). */
enum cs_counter {
	CS_CNT_CALLS,		  /* probe invocations (all fds) */
	CS_CNT_OUT_OF_SCOPE,	  /* skipped by --pid/--cgroup */
	CS_CNT_NOT_SOCKET,	  /* fd is not a TCP/UDP inet socket */
	CS_CNT_LOOPBACK,	  /* loopback peer skipped */
	CS_CNT_TLS_SKIPPED,	  /* payload starts with a TLS record header */
	CS_CNT_SENDS,		  /* egress sends scanned */
	CS_CNT_BYTES_SENT,	  /* bytes handed to egress sends */
	CS_CNT_BYTES_INSPECTED,	  /* bytes scanned */
	CS_CNT_BYTES_UNINSPECTED, /* bytes over the scan limit, unreadable or on unscanned paths */
	CS_CNT_TOKENS,		  /* tokens hashed (in the length window), not again in a rescan */
	CS_CNT_HITS,		 /* tag-table hits, distinct per send (before exact confirmation) */
	CS_CNT_HITS_OVERFLOW,	 /* hits lost: a cs_hits record found the ring full */
	CS_CNT_EVENTS,		 /* events submitted */
	CS_CNT_RB_DROPS,	 /* failed ring buffer reservations */
	CS_CNT_READ_FAIL,	 /* user memory not readable at entry (bytes -> uninspected) */
	CS_CNT_SENDFILE_BYTES,	 /* sendfile/splice to a socket: never inspected */
	CS_CNT_MSGS_UNINSPECTED, /* sendmmsg messages with segments past CS_MAX_MMSG_IOV, or
				    past the tail-call limit (not scanned) */
	CS_CNT_TLS_WRITES,	 /* TLS library write calls seen by the uprobes */
	CS_CNT_TLS_CLAIMED,	 /* of those, attributed to a socket send and scanned */
	CS_CNT_TLS_LOST,	 /* plaintext replaced before a ciphertext send claimed it */
	CS_CNT_TLS_CACHED,	 /* TLS writes scanned at once, the socket known from earlier */
	CS_CNT_EXEC_DROPS,	 /* exec notices lost (ring buffer full) */
	CS_CNT_DNS_ANSWERS,	 /* DNS responses handed to the collector */
	CS_CNT_DNS_DROPS,	 /* DNS responses lost (ring buffer full) */
	CS_CNT_CARRIED,	       /* sends that continued a token left open by the flow's last send */
	CS_CNT_DEEP_SENDS,     /* sends handed to the collector for decoding (CS_TRIG_*) */
	CS_CNT_DEEP_BYTES,     /* bytes handed over */
	CS_CNT_DEEP_DROPS,     /* bytes not handed over: ring buffer full */
	CS_CNT_NOT_DECODED,    /* sends that needed decoding, not handed over (--decode off) */
	CS_CNT_SKIPPED,	       /* bytes the tokeniser left out: runs too short for a strong value */
	CS_CNT_RESCANS,	       /* sends with a hit or a decode trigger tokenised again, whole */
	CS_CNT_RESCAN_UNREAD,  /* bytes of those not readable again: not tokenised whole */
	CS_CNT_HIT_RECORDS,    /* cs_hits records: batches of hits of sends with more than fit */
	CS_CNT_RETRIED,	       /* bytes a retried send repeated: scanned by the first call */
	CS_CNT_EXEC_NOTICES,   /* execs of executables not examined yet, reported (cs_exec) */
	CS_CNT_EXEC_HELD,      /* of those, stopped at exec until probed (--exec-hold) */
	CS_CNT_EXEC_STALE,     /* not held: the collector's lease had run out (not responsive) */
	CS_CNT_EXEC_TTY,       /* not held: a foreground job of a terminal's job-control shell */
	CS_CNT_EXEC_FAILED,    /* not held: signal refused, held map or holds ring full */
	CS_CNT_EXEC_TRACED,    /* not held: traced (the tracer would get the SIGSTOP) */
	CS_CNT_EXEC_FORWARDER, /* not held: the parent forwards stops (su, sudo, runuser...) */
	CS_CNT_SOCKS_ADDED,    /* TCP sockets the sockops program put under the sk_msg hook */
	CS_CNT_SOCKS_FULL,     /* ... refused (sockhash full): their sends are not seen */
	CS_CNT_PULL_FAIL,      /* messages the kernel could not make linear (bytes uninspected) */
	CS_CNT_UNVERDICT_BYTES, /* TCP bytes queued without a verdict, scanned at egress */
	CS_CNT_UNVERDICT_LOST,	/* ... not: a second gap before the first one went out */
	CS_CNT_BLOCKED,		/* run --block: sends refused (their bytes never left) */
	CS_CNT_BLOCKED_UNKNOWN, /* ... of those, to a destination no recipient matches */
	CS_CNT_BLOCKED_AFTER,	/* later sends on a socket a block cut (refused with it) */
	CS_CNT_BLOCK_OPEN,	/* sends not refused because the collector's lease ran out */
	CS_CNT_MAX,
};

/* Event flags */
#define CS_EV_TRUNCATED	    (1u << 0) /* payload longer than the scan limit */
#define CS_EV_HOST	    (1u << 1) /* host[] holds an HTTP Host header value */
#define CS_EV_HITS_OVERFLOW (1u << 2) /* some hits were lost: the ring was full */
#define CS_EV_READ_FAIL	    (1u << 3)
#define CS_EV_ADDR_V6	    (1u << 4) /* daddr is an IPv6 address, else IPv4 in daddr[0..3] */
#define CS_EV_DEEP	    (1u << 5) /* cs_deep records (seq) of the send preceded this event */
#define CS_EV_REQ	    (1u << 6) /* req[] holds the request line of an HTTP/1 request */
/*
 * The send belongs to an HTTP/2 flow (one whose bytes began with the client preface): all its
 * sends are handed over (CS_EV_DEEP), h2_off says where this one lies in the flow's bytes.
 */
#define CS_EV_H2 (1u << 7)
/*
 * cs_event.xflags. CSCAN: `run --scan-in collector`: the kernel tokenised nothing and handed
 * the send's bytes over (CS_EV_DEEP); the collector scans them as the kernel would
 * (user/decode/cscan.h).
 */
#define CS_EVX_CSCAN (1u << 0)
/*
 * BLOCKED: `run --block`: the kernel refused the send (sk_msg SK_DROP, a UDP
 * datagram dropped at egress, or the ciphertext of a TLS write on a blocked socket); its bytes
 * did not leave the host. The findings of the message say action "blocked".
 */
#define CS_EVX_BLOCKED (1u << 1)

/* cs_hit.start: the token began in an earlier send of the flow (carried), offset 0 here. */
#define CS_HIT_SPLIT 0x80000000u

/* One distinct fingerprint found in a send. */
struct cs_hit {
	__u64 fp;    /* keyed fingerprint (cs_scan.h cs_fp) */
	__u32 start; /* byte offset of the token's first byte in the send */
	__u32 end;   /* byte offset one past its last byte */
};
_Static_assert(sizeof(struct cs_hit) == 16, "cs_hit size");

/* Ring buffer record: one per send with at least one hit. */
struct cs_event {
	__u64 ts_ns;	 /* bpf_ktime_get_ns() at syscall entry (CLOCK_MONOTONIC) */
	__u64 cgroup_id; /* cgroup v2 id of the sender */
	__u64 flow;	 /* opaque flow id (socket file address ^ local port << 48) */
	__u32 pid;	 /* tgid */
	__u32 tid;
	__u32 uid;
	__u32 gid;
	__u32 bytes_total;     /* payload length of the send (saturated at 4 GiB - 1) */
	__u32 bytes_inspected; /* bytes scanned */
	__u8 comm[16];
	__u8 daddr[16]; /* network byte order; IPv4 in the first 4 bytes */
	__u16 dport;	/* host byte order */
	__u8 channel;	/* enum cs_channel */
	__u8 path;	/* enum cs_path */
	__u8 proto;	/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 flags;	/* CS_EV_* */
	__u16 nhits;
	__u8 host[CS_HOST_LEN];
	__u64 seq;	/* message id (never 0): the send's cs_hits and cs_deep records carry it */
	__u32 deep_len; /* bytes handed over in them (<= bytes_inspected) */
	__u16 req_len;	/* CS_EV_REQ: bytes in req */
	__u16 xflags;	/* CS_EVX_* (flags has no bit left) */
	/*
	 * CS_EV_H2: offset of the send's first byte in the bytes sent on the flow since its
	 * preface (0: the send starts with it), and the bytes it adds to them (bytes_total but
	 * those of a retried send that an earlier call of the flow covered, see cs_retry). The
	 * collector follows the flow's frames from there; a gap (a send it did not get, bytes
	 * not handed over) is a desync.
	 */
	__u64 h2_off;
	__u32 h2_len;
	__u32 _pad2;
	/* CS_EV_REQ: the request line, without CR LF; cut at CS_REQ_LEN (or the first chunk) */
	__u8 req[CS_REQ_LEN];
	struct cs_hit hits[CS_MAX_HITS];
};
_Static_assert(sizeof(struct cs_event) == 184 + CS_REQ_LEN + CS_MAX_HITS * 16, "cs_event size");

/*
 * More hits than one event holds: each full batch of CS_MAX_HITS distinct hits of a send goes to
 * the collector in one of these, in the events ring before the send's cs_event (read in
 * reservation order), which carries the rest. A hit may repeat across batches.
 */
struct cs_hits {
	__u64 seq; /* the send's cs_event.seq */
	__u32 nhits;
	__u32 _pad;
	struct cs_hit hits[CS_MAX_HITS];
};
_Static_assert(sizeof(struct cs_hits) == 16 + CS_MAX_HITS * 16, "cs_hits size");

/*
 * Deep inspection: the bytes of a send that holds renderings the kernel cannot decode (base64,
 * escapes, compressed bodies; cs_scan.trig) go to the collector in these records, in memory
 * only, in the events ring before the send's cs_event (the ring is read in reservation order,
 * so they are always in when the event is); the collector decodes and rescans them. The two
 * record types differ in size.
 */
struct cs_deep {
	__u64 seq;
	__u32 off; /* offset of data[0] in the send's scanned bytes */
	__u32 len; /* bytes in data */
	__u8 data[CS_CHUNK];
};
_Static_assert(sizeof(struct cs_deep) == 16 + CS_CHUNK, "cs_deep size");
_Static_assert(sizeof(struct cs_deep) != sizeof(struct cs_event) &&
		   sizeof(struct cs_hits) != sizeof(struct cs_event) &&
		   sizeof(struct cs_hits) != sizeof(struct cs_deep),
	       "records told apart by size");
/* Bytes of a flow handed over after a Content-Encoding header (the body often follows apart). */
#define CS_DEEP_FLOW_BUDGET (256 * 1024)

/*
 * Exec hold (user/monitor/exechold.h): a process that exec'd a file the collector has not examined
 * yet is stopped (SIGSTOP) before its first instruction, until its TLS functions are probed.
 */
enum cs_exec_hold {
	CS_HOLD_OFF,
	CS_HOLD_ON,  /* hold, except jobs of a job-control shell in a terminal's foreground */
	CS_HOLD_ALL, /* hold those too */
};

/* An executable file as the kernel names it (map "exec_known", and in cs_exec). */
struct cs_exe_key {
	__u64 ino; /* inode number */
	__u32 dev; /* the superblock's dev_t, kernel encoding: major << 20 | minor */
	__u32 gen; /* i_generation: tells a new file that reuses a freed inode number apart */
};
_Static_assert(sizeof(struct cs_exe_key) == 16, "cs_exe_key size");

#define CS_EXEC_HELD 1u /* cs_exec.flags: the process is stopped until released */

/* Exec notice (ring buffer "execs"): a process exec'd a file not in exec_known. */
struct cs_exec {
	__u64 ts_ns;	/* bpf_ktime_get_ns() at exec (CLOCK_MONOTONIC) */
	__u64 start_ns; /* the process's start time, task->start_boottime (CLOCK_BOOTTIME) */
	struct cs_exe_key key;
	__u32 pid;   /* tgid */
	__u32 flags; /* CS_EXEC_* */
};
_Static_assert(sizeof(struct cs_exec) == 40, "cs_exec size");

/*
 * A held process (key of map "exec_held", whose value is the hold's bpf_ktime_get_ns()). The
 * start time makes the key unique per process even when its pid is reused.
 */
struct cs_hold_key {
	__u32 pid; /* tgid */
	__u32 _pad;
	__u64 start_ns; /* task->start_boottime */
};
_Static_assert(sizeof(struct cs_hold_key) == 16, "cs_hold_key size");

/* Record of ring buffer "exec_holds", read by the watchdog that enforces the bound. */
struct cs_hold {
	struct cs_hold_key key;
	__u64 ts_ns; /* when it was held (CLOCK_MONOTONIC) */
};
_Static_assert(sizeof(struct cs_hold) == 24, "cs_hold size");

#define CS_EXEC_KNOWN_MAX 65536 /* examined executables remembered in the kernel (LRU) */
#define CS_HELD_MAX	  4096	/* processes held at once; more run unheld (counted) */

/* Per-flow coverage record (LRU hash "flows", key: flow id). Only flows with uninspected bytes. */
struct cs_flow {
	__u64 bytes_sent;
	__u64 bytes_uninspected;
	__u32 pid;
	__u16 dport; /* host byte order */
	__u8 proto;
	__u8 v6;
	__u8 daddr[16];
	__u8 comm[16];
};
_Static_assert(sizeof(struct cs_flow) == 56, "cs_flow size");

/* A DNS response seen on the host (UDP source port 53), for IP -> name (ring buffer "dns"). */
#define CS_DNS_MAX 512
struct cs_dns {
	__u32 len; /* bytes in data (the UDP payload, truncated to CS_DNS_MAX) */
	__u32 _pad;
	__u8 data[CS_DNS_MAX];
};
_Static_assert(sizeof(struct cs_dns) == 8 + CS_DNS_MAX, "cs_dns size");

/* In-kernel prefilter: bucket of 32-bit tags, see cs_scan.h cs_tag/cs_bucket*. */
struct cs_bucket {
	__u32 tag[CS_TAG_SLOTS];
};
_Static_assert(sizeof(struct cs_bucket) == 32, "cs_bucket size");

/* Fingerprint key, derived from the 32-byte key file (little-endian words). */
struct cs_key {
	__u64 k0;   /* SipHash key, bytes 0..7 */
	__u64 k1;   /* SipHash key, bytes 8..15 */
	__u64 seed; /* FNV-1a basis, bytes 16..23 */
	__u64 k3;   /* bytes 24..31: key check value domain (user only) */
	__u64 ce;   /* W-token accumulator of "content-encoding" under this key (cs_acc_str) */
};

/* Tokeniser state; lives in a per-CPU map value in the kernel so tokens span chunks. */
struct cs_scan {
	__u64 w_acc;  /* W token up to its last letter/digit (what is emitted) */
	__u64 w_acct; /* W token including pending inner punctuation */
	__u64 d_acc;
	__u32 w_len; /* normalised length of w_acc */
	__u32 w_lent;
	__u32 w_start;
	__u32 w_end; /* offset one past the last letter/digit */
	__u32 d_len;
	__u32 d_start;
	__u32 d_end;
	__u32 pos;	 /* offset of the next piece in the message */
	__u32 esc_pos;	 /* offset of the last escape-marker byte (\ & # 0x1f), see cs_scan.h */
	__u32 w_rstart;	 /* first byte of the current letter/digit run of the W token */
	__u32 w_mix;	 /* byte classes and upper-case count of that run (cs_scan.h) */
	__u8 w_state;	 /* CS_WS_*, see cs_scan.h */
	__u8 d_state;	 /* CS_DS_* */
	__u8 esc_c;	 /* the byte at esc_pos */
	__u8 trig;	 /* CS_TRIG_*: renderings the kernel cannot decode were seen */
	__u32 _pad;	 /* always 0; see cs_scan.h verifier note */
	__u32 esc_start; /* start of a W token right after "\\u" or "&#" (escape candidate) */
};
_Static_assert(sizeof(struct cs_scan) == 80, "cs_scan size");

/* cs_scan.trig: the message holds bytes the collector must decode (spec: deep inspection). */
#define CS_TRIG_B64  0x01 /* a run of >= 12 mixed-case letters/digits: base64 candidate */
#define CS_TRIG_ESC  0x02 /* "\u" or "&#": JSON/HTML escapes */
#define CS_TRIG_GZIP 0x04 /* gzip magic 1f 8b */
#define CS_TRIG_CE   0x08 /* a "Content-Encoding" header: this and the flow's next bytes */
#define CS_TRIG_WIDE 0x10 /* UTF-16 text or full-width letters/digits (bpf/lib/skip.bpf.h) */
#define CS_TRIG_ALL  (CS_TRIG_B64 | CS_TRIG_ESC | CS_TRIG_GZIP | CS_TRIG_CE | CS_TRIG_WIDE)

/*
 * Runs of run bytes shorter than the shortest strong token are not tokenised (include/cs_skip.h,
 * bpf/lib/skip.bpf.h): the length used is capped at CS_SKIP_MAX (which keeps the decoding triggers,
 * see there), and below CS_SKIP_MIN nothing is skipped (almost every run of random bytes would
 * qualify).
 */
#define CS_SKIP_MAX 12
#define CS_SKIP_MIN 5

/*
 * Anchors: a run shorter than CS_ANCHOR_LONG bytes (with the separator after it) is tokenised
 * only if it holds an anchor byte (@ % \\ & #), two upper-case letters, or at least the DB's
 * anchor_digits digits (fpfile.h): the fewest digits of a strong value shorter than that
 * without an '@'; CS_ANCHOR_DIGITS_MAX when there is none (a short run then needs one of the
 * others), 0 turns the test off. The upper-case letters and the anchor bytes keep every
 * decoding trigger (base64 runs, escapes); Content-Encoding and hex digests are longer.
 */
#define CS_ANCHOR_LONG	     16
#define CS_ANCHOR_DIGITS_MAX CS_ANCHOR_LONG

#endif /* CS_ABI_H */
