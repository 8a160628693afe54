/* SPDX-License-Identifier: GPL-2.0-only */
/* Finding writers: jsonl (spec §4), OCSF Data Security Finding, one-line text. */
#ifndef CS_OUTPUT_H
#define CS_OUTPUT_H

#include <stdio.h>
#include "verdict/correlate.h"

enum out_format {
	FMT_JSONL,
	FMT_TEXT,
	FMT_OCSF,
	FMT_SUMMARY, /* the text line without its time: a journal entry's MESSAGE (sdjournal.h) */
};

struct pod_info;

struct proc_view {
	const char *exe;
	const char *cgroup;
	const char *container_id;
	const struct pod_info *pod; /* NULL: not in a Kubernetes pod */
};

struct sdjournal;

struct output {
	FILE *f;
	enum out_format fmt;
	struct sdjournal *sdj; /* -o journal: entries to the systemd journal, f unused; or NULL */
};

/* Parse "jsonl"/"text"/"ocsf"; -EINVAL otherwise. */
int output_format_parse(const char *s, enum out_format *fmt);
/* One finding in fmt to out, its line ended by a newline. */
void output_render(FILE *out, enum out_format fmt, const struct cs_event *ev,
		   const struct finding *f, const char *host, __s64 t_ns,
		   const struct proc_view *pv);
/* One finding to o's file, or to the journal with -o journal. 0, or -EIO (the stream failed). */
int output_write(struct output *o, const struct cs_event *ev, const struct finding *f,
		 const char *host, __s64 t_ns, const struct proc_view *pv);
const char *verdict_name(enum verdict v);
/* The finding's action (spec §4): "blocked" or "reported" (finding_blocked). */
const char *action_name(const struct finding *f);
/* Name of a CS_CH_* channel (spec §4 `channel`). */
const char *channel_name(int ch);
/* Destination address of an event as text. */
void event_addr_str(const struct cs_event *ev, char *buf, size_t len);
/* JSON string with escapes (exposed for tests); NULL prints null. */
void json_str(FILE *f, const char *s);
/*
 * s for a text line (findings, logs): spaces, controls, backslashes and bytes that are not
 * valid UTF-8 as \xHH, so a process cannot break or forge lines with its name. Returns the
 * bytes written.
 */
size_t text_str(FILE *f, const char *s);

#endif
