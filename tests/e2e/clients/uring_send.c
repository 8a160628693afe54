// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test client for tests/e2e/file_paths.sh: connect to argv[1]:argv[2] (IPv4 TCP) and send argv[3]
 * with one io_uring IORING_OP_SEND, then argv[4] (if given) with one IORING_OP_WRITE; the
 * process never calls send() or write() on the socket itself. Raw io_uring syscalls (no liburing
 * in Debian's base set): a ring of 2 entries, one submission at a time. Exit 0 when both
 * completions report every byte sent.
 */
#include <arpa/inet.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

struct ring {
	int fd;
	unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
};

static int ring_init(struct ring *r)
{
	struct io_uring_params p = {0};
	char *sq, *cq;

	r->fd = (int)syscall(__NR_io_uring_setup, 2, &p);
	if (r->fd < 0)
		return -1;
	sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
	cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
	r->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || r->sqes == MAP_FAILED)
		return -1;
	r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
	r->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	r->sq_array = (unsigned *)(sq + p.sq_off.array);
	r->cq_head = (unsigned *)(cq + p.cq_off.head);
	r->cq_tail = (unsigned *)(cq + p.cq_off.tail);
	r->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	return 0;
}

/* Submit one operation and wait for its completion; returns its result. */
static int ring_run(struct ring *r, __u8 op, int fd, const void *buf, unsigned len)
{
	unsigned tail = *r->sq_tail, idx = tail & *r->sq_mask, head;
	struct io_uring_sqe *sqe = &r->sqes[idx];
	int res;

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = op;
	sqe->fd = fd;
	sqe->addr = (unsigned long)buf;
	sqe->len = len;
	sqe->off = (__u64)-1; /* IORING_OP_WRITE: the current file position (a socket has none) */
	r->sq_array[idx] = idx;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, r->fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return -1;
	head = *r->cq_head;
	if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
		return -1;
	res = r->cqes[head & *r->cq_mask].res;
	__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
	return res;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct ring r;
	char ack[16];
	int s;

	if (argc < 4) {
		fprintf(stderr, "usage: uring_send IP PORT SEND_DATA [WRITE_DATA]\n");
		return 2;
	}
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1)
		return 2;
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) || ring_init(&r)) {
		perror("uring_send");
		return 1;
	}
	if (ring_run(&r, IORING_OP_SEND, s, argv[3], strlen(argv[3])) != (int)strlen(argv[3])) {
		fprintf(stderr, "uring_send: IORING_OP_SEND failed\n");
		return 1;
	}
	if (argc > 4) {
		usleep(50000); /* two messages, not one */
		if (ring_run(&r, IORING_OP_WRITE, s, argv[4], strlen(argv[4])) !=
		    (int)strlen(argv[4])) {
			fprintf(stderr, "uring_send: IORING_OP_WRITE failed\n");
			return 1;
		}
	}
	shutdown(s, SHUT_WR);
	(void)!read(s, ack, sizeof(ack));
	close(s);
	return 0;
}
