// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HTTP request of a finding (user/http/httpmsg.c): HTTP/1 request lines, HTTP/2 :method and
 * :path, and path redaction, against a DB of a few registered values. Properties: the method
 * and the redacted path are printable ASCII within their bounds and hold no registered value as
 * a token; '{' and '}' only ever enclose a field name; a request line accepted by http1_request
 * gives the same method and path as the same request through http2_request (the two entry
 * points agree), and a whole path redacts the same as cut = 0 through http_path_redact.
 */
#include "fuzz_db.h"

#include "http/httpmsg.h"

static struct cs_key key;
static struct fpdb db;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_key(&key);
	fuzz_db_build(&db, &key);
	return 0;
}

/* Braces in s only as "{field}" of a field name. */
static void check_braces(const char *s, const char *what)
{
	for (const char *p = s; (p = strpbrk(p, "{}"));) {
		const char *close = strchr(p, '}');
		char name[32];

		FUZZ_CHECK(*p == '{' && close && (size_t)(close - p - 1) < sizeof(name),
			   "%s: '%s': stray brace", what, s);
		memcpy(name, p + 1, (size_t)(close - p - 1));
		name[close - p - 1] = '\0';
		FUZZ_CHECK(field_parse(name), "%s: '%s': {%s} is no field", what, s, name);
		p = close + 1;
	}
}

static void check_req(const struct msg_http *r, const char *what)
{
	size_t ml = strnlen(r->method, sizeof(r->method)), pl = strnlen(r->path, sizeof(r->path));

	FUZZ_CHECK(ml < sizeof(r->method) && pl <= HTTP_PATH_MAX, "%s: unterminated", what);
	fuzz_check_redacted(r->method, ml, what);
	fuzz_check_redacted(r->path, pl, what);
	check_braces(r->path, what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg_http r1, r2;
	char out[HTTP_PATH_MAX + 1], out2[HTTP_PATH_MAX + 1];
	const uint8_t *sp1, *sp2;
	size_t n, n2;
	int cut;

	if (!size)
		return 0;
	cut = data[0] & 1;

	/* the whole input as a path */
	n = http_path_redact(&key, &db, data + 1, size - 1, cut, out, sizeof(out));
	FUZZ_CHECK(n == strlen(out) && n <= HTTP_PATH_MAX, "redact: %zu, '%s'", n, out);
	fuzz_check_redacted(out, n, "path");
	check_braces(out, "path");

	/* as a request line; if accepted, as the same request over HTTP/2 */
	memset(&r1, 0, sizeof(r1));
	if (http1_request(&key, &db, data + 1, size - 1, &r1))
		return 0;
	check_req(&r1, "http1");
	sp1 = memchr(data + 1, ' ', size - 1);
	sp2 = sp1 ? memchr(sp1 + 1, ' ', size - 1 - (size_t)(sp1 + 1 - (data + 1))) : NULL;
	if (!sp1 || !sp2 || memchr(sp2 + 1, ' ', size - (size_t)(sp2 + 1 - data)))
		return 0; /* cut short or with more spaces: no exact HTTP/2 equivalent */
	memset(&r2, 0, sizeof(r2));
	if (http2_request(&key, &db, data + 1, (size_t)(sp1 - data - 1), sp1 + 1,
			  (size_t)(sp2 - sp1 - 1), 0, &r2))
		return 0;
	check_req(&r2, "http2");
	FUZZ_CHECK(!strcmp(r1.method, r2.method) && !strcmp(r1.path, r2.path),
		   "http1 %s '%s', http2 %s '%s'", r1.method, r1.path, r2.method, r2.path);
	n2 = http_path_redact(&key, &db, sp1 + 1, (size_t)(sp2 - sp1 - 1), 0, out2, sizeof(out2));
	FUZZ_CHECK(n2 == strlen(r1.path) && !strcmp(out2, r1.path), "redact '%s', http1 '%s'", out2,
		   r1.path);
	return 0;
}
