/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * RFC 4180 CSV reader: quoted fields with commas, quotes ("") and newlines; UTF-8 BOM and CRLF
 * tolerated; blank lines and lines starting with '#' (outside quotes) skipped. Tracks the line
 * each record starts on so every error can name file:line.
 */
#ifndef CS_CSV_H
#define CS_CSV_H

#include <stddef.h>
#include <stdio.h>

/* Longest record (all of its fields): a longer one is refused (-EINVAL), memory stays bounded. */
#define CSV_RECORD_MAX (1024u * 1024u)

struct csv_reader;

/*
 * Open path for reading; NULL and errno on failure: EINVAL when path is not a regular file (a
 * FIFO is never waited on; input_open_err() says what it is).
 */
struct csv_reader *csv_open(const char *path);
/* Read from a memory buffer (tests); name is used in messages. */
struct csv_reader *csv_open_mem(const char *name, const char *buf, size_t len);
void csv_close(struct csv_reader *r);

/*
 * Read the next record. Returns 1 when a record is available, 0 at end of file, -EINVAL when
 * the record is malformed, has a NUL byte in a field or is longer than CSV_RECORD_MAX
 * (csv_error() says why; the reader has moved past it, so the caller may skip it and go on),
 * other -errno on I/O errors and -ENOMEM (csv_error() has their text too).
 */
int csv_next(struct csv_reader *r);
unsigned csv_nfields(const struct csv_reader *r);
/* NUL-terminated field i of the current record ("" if i is out of range). */
const char *csv_field(const struct csv_reader *r, unsigned i);
size_t csv_field_len(const struct csv_reader *r, unsigned i);
/* 1-based line number on which the current (or failed) record starts. */
unsigned long csv_line(const struct csv_reader *r);
const char *csv_name(const struct csv_reader *r);
const char *csv_error(const struct csv_reader *r);

/* 1 if s[0..n) is valid UTF-8 (no overlongs, no surrogates), else 0. */
int utf8_valid(const char *s, size_t n);
/*
 * Length (1-4) of the valid UTF-8 sequence at s[0..n), 0 if s starts with an invalid or cut
 * sequence. Reads byte after byte, so in a NUL-terminated string it never passes the NUL.
 */
size_t utf8_seq(const unsigned char *s, size_t n);

/*
 * Write s (NULL: empty) as one CSV field (RFC 4180: quoted when it holds a comma, quote or line
 * break, quotes doubled), then end: "," or "\r\n".
 */
void csv_write_field(FILE *f, const char *s, const char *end);

#endif
