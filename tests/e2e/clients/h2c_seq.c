// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test client for tests/e2e/h2c.sh: HTTP/2 with prior knowledge (h2c) through libnghttp2's
 * client session (the HPACK encoder curl uses: Huffman strings, dynamic table), several POSTs
 * one after the other on one connection, each sent once the last response has ended, so each
 * request leaves in sends of its own and its repeated header fields are dynamic table
 * references. curl 7.88 fails to reuse an h2c connection ("Error in the HTTP2 framing layer").
 *
 *   cs-h2c IP PORT AUTHORITY BODY [-H NAME:VALUE]... PATH...
 *
 * Exit 0 when every response has status 200.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <nghttp2/nghttp2.h>

#define MAX_HDRS 8

struct client {
	int fd;
	const char *body;
	size_t body_off;
	int done;   /* the current stream closed */
	int status; /* its :status */
};

static ssize_t on_send(nghttp2_session *s, const uint8_t *data, size_t n, int flags, void *u)
{
	struct client *c = u;
	ssize_t w = send(c->fd, data, n, 0);

	(void)s;
	(void)flags;
	return w < 0 ? NGHTTP2_ERR_CALLBACK_FAILURE : w;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
		     size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags, void *u)
{
	struct client *c = u;

	(void)s;
	(void)f;
	(void)flags;
	if (nlen == 7 && !memcmp(name, ":status", 7))
		c->status = vlen == 3 ? atoi((const char *)value) : -1;
	return 0;
}

static int on_close(nghttp2_session *s, int32_t id, uint32_t err, void *u)
{
	struct client *c = u;

	(void)s;
	(void)id;
	(void)err;
	c->done = 1;
	return 0;
}

static ssize_t body_read(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
			 uint32_t *flags, nghttp2_data_source *src, void *u)
{
	struct client *c = u;
	size_t left = strlen(c->body) - c->body_off, n = left < len ? left : len;

	(void)s;
	(void)id;
	(void)src;
	memcpy(buf, c->body + c->body_off, n);
	c->body_off += n;
	if (c->body_off == strlen(c->body))
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

#define NV(n, v, vl)                                                                               \
	(nghttp2_nv)                                                                               \
	{                                                                                          \
		(uint8_t *)(n), (uint8_t *)(v), strlen(n), (vl), NGHTTP2_NV_FLAG_NONE              \
	}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	nghttp2_session_callbacks *cb;
	nghttp2_session *s;
	nghttp2_nv nv[4 + MAX_HDRS];
	char *hname[MAX_HDRS], *hval[MAX_HDRS];
	struct client c = {0};
	int nh = 0, i;

	if (argc < 6) {
		fprintf(stderr, "usage: cs-h2c IP PORT AUTHORITY BODY [-H NAME:VALUE]... PATH...\n");
		return 2;
	}
	c.body = argv[4];
	for (i = 5; i + 1 < argc && !strcmp(argv[i], "-H") && nh < MAX_HDRS; i += 2) {
		char *colon = strchr(argv[i + 1], ':');

		if (!colon)
			return 2;
		*colon = 0;
		hname[nh] = argv[i + 1];
		hval[nh++] = colon + 1;
	}
	sa.sin_port = htons((uint16_t)atoi(argv[2]));
	c.fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c.fd < 0 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1 ||
	    connect(c.fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("cs-h2c: connect");
		return 1;
	}
	nghttp2_session_callbacks_new(&cb);
	nghttp2_session_callbacks_set_send_callback(cb, on_send);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
	nghttp2_session_client_new(&s, cb, &c);
	nghttp2_session_callbacks_del(cb);
	nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, NULL, 0);
	for (; i < argc; i++) {
		nghttp2_data_provider dp = {.read_callback = body_read};
		int n = 0;

		nv[n++] = NV(":method", "POST", 4);
		nv[n++] = NV(":scheme", "http", 4);
		nv[n++] = NV(":authority", argv[3], strlen(argv[3]));
		nv[n++] = NV(":path", argv[i], strlen(argv[i]));
		for (int h = 0; h < nh; h++)
			nv[n++] = NV(hname[h], hval[h], strlen(hval[h]));
		c.done = 0;
		c.status = 0;
		c.body_off = 0;
		if (nghttp2_submit_request(s, NULL, nv, (size_t)n, &dp, NULL) < 0)
			return 1;
		while (!c.done) {
			uint8_t buf[16384];
			ssize_t r;

			if (nghttp2_session_send(s))
				return 1;
			r = recv(c.fd, buf, sizeof(buf), 0);
			if (r <= 0 || nghttp2_session_mem_recv(s, buf, (size_t)r) < 0) {
				fprintf(stderr, "cs-h2c: connection lost: %s\n", strerror(errno));
				return 1;
			}
		}
		printf("%s %d\n", argv[i], c.status);
		if (c.status != 200)
			return 1;
	}
	nghttp2_session_terminate_session(s, NGHTTP2_NO_ERROR);
	nghttp2_session_send(s);
	nghttp2_session_del(s);
	close(c.fd);
	return 0;
}
