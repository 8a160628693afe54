// SPDX-License-Identifier: GPL-2.0-only
/*
 * Small RFC 4180 reader (see csv.h). Own code rather than libcsv because the input files need
 * '#' comment lines and the exact line each record starts on, for file:line messages.
 *
 * Line breaks are LF, CRLF or a lone CR, inside and outside quotes; inside quotes they are kept
 * as data, byte for byte. Files are read in CSV_BLOCK pieces; a record holds at most
 * CSV_RECORD_MAX bytes, so memory stays bounded whatever the input. Fields are handed out as C
 * strings, so a NUL byte in one would silently cut it short (a consent row for "u1<NUL>x" would
 * grant consent to "u1"): such a record is refused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/csv.h"
#include "lib/util.h"

#define CSV_BLOCK (64 * 1024)
#define CSV_EOF	  (-1)

struct csv_reader {
	char *name;
	FILE *f;     /* NULL for a memory reader */
	char *buf;   /* input block (the whole input for a memory reader) */
	size_t blen; /* valid bytes in buf */
	size_t bpos; /* next byte to read */
	int eof;     /* no more input after buf */
	int io_err;  /* errno of a failed read, sticky */
	int started; /* BOM check done */

	char *rec; /* fields of the current record, each NUL-terminated */
	size_t rec_len, rec_cap;
	size_t *off; /* start of field i in rec; off[nf] is one past the last NUL */
	unsigned nf, off_cap;

	unsigned long line;	/* line of the next byte */
	unsigned long rec_line; /* line on which the current record starts */
	unsigned nul_field;	/* 1 + first field of the record with a NUL byte, 0: none */
	int too_long;		/* the record passed CSV_RECORD_MAX bytes */
	const char *err;
	int fail; /* -errno of the last failed csv_next() */
	char errbuf[96];
};

static int refill(struct csv_reader *r)
{
	size_t n;

	if (r->eof)
		return 0;
	if (!r->f) {
		r->eof = 1;
		return 0;
	}
	errno = 0;
	n = fread(r->buf, 1, CSV_BLOCK, r->f);
	r->blen = n;
	r->bpos = 0;
	if (n < CSV_BLOCK) {
		if (ferror(r->f)) {
			r->io_err = errno ? errno : EIO;
			r->eof = 1;
			return n ? 1 : -r->io_err;
		}
		if (!n)
			r->eof = 1;
	}
	return n ? 1 : 0;
}

/* Next byte, CSV_EOF at end of input; I/O errors are left in r->io_err. */
static inline int rd_getc(struct csv_reader *r)
{
	if (r->bpos == r->blen && refill(r) <= 0)
		return CSV_EOF;
	return (unsigned char)r->buf[r->bpos++];
}

static inline int rd_peek(struct csv_reader *r)
{
	if (r->bpos == r->blen && refill(r) <= 0)
		return CSV_EOF;
	return (unsigned char)r->buf[r->bpos];
}

/* c was '\r' or '\n': consume the LF of a CRLF pair and count one line. */
static inline void end_line(struct csv_reader *r, int c)
{
	if (c == '\r' && rd_peek(r) == '\n')
		r->bpos++;
	r->line++;
}

static int rec_grow(struct csv_reader *r, size_t need)
{
	size_t cap = r->rec_cap ? r->rec_cap : 256;
	char *p;

	while (cap < need) {
		if (cap > ((size_t)-1) / 2)
			return -ENOMEM;
		cap *= 2;
	}
	p = realloc(r->rec, cap);
	if (!p)
		return -ENOMEM;
	r->rec = p;
	r->rec_cap = cap;
	return 0;
}

/* Bytes past CSV_RECORD_MAX are dropped (too_long set): the record is refused at its end. */
static inline int rec_put(struct csv_reader *r, char c)
{
	if (r->rec_len >= CSV_RECORD_MAX) {
		r->too_long = 1;
		return 0;
	}
	if (!c && !r->nul_field)
		r->nul_field = r->nf + 1;
	if (r->rec_len == r->rec_cap && rec_grow(r, r->rec_len + 1))
		return -ENOMEM;
	r->rec[r->rec_len++] = c;
	return 0;
}

/* Once a record is too long, its fields are no longer tracked either (a file of commas). */
static int field_begin(struct csv_reader *r)
{
	if (r->rec_len >= CSV_RECORD_MAX)
		r->too_long = 1;
	if (r->too_long)
		return 0;
	if (r->nf + 1 >= r->off_cap) {
		unsigned cap = r->off_cap ? r->off_cap * 2 : 16;
		size_t *p;

		if (cap < r->off_cap)
			return -ENOMEM;
		p = realloc(r->off, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		r->off = p;
		r->off_cap = cap;
	}
	r->off[r->nf] = r->rec_len;
	return 0;
}

static int field_end(struct csv_reader *r)
{
	if (r->too_long)
		return 0;
	/* the terminator, not data: stored here (rec_put would count it as a NUL byte) */
	if (r->rec_len == r->rec_cap && rec_grow(r, r->rec_len + 1))
		return -ENOMEM;
	r->rec[r->rec_len++] = '\0';
	r->nf++;
	r->off[r->nf] = r->rec_len;
	return 0;
}

/* Skip to the start of the next physical line (quotes are not honoured). */
static void skip_line(struct csv_reader *r)
{
	int c;

	while ((c = rd_getc(r)) != CSV_EOF) {
		if (c == '\n' || c == '\r') {
			end_line(r, c);
			return;
		}
	}
}

static struct csv_reader *reader_new(const char *name)
{
	struct csv_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->name = strdup(name);
	if (!r->name) {
		free(r);
		return NULL;
	}
	r->line = 1;
	return r;
}

struct csv_reader *csv_open(const char *path)
{
	struct csv_reader *r;
	struct stat st;
	int fd, err;

	r = reader_new(path);
	if (!r)
		return NULL;
	r->buf = malloc(CSV_BLOCK);
	if (!r->buf) {
		err = ENOMEM;
		goto out;
	}
	fd = input_open(path, &st);
	if (fd < 0) {
		err = -fd;
		goto out;
	}
	r->f = fdopen(fd, "rb");
	if (!r->f) {
		err = errno;
		close(fd);
		goto out;
	}
	/* We do our own 64 KiB blocking; stdio buffering would only add a copy. */
	setvbuf(r->f, NULL, _IONBF, 0);
	return r;
out:
	csv_close(r);
	errno = err;
	return NULL;
}

struct csv_reader *csv_open_mem(const char *name, const char *buf, size_t len)
{
	struct csv_reader *r;

	r = reader_new(name);
	if (!r)
		return NULL;
	r->buf = malloc(len ? len : 1);
	if (!r->buf) {
		csv_close(r);
		errno = ENOMEM;
		return NULL;
	}
	if (len)
		memcpy(r->buf, buf, len);
	r->blen = len;
	return r;
}

void csv_close(struct csv_reader *r)
{
	if (!r)
		return;
	if (r->f)
		fclose(r->f);
	free(r->buf);
	free(r->rec);
	free(r->off);
	free(r->name);
	free(r);
}

/* Skip a UTF-8 BOM at the very start of the input. */
static void skip_bom(struct csv_reader *r)
{
	static const unsigned char bom[3] = {0xef, 0xbb, 0xbf};

	r->started = 1;
	if (r->bpos == r->blen && refill(r) <= 0)
		return;
	/* The first block holds at least 3 bytes unless the whole input is shorter. */
	if (r->blen - r->bpos >= 3 && !memcmp(r->buf + r->bpos, bom, 3))
		r->bpos += 3;
}

/* Parse a quoted field; the opening quote was consumed. Returns the byte after the closing quote.
 */
static int quoted_field(struct csv_reader *r, int *ret)
{
	int c;

	for (;;) {
		c = rd_getc(r);
		if (c == CSV_EOF) {
			r->err = "unterminated quoted field";
			*ret = -EINVAL;
			return CSV_EOF;
		}
		if (c == '"') {
			if (rd_peek(r) != '"')
				return rd_getc(r);
			r->bpos++;
		} else if (c == '\n' || c == '\r') {
			/* Embedded line break: kept as data, counted as one line. */
			if (rec_put(r, (char)c))
				goto nomem;
			if (c == '\r' && rd_peek(r) == '\n') {
				r->bpos++;
				if (rec_put(r, '\n'))
					goto nomem;
			}
			r->line++;
			continue;
		}
		if (rec_put(r, (char)c))
			goto nomem;
	}
nomem:
	*ret = -ENOMEM;
	return CSV_EOF;
}

/* The record just read, refused if too long or with a NUL byte: 1 or -EINVAL. */
static int rec_check(struct csv_reader *r)
{
	if (r->too_long) {
		snprintf(r->errbuf, sizeof(r->errbuf),
			 "record longer than %u bytes (expected at most %u per row)",
			 CSV_RECORD_MAX, CSV_RECORD_MAX);
	} else if (r->nul_field) {
		snprintf(r->errbuf, sizeof(r->errbuf),
			 "field %u: NUL byte (expected text without NUL bytes)", r->nul_field);
	} else {
		return 1;
	}
	r->err = r->errbuf;
	r->nf = 0;
	r->rec_len = 0;
	return -EINVAL;
}

static int csv_next_rec(struct csv_reader *r)
{
	int c, ret = 0;

	r->nf = 0;
	r->rec_len = 0;
	r->err = NULL;
	r->nul_field = 0;
	r->too_long = 0;
	if (r->io_err)
		return -r->io_err;
	if (!r->started)
		skip_bom(r);

	/* Blank lines and comment lines between records. */
	for (;;) {
		r->rec_line = r->line;
		c = rd_getc(r);
		if (c == CSV_EOF)
			return r->io_err ? -r->io_err : 0;
		if (c == '\n' || c == '\r') {
			end_line(r, c);
			continue;
		}
		if (c == '#') {
			skip_line(r);
			continue;
		}
		break;
	}

	for (;;) {
		if (field_begin(r))
			return -ENOMEM;
		if (c == '"') {
			c = quoted_field(r, &ret);
			if (ret)
				goto fail;
			if (c != ',' && c != '\n' && c != '\r' && c != CSV_EOF) {
				r->err = "unexpected character after closing quote";
				ret = -EINVAL;
				goto fail_resync;
			}
		} else {
			while (c != ',' && c != '\n' && c != '\r' && c != CSV_EOF) {
				if (c == '"') {
					r->err = "quote in unquoted field";
					ret = -EINVAL;
					goto fail_resync;
				}
				if (rec_put(r, (char)c))
					return -ENOMEM;
				c = rd_getc(r);
			}
		}
		if (field_end(r))
			return -ENOMEM;
		if (c != ',')
			break;
		c = rd_getc(r);
	}
	if (c == '\n' || c == '\r')
		end_line(r, c);
	if (r->io_err)
		return -r->io_err;
	return rec_check(r);

fail_resync:
	skip_line(r);
fail:
	r->nf = 0;
	r->rec_len = 0;
	if (r->io_err)
		return -r->io_err;
	return ret;
}

int csv_next(struct csv_reader *r)
{
	int ret = csv_next_rec(r);

	r->fail = ret < 0 ? ret : 0;
	if (ret < 0 && !r->err)
		r->err = strerror(-ret);
	return ret;
}

unsigned csv_nfields(const struct csv_reader *r)
{
	return r->nf;
}

const char *csv_field(const struct csv_reader *r, unsigned i)
{
	if (i >= r->nf)
		return "";
	return r->rec + r->off[i];
}

size_t csv_field_len(const struct csv_reader *r, unsigned i)
{
	if (i >= r->nf)
		return 0;
	return r->off[i + 1] - r->off[i] - 1;
}

unsigned long csv_line(const struct csv_reader *r)
{
	return r->rec_line;
}

const char *csv_name(const struct csv_reader *r)
{
	return r->name;
}

const char *csv_error(const struct csv_reader *r)
{
	if (r->err)
		return r->err;
	if (r->io_err)
		return strerror(r->io_err);
	if (r->fail)
		return strerror(-r->fail);
	return "no error";
}

size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c;
	size_t need;
	unsigned lo = 0x80, hi = 0xbf;

	if (!n)
		return 0;
	c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0;
	}
	/* one byte after the other: a NUL (not a continuation byte) stops it in a C string */
	if (n < 2 || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t j = 2; j <= need; j++)
		if (j >= n || (s[j] & 0xc0) != 0x80)
			return 0;
	return need + 1;
}

int utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		size_t k = utf8_seq(s + i, n - i);

		if (!k)
			return 0;
		i += k;
	}
	return 1;
}

void csv_write_field(FILE *f, const char *s, const char *end)
{
	if (s && strpbrk(s, ",\"\r\n")) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else if (s) {
		fputs(s, f);
	}
	fputs(end, f);
}
