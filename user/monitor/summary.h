/* SPDX-License-Identifier: GPL-2.0-only */
/* The stop summary on stderr: every counter of the kernel and the collector (summary.c). */
#ifndef CS_SUMMARY_H
#define CS_SUMMARY_H

struct collector;

/* Print the summary of c's run to stderr. */
void collector_summary(const struct collector *c);

#endif
