/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * How a registered value was rendered when it was found (finding evidence.encodings).
 * A bit mask (a set: the nesting order is not kept); names print in enum order: compression,
 * transport encodings, split, the value's own hash, e.g. ["gzip","base64"] or ["sha256"].
 */
#ifndef CS_ENCODINGS_H
#define CS_ENCODINGS_H

enum cs_enc {
	CS_ENC_GZIP = 1u << 0,	      /* gzip body (Content-Encoding: gzip or gzip magic) */
	CS_ENC_DEFLATE = 1u << 1,     /* zlib or raw deflate body (Content-Encoding: deflate) */
	CS_ENC_BASE64 = 1u << 2,      /* base64 or base64url */
	CS_ENC_URL = 1u << 3,	      /* percent-encoding beyond "%40" (decoded in userspace) */
	CS_ENC_JSON_ESCAPE = 1u << 4, /* JSON \uXXXX escapes */
	CS_ENC_HTML_ENTITY = 1u << 5, /* HTML numeric entities &#NN; &#xHH; */
	CS_ENC_UTF16 = 1u << 6,	      /* UTF-16 text, either byte order */
	CS_ENC_FULLWIDTH = 1u << 7,   /* full-width forms U+FF01-FF5E */
	/*
	 * found in a decoded HTTP/2 header block and not in the send's bytes as they are: a
	 * Huffman-coded string or a reference to the connection's HPACK dynamic table
	 */
	CS_ENC_HPACK = 1u << 8,
	CS_ENC_SPLIT = 1u << 9,	  /* value split across consecutive sends of one flow */
	CS_ENC_SHA256 = 1u << 10, /* hex SHA-256 of the normalised value (enroll variant) */
	CS_ENC_SHA1 = 1u << 11,	  /* hex SHA-1 */
	CS_ENC_MD5 = 1u << 12,	  /* hex MD5 */
	CS_ENC_COUNT = 13,
};

/* Name of bit i (0 <= i < CS_ENC_COUNT): "gzip", "deflate", "base64", "url", "json-escape",
 * "html-entity", "utf-16", "fullwidth", "hpack", "split", "sha256", "sha1", "md5". */
static inline const char *cs_enc_name(unsigned i)
{
	static const char *const names[CS_ENC_COUNT] = {
	    "gzip",	 "deflate", "base64", "url",	"json-escape", "html-entity", "utf-16",
	    "fullwidth", "hpack",   "split",  "sha256", "sha1",	       "md5"};

	return i < CS_ENC_COUNT ? names[i] : "?";
}

#endif
