// SPDX-License-Identifier: GPL-2.0-only
/*
 * run --dedup (output/dedup.h): the first finding of a key is written at once, its repeats in
 * the window are absorbed and come out as one finding when the window ends (count, first and
 * last time of the repeats); a key without repeats writes nothing more; any other subject,
 * recipient (or unknown destination), field set, verdict, unconsented set or action (a send
 * the kernel refused beside sent ones) is a new key, written at once; a full table closes its
 * oldest window early (counted, never dropped); what a merged finding is written from outlives the
 * message, a reload and the process. The writers carry count, first_time and last_time (jsonl),
 * count/start_time/end_time (OCSF), "xN first..last" (text).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "lib/fields.h"
#include "monitor/message.h"
#include "monitor/procinfo.h"
#include "output/dedup.h"
#include "output/output.h"

#define S      1000000000LL
#define T0     (20000LL * 86400 * S) /* 2024-10-04T00:00:00Z */
#define PHONE  FIELD_BIT(CS_F_PHONE)
#define EMAIL  FIELD_BIT(CS_F_EMAIL)
#define MAXOUT 16

/* What the emit callback saw of each finding written by the table. */
struct seen {
	char subject[32], rcpt[32], host[64], exe[64], ids[64], path[MSG_PATH_MAX];
	__u32 fields, unconsented, pid;
	enum verdict verdict;
	__u64 count;
	__s64 t_ns, first_ns, last_ns;
	int req_zero; /* the event's request line and hits were not kept */
	int blocked;  /* finding_blocked */
};

struct sink {
	struct seen out[MAXOUT];
	unsigned n;
	int fail; /* return this from the emit */
};

static int emit(const struct cs_event *ev, const struct finding *f, const char *host, __s64 t_ns,
		const struct proc_view *pv, void *ctx)
{
	struct sink *k = ctx;
	struct seen *x;
	int zero = !ev->nhits && !ev->req_len;

	assert_true(k->n < MAXOUT);
	x = &k->out[k->n++];
	for (size_t i = 0; i < sizeof(ev->req); i++)
		zero &= !ev->req[i];
	x->req_zero = zero;
	snprintf(x->subject, sizeof(x->subject), "%s", f->subject);
	snprintf(x->rcpt, sizeof(x->rcpt), "%s", f->rcpt ? f->rcpt->name : "-");
	snprintf(x->host, sizeof(x->host), "%s", host ? host : "-");
	snprintf(x->exe, sizeof(x->exe), "%s", pv && pv->exe ? pv->exe : "-");
	snprintf(x->ids, sizeof(x->ids), "%s", f->nids ? f->consent_ids[0] : "-");
	snprintf(x->path, sizeof(x->path), "%s", f->msg && f->msg->http ? f->msg->http->path : "-");
	x->fields = f->fields;
	x->unconsented = f->unconsented;
	x->verdict = f->verdict;
	x->pid = ev->pid;
	x->count = f->count;
	x->t_ns = t_ns;
	x->first_ns = f->first_ns;
	x->last_ns = f->last_ns;
	x->blocked = finding_blocked(f);
	return k->fail;
}

static const struct recipient partner = {"partner", RK_THIRD_PARTY};
static const struct recipient other = {"other", RK_THIRD_PARTY};

/* A finding of subject to rcpt (NULL: unknown, at dest), unconsented, sent by pid. */
struct one {
	struct cs_event ev;
	struct finding f;
	struct proc_view pv;
};

static void one_make(struct one *o, const char *subject, const struct recipient *rcpt,
		     const char *dest, __u32 fields, __u32 pid)
{
	memset(o, 0, sizeof(*o));
	inet_pton(AF_INET, dest, o->ev.daddr);
	o->ev.dport = 80;
	o->ev.proto = 6;
	o->ev.pid = o->ev.tid = pid;
	o->ev.channel = CS_CH_SK_MSG;
	memcpy(o->ev.comm, "curl", 4);
	o->f.subject = subject;
	o->f.rcpt = rcpt;
	o->f.fields = o->f.unconsented = fields;
	o->f.verdict = V_UNCONSENTED;
	o->pv.exe = "/usr/bin/curl";
}

static int add(struct dedup *d, const struct one *o, __s64 t)
{
	return dedup_add(d, &o->ev, &o->f, "h.example", t, &o->pv);
}

static void expect_stats(const struct dedup *d, __u64 windows, __u64 absorbed, __u64 merged,
			 __u64 early, __u64 early_merged)
{
	const struct dedup_stats *st = dedup_stats(d);

	assert_int_equal(st->windows, windows);
	assert_int_equal(st->absorbed, absorbed);
	assert_int_equal(st->merged, merged);
	assert_int_equal(st->early, early);
	assert_int_equal(st->early_merged, early_merged);
	assert_int_equal(st->untracked, 0);
}

/* First at once, repeats absorbed, one merged finding at the window's end, then a new one. */
static void test_window(void **state)
{
	struct sink k = {0};
	struct dedup *d = dedup_new(10, 64, emit, &k);
	struct one o;

	(void)state;
	assert_non_null(d);
	one_make(&o, "u1", &partner, "192.0.2.7", PHONE, 100);
	assert_int_equal(add(d, &o, T0), 1);
	for (unsigned i = 1; i <= 3; i++) {
		o.ev.pid = 100 + i; /* another process: the same key */
		assert_int_equal(add(d, &o, T0 + i * S), 0);
	}
	assert_int_equal(k.n, 0);
	assert_int_equal(dedup_open(d), 1);
	assert_int_equal(dedup_expire(d, T0 + 10 * S - 1), 0);
	assert_int_equal(k.n, 0);
	assert_int_equal(dedup_expire(d, T0 + 10 * S), 0);
	assert_int_equal(k.n, 1);
	assert_string_equal(k.out[0].subject, "u1");
	assert_string_equal(k.out[0].rcpt, "partner");
	assert_int_equal(k.out[0].fields, PHONE);
	assert_int_equal(k.out[0].count, 3);
	assert_int_equal(k.out[0].first_ns, T0 + S);
	assert_int_equal(k.out[0].last_ns, T0 + 3 * S);
	assert_int_equal(k.out[0].t_ns, T0 + S);
	assert_int_equal(k.out[0].pid, 101); /* the first repeat's details */
	assert_int_equal(dedup_open(d), 0);
	/* after the window: a new first finding, written at once */
	assert_int_equal(add(d, &o, T0 + 11 * S), 1);
	/* no repeat: its window ends with nothing more written */
	assert_int_equal(dedup_expire(d, T0 + 30 * S), 0);
	assert_int_equal(k.n, 1);
	expect_stats(d, 2, 3, 1, 0, 0);
	dedup_free(d);
}

/* A finding at a time past an ended window that was not yet closed closes it first. */
static void test_ended_on_add(void **state)
{
	struct sink k = {0};
	struct dedup *d = dedup_new(5, 64, emit, &k);
	struct one o;

	(void)state;
	one_make(&o, "u1", &partner, "192.0.2.7", PHONE, 100);
	assert_int_equal(add(d, &o, T0), 1);
	assert_int_equal(add(d, &o, T0 + 2 * S), 0);
	assert_int_equal(add(d, &o, T0 + 5 * S), 1); /* [T0, T0 + 5 s) is over */
	assert_int_equal(k.n, 1);
	assert_int_equal(k.out[0].count, 1);
	assert_int_equal(k.out[0].first_ns, T0 + 2 * S);
	/* out of order: a window behind a younger-opened one still ends on time */
	one_make(&o, "u2", &partner, "192.0.2.7", PHONE, 100);
	assert_int_equal(add(d, &o, T0 + 4 * S), 1); /* opened after u1's second window */
	assert_int_equal(add(d, &o, T0 + 6 * S), 0);
	assert_int_equal(add(d, &o, T0 + 9 * S), 1); /* u2 ended; u1's (T0 + 5 s) still open */
	assert_int_equal(k.n, 2);
	assert_string_equal(k.out[1].subject, "u2");
	assert_int_equal(k.out[1].count, 1);
	dedup_free(d);
}

/* Every other subject, recipient, destination, field set, verdict, unconsented set: new. */
static void test_new_keys(void **state)
{
	struct sink k = {0};
	struct dedup *d = dedup_new(60, 64, emit, &k);
	struct one v[8];

	(void)state;
	one_make(&v[0], "u1", &partner, "192.0.2.7", PHONE, 1);
	one_make(&v[1], "u2", &partner, "192.0.2.7", PHONE, 1);
	one_make(&v[2], "u1", &other, "192.0.2.7", PHONE, 1);
	one_make(&v[3], "u1", NULL, "192.0.2.50", PHONE, 1);
	one_make(&v[4], "u1", NULL, "192.0.2.51", PHONE, 1);
	one_make(&v[5], "u1", &partner, "192.0.2.7", PHONE | EMAIL, 1);
	one_make(&v[6], "u1", &partner, "192.0.2.7", PHONE, 1);
	v[6].f.verdict = V_CONSENTED;
	v[6].f.unconsented = 0;
	one_make(&v[7], "u1", &partner, "192.0.2.7", PHONE | EMAIL, 1);
	v[7].f.unconsented = EMAIL;
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(add(d, &v[i], T0 + i), 1);
	/* a known recipient is one key whatever its address; an unknown one is its address */
	v[0].ev.daddr[3] = 8;
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(add(d, &v[i], T0 + 100 + i), 0);
	assert_int_equal(dedup_open(d), 8);
	assert_int_equal(k.n, 0);
	assert_int_equal(dedup_flush(d), 0);
	assert_int_equal(k.n, 8);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(k.out[i].count, 1);
	assert_string_equal(k.out[3].rcpt, "-");
	assert_int_equal(k.out[6].verdict, V_CONSENTED);
	assert_int_equal(k.out[7].unconsented, EMAIL);
	dedup_free(d);
}

/*
 * A blocked disclosure (run --block refused the send) and a reported one of the same subject,
 * recipient, fields and verdict are two keys, never merged; the merged finding of blocked
 * repeats is blocked, of reported ones reported.
 */
static void test_action(void **state)
{
	struct sink k = {0};
	struct dedup *d = dedup_new(60, 64, emit, &k);
	struct one r, b;
	struct msg mr = {0}, mb = {0};

	(void)state;
	one_make(&r, "u1", &partner, "192.0.2.7", PHONE, 1);
	one_make(&b, "u1", &partner, "192.0.2.7", PHONE, 1);
	mr.ev = &r.ev;
	r.f.msg = &mr;
	mb.ev = &b.ev;
	b.f.msg = &mb;
	b.ev.xflags = CS_EVX_BLOCKED;
	assert_int_equal(add(d, &r, T0), 1);
	assert_int_equal(add(d, &b, T0 + 1), 1); /* another key: written at once */
	assert_int_equal(add(d, &r, T0 + S), 0);
	assert_int_equal(add(d, &b, T0 + 2 * S), 0);
	assert_int_equal(add(d, &b, T0 + 3 * S), 0);
	assert_int_equal(dedup_open(d), 2);
	assert_int_equal(dedup_flush(d), 0);
	assert_int_equal(k.n, 2);
	assert_int_equal(k.out[0].blocked, 0);
	assert_int_equal(k.out[0].count, 1);
	assert_int_equal(k.out[1].blocked, 1);
	assert_int_equal(k.out[1].count, 2);
	assert_int_equal(k.out[1].first_ns, T0 + 2 * S);
	expect_stats(d, 2, 3, 2, 0, 0);
	dedup_free(d);
}

/* A full table closes its oldest window early: written (with its repeats), counted. */
static void test_cap(void **state)
{
	struct sink k = {0};
	struct dedup *d = dedup_new(60, 2, emit, &k);
	struct one a, b, c, e;

	(void)state;
	one_make(&a, "a", &partner, "192.0.2.7", PHONE, 1);
	one_make(&b, "b", &partner, "192.0.2.7", PHONE, 1);
	one_make(&c, "c", &partner, "192.0.2.7", PHONE, 1);
	one_make(&e, "e", &partner, "192.0.2.7", PHONE, 1);
	assert_int_equal(add(d, &a, T0), 1);
	assert_int_equal(add(d, &a, T0 + 1 * S), 0);
	assert_int_equal(add(d, &a, T0 + 2 * S), 0);
	assert_int_equal(add(d, &b, T0 + 3 * S), 1);
	assert_int_equal(add(d, &c, T0 + 4 * S), 1); /* full: a's window closes */
	assert_int_equal(k.n, 1);
	assert_string_equal(k.out[0].subject, "a");
	assert_int_equal(k.out[0].count, 2);
	assert_int_equal(k.out[0].first_ns, T0 + 1 * S);
	assert_int_equal(k.out[0].last_ns, T0 + 2 * S);
	assert_int_equal(add(d, &e, T0 + 5 * S), 1); /* b closes: no repeats, nothing written */
	assert_int_equal(k.n, 1);
	expect_stats(d, 4, 2, 1, 2, 1);
	assert_int_equal(dedup_open(d), 2);
	/* a again: its window was closed, so a new first finding */
	assert_int_equal(add(d, &a, T0 + 6 * S), 1);
	expect_stats(d, 5, 2, 1, 3, 1);
	dedup_free(d);
}

/*
 * What a merged finding is written from is a copy: the message, the recipients and consent
 * tables (a SIGHUP reload frees them) and the process's strings may be gone when it ends. No
 * payload byte is kept.
 */
static void test_copy(void **state)
{
	struct sink k = {0};
	struct dedup *d = dedup_new(60, 8, emit, &k);
	struct one o;
	char name[16] = "partner", id[16] = "c-7", exe[32] = "/usr/bin/curl", host[32] = "h1";
	char subject[8] = "u1";
	struct recipient r = {name, RK_THIRD_PARTY};
	struct msg m = {0};
	struct msg_http http = {"1.1", "POST", "/u/{phone}"};

	(void)state;
	one_make(&o, subject, &r, "192.0.2.7", PHONE, 5);
	assert_int_equal(dedup_add(d, &o.ev, &o.f, host, T0, &o.pv), 1);
	o.f.verdict = V_CONSENTED;
	o.f.unconsented = 0;
	assert_int_equal(dedup_add(d, &o.ev, &o.f, host, T0, &o.pv), 1);
	o.f.consent_ids[0] = id;
	o.f.nids = 1;
	o.f.msg = &m;
	m.http = &http;
	o.pv.exe = exe;
	memset(o.ev.req, 'x', sizeof(o.ev.req));
	o.ev.req_len = 10;
	o.ev.nhits = 1;
	assert_int_equal(dedup_add(d, &o.ev, &o.f, host, T0 + S, &o.pv), 0);
	memset(name, 0, sizeof(name));
	memset(id, 0, sizeof(id));
	memset(exe, 0, sizeof(exe));
	memset(host, 0, sizeof(host));
	memset(subject, 0, sizeof(subject));
	memset(&http, 0, sizeof(http));
	assert_int_equal(dedup_flush(d), 0);
	assert_int_equal(k.n, 1);
	assert_string_equal(k.out[0].subject, "u1");
	assert_string_equal(k.out[0].rcpt, "partner");
	assert_string_equal(k.out[0].ids, "c-7");
	assert_string_equal(k.out[0].exe, "/usr/bin/curl");
	assert_string_equal(k.out[0].host, "h1");
	assert_string_equal(k.out[0].path, "/u/{phone}");
	assert_int_equal(k.out[0].req_zero, 1);
	dedup_free(d);
}

/* An emit that fails (the findings file) is returned; the window is closed all the same. */
static void test_emit_error(void **state)
{
	struct sink k = {.fail = -EIO};
	struct dedup *d = dedup_new(1, 8, emit, &k);
	struct one o;

	(void)state;
	one_make(&o, "u1", &partner, "192.0.2.7", PHONE, 5);
	assert_int_equal(add(d, &o, T0), 1);
	assert_int_equal(add(d, &o, T0 + 1), 0);
	assert_int_equal(dedup_expire(d, T0 + S), -EIO);
	assert_int_equal(dedup_open(d), 0);
	dedup_free(d);
	assert_null(dedup_new(0, 8, emit, &k));
	assert_null(dedup_new(1, 0, emit, &k));
}

/* The writers: count, first and last time on jsonl; OCSF count/start/end; text "xN a..b". */
static void test_writers(void **state)
{
	static const struct {
		enum out_format fmt;
		const char *want;
	} cases[] = {
	    {FMT_JSONL, ",\"count\":3,\"first_time\":\"2024-10-04T00:00:01.000000Z\","
			"\"last_time\":\"2024-10-04T00:00:04.500000Z\"}\n"},
	    {FMT_OCSF, "\"count\":3,\"start_time\":1728000001000,\"end_time\":1728000004500,"
		       "\"start_time_dt\":\"2024-10-04T00:00:01.000000Z\","
		       "\"end_time_dt\":\"2024-10-04T00:00:04.500000Z\""},
	    {FMT_TEXT, " x3 2024-10-04T00:00:01.000000Z..2024-10-04T00:00:04.500000Z\n"},
	};
	struct one o;

	(void)state;
	one_make(&o, "u1", &partner, "192.0.2.7", PHONE, 5);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *buf = NULL;
		size_t len = 0;
		struct output out = {.fmt = cases[i].fmt};

		out.f = open_memstream(&buf, &len);
		assert_non_null(out.f);
		/* without --dedup: none of the three */
		o.f.count = 0;
		assert_int_equal(output_write(&out, &o.ev, &o.f, NULL, T0 + S, &o.pv), 0);
		o.f.count = 3;
		o.f.first_ns = T0 + S;
		o.f.last_ns = T0 + 4 * S + S / 2;
		assert_int_equal(output_write(&out, &o.ev, &o.f, NULL, T0 + S, &o.pv), 0);
		/* a first finding (count 1): the keys, no "x1" */
		o.f.count = 1;
		o.f.first_ns = o.f.last_ns = T0;
		assert_int_equal(output_write(&out, &o.ev, &o.f, NULL, T0, &o.pv), 0);
		fclose(out.f);
		{
			char *l2 = strchr(buf, '\n') + 1, *l3 = strchr(l2, '\n') + 1;

			const char *none = cases[i].fmt == FMT_TEXT ? ".." : "\"count\"";

			assert_null(memmem(buf, (size_t)(l2 - buf), none, strlen(none)));
			assert_non_null(
			    memmem(l2, (size_t)(l3 - l2), cases[i].want, strlen(cases[i].want)));
			if (cases[i].fmt == FMT_TEXT)
				assert_null(strstr(l3, " x1"));
			else
				assert_non_null(strstr(l3, "\"count\":1,"));
		}
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_window),   cmocka_unit_test(test_ended_on_add),
	    cmocka_unit_test(test_new_keys), cmocka_unit_test(test_cap),
	    cmocka_unit_test(test_copy),     cmocka_unit_test(test_emit_error),
	    cmocka_unit_test(test_writers),  cmocka_unit_test(test_action),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
