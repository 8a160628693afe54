/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fingerprint file (spec §3 FINGERPRINTS) and its in-memory form, the DB the collector
 * looks kernel hits up in. It holds keyed fingerprints, field types and subject ids only, never
 * a registered value.
 *
 * Layout, all integers little-endian:
 *   0  magic "CSNTRYFP"          8   u32 version (4)        12  u32 header size (112)
 *   16 u64 key check value       24  u32 nsubjects          28  u32 nentries
 *   32 u32 min_len               36  u32 max_len            40  u64 entries offset (112)
 *   48 u64 subjects offset       56  u64 file size          64  u32 crc32 (zlib) of every byte
 *   of the file except these 4   68  u32 pre_log2 (prefilter size: 1 << pre_log2 bits)
 *   72 u32 strong_min_len        76  u32 flags (bits 0..7 FPDB_F_*, 8..15 anchor_digits)
 *   80 u32 sensitive (FIELD_BIT mask of sensitive field types)   84 u32 nbirth
 *   88 u64 birth records offset  96  16 random bytes: the birth records' nonce
 *   112 nentries x struct fp_entry (16 bytes, sorted, see fp_entry_cmp)
 *   then the prefilter bitmap (1 << pre_log2 bits, u64 words),
 *   then nbirth x (u32 subject index, u32 masked birth value), sorted by subject, each subject
 *   at most once (see fpdb_birth.c: the value XOR a keyed pad of the nonce and the subject),
 *   then nsubjects x (u16 length, 1..FP_SUBJECT_MAX bytes of subject id), to the end of file.
 * Version 3 is version 4 without bytes 80..111 and the birth records (header size 80, entries
 * at 80): it loads with the default sensitive set and no birth records. Versions 1 (no
 * variants: the byte at entry offset 15 was always 0) and 2 (no strong_min_len and flags) are
 * refused: re-run enroll.
 */
#ifndef CS_FPFILE_H
#define CS_FPFILE_H

#include <linux/types.h>

#include "cs_abi.h"
#include "lib/encodings.h"
#include "lib/fields.h"

struct cs_key;

/* fpdb.flags: some strong token has a byte >= 0x80 (a non-ASCII username, say) */
#define FPDB_F_STRONG_NONASCII 1u
/* fpdb.flags: the DB holds weak fields (name, birthdate, address) */
#define FPDB_F_WEAK 2u
#define FPDB_F_ALL  (FPDB_F_STRONG_NONASCII | FPDB_F_WEAK)
/* the header's flags word holds anchor_digits in these bits */
#define FPDB_ANCHOR_SHIFT 8
#define FPDB_ANCHOR_MASK  0xff00u

#define FP_MAGIC       "CSNTRYFP"
#define FP_VERSION     4
#define FP_HDR_SIZE    112
#define FP_HDR_SIZE_V3 80
#define FP_NONCE_SIZE  16
#define FP_SUBJECT_MAX 128 /* bytes of a subject id */
#define FP_MAX_PARTS   255 /* parts of one weak value (name, address) */

/*
 * What an entry's token is: the normalised value itself, or the lower-case hex digest of it that
 * audience lists are shared as (emails and phones, see enroll.h value_hash_fingerprints).
 */
enum fp_variant {
	FP_VARIANT_PLAIN,
	FP_VARIANT_SHA256,
	FP_VARIANT_SHA1,
	FP_VARIANT_MD5,
	FP_VARIANT_MAX = FP_VARIANT_MD5,
};

/* The finding encoding (encodings.h) of a variant: its CS_ENC_* bit, 0 for plain. */
static inline unsigned fp_variant_enc(unsigned variant)
{
	switch (variant) {
	case FP_VARIANT_SHA256:
		return CS_ENC_SHA256;
	case FP_VARIANT_SHA1:
		return CS_ENC_SHA1;
	case FP_VARIANT_MD5:
		return CS_ENC_MD5;
	default:
		return 0;
	}
}

/* One fingerprint of one value of one subject. Same bytes in memory and in the file (LE). */
struct fp_entry {
	__u64 fp;      /* keyed fingerprint, cs_scan.h cs_fp() */
	__u32 subject; /* index into fpdb.subjects */
	__u8 field;    /* enum cs_field */
	__u8 part;     /* weak multi-token values: which token (0..nparts-1), else 0 */
	__u8 nparts;   /* tokens the value has; 1 for single-token values */
	__u8 variant;  /* enum fp_variant; hash variants only of strong fields */
};
_Static_assert(sizeof(struct fp_entry) == 16, "fp_entry size");

/*
 * Sensitive field types (PIPL art. 28, GB/T 35273 appendix B) when enroll is given no
 * --sensitive, and of a version-3 file.
 */
#define FPDB_SENSITIVE_DEFAULT                                                                     \
	(FIELD_BIT(CS_F_NATIONAL_ID) | FIELD_BIT(CS_F_PASSPORT) | FIELD_BIT(CS_F_BANK_CARD))

/*
 * The birth date of a subject with a valid enrolled birthdate (PIPL art. 31: minors). days:
 * the birth date in days since 1970-01-01 (UTC calendar), or FPDB_BIRTH_ADULT: 18 or over on
 * the enrollment day, the date not kept. Only a DB built in memory holds adults; a loaded DB
 * keeps minors only.
 */
struct fpdb_birth {
	__u32 subject;
	__s32 days;
};
/*
 * The file's marker, as an __s32: -1 is also 1969-12-31, of someone 18 or over on any
 * enrollment day after 1987, so no minor is lost to it.
 */
#define FPDB_BIRTH_ADULT (-1)
/* Age below which enroll keeps a birth date: 18, the age of majority of PIPL art. 31's minors. */
#define FPDB_BIRTH_AGE 18

/* The compact entries of a loaded DB (fpfile.c); read them with fpdb_find/fpdb_entry/fpdb_iter. */
struct fpdb_index;
/* A DB read in place from the file's mapping (fpfile.c, FPDB_MAPPED). */
struct fpdb_map;

struct fpdb {
	__u32 nsubjects;
	__u32 nentries;
	/*
	 * Entries are sorted by fp, then subject, field, part, nparts, variant, without exact
	 * duplicates; one fp may appear for several subjects or fields. For a (subject, weak
	 * field) the collector learns how many parts exist from nparts, which every entry of
	 * that value carries.
	 *
	 * A DB built in memory (enroll, tests) has them in entries[]. A loaded DB has entries ==
	 * NULL and keeps them in ix, 7-9 bytes per entry instead of 16 (bit-packed records:
	 * the fingerprint's low bits, the subject index and a kind; see fpfile.c). Read either
	 * with fpdb_find(), fpdb_entry(), fpdb_iter_next() or fpdb_lookup().
	 */
	struct fp_entry *entries;
	struct fpdb_index *ix;
	/*
	 * A DB loaded as FPDB_MAPPED: entries points into a read-only mapping of the file (the
	 * file's entries are the in-memory ones on little-endian hosts), subject ids are read from
	 * it too; only a directory of the fingerprints' top bits and the prefilter are resident.
	 */
	struct fpdb_map *map;
	/*
	 * NUL-terminated subject ids of a DB built in memory, index = fp_entry.subject; NULL in a
	 * loaded DB, which finds them from soff (no 8-byte pointer a subject: 76 MiB at 10M).
	 * Read either with fpdb_subject().
	 */
	char **subjects;
	__u64 *soff;   /* loaded: offset in strings of every FPDB_SUBJECT_STRIDE-th subject id */
	__u32 min_len; /* window of normalised token lengths over all entries */
	__u32 max_len; /* (the kernel hashes no token outside it); 0, 0 when empty */
	/*
	 * Shortest normalised token of a strong field (0 when there is none), and FPDB_F_*: the
	 * kernel may leave runs of bytes shorter than that to the rescan (see bpf/lib/scan.bpf.h).
	 */
	__u32 strong_min_len;
	__u32 flags;
	/* the fewest digits of a strong token, see CS_ANCHOR_LONG (cs_abi.h); 0: no anchor test */
	__u32 anchor_digits;
	__u64 kcv;	/* keyfile_kcv() of the key the fingerprints were made with */
	__u64 *pre;	/* prefilter bitmap of cs_pre() of every enrolled token */
	__u32 pre_log2; /* its size: 1 << pre_log2 bits */
	int pre_shared; /* pre is memory the DB does not own (fpdb_pre_share) */
	/* FIELD_BIT mask of the sensitive field types (FPDB_SENSITIVE_DEFAULT unless enrolled so)
	 */
	__u32 sensitive;
	/*
	 * Birth dates, sorted by subject, each subject once (fpdb_births_sort), nbirths of them.
	 * Built in memory: what fpdb_write_keyed writes (adults as FPDB_BIRTH_ADULT). Loaded:
	 * unmasked, minors only. Read with fpdb_birth_day().
	 */
	struct fpdb_birth *births;
	__u32 nbirths;
	/*
	 * Storage of the subject ids that subjects[] points into. fpdb_release() frees entries,
	 * subjects, strings and births with free(); a DB built in memory must allocate them so.
	 */
	char *strings;
};

/* Total order of entries in a DB and a file. */
int fp_entry_cmp(const struct fp_entry *a, const struct fp_entry *b);
/* Sort e[0..n) by fp_entry_cmp and drop exact duplicates; returns the new count. */
__u32 fp_entries_sort(struct fp_entry *e, __u32 n);

/*
 * Sort b[0..n) by subject and keep one record a subject: the youngest (the latest birth date;
 * a minor over FPDB_BIRTH_ADULT), the conservative choice for a rule about minors. Returns the
 * new count.
 */
__u32 fpdb_births_sort(struct fpdb_birth *b, __u32 n);
/*
 * What a DB built in memory records for a birth date (days since 1970-01-01) enrolled at
 * enroll_ns: days when the subject is under FPDB_BIRTH_AGE then (UTC), else FPDB_BIRTH_ADULT.
 */
__s32 fpdb_birth_value(__s32 days, __s64 enroll_ns);

/*
 * Write db to path atomically (path.tmp.XXXXXX in the same directory, fsync, rename, mode
 * 0600). Returns 0, -EINVAL (logged) when db breaks an invariant, or -errno on I/O errors.
 * fpdb_write() refuses a DB with birth records: their pads need the key (fpdb_write_keyed,
 * which checks that key is the one of db->kcv; key may be NULL when db has no birth records).
 */
int fpdb_write(const char *path, const struct fpdb *db);
int fpdb_write_keyed(const char *path, const struct fpdb *db, const struct cs_key *key);

/*
 * Load and validate path, made with key. Returns 0; -EINVAL for a file that is not a valid
 * fingerprint file (bad magic, version, truncated, checksum, counts, order); -EKEYREJECTED when
 * it was made with another key; -errno on I/O errors. Every error is logged with the path; on
 * error nothing is kept and *db is zeroed.
 */
int fpdb_load(struct fpdb *db, const char *path, const struct cs_key *key);

/*
 * How a loaded DB keeps its entries. COMPACT: bit-packed in memory, 7-9 bytes an entry, every
 * lookup from RAM. MAPPED: in the file's page cache, through a read-only mapping; resident are a
 * directory (4 bytes per 128 entries), the prefilter and a few KiB, and each lookup touches one
 * or two pages of the file (a disk read when the kernel has evicted them). AUTO: MAPPED from
 * FPDB_MAP_AUTO entries on (about 2.8M subjects with hash variants; 140 MiB compact).
 * The file must then not be rewritten in place while the DB is loaded (enroll writes a new
 * file and renames it; truncating the mapped file would kill the reader with SIGBUS).
 */
enum fpdb_form { FPDB_AUTO, FPDB_COMPACT, FPDB_MAPPED };
#define FPDB_MAP_AUTO (1u << 24)
/* fpdb_load() with a choice of form (fpdb_load() is FPDB_COMPACT). */
int fpdb_load_as(struct fpdb *db, const char *path, const struct cs_key *key, enum fpdb_form form);
void fpdb_release(struct fpdb *db);

/*
 * 1 and the birth date (days since 1970-01-01) of subject when the DB records them under
 * FPDB_BIRTH_AGE on the enrollment day, else 0 (no valid enrolled birthdate, or an adult).
 */
int fpdb_birth_day(const struct fpdb *db, __u32 subject, __s32 *days);
/*
 * 1 when subject is younger than age_limit (<= FPDB_BIRTH_AGE: 14 for PIPL art. 31, 13-16 for
 * GDPR art. 8) at UTC instant t_ns, by timeutil.h age_at(). Exact for t_ns on or after the
 * enrollment day; for an earlier instant (an old capture) a subject 18 or over at enrollment
 * counts as no minor, as the file does not keep their birth date.
 */
int is_minor(const struct fpdb *db, __u32 subject, __s64 t_ns, int age_limit);

/*
 * Size a prefilter for n tokens and set the bit of each (acc, len) pair; db->pre is allocated
 * with malloc() (freed by fpdb_release). 0 or -ENOMEM.
 */
int fpdb_pre_build(struct fpdb *db, const __u64 *pre_values, size_t n);
/* What a strong value of n bytes asks of a short run (fpdb.anchor_digits, CS_ANCHOR_LONG). */
__u32 fpdb_anchor_digits(const char *s, size_t n);
/* Its size for n tokens: log2 of the bits (cs_hash.h CS_PRE_BITS_PER_FP and _BIG). */
__u32 fpdb_pre_log2(__u64 n);
/* The prefilter bit of one cs_pre() value: set by fpdb_pre_build, tested by the kernel. */
static inline __u64 fpdb_pre_index(__u64 pre_value, __u32 pre_log2)
{
	return pre_value >> (64 - pre_log2);
}

/*
 * Replace db->pre by an identical copy the DB does not own (the loader's mapping of the
 * kernel's prefilter map), freeing its own: one copy of a bitmap that is 128 MiB at 10M
 * subjects. fpdb_pre_unshare() drops the pointer again before that memory goes away (pre
 * becomes NULL: users of db->pre treat that as "no prefilter").
 */
void fpdb_pre_share(struct fpdb *db, __u64 *copy);
void fpdb_pre_unshare(struct fpdb *db, const __u64 *copy);

/*
 * Entries with fingerprint fp: their number, and in *first the index of the first one (entries
 * with one fp are consecutive). No decoding: cheap as a membership test.
 */
__u32 fpdb_find(const struct fpdb *db, __u64 fp, __u32 *first);
/* Entry i (0 <= i < nentries) of either form of DB; i as fpdb_find() gives it. */
void fpdb_entry(const struct fpdb *db, __u32 i, struct fp_entry *e);
/*
 * 1 once a read of a mapped DB's file faulted (the file was truncated under it): the reader that
 * hit it failed (fpdb_find 0, fpdb_lookup NULL, fpdb_subject "", fpdb_iter_next 0, errno EIO) and
 * the DB cannot be trusted; the caller must stop using it.
 */
int fpdb_failed(const struct fpdb *db);
#define FPDB_SUBJECT_STRIDE 16

/*
 * Subject id of index i (0 <= i < nsubjects). Of a MAPPED DB it is copied into one of
 * FPDB_LOOKUP_RING buffers: valid for the next FPDB_LOOKUP_RING - 1 calls.
 */
const char *fpdb_subject(const struct fpdb *db, __u32 i);

/*
 * All entries, faster than fpdb_entry() one by one, in the order of fpdb_entry(): that of the
 * file (fp_entry_cmp) in a DB built in memory or mapped; in a compact DB the entries of
 * fingerprints shared by several entries come after all the others (each part in fp_entry_cmp
 * order, the entries of one fingerprint consecutive).
 */
#define FPDB_ITER_BATCH 256

struct fpdb_iter {
	const struct fpdb *db;
	__u32 i;
	__u64 bucket;
	/* a mapped DB's entries, copied out a batch at a time; ibatch: the next to return */
	__u32 nbatch, ibatch;
	struct fp_entry batch[FPDB_ITER_BATCH];
};

static inline void fpdb_iter_init(struct fpdb_iter *it, const struct fpdb *db)
{
	it->db = db;
	it->i = 0;
	it->bucket = 0;
	it->nbatch = 0;
	it->ibatch = 0;
}

/* The next entry into *e: 1, or 0 after the last. */
int fpdb_iter_next(struct fpdb_iter *it, struct fp_entry *e);

/*
 * Move the entries of a DB built in memory into the compact form of a loaded one (entries
 * freed, NULL). 0 or -ENOMEM (DB unchanged).
 */
int fpdb_compact(struct fpdb *db);

/* Lookups whose results fpdb_lookup() keeps valid at once (>= CS_MAX_HITS of one event). */
#define FPDB_LOOKUP_RING 64
_Static_assert(FPDB_LOOKUP_RING >= CS_MAX_HITS, "correlate.c keeps one lookup per hit of an event");

/*
 * The entries with fingerprint fp: the first and their number (*n); NULL, *n = 0 if none. In
 * a DB built in memory the result points into entries[]. In a loaded DB the entries are
 * decoded into one of FPDB_LOOKUP_RING buffers of the DB: a result stays valid for the next
 * FPDB_LOOKUP_RING - 1 calls, not longer (NULL with errno ENOMEM if decoding cannot allocate).
 * For a membership test use fpdb_find(), which decodes nothing.
 */
const struct fp_entry *fpdb_lookup(const struct fpdb *db, __u64 fp, __u32 *n);

#endif
