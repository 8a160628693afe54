// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fields.h"
#include "fpdb/fpfile.h"
#include "http/httpmsg.h"
#include "decode/scan.h"

/* Spans of registered values kept per path; a path with more is cut before the first left out. */
#define MAX_SPANS 128

struct span {
	__u32 start, end; /* raw byte offsets */
	int field;
};

struct redact {
	const struct fpdb *db;
	const __u32 *map, *map_end; /* decoded pass: raw offsets of each decoded byte */
	struct span sp[MAX_SPANS];
	unsigned n;
	__u32 dropped; /* earliest start of a span that did not fit */
};

static void on_token(const struct scan_token *t, void *ctx)
{
	struct redact *r = ctx;
	struct fp_entry e;
	__u32 first, start = t->start, end = t->end;

	if (end <= start || !fpdb_find(r->db, t->fp, &first))
		return;
	fpdb_entry(r->db, first, &e);
	if (r->map) {
		start = r->map[start];
		end = r->map_end[end - 1];
	}
	if (r->n == MAX_SPANS) {
		if (start < r->dropped)
			r->dropped = start;
		return;
	}
	r->sp[r->n].start = start;
	r->sp[r->n].end = end;
	r->sp[r->n].field = e.field;
	r->n++;
}

static int hexval(__u8 c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode p[0..n) into d (n bytes at most); map[i]/map_end[i]: raw span of d[i]. */
static size_t pct_decode(const __u8 *p, size_t n, __u8 *d, __u32 *map, __u32 *map_end)
{
	size_t i = 0, o = 0;

	while (i < n) {
		int hi = i + 2 < n ? hexval(p[i + 1]) : -1, lo = i + 2 < n ? hexval(p[i + 2]) : -1;

		map[o] = (__u32)i;
		if (p[i] == '%' && hi >= 0 && lo >= 0) {
			d[o] = (__u8)(hi << 4 | lo);
			i += 3;
		} else {
			d[o] = p[i++];
		}
		map_end[o++] = (__u32)i;
	}
	return o;
}

/* Tokenise buf[0..n) into r's spans; returns where the earliest token open at the end starts. */
static __u32 scan_pass(const struct cs_key *key, const __u8 *buf, size_t n, struct redact *r)
{
	struct scan_stream st;
	__u32 open;

	scan_stream_init(&st);
	scan_stream_feed(&st, key, buf, n, on_token, r);
	open = scan_stream_open(&st);
	scan_stream_end(&st, key, on_token, r);
	return open;
}

static void no_token(const struct scan_token *t, void *ctx)
{
	(void)t;
	(void)ctx;
}

/* p[0..n) without a percent escape cut short at its end ("%" or "%X") */
static size_t whole_escapes(const __u8 *p, size_t n)
{
	if (n && p[n - 1] == '%')
		return n - 1;
	if (n >= 2 && p[n - 2] == '%' && hexval(p[n - 1]) >= 0)
		return n - 2;
	return n;
}

/*
 * Where text cut at n may safely end: before any token open at n (a fresh scan of p[0..n): a
 * token there may go on past n, and a value's beginning is no value).
 */
static size_t safe_end(const struct cs_key *key, const __u8 *p, size_t n)
{
	struct scan_stream st;

	scan_stream_init(&st);
	scan_stream_feed(&st, key, p, n, no_token, NULL);
	return whole_escapes(p, scan_stream_open(&st));
}

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end > y->end ? -1 : x->end < y->end;
}

/* A raw byte as it is written out: itself, or %XX. */
static int plain(__u8 c)
{
	return c > 0x20 && c < 0x7f && c != '{' && c != '}';
}

static size_t esc_len(const __u8 *p, size_t n)
{
	size_t l = 0;

	for (size_t i = 0; i < n; i++)
		l += plain(p[i]) ? 1 : 3;
	return l;
}

struct out {
	char *b;
	size_t len, room; /* room: bytes usable before the "..." and the NUL */
};

/* Write raw p[0..n) escaped; returns the bytes of p written (< n: out of room). */
static size_t put_raw(struct out *o, const __u8 *p, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		if (plain(p[i])) {
			if (o->len + 1 > o->room)
				break;
			o->b[o->len++] = (char)p[i];
		} else {
			if (o->len + 3 > o->room)
				break;
			o->b[o->len++] = '%';
			o->b[o->len++] = hex[p[i] >> 4];
			o->b[o->len++] = hex[p[i] & 15];
		}
	}
	return i;
}

size_t http_path_redact(const struct cs_key *key, const struct fpdb *db, const __u8 *path, size_t n,
			int cut, char *out, size_t cap)
{
	struct redact *r = calloc(1, sizeof(*r));
	__u8 *dec = n ? malloc(n) : NULL;
	__u32 *map = n ? malloc(n * sizeof(*map)) : NULL,
	      *map_end = n ? malloc(n * sizeof(*map_end)) : NULL;
	struct out o = {.b = out, .room = cap - 4};
	size_t dn = 0, end = n, pos = 0, k;
	int more = cut;
	unsigned m = 0;

	if (!r || (n && (!dec || !map || !map_end))) {
		/* nothing can be checked: nothing of the path is shown */
		snprintf(out, cap, "...");
		o.len = 3;
		goto out;
	}
	r->db = db;
	r->dropped = (__u32)n;
	/* the path as sent, then percent-decoded (spans mapped back to the raw bytes) */
	end = scan_pass(key, path, n, r);
	dn = pct_decode(path, n, dec, map, map_end);
	if (dn < n) {
		__u32 open;

		r->map = map;
		r->map_end = map_end;
		open = scan_pass(key, dec, dn, r);
		if (open < dn && map[open] < end)
			end = map[open];
		r->map = NULL;
	}
	/* cut: up to the earliest token open at the end of either pass */
	end = cut ? whole_escapes(path, end) : n;
	if (r->dropped < end) {
		end = r->dropped;
		more = 1;
	}
	qsort(r->sp, r->n, sizeof(r->sp[0]), span_cmp);
	/* merge overlapping spans (a D token inside a W token); the longest names the field */
	for (unsigned i = 0; i < r->n; i++) {
		struct span s = r->sp[i];

		if (m && s.start < r->sp[m - 1].end) {
			struct span *t = &r->sp[m - 1];

			if (s.end - s.start > t->end - t->start)
				t->field = s.field;
			if (s.end > t->end)
				t->end = s.end;
			continue;
		}
		r->sp[m++] = s;
	}
	/* a span the cut goes through is left out whole */
	for (unsigned i = 0; i < m; i++)
		if (r->sp[i].end > end && r->sp[i].start < end)
			end = r->sp[i].start;
	for (unsigned i = 0; i <= m; i++) {
		size_t a = pos, b = i < m && r->sp[i].start < end ? r->sp[i].start : end;
		const char *name;

		k = put_raw(&o, path + a, b - a);
		if (k < b - a) {
			/* out of room inside raw text: end before a token that may go on */
			o.len -=
			    esc_len(path + a, k) - esc_len(path + a, safe_end(key, path + a, k));
			more = 1;
			break;
		}
		if (b == end)
			break;
		name = field_name(r->sp[i].field);
		if (o.len + strlen(name) + 2 > o.room) {
			o.len -= esc_len(path + a, b - a) -
				 esc_len(path + a, safe_end(key, path + a, b - a));
			more = 1;
			break;
		}
		o.len += (size_t)snprintf(o.b + o.len, cap - o.len, "{%s}", name);
		pos = r->sp[i].end;
	}
	if (more) {
		memcpy(o.b + o.len, "...", 3);
		o.len += 3;
	}
	o.b[o.len] = 0;
out:
	if (dec)
		explicit_bzero(dec, n);
	free(dec);
	free(map);
	free(map_end);
	free(r);
	return o.len;
}

/*
 * req->method from m[0..n): a token (RFC 9110) of at most HTTP_METHOD_MAX bytes that holds no
 * registered value, else "?" (a method is shown whole or not at all).
 */
static void method_set(const struct cs_key *key, const struct fpdb *db, const __u8 *m, size_t n,
		       struct msg_http *req)
{
	char red[HTTP_METHOD_MAX + 8];
	size_t i;

	for (i = 0; i < n && i < (size_t)HTTP_METHOD_MAX; i++) {
		__u8 c = m[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			break;
	}
	if (!n || i < n || http_path_redact(key, db, m, n, 0, red, sizeof(red)) != n ||
	    memcmp(red, m, n)) {
		strcpy(req->method, "?");
		return;
	}
	memcpy(req->method, m, n);
	req->method[n] = 0;
}

int http1_request(const struct cs_key *key, const struct fpdb *db, const __u8 *line, size_t n,
		  struct msg_http *req)
{
	size_t m = 0, t, e;

	while (m < n && m < HTTP_METHOD_MAX && line[m] >= 'A' && line[m] <= 'Z')
		m++;
	if (!m || m >= n || line[m] != ' ')
		return -EINVAL;
	t = m + 1;
	for (e = t; e < n && line[e] != ' '; e++)
		;
	memset(req, 0, sizeof(*req));
	method_set(key, db, line, m, req);
	strcpy(req->version, "1.1");
	if (n - e == 9 && !memcmp(line + e, " HTTP/1.0", 9))
		req->version[2] = '0';
	/* no space after the target: the kernel's copy ended inside it */
	http_path_redact(key, db, line + t, e - t, e >= n, req->path, sizeof(req->path));
	return 0;
}

int http2_request(const struct cs_key *key, const struct fpdb *db, const __u8 *method, size_t mlen,
		  const __u8 *path, size_t plen, int path_cut, struct msg_http *req)
{
	memset(req, 0, sizeof(*req));
	strcpy(req->version, "2");
	method_set(key, db, method, mlen, req);
	http_path_redact(key, db, path, plen, path_cut, req->path, sizeof(req->path));
	return 0;
}
