/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * recipients.csv (spec §3): recipient organisations, their kind and the selectors that map a
 * destination to them; resolution order of spec §6.
 *
 * File rules: header with the columns recipient, kind, match and optionally country and purpose
 * (spec §7), in any order. kind is first-party, processor or third-party. match holds
 * space-separated selectors: IPv4, IPv6, IPv4:port, [IPv6]:port, CIDR (host bits are masked
 * off), host (DNS name, case-insensitive, trailing dot ignored) or *.domain, either of the last
 * two optionally followed by a path prefix ("api.partner.example/v1/audience", matched against
 * the HTTP request path). An IPv4-mapped IPv6 selector (::ffff:a.b.c.d, CIDR /96 or longer) is
 * stored as IPv4. country: empty or an ISO 3166-1 alpha-2 code; purpose: empty or one purpose
 * (purpose_valid).
 * Several rows may name the same recipient with the same kind (a different kind is an error),
 * each with its own country and purpose. A selector claimed by two recipients is an error, and
 * so is one given two countries or purposes; repeating it under the same row's values is not.
 */
#ifndef CS_RECIPIENTS_H
#define CS_RECIPIENTS_H

#include <linux/types.h>

enum rcpt_kind {
	RK_UNKNOWN = 0,
	RK_FIRST_PARTY,
	RK_PROCESSOR,
	RK_THIRD_PARTY,
};

struct recipient {
	const char *name;
	enum rcpt_kind kind;
};

struct recipients;

/* What a destination resolved to: the recipient and the row of its matching selector. */
struct rcpt_match {
	const struct recipient *rcpt; /* NULL: no selector matched (an unknown recipient) */
	const char *purpose;	      /* the row's purpose, NULL when it names none */
	char country[3];	      /* the row's country, "" when it names none */
	unsigned long line;	      /* the row's line in recipients.csv */
};

/* Bytes of a purpose (recipients.csv purpose, an item of a consent.csv purpose list). */
#define PURPOSE_MAX 128
/*
 * 1 when s is one purpose: 1..PURPOSE_MAX bytes of valid UTF-8 without '|' (the list separator
 * of consent.csv), control characters, or a blank at either end. Purposes compare exactly.
 */
int purpose_valid(const char *s);
/*
 * Whether a disclosure to recipient name can have purpose: 2 when some row of the recipient
 * names no purpose (its disclosures have none, and a consent's purposes are not checked for
 * them), 1 when a row has this purpose, 0 when none (or no such recipient). purpose NULL: only
 * the 2 / 0 answer.
 */
int recipients_purpose_reach(const struct recipients *r, const char *name, const char *purpose);

/*
 * Load path. Returns 0 and sets *out; -EINVAL on input errors (each printed as path:line: msg,
 * all rows are checked before giving up); other -errno on I/O errors (printed). On error *out
 * is NULL and nothing stays allocated.
 */
int recipients_load(struct recipients **out, const char *path);
void recipients_free(struct recipients *r);

/*
 * Recipient of a destination, or NULL if no selector matches. family is AF_INET (addr: 4 bytes)
 * or AF_INET6 (addr: 16 bytes), network byte order; an IPv4-mapped IPv6 address is matched as
 * IPv4. port is in host byte order. host (TLS SNI, HTTP Host or a DNS name; may be NULL or "")
 * may carry ":port", which is ignored; matching is case-insensitive.
 * Order (spec §6): IP:port, then the longest CIDR/IP prefix, then the exact host, then the
 * longest *.domain suffix ("*.example.com" matches "a.b.example.com", not "example.com").
 */
const struct recipient *recipients_resolve(const struct recipients *r, int family, const void *addr,
					   __u16 port, const char *host);
/*
 * The same with the HTTP request path (may be NULL: no request), which host selectors with a
 * path prefix need: among one host's selectors the longest prefix covering the path wins, then
 * one without a path. Fills *m (zeroed when nothing matched) and returns m->rcpt.
 */
const struct recipient *recipients_match(const struct recipients *r, int family, const void *addr,
					 __u16 port, const char *host, const char *path,
					 struct rcpt_match *m);
/* Recipient by name (exact), or NULL. */
const struct recipient *recipients_find(const struct recipients *r, const char *name);
/*
 * The table as selectors, for a copy elsewhere (enforce mode's kernel maps; rcpt_walk.c).
 * Recipients are numbered 0..recipients_count()-1 in the order the file names them first.
 */
size_t recipients_count(const struct recipients *r);
const struct recipient *recipients_at(const struct recipients *r, size_t i);
/* The number of rc, a recipient of r (recipients_find, recipients_resolve). */
size_t recipients_index(const struct recipients *r, const struct recipient *rc);
/*
 * The country where recipient i processes data when every row of it names the same one, else
 * NULL (a row without a country, or rows that differ).
 */
const char *recipients_country(const struct recipients *r, size_t i);

enum rsel_type {
	RSEL_NET,    /* addr/plen: an IP (full length) or CIDR */
	RSEL_IPPORT, /* addr, port */
	RSEL_HOST,   /* host: an exact name */
	RSEL_WILD,   /* host: the suffix a *.domain selector covers (without "*.") */
};

struct rsel {
	enum rsel_type type;
	int v6;
	__u8 addr[16]; /* network order, IPv4 in the first 4 bytes */
	unsigned plen;
	__u16 port;
	const char *host; /* lower case */
	int has_path;	  /* a host selector with a path prefix */
	size_t rcpt;	  /* recipients_index of its recipient */
};

/*
 * Call fn for every selector (one per stored prefix, address:port and host selector; a host
 * with several path prefixes comes once per prefix). A non-zero return of fn stops the walk
 * and is returned; else 0.
 */
int recipients_walk(const struct recipients *r, int (*fn)(const struct rsel *s, void *arg),
		    void *arg);

/* "first-party", "processor", "third-party" or "unknown". */
const char *rcpt_kind_name(enum rcpt_kind k);

#endif
