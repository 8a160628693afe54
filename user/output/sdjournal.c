// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>
/* the entry's CODE_FILE/LINE/FUNC would name this writer, not anything of the finding */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

/*
 * sd-journal.h brings <syslog.h>, whose LOG_ERR, LOG_INFO and LOG_DEBUG are also log.h's level
 * names: the priorities an entry needs are taken first, then syslog's names dropped.
 */
enum { PRIO_WARNING = LOG_WARNING, PRIO_NOTICE = LOG_NOTICE, PRIO_INFO = LOG_INFO };
#undef LOG_ERR
#undef LOG_INFO
#undef LOG_DEBUG

#include "output/sdjournal.h"
#include "lib/encodings.h"
#include "lib/fields.h"
#include "verdict/consent.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "monitor/message.h"
#include "monitor/procinfo.h"

/* fixed fields of an entry, and one CONSENTRY_CONSENT_ID per consent id */
#define SDJ_FIELDS (56 + FINDING_MAX_IDS)

/*
 * The entry is built in one memory stream, "NAME=value" after "NAME=value" (values are bytes:
 * journald takes any, newlines included, through sd_journal_sendv), then handed over as one
 * iovec per field. The stream is kept and rewound: no allocation per finding once it has grown.
 */
struct sdjournal {
	FILE *mem;
	char *buf;
	size_t size;
	size_t start[SDJ_FIELDS], end[SDJ_FIELDS];
	unsigned n;
	int failing;
	struct sdjournal_stats st;
};

struct sdjournal *sdjournal_new(void)
{
	struct sdjournal *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->mem = open_memstream(&j->buf, &j->size);
	if (!j->mem) {
		free(j);
		return NULL;
	}
	return j;
}

static void field_begin(struct sdjournal *j, const char *name)
{
	j->start[j->n] = (size_t)ftell(j->mem);
	fprintf(j->mem, "%s=", name);
}

/* trim: bytes at the end that are not the value's (a rendering's newline) */
static void field_end(struct sdjournal *j, size_t trim)
{
	j->end[j->n] = (size_t)ftell(j->mem) - trim;
	j->n++;
}

static void field_str(struct sdjournal *j, const char *name, const char *v)
{
	/* null in the jsonl line: no field */
	if (!v || j->n >= SDJ_FIELDS)
		return;
	field_begin(j, name);
	fputs(v, j->mem);
	field_end(j, 0);
}

__attribute__((format(printf, 3, 4))) static void field_fmt(struct sdjournal *j, const char *name,
							    const char *fmt, ...)
{
	va_list ap;

	if (j->n >= SDJ_FIELDS)
		return;
	field_begin(j, name);
	va_start(ap, fmt);
	vfprintf(j->mem, fmt, ap);
	va_end(ap);
	field_end(j, 0);
}

/* A rendering of the finding (output.c), without its newline. */
static void field_render(struct sdjournal *j, const char *name, enum out_format fmt,
			 const struct cs_event *ev, const struct finding *f, const char *host,
			 __s64 t_ns, const struct proc_view *pv)
{
	field_begin(j, name);
	output_render(j->mem, fmt, ev, f, host, t_ns, pv);
	field_end(j, 1);
}

static void field_mask(struct sdjournal *j, const char *name, __u32 mask)
{
	char buf[160];

	field_str(j, name, mask ? fields_join(mask, ",", buf, sizeof(buf)) : "");
}

/* spec §7: what the disclosure broke, its purpose, the sensitive fields, minor, abroad. */
static void law_fields(struct sdjournal *j, const struct finding *f)
{
	char v[96];

	field_str(j, "CONSENTRY_VIOLATIONS", violations_join(f->violations, ",", v, sizeof(v)));
	field_str(j, "CONSENTRY_PURPOSE", f->purpose);
	field_mask(j, "CONSENTRY_SENSITIVE_FIELDS", f->sensitive);
	field_str(j, "CONSENTRY_MINOR", f->minor ? "true" : "false");
	field_str(j, "CONSENTRY_DEST_COUNTRY", f->country[0] ? f->country : NULL);
	field_str(j, "CONSENTRY_CROSS_BORDER",
		  f->cross_border < 0 ? NULL
		  : f->cross_border   ? "true"
				      : "false");
}

static void process_fields(struct sdjournal *j, const struct cs_event *ev,
			   const struct proc_view *pv)
{
	char comm[sizeof(ev->comm) + 1];

	memcpy(comm, ev->comm, sizeof(ev->comm));
	comm[sizeof(ev->comm)] = 0;
	field_fmt(j, "CONSENTRY_PID", "%u", ev->pid);
	field_fmt(j, "CONSENTRY_TID", "%u", ev->tid);
	field_str(j, "CONSENTRY_COMM", comm);
	field_str(j, "CONSENTRY_EXE", pv->exe);
	field_fmt(j, "CONSENTRY_UID", "%u", ev->uid);
	field_str(j, "CONSENTRY_CGROUP", pv->cgroup);
	field_str(j, "CONSENTRY_CONTAINER_ID", pv->container_id);
	if (pv->pod) {
		field_str(j, "CONSENTRY_POD_UID", pv->pod->uid);
		field_str(j, "CONSENTRY_POD_NAMESPACE", pv->pod->ns[0] ? pv->pod->ns : NULL);
		field_str(j, "CONSENTRY_POD_NAME", pv->pod->name[0] ? pv->pod->name : NULL);
	}
}

static void evidence_fields(struct sdjournal *j, const struct cs_event *ev, const struct finding *f)
{
	field_begin(j, "CONSENTRY_FINGERPRINTS");
	for (unsigned i = 0; i < f->nfps; i++)
		fprintf(j->mem, "%s%016" PRIx64, i ? "," : "", (uint64_t)f->fps[i]);
	field_end(j, 0);
	field_begin(j, "CONSENTRY_ENCODINGS");
	for (unsigned i = 0, n = 0; i < CS_ENC_COUNT; i++)
		if (f->encodings & (1u << i))
			fprintf(j->mem, "%s%s", n++ ? "," : "", cs_enc_name(i));
	field_end(j, 0);
	field_fmt(j, "CONSENTRY_BYTES_INSPECTED", "%u", ev->bytes_inspected);
	field_fmt(j, "CONSENTRY_BYTES_TOTAL", "%u", ev->bytes_total);
	field_str(j, "CONSENTRY_TRUNCATED", (ev->flags & CS_EV_TRUNCATED) ? "true" : "false");
}

static void message_fields(struct sdjournal *j, const struct finding *f)
{
	const struct msg_http *h = f->msg ? f->msg->http : NULL;

	field_str(j, "CONSENTRY_MESSAGE", f->msg_id);
	field_fmt(j, "CONSENTRY_MESSAGE_SUBJECTS", "%u", f->msg_subjects);
	if (h) {
		field_str(j, "CONSENTRY_HTTP_VERSION", h->version);
		field_str(j, "CONSENTRY_HTTP_METHOD", h->method);
		field_str(j, "CONSENTRY_HTTP_PATH", h->path);
	}
	/* --dedup */
	if (f->count) {
		char t[RFC3339_BUFSZ];

		field_fmt(j, "CONSENTRY_COUNT", "%" PRIu64, (uint64_t)f->count);
		rfc3339_format(f->first_ns, t, sizeof(t));
		field_str(j, "CONSENTRY_FIRST_TIME", t);
		rfc3339_format(f->last_ns, t, sizeof(t));
		field_str(j, "CONSENTRY_LAST_TIME", t);
	}
}

/* Every field of an entry; its values are the jsonl line's (spec §4), never a raw value. */
static void build(struct sdjournal *j, const struct cs_event *ev, const struct finding *f,
		  const char *host, __s64 t_ns, const struct proc_view *pv)
{
	char ip[INET6_ADDRSTRLEN], t[RFC3339_BUFSZ];
	int prio = f->verdict == V_UNCONSENTED ? PRIO_WARNING
		   : f->verdict == V_CONSENTED ? PRIO_NOTICE
					       : PRIO_INFO;

	j->n = 0;
	rewind(j->mem);
	field_render(j, "MESSAGE", FMT_SUMMARY, ev, f, host, t_ns, pv);
	field_fmt(j, "PRIORITY", "%d", prio);
	field_str(j, "SYSLOG_IDENTIFIER", "consentry");
	field_str(j, "MESSAGE_ID", SDJOURNAL_MESSAGE_ID);
	rfc3339_format(t_ns, t, sizeof(t));
	field_str(j, "CONSENTRY_TIME", t);
	field_str(j, "CONSENTRY_VERDICT", verdict_name(f->verdict));
	field_str(j, "CONSENTRY_ACTION", action_name(f));
	field_str(j, "CONSENTRY_SUBJECT", f->subject);
	field_mask(j, "CONSENTRY_FIELDS", f->fields);
	field_mask(j, "CONSENTRY_UNCONSENTED_FIELDS", f->unconsented);
	field_str(j, "CONSENTRY_RECIPIENT", f->rcpt ? f->rcpt->name : NULL);
	field_str(j, "CONSENTRY_RECIPIENT_KIND",
		  rcpt_kind_name(f->rcpt ? f->rcpt->kind : RK_UNKNOWN));
	law_fields(j, f);
	event_addr_str(ev, ip, sizeof(ip));
	field_str(j, "CONSENTRY_DEST_IP", ip);
	field_fmt(j, "CONSENTRY_DEST_PORT", "%u", ev->dport);
	field_str(j, "CONSENTRY_DEST_HOST", host);
	field_str(j, "CONSENTRY_PROTOCOL", ev->proto == 17 ? "udp" : "tcp");
	process_fields(j, ev, pv);
	field_str(j, "CONSENTRY_CHANNEL", channel_name(ev->channel));
	/* ids are the consent file's cells: one field each, repeated, rather than a list */
	for (unsigned i = 0; i < f->nids; i++)
		field_str(j, "CONSENTRY_CONSENT_ID", f->consent_ids[i]);
	evidence_fields(j, ev, f);
	message_fields(j, f);
	field_render(j, "CONSENTRY_JSON", FMT_JSONL, ev, f, host, t_ns, pv);
}

int sdjournal_write(struct sdjournal *j, const struct cs_event *ev, const struct finding *f,
		    const char *host, __s64 t_ns, const struct proc_view *pv)
{
	struct iovec iov[SDJ_FIELDS];
	int r = -ENOMEM;

	build(j, ev, f, host, t_ns, pv);
	if (!fflush(j->mem) && !ferror(j->mem)) {
		for (unsigned i = 0; i < j->n; i++) {
			iov[i].iov_base = j->buf + j->start[i];
			iov[i].iov_len = j->end[i] - j->start[i];
		}
		/* sd_journal_sendv returns 0 when the socket is missing (no journald): the
		 * finding would be lost unseen, so that is looked at first */
		r = access(SDJOURNAL_SOCKET, F_OK) ? -errno : sd_journal_sendv(iov, (int)j->n);
	}
	if (r >= 0) {
		j->st.sent++;
		if (j->failing)
			pr_info("-o journal: the systemd journal takes findings again (%" PRIu64
				" lost so far)",
				(uint64_t)j->st.lost);
		j->failing = 0;
		return 0;
	}
	j->st.lost++;
	if (!j->failing) {
		j->st.episodes++;
		pr_warn("-o journal: cannot send a finding to the systemd journal (is journald "
			"running?): %s; findings are counted lost until it takes them",
			strerror(-r));
	}
	j->failing = 1;
	clearerr(j->mem);
	return 0;
}

const struct sdjournal_stats *sdjournal_stats(const struct sdjournal *j)
{
	return &j->st;
}

void sdjournal_free(struct sdjournal *j)
{
	if (!j)
		return;
	fclose(j->mem);
	free(j->buf);
	free(j);
}
