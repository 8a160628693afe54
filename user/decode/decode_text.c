// SPDX-License-Identifier: GPL-2.0-only
/* Text renderings (decode.h): base64/base64url, percent, JSON escapes, HTML entities, UTF-16,
 * full-width. */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#define ZLIB_CONST
#include <zlib.h>

#include "decode/decode.h"
#include "decode/decode_int.h"
#include "lib/encodings.h"

/* Both alphabets: value + 1 of a base64/base64url character, 0 for any other byte. */
/* clang-format off */
static const __u8 b64_tab[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
	['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15,
	['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22,
	['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29,
	['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
	['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42, ['q'] = 43,
	['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49, ['x'] = 50,
	['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56, ['4'] = 57,
	['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['-'] = 63,
	['/'] = 64, ['_'] = 64,
};
/* clang-format on */

/*
 * Next run of >= B64_MIN_RUN alphabet characters at or after *pos: [*s, *e), MIME line breaks
 * inside it allowed; *pos moves past it and its '=' padding. A run of 12 must contain the byte
 * 11 places ahead, so a non-alphabet byte there skips 12 bytes at once (most text, and 3/4 of
 * random binary).
 */
static int b64_next_run(const __u8 *p, size_t n, size_t *pos, size_t *s, size_t *e)
{
	size_t i = *pos;

	while (i + B64_MIN_RUN <= n) {
		size_t j = i + B64_MIN_RUN - 1, start = j, k, line, first = 0, pad;

		if (!b64_tab[p[j]]) {
			i = j + 1;
			continue;
		}
		while (start > i && b64_tab[p[start - 1]])
			start--;
		for (k = j + 1; k < n && b64_tab[p[k]]; k++)
			;
		if (k - start < B64_MIN_RUN) {
			i = k + 1;
			continue;
		}
		i = start;
		for (;;) {
			size_t l0 = i;

			while (i < n && b64_tab[p[i]])
				i++;
			line = i - l0;
			if (!first)
				first = line;
			j = i;
			if (j + 1 < n && p[j] == '\r')
				j++;
			/* MIME: every line but the last as long as the first, a multiple of 4 */
			if (line == first && line >= B64_MIN_LINE && !(line & 3) && j + 1 < n &&
			    p[j] == '\n' && b64_tab[p[j + 1]] &&
			    !(p[j + 1] == '-' && j + 2 < n && p[j + 2] == '-')) {
				i = j + 1;
				continue;
			}
			break;
		}
		*s = start;
		*e = i;
		for (pad = 0; pad < 2 && i < n && p[i] == '='; pad++)
			i++;
		*pos = i;
		return 1;
	}
	*pos = n;
	return 0;
}

int b64_gate(const __u8 *in, size_t n)
{
	size_t pos = 0, s, e;

	return b64_next_run(in, n, &pos, &s, &e);
}

size_t b64_seg(const __u8 *in, size_t n, __u8 *out, size_t cap, size_t *used, unsigned *hits)
{
	size_t pos = 0, s, e, o = 0;

	while (b64_next_run(in, n, &pos, &s, &e)) {
		__u32 acc = 0, v;
		unsigned bits = 0;

		if ((e - s) * 3 / 4 + 1 > cap - o) {
			*used = s;
			return o;
		}
		if (o)
			out[o++] = '\n'; /* tokens of different runs never join */
		while (s < e) {
			/* four characters at once; a line break (value 0) takes the slow path */
			if (!bits && e - s >= 4 && b64_tab[in[s]] && b64_tab[in[s + 1]] &&
			    b64_tab[in[s + 2]] && b64_tab[in[s + 3]]) {
				v = (b64_tab[in[s]] - 1) << 18 | (b64_tab[in[s + 1]] - 1) << 12 |
				    (b64_tab[in[s + 2]] - 1) << 6 | (b64_tab[in[s + 3]] - 1);
				out[o] = v >> 16;
				out[o + 1] = v >> 8;
				out[o + 2] = v;
				o += 3;
				s += 4;
				continue;
			}
			if (b64_tab[in[s]]) {
				acc = acc << 6 | (b64_tab[in[s]] - 1);
				bits += 6;
				if (bits >= 8) {
					bits -= 8;
					out[o++] = acc >> bits;
				}
			}
			s++;
		}
		(*hits)++;
	}
	*used = n;
	return o;
}

/* %XX, not only %40 (which the kernel decodes itself): a layer needs some other escape. */
int pct_gate(const __u8 *in, size_t n)
{
	const __u8 *q, *end = in + n;

	for (q = in; (q = memchr(q, '%', end - q)); q++)
		if (end - q >= 3 && hexval(q[1]) >= 0 && hexval(q[2]) >= 0 &&
		    !(q[1] == '4' && q[2] == '0'))
			return 1;
	return 0;
}

size_t pct_seg(const __u8 *in, size_t n, __u8 *out, size_t cap, size_t *used, unsigned *hits)
{
	size_t i = 0, o = 0;

	while (i < n) {
		const __u8 *q = memchr(in + i, '%', n - i);
		size_t lit = (q ? (size_t)(q - in) : n) - i;

		if (lit >= cap - o) {
			lit = cap - o;
			memcpy(out + o, in + i, lit);
			i += lit;
			o += lit;
			break;
		}
		memcpy(out + o, in + i, lit);
		i += lit;
		o += lit;
		if (!q)
			break;
		if (i + 2 < n && hexval(in[i + 1]) >= 0 && hexval(in[i + 2]) >= 0) {
			out[o++] = hexval(in[i + 1]) << 4 | hexval(in[i + 2]);
			if (!(in[i + 1] == '4' && in[i + 2] == '0'))
				(*hits)++;
			i += 3;
		} else {
			out[o++] = in[i++];
		}
	}
	*used = i;
	return o;
}

static int hex4(const __u8 *p, __u32 *v)
{
	int i, h;

	*v = 0;
	for (i = 0; i < 4; i++) {
		h = hexval(p[i]);
		if (h < 0)
			return 0;
		*v = *v << 4 | h;
	}
	return 1;
}

/* \u or \/, also after escaped backslashes (JSON inside a JSON string, decoded next layer) */
int json_gate(const __u8 *in, size_t n)
{
	const __u8 *q, *end = in + n;

	for (q = in; (q = memchr(q, '\\', end - q));) {
		while (q < end && *q == '\\')
			q++;
		if (q < end && (*q == 'u' || *q == '/'))
			return 1;
	}
	return 0;
}

/*
 * Copy in[*i..) to out[*o..cap) up to the next byte m. 1 when in[*i] is now that m with room
 * left for its decoding (at least 4 bytes, or what remains of the input); 0 at the end.
 */
static int copy_until(const __u8 *in, size_t n, size_t *i, __u8 *out, size_t cap, size_t *o, __u8 m)
{
	const __u8 *q = memchr(in + *i, m, n - *i);
	size_t lit = (q ? (size_t)(q - in) : n) - *i;

	if (lit > cap - *o)
		lit = cap - *o;
	memcpy(out + *o, in + *i, lit);
	*i += lit;
	*o += lit;
	return q && *i == (size_t)(q - in) && cap - *o >= (n - *i < 4 ? n - *i : 4);
}

/* The byte each two-character JSON escape stands for; 0: not an escape. */
static const __u8 json_esc[256] = {
    ['"'] = '"',  ['\\'] = '\\', ['/'] = '/',  ['b'] = '\b',
    ['f'] = '\f', ['n'] = '\n',	 ['r'] = '\r', ['t'] = '\t',
};

size_t json_seg(const __u8 *in, size_t n, __u8 *out, size_t cap, size_t *used, unsigned *hits)
{
	size_t i = 0, o = 0;

	while (i < n) {
		__u32 cp, lo;
		__u8 b;

		if (!copy_until(in, n, &i, out, cap, &o, '\\'))
			break;
		b = i + 1 < n ? in[i + 1] : 0;
		if (b == 'u' && n - i >= 6 && hex4(in + i + 2, &cp)) {
			i += 6;
			if (cp >= 0xd800 && cp < 0xdc00 && n - i >= 6 && in[i] == '\\' &&
			    in[i + 1] == 'u' && hex4(in + i + 2, &lo) && lo >= 0xdc00 &&
			    lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			} else if (cp >= 0xd800 && cp < 0xe000) {
				cp = 0xfffd; /* lone surrogate */
			}
			o += put_utf8(out + o, cp);
			(*hits)++;
			continue;
		}
		if (!json_esc[b]) {
			out[o++] = in[i++]; /* not an escape: keep the backslash */
			continue;
		}
		/* "\\/" counts: a layer; "\\\\u0040" becomes "\\u0040", a layer decoded again */
		if (b == '/' ||
		    (b == '\\' && n - i >= 7 && in[i + 2] == 'u' && hex4(in + i + 3, &cp)))
			(*hits)++;
		out[o++] = json_esc[b];
		i += 2;
	}
	*used = i;
	return o;
}

/* &#NN; or &#xHH; (';' optional) at p[0..n): code point and length, or 0. */
static size_t html_num(const __u8 *p, size_t n, __u32 *cp)
{
	size_t i = 2, d0;
	int hex = 0, v;

	if (n < 3 || p[1] != '#')
		return 0;
	if (p[2] == 'x' || p[2] == 'X') {
		hex = 1;
		i = 3;
	}
	*cp = 0;
	for (d0 = i; i < n && i - d0 < 8; i++) {
		v = hexval(p[i]);
		if (v < 0 || (!hex && v > 9))
			break;
		*cp = *cp * (hex ? 16 : 10) + v;
	}
	if (i == d0 || !*cp || *cp > 0x10ffff || (*cp >= 0xd800 && *cp < 0xe000))
		return 0;
	if (i < n && p[i] == ';')
		i++;
	return i;
}

int html_gate(const __u8 *in, size_t n)
{
	const __u8 *q, *end = in + n;
	__u32 cp;

	for (q = in; (q = memchr(q, '&', end - q)); q++)
		if (html_num(q, end - q, &cp) || has_prefix(q, end - q, "&commat;") ||
		    has_prefix(q, end - q, "&period;"))
			return 1;
	return 0;
}

static const struct {
	const char *name;
	__u8 b;
	__u8 counts; /* justifies a layer on its own */
} html_named[] = {
    {"&amp;", '&', 0},	 {"&lt;", '<', 0},     {"&gt;", '>', 0},     {"&quot;", '"', 0},
    {"&apos;", '\'', 0}, {"&commat;", '@', 1}, {"&period;", '.', 1},
};

size_t html_seg(const __u8 *in, size_t n, __u8 *out, size_t cap, size_t *used, unsigned *hits)
{
	size_t i = 0, o = 0, k, j;
	__u32 cp;

	while (i < n) {
		if (!copy_until(in, n, &i, out, cap, &o, '&'))
			break;
		k = html_num(in + i, n - i, &cp);
		if (k) {
			o += put_utf8(out + o, cp);
			(*hits)++;
			i += k;
			continue;
		}
		for (j = 0; j < sizeof(html_named) / sizeof(html_named[0]); j++)
			if (has_prefix(in + i, n - i, html_named[j].name))
				break;
		if (j < sizeof(html_named) / sizeof(html_named[0])) {
			out[o++] = html_named[j].b;
			*hits += html_named[j].counts;
			i += strlen(html_named[j].name);
		} else {
			out[o++] = in[i++];
		}
	}
	*used = i;
	return o;
}

/*
 * Wide text forms of ASCII values. UTF-16 (Java, Windows and .NET exports): a code unit is two
 * bytes, little or big endian, at any offset (a string inside binary framing may start
 * anywhere); its runs become one layer of UTF-8 (utf16_runs). Full-width forms U+FF01-FF5E (common
 * in Chinese text, UTF-8 EF BC 81 - EF BD 9E) become their ASCII letters 0x21-0x7E and U+3000 a
 * space.
 */
#define WIDE_MIN_RUN 4

/* The code unit at p: big or little endian. */
static inline __u32 u16(const __u8 *p, int be)
{
	return be ? (__u32)p[0] << 8 | p[1] : (__u32)p[1] << 8 | p[0];
}

/* A code unit of text: printable, or tab/CR/LF; not a C1 control, surrogate half, BOM or
 * non-character. */
static int u16_text(__u32 u)
{
	return (u >= 0x20 && (u < 0x7f || u >= 0xa0) && (u < 0xd800 || u >= 0xe000) &&
		u != 0xfeff && u < 0xfffe) ||
	       u == '\t' || u == '\r' || u == '\n';
}

/*
 * WIDE_MIN_RUN code units at p (n bytes left) that a registered value may be written in:
 * printable ASCII or their full-width forms. 1 little endian, 2 big endian, else 0.
 */
static int u16_run_at(const __u8 *p, size_t n)
{
	for (int be = 0; be < 2; be++) {
		unsigned k;

		for (k = 0; k < WIDE_MIN_RUN && 2 * k + 1 < n; k++) {
			__u32 u = u16(p + 2 * k, be);

			if ((u < 0x20 || u >= 0x7f) && (u < 0xff01 || u > 0xff5e))
				break;
		}
		if (k == WIDE_MIN_RUN)
			return be + 1;
	}
	return 0;
}

/*
 * UTF-16 runs of in[0..n) as UTF-8 into out (3 bytes per 2 in at most). A run starts where
 * WIDE_MIN_RUN ASCII or full-width code units follow in either byte order at any offset, reaches
 * back over the text units before it (a name before a phone) and on to the first unit that is not
 * text; runs are separated by a newline. Returns the bytes written; *runs counts them.
 */
static size_t utf16_runs(const __u8 *in, size_t n, __u8 *out, unsigned *runs)
{
	size_t i = 0, done = 0, o = 0;

	while (i + 2 * WIDE_MIN_RUN <= n) {
		int kind = u16_run_at(in + i, n - i), be = kind - 1;
		size_t s = i;

		if (!kind) {
			i++;
			continue;
		}
		while (s >= done + 2 && u16_text(u16(in + s - 2, be)))
			s -= 2;
		if (o)
			out[o++] = '\n'; /* runs never join */
		for (; s + 1 < n; s += 2) {
			__u32 u = u16(in + s, be);

			if (u >= 0xd800 && u < 0xdc00 && s + 3 < n) {
				__u32 lo = u16(in + s + 2, be);

				if (lo >= 0xdc00 && lo < 0xe000) {
					o += put_utf8(out + o, 0x10000 + ((u - 0xd800) << 10) +
								   (lo - 0xdc00));
					s += 2;
					continue;
				}
			}
			if (!u16_text(u))
				break;
			o += put_utf8(out + o, u);
		}
		(*runs)++;
		i = done = s;
	}
	return o;
}

static int utf16_gate(const __u8 *in, size_t n)
{
	for (size_t i = 0; i + 2 * WIDE_MIN_RUN <= n; i++)
		if (u16_run_at(in + i, n - i))
			return 1;
	return 0;
}

/* One layer of the UTF-16 runs of buf's text segments. */
void utf16_layer(struct dec_ctx *c, const __u8 *buf, size_t n, const struct segs *sg, unsigned enc,
		 unsigned depth)
{
	struct out o = {0};
	size_t need = 0;
	unsigned k, runs = 0;

	for (k = 0; k < sg->n; k++)
		if (utf16_gate(buf + sg->s[k].off, sg->s[k].len))
			break;
	if (k == sg->n)
		return;
	for (k = 0; k < sg->n; k++)
		need += sg->s[k].len / 2 * 3 + sg->s[k].len / (2 * WIDE_MIN_RUN) + 1;
	if (out_reserve(c, &o, need) || o.cap < need) {
		c->st->bytes_cut += n;
		out_discard(c, &o);
		return;
	}
	for (k = 0; k < sg->n; k++) {
		if (o.len)
			o.buf[o.len++] = '\n';
		o.len += utf16_runs(buf + sg->s[k].off, sg->s[k].len, o.buf + o.len, &runs);
	}
	if (runs)
		emit(c, &o, enc | CS_ENC_UTF16, depth, buf, n);
	else
		out_discard(c, &o);
}

/* A full-width letter or digit (U+FF10-FF19, FF21-FF3A, FF41-FF5A) at p (3 bytes left). */
static int fw_alnum(const __u8 *p)
{
	return p[0] == 0xef && ((p[1] == 0xbc && ((p[2] >= 0x90 && p[2] <= 0x99) ||
						  (p[2] >= 0xa1 && p[2] <= 0xba))) ||
				(p[1] == 0xbd && p[2] >= 0x81 && p[2] <= 0x9a));
}

int fw_gate(const __u8 *in, size_t n)
{
	const __u8 *q, *end = in + n;

	for (q = in; (q = memchr(q, 0xef, end - q)) && end - q >= 3; q++)
		if (fw_alnum(q))
			return 1;
	return 0;
}

size_t fw_seg(const __u8 *in, size_t n, __u8 *out, size_t cap, size_t *used, unsigned *hits)
{
	size_t i = 0, o = 0;

	while (i < n && o < cap) {
		if (i + 3 <= n && in[i] == 0xef &&
		    ((in[i + 1] == 0xbc && in[i + 2] >= 0x81) ||
		     (in[i + 1] == 0xbd && in[i + 2] <= 0x9e))) {
			/* U+FF01-FF5E: the ASCII character 0xFEE0 below */
			out[o++] =
			    (in[i + 1] == 0xbc ? 0x21 + in[i + 2] - 0x81 : 0x60 + in[i + 2] - 0x80);
			(*hits)++;
			i += 3;
		} else if (i + 3 <= n && in[i] == 0xe3 && in[i + 1] == 0x80 && in[i + 2] == 0x80) {
			out[o++] = ' '; /* U+3000 ideographic space */
			i += 3;
		} else {
			out[o++] = in[i++];
		}
	}
	*used = i;
	return o;
}
