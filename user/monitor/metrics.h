/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `run --metrics ADDR:PORT`: Prometheus text exposition (format 0.0.4) at /metrics, served by
 * libmicrohttpd in the collector's own thread (its epoll fd joins the collector's loop), so a
 * scrape reads the counters between two batches of events, never while they change.
 */
#ifndef CS_METRICS_H
#define CS_METRICS_H

#include <stdio.h>

struct metrics;
struct collector;

/*
 * Listen on addr_port ("127.0.0.1:9464", "[::1]:9464", ":9464" for every address).
 * 0, or -EINVAL (a bad address, said) / -errno (bind or listen failed, said).
 */
int metrics_start(struct metrics **out, const char *addr_port, struct collector *c);
/* The fd to watch for reads in the collector's epoll set. */
int metrics_fd(const struct metrics *m);
/* Serve what is ready (and time out idle connections); call on the fd's readiness and on ticks. */
void metrics_run(struct metrics *m);
void metrics_stop(struct metrics *m);
/* The exposition text of the collector's counters (the HTTP handler's body; exposed for tests). */
void metrics_write(FILE *f, const struct collector *c);

#endif
