// SPDX-License-Identifier: GPL-2.0-only
/*
 * --geoip files (user/verdict/geoip.c over libmaxminddb): any bytes as a MaxMind DB. Properties:
 * geoip_open refuses with -EINVAL (or -ENOMEM, -EIO) or opens, in bounded time (its probe of
 * the search tree stops after a fixed number of nodes, whatever cycles a file's records make);
 * an opened file answers every lookup with 0 or 1 and, for 1, two upper-case ASCII letters and
 * a NUL; an IPv4-mapped IPv6 address gets the same answer as its IPv4 address. The addresses
 * looked up: fixed ones and the input's last 16 bytes read as IPv4 and IPv6.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "fuzz.h"

#include "verdict/geoip.h"

static struct fuzz_file file;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup_file(&file, "fuzz_geoip");
	return 0;
}

static int lookup(const struct geoip *g, int family, const __u8 *addr, char cc[3])
{
	int r;

	memset(cc, 0x7f, 3);
	r = geoip_country(g, family, addr, cc);
	FUZZ_CHECK(r == 0 || r == 1, "geoip_country returned %d", r);
	if (r)
		FUZZ_CHECK(cc[0] >= 'A' && cc[0] <= 'Z' && cc[1] >= 'A' && cc[1] <= 'Z' && !cc[2],
			   "code %02x %02x %02x", (unsigned char)cc[0], (unsigned char)cc[1],
			   (unsigned char)cc[2]);
	return r;
}

static void check_v4(const struct geoip *g, const __u8 v4[4])
{
	__u8 mapped[16] = {[10] = 0xff, [11] = 0xff};
	char a[3], b[3];
	int ra, rb;

	memcpy(mapped + 12, v4, 4);
	ra = lookup(g, AF_INET, v4, a);
	rb = lookup(g, AF_INET6, mapped, b);
	FUZZ_CHECK(ra == rb && (!ra || !memcmp(a, b, 3)),
		   "%u.%u.%u.%u: %d '%.2s' as IPv4, %d '%.2s' mapped", v4[0], v4[1], v4[2], v4[3],
		   ra, a, rb, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const __u8 v4s[][4] = {
	    {10, 0, 0, 1}, {10, 1, 2, 3}, {192, 0, 2, 1}, {0, 0, 0, 0}, {255, 255, 255, 255},
	};
	static const __u8 v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	struct geoip *g;
	__u8 tail[16] = {0};
	char cc[3];
	int err;

	fuzz_file_set(&file, data, size);
	err = geoip_open(&g, file.path);
	FUZZ_CHECK(!err || err == -EINVAL || err == -ENOMEM || err == -EIO,
		   "geoip_open returned %d", err);
	if (err) {
		FUZZ_CHECK(!g, "an error left the handle set");
		return 0;
	}
	for (size_t i = 0; i < sizeof(v4s) / sizeof(v4s[0]); i++)
		check_v4(g, v4s[i]);
	memcpy(tail, data + (size > 16 ? size - 16 : 0), size < 16 ? size : 16);
	check_v4(g, tail);
	lookup(g, AF_INET6, tail, cc);
	lookup(g, AF_INET6, v6, cc);
	geoip_free(g);
	return 0;
}
