/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * -o journal: each finding the findings file would get goes to the systemd journal instead, as
 * one entry with structured CONSENTRY_* fields (docs/operations.md "Forwarding findings"), so
 * the forwarding a fleet already runs (journald, rsyslog's imjournal, journal-upload) carries
 * it. Not the findings journal of --journal (journal.h), an SQLite file. A finding journald
 * does not take (not running, socket gone, queue full) is counted lost and the failure said
 * once per run of failures; monitoring goes on.
 */
#ifndef CS_SDJOURNAL_H
#define CS_SDJOURNAL_H

#include <linux/types.h>

#include "verdict/correlate.h"
#include "output/output.h"

/* MESSAGE_ID= of every finding's entry (journalctl MESSAGE_ID=...); fixed, generated once */
#define SDJOURNAL_MESSAGE_ID "a3ad02e83b2f44e3b80f40cb89a0129b"
/* where sd_journal_sendv sends (libsystemd's fixed path) */
#define SDJOURNAL_SOCKET "/run/systemd/journal/socket"
/* -o's word for the journal; a file of that name is -o ./journal */
#define SDJOURNAL_OUTPUT "journal"

struct sdjournal_stats {
	__u64 sent;	/* entries journald took */
	__u64 lost;	/* findings not sent (journald not reachable, entry refused) */
	__u64 episodes; /* runs of failures, each said once on stderr */
};

struct sdjournal;

/* NULL + errno (no memory). Nothing is sent yet: journald need not be running. */
struct sdjournal *sdjournal_new(void);
/* One finding as one entry; a failure is counted and said, never returned (0). */
int sdjournal_write(struct sdjournal *j, const struct cs_event *ev, const struct finding *f,
		    const char *host, __s64 t_ns, const struct proc_view *pv);
const struct sdjournal_stats *sdjournal_stats(const struct sdjournal *j);
/* Accepts NULL. */
void sdjournal_free(struct sdjournal *j);

#endif
