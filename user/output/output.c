// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>

#include "output/output.h"
#include "output/sdjournal.h"
#include "lib/csv.h"
#include "monitor/procinfo.h"
#include "lib/encodings.h"
#include "lib/fields.h"
#include "monitor/message.h"
#include "verdict/consent.h"
#include "lib/timeutil.h"

int output_format_parse(const char *s, enum out_format *fmt)
{
	if (!strcmp(s, "jsonl"))
		*fmt = FMT_JSONL;
	else if (!strcmp(s, "text"))
		*fmt = FMT_TEXT;
	else if (!strcmp(s, "ocsf"))
		*fmt = FMT_OCSF;
	else
		return -EINVAL;
	return 0;
}

const char *verdict_name(enum verdict v)
{
	switch (v) {
	case V_CONSENTED:
		return "consented";
	case V_EXEMPT:
		return "exempt";
	default:
		return "unconsented";
	}
}

const char *action_name(const struct finding *f)
{
	return finding_blocked(f) ? "blocked" : "reported";
}

/* U+2028, U+2029: valid in JSON, line terminators to JavaScript (and to Python's splitlines,
 * like the C1 controls): written escaped. */
static int is_js_line_sep(const unsigned char *p, size_t k)
{
	return k == 3 && p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9);
}

/*
 * JSON strings by hand rather than through a library: findings are written on the event path
 * (100k/s target) and this needs no allocation; all strings are escaped per RFC 8259. Strings
 * come from traffic and processes (Host, SNI, path, comm, exe, cgroup): the output stays valid
 * UTF-8 whatever they hold, each byte that does not start a valid UTF-8 sequence (stray
 * continuation, overlong form, surrogate, cut sequence, 0xf5-0xff) written as \ufffd.
 */
void json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p >= 0x80) {
			/* at most 4: utf8_seq reads no further than the NUL */
			size_t k = utf8_seq(p, 4);

			if (!k)
				fputs("\\ufffd", f);
			else if (is_js_line_sep(p, k))
				fprintf(f, "\\u%04x", 0x2028 + (p[2] - 0xa8));
			else if (k == 2 && p[0] == 0xc2 && p[1] < 0xa0)
				fprintf(f, "\\u%04x", p[1]); /* C1 controls (U+0080-009F) */
			else
				fwrite(p, 1, k, f);
			p += k ? k - 1 : 0;
			continue;
		}
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void json_fields_sorted(FILE *f, __u32 mask)
{
	int first = 1;

	fputc('[', f);
	for (unsigned i = 0; i < sizeof(field_order) / sizeof(field_order[0]); i++) {
		if (!(mask & FIELD_BIT(field_order[i])))
			continue;
		if (!first)
			fputc(',', f);
		json_str(f, field_name(field_order[i]));
		first = 0;
	}
	fputc(']', f);
}

/* The CV_* violations (consent.h) as a JSON array of their names, in bit order. */
static void json_violations(FILE *f, __u32 v)
{
	fputc('[', f);
	for (unsigned i = 0, n = 0; i < CV_COUNT; i++)
		if (v & (1u << i))
			fprintf(f, "%s\"%s\"", n++ ? "," : "", consent_violation_name(i));
	fputc(']', f);
}

static const char *tristate(int v)
{
	return v < 0 ? "null" : v ? "true" : "false";
}

/* spec §7 keys, after the recipient: purpose, sensitive fields, minor, cross-border. */
static void json_law(FILE *f, const struct finding *fd)
{
	fputs(",\"purpose\":", f);
	json_str(f, fd->purpose);
	fputs(",\"sensitive_fields\":", f);
	json_fields_sorted(f, fd->sensitive);
	fprintf(f, ",\"minor\":%s,\"cross_border\":%s", fd->minor ? "true" : "false",
		tristate(fd->cross_border));
}

static void text_fields(FILE *f, __u32 mask)
{
	char buf[160];

	fputs(mask ? fields_join(mask, ",", buf, sizeof(buf)) : "-", f);
}

void event_addr_str(const struct cs_event *ev, char *buf, size_t len)
{
	const __u8 *addr;
	int fam = event_family(ev, &addr);

	if (!inet_ntop(fam, addr, buf, len))
		snprintf(buf, len, "?");
}

const char *channel_name(int ch)
{
	static const char *const n[] = {"?",	  "syscall", "openssl", "gnutls", "nss",
					"go-tls", "skb",     "sk_msg",	"pcap"};

	return ch > 0 && ch <= CS_CH_PCAP ? n[ch] : "?";
}

static void json_process(FILE *f, const struct cs_event *ev, const struct proc_view *pv)
{
	char comm[sizeof(ev->comm) + 1];

	/* a capture file (scan-pcap) names no process */
	if (ev->channel == CS_CH_PCAP) {
		fputs("null", f);
		return;
	}
	memcpy(comm, ev->comm, sizeof(ev->comm));
	comm[sizeof(ev->comm)] = 0;
	fprintf(f, "{\"pid\":%u,\"tid\":%u,\"comm\":", ev->pid, ev->tid);
	json_str(f, comm);
	fputs(",\"exe\":", f);
	json_str(f, pv->exe);
	fprintf(f, ",\"uid\":%u,\"cgroup\":", ev->uid);
	json_str(f, pv->cgroup);
	fputs(",\"container_id\":", f);
	json_str(f, pv->container_id);
	fputs(",\"pod_uid\":", f);
	json_str(f, pv->pod ? pv->pod->uid : NULL);
	fputs(",\"pod_namespace\":", f);
	json_str(f, pv->pod && pv->pod->ns[0] ? pv->pod->ns : NULL);
	fputs(",\"pod_name\":", f);
	json_str(f, pv->pod && pv->pod->name[0] ? pv->pod->name : NULL);
	fputc('}', f);
}

static void json_evidence(FILE *f, const struct cs_event *ev, const struct finding *fd)
{
	fputs("{\"fingerprints\":[", f);
	for (unsigned i = 0; i < fd->nfps; i++)
		fprintf(f, "%s\"%016" PRIx64 "\"", i ? "," : "", (uint64_t)fd->fps[i]);
	fputs("],\"encodings\":[", f);
	for (unsigned i = 0, n = 0; i < CS_ENC_COUNT; i++)
		if (fd->encodings & (1u << i))
			fprintf(f, "%s\"%s\"", n++ ? "," : "", cs_enc_name(i));
	fprintf(f, "],\"bytes_inspected\":%u,\"bytes_total\":%u,\"truncated\":%s}",
		ev->bytes_inspected, ev->bytes_total,
		(ev->flags & CS_EV_TRUNCATED) ? "true" : "false");
}

/* The message the finding came from: its id, subjects, size and HTTP request (spec §4). */
static void json_message(FILE *f, const struct cs_event *ev, const struct finding *fd)
{
	const struct msg_http *h = fd->msg ? fd->msg->http : NULL;

	fputs("{\"id\":", f);
	json_str(f, fd->msg_id);
	fprintf(f, ",\"subjects\":%u,\"bytes\":%u,\"http\":", fd->msg_subjects, ev->bytes_total);
	if (!h) {
		fputs("null}", f);
		return;
	}
	fputs("{\"version\":", f);
	json_str(f, h->version);
	fputs(",\"method\":", f);
	json_str(f, h->method);
	fputs(",\"path\":", f);
	json_str(f, h->path);
	fputs("}}", f);
}

/* run --dedup: the first and last time of the disclosures a finding stands for. */
static void first_last(const struct finding *fd, char t1[RFC3339_BUFSZ], char t2[RFC3339_BUFSZ])
{
	rfc3339_format(fd->first_ns, t1, RFC3339_BUFSZ);
	rfc3339_format(fd->last_ns, t2, RFC3339_BUFSZ);
}

/*
 * run --dedup: the disclosures a finding stands for and their first and last time (dedup.h);
 * nothing without --dedup.
 */
static void json_count(FILE *f, const struct finding *fd)
{
	char t1[RFC3339_BUFSZ], t2[RFC3339_BUFSZ];

	if (!fd->count)
		return;
	first_last(fd, t1, t2);
	fprintf(f, ",\"count\":%" PRIu64 ",\"first_time\":\"%s\",\"last_time\":\"%s\"",
		(uint64_t)fd->count, t1, t2);
}

/* Whose data went to whom, and under which rules: the keys jsonl and OCSF's extension share. */
static void json_disclosure(FILE *f, const struct finding *fd)
{
	fputs(",\"subject\":", f);
	json_str(f, fd->subject);
	fputs(",\"fields\":", f);
	json_fields_sorted(f, fd->fields);
	fputs(",\"unconsented_fields\":", f);
	json_fields_sorted(f, fd->unconsented);
	fputs(",\"violations\":", f);
	json_violations(f, fd->violations);
	fputs(",\"recipient\":", f);
	json_str(f, fd->rcpt ? fd->rcpt->name : NULL);
	fprintf(f, ",\"recipient_kind\":\"%s\"",
		rcpt_kind_name(fd->rcpt ? fd->rcpt->kind : RK_UNKNOWN));
	json_law(f, fd);
}

static void write_jsonl(FILE *f, const struct cs_event *ev, const struct finding *fd,
			const char *host, const char *ts, const struct proc_view *pv)
{
	char ip[INET6_ADDRSTRLEN];

	event_addr_str(ev, ip, sizeof(ip));
	fprintf(f, "{\"time\":\"%s\",\"verdict\":\"%s\",\"action\":\"%s\"", ts,
		verdict_name(fd->verdict), action_name(fd));
	json_disclosure(f, fd);
	fprintf(f, ",\"destination\":{\"ip\":\"%s\",\"port\":%u,\"host\":", ip, ev->dport);
	json_str(f, host);
	fputs(",\"country\":", f);
	json_str(f, fd->country[0] ? fd->country : NULL);
	fprintf(f, ",\"protocol\":\"%s\"},\"process\":", ev->proto == 17 ? "udp" : "tcp");
	json_process(f, ev, pv);
	fprintf(f, ",\"channel\":\"%s\",\"consent_ids\":[", channel_name(ev->channel));
	for (unsigned i = 0; i < fd->nids; i++) {
		if (i)
			fputc(',', f);
		json_str(f, fd->consent_ids[i]);
	}
	fputs("],\"evidence\":", f);
	json_evidence(f, ev, fd);
	fputs(",\"message\":", f);
	json_message(f, ev, fd);
	json_count(f, fd);
	fputs("}\n", f);
}

/*
 * OCSF 1.x Data Security Finding (class 2006), consent verdict in an extension object. The
 * action, as the security_control profile has it: a send the kernel refused is action 2 Denied,
 * disposition 2 Blocked; any other went out, 1 Allowed both.
 */
static void write_ocsf(FILE *f, const struct cs_event *ev, const struct finding *fd,
		       const char *host, const char *ts, __s64 t_ns, const struct proc_view *pv)
{
	char ip[INET6_ADDRSTRLEN];
	int sev = fd->verdict == V_UNCONSENTED ? 4 : 1; /* High / Informational */
	int blocked = finding_blocked(fd);

	event_addr_str(ev, ip, sizeof(ip));
	fprintf(
	    f,
	    "{\"class_uid\":2006,\"class_name\":\"Data Security Finding\",\"category_uid\":2,"
	    "\"type_uid\":200601,\"activity_id\":1,\"time\":%" PRId64 ",\"time_dt\":\"%s\","
	    "\"severity_id\":%d,\"action_id\":%d,\"action\":\"%s\",\"disposition_id\":%d,"
	    "\"disposition\":\"%s\",\"metadata\":{\"version\":\"1.3.0\",\"profiles\":["
	    "\"security_control\"],\"product\":{\"name\":\"consentry\",\"vendor_name\":"
	    "\"consentry\"}},\"finding_info\":{\"uid\":\"%016" PRIx64
	    "-%u-%u\",\"title\":\"%s disclosure of personal data\"},"
	    "\"data_security\":{\"data_lifecycle_state_id\":2,\"data_lifecycle_state\":"
	    "\"Data in Transit\",\"category_id\":1,\"detection_system_id\":2},\"dst_endpoint\":{"
	    "\"ip\":\"%s\",\"port\":%u,\"hostname\":",
	    (int64_t)(t_ns / 1000000), ts, sev, blocked ? 2 : 1, blocked ? "Denied" : "Allowed",
	    blocked ? 2 : 1, blocked ? "Blocked" : "Allowed", (uint64_t)ev->ts_ns, ev->tid,
	    (unsigned)(fd->first_off), verdict_name(fd->verdict), ip, ev->dport);
	json_str(f, host);
	if (fd->country[0])
		fprintf(f, ",\"location\":{\"country\":\"%s\"}", fd->country);
	fputc('}', f);
	/* --dedup: OCSF's own attributes for events of one group, its count between two times */
	if (fd->count) {
		char t1[RFC3339_BUFSZ], t2[RFC3339_BUFSZ];

		first_last(fd, t1, t2);
		fprintf(f,
			",\"count\":%" PRIu64 ",\"start_time\":%" PRId64 ",\"end_time\":%" PRId64
			",\"start_time_dt\":\"%s\",\"end_time_dt\":\"%s\"",
			(uint64_t)fd->count, (int64_t)(fd->first_ns / 1000000),
			(int64_t)(fd->last_ns / 1000000), t1, t2);
	}
	fputs(",\"actor\":{\"process\":", f);
	json_process(f, ev, pv);
	fputs("},\"unmapped\":{},\"consentry\":{\"verdict\":", f);
	json_str(f, verdict_name(fd->verdict));
	fprintf(f, ",\"action\":\"%s\"", action_name(fd));
	json_disclosure(f, fd);
	fputs(",\"destination_country\":", f);
	json_str(f, fd->country[0] ? fd->country : NULL);
	fprintf(f, ",\"channel\":\"%s\",\"evidence\":", channel_name(ev->channel));
	json_evidence(f, ev, fd);
	fputs(",\"message\":", f);
	json_message(f, ev, fd);
	fputs("}}\n", f);
}

/*
 * Text output: bytes a process controls (comm, Host, path) must not break or forge lines, nor
 * reach a terminal as controls: spaces, controls (C0, DEL, C1), backslashes and bytes that are
 * not valid UTF-8 are written as \xHH; valid UTF-8 text stays as it is.
 */
size_t text_str(FILE *f, const char *s)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		size_t k = *p >= 0x80 ? utf8_seq(p, 4) : 1;

		if (k > 1 && !(k == 2 && p[0] == 0xc2 && p[1] < 0xa0) && !is_js_line_sep(p, k)) {
			fwrite(p, 1, k, f);
			p += k - 1;
			n += k;
		} else if (*p < 0x21 || *p >= 0x7f || *p == '\\') {
			fprintf(f, "\\x%02x", *p);
			n += 4;
		} else {
			fputc(*p, f);
			n++;
		}
	}
	return n;
}

static void write_text(FILE *f, const struct cs_event *ev, const struct finding *fd,
		       const char *host, const char *ts)
{
	char ip[INET6_ADDRSTRLEN];
	char comm[sizeof(ev->comm) + 1], viol[96];
	int v6 = event_family(ev, &(const __u8 *){NULL}) == AF_INET6;

	memcpy(comm, ev->comm, sizeof(ev->comm));
	comm[sizeof(ev->comm)] = 0;
	event_addr_str(ev, ip, sizeof(ip));
	/* no time: the summary line of a journal entry, which has its own */
	if (ts)
		fprintf(f, "%s %-11s ", ts, verdict_name(fd->verdict));
	else
		fprintf(f, "%s ", verdict_name(fd->verdict));
	/* a refused send says so next to its verdict; a reported one as before */
	if (finding_blocked(fd))
		fputs("action=blocked ", f);
	fputs("subject=", f);
	text_str(f, fd->subject);
	fputs(" fields=", f);
	text_fields(f, fd->fields);
	if (fd->verdict == V_UNCONSENTED) {
		fputs(" unconsented=", f);
		text_fields(f, fd->unconsented);
		fprintf(f, " violations=%s",
			violations_join(fd->violations, ",", viol, sizeof(viol)));
	}
	if (fd->sensitive) {
		fputs(" sensitive=", f);
		text_fields(f, fd->sensitive);
	}
	if (fd->minor)
		fputs(" minor", f);
	fputs(" recipient=", f);
	text_str(f, fd->rcpt ? fd->rcpt->name : "-");
	fprintf(f, "(%s) dest=%s%s%s:%u", rcpt_kind_name(fd->rcpt ? fd->rcpt->kind : RK_UNKNOWN),
		v6 ? "[" : "", ip, v6 ? "]" : "", ev->dport);
	if (fd->purpose) {
		fputs(" purpose=", f);
		text_str(f, fd->purpose);
	}
	if (fd->country[0])
		fprintf(f, " country=%s%s", fd->country, fd->cross_border == 1 ? "(abroad)" : "");
	if (host) {
		fputs(" host=", f);
		text_str(f, host);
	}
	if (ev->channel != CS_CH_PCAP) {
		fputs(" comm=", f);
		text_str(f, comm);
		fprintf(f, " pid=%u", ev->pid);
	}
	fprintf(f, " channel=%s", channel_name(ev->channel));
	for (unsigned i = 0, n = 0; i < CS_ENC_COUNT; i++)
		if (fd->encodings & (1u << i))
			fprintf(f, "%s%s", n++ ? "," : " encodings=", cs_enc_name(i));
	fprintf(f, " msg=%s subjects=%u", fd->msg_id, fd->msg_subjects);
	if (fd->msg && fd->msg->http) {
		fputs(" http=", f);
		text_str(f, fd->msg->http->method);
		fputc(':', f);
		text_str(f, fd->msg->http->path);
	}
	/* --dedup: a merged finding, "x3 FIRST..LAST" */
	if (fd->count > 1) {
		char t1[RFC3339_BUFSZ], t2[RFC3339_BUFSZ];

		first_last(fd, t1, t2);
		fprintf(f, " x%" PRIu64 " %s..%s", (uint64_t)fd->count, t1, t2);
	}
	fputc('\n', f);
}

void output_render(FILE *out, enum out_format fmt, const struct cs_event *ev,
		   const struct finding *f, const char *host, __s64 t_ns,
		   const struct proc_view *pv)
{
	char ts[RFC3339_BUFSZ];

	rfc3339_format(t_ns, ts, sizeof(ts));
	switch (fmt) {
	case FMT_TEXT:
		write_text(out, ev, f, host, ts);
		break;
	case FMT_SUMMARY:
		write_text(out, ev, f, host, NULL);
		break;
	case FMT_OCSF:
		write_ocsf(out, ev, f, host, ts, t_ns, pv);
		break;
	default:
		write_jsonl(out, ev, f, host, ts, pv);
	}
}

int output_write(struct output *o, const struct cs_event *ev, const struct finding *f,
		 const char *host, __s64 t_ns, const struct proc_view *pv)
{
	/* -o journal: an entry with fields, the finding's line one of them (sdjournal.h) */
	if (o->sdj)
		return sdjournal_write(o->sdj, ev, f, host, t_ns, pv);
	output_render(o->f, o->fmt, ev, f, host, t_ns, pv);
	if (ferror(o->f))
		return -EIO;
	return 0;
}
