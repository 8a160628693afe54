// SPDX-License-Identifier: GPL-2.0-only
/*
 * DNS answers (user/monitor/dns.c). The input is fed as a message as it is (no crash, no UB, a
 * count no larger than its answers), and read as the description of a response that is then
 * encoded: a question name, up to 8 answers of type A, AAAA or CNAME with their TTL, named by a
 * compression pointer or in full. Property (decode(encode(x)) == x): the cache learns exactly
 * the A and AAAA answers, and each of their addresses looks up to the question's name in lower
 * case; a name longer than the cache keeps is not learnt at all (a cut name could name another
 * recipient).
 */
#include <sys/socket.h>

#include "fuzz.h"

#include "monitor/dns.h"

#define NAME_KEEP 63 /* dns.c DNS_NAME - 1 */

struct answer {
	int family; /* AF_INET, AF_INET6, 0: CNAME */
	uint8_t addr[16];
};

static struct dns_cache *cache;
static __u64 now;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	cache = dns_cache_new();
	return cache ? 0 : -1;
}

static size_t put_name(uint8_t *m, size_t o, const uint8_t *wire, size_t wlen)
{
	memcpy(m + o, wire, wlen);
	return o + wlen;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char alnum[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-";
	uint8_t msg[4096], wire[300];
	char name[300], lower[300];
	struct answer ans[8];
	struct fuzz_rd r = {data, size};
	size_t o, wlen = 0, nlen = 0;
	unsigned nlabels, nans, want = 0;
	int got;

	/* every input's entries expire before the next one looks */
	now += 1ULL << 33;

	/* as it is */
	got = dns_cache_add_message(cache, data, size, now);
	if (size >= 12)
		FUZZ_CHECK(got <= (data[6] << 8 | data[7]), "%d learnt from %u answers", got,
			   data[6] << 8 | data[7]);

	/* as a description: labels, then answers */
	nlabels = 1 + fuzz_take(&r) % 8;
	for (unsigned l = 0; l < nlabels; l++) {
		unsigned len = 1 + fuzz_take(&r) % 63;

		if (wlen + 1 + len + 1 > 255) /* RFC 1035: 255 bytes on the wire */
			break;
		wire[wlen++] = (uint8_t)len;
		if (nlen)
			name[nlen++] = '.';
		for (unsigned i = 0; i < len; i++) {
			char ch = alnum[fuzz_take(&r) % (sizeof(alnum) - 1)];

			wire[wlen++] = (uint8_t)ch;
			name[nlen++] = ch;
		}
	}
	wire[wlen++] = 0;
	name[nlen] = '\0';
	for (size_t i = 0; i <= nlen; i++)
		lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] | 0x20 : name[i]);

	nans = fuzz_take(&r) % 9;
	memcpy(msg, "\x12\x34\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00", 12);
	msg[7] = (uint8_t)nans;
	o = put_name(msg, 12, wire, wlen);
	memcpy(msg + o, "\x00\x01\x00\x01", 4);
	o += 4;
	for (unsigned a = 0; a < nans; a++) {
		uint8_t kind = fuzz_take(&r), alen;
		__u32 ttl = (__u32)fuzz_take(&r) << 24 | (__u32)fuzz_take(&r) << 8 | fuzz_take(&r);

		ans[a].family = kind % 3 == 0 ? AF_INET : kind % 3 == 1 ? AF_INET6 : 0;
		alen = ans[a].family == AF_INET ? 4 : ans[a].family == AF_INET6 ? 16 : 5;
		if (kind & 0x80) {
			o = put_name(msg, o, wire, wlen);
		} else {
			msg[o++] = 0xc0;
			msg[o++] = 12;
		}
		msg[o++] = 0;
		msg[o++] = ans[a].family == AF_INET ? 1 : ans[a].family == AF_INET6 ? 28 : 5;
		memcpy(msg + o, "\x00\x01", 2);
		o += 2;
		msg[o++] = (uint8_t)(ttl >> 24);
		msg[o++] = (uint8_t)(ttl >> 16);
		msg[o++] = (uint8_t)(ttl >> 8);
		msg[o++] = (uint8_t)ttl;
		msg[o++] = 0;
		msg[o++] = alen;
		for (unsigned i = 0; i < alen; i++)
			ans[a].addr[i % 16] = msg[o++] = fuzz_take(&r);
		want += ans[a].family != 0;
	}

	got = dns_cache_add_message(cache, msg, o, now);
	if (nlen > NAME_KEEP) {
		FUZZ_CHECK(got == 0, "name of %zu bytes: %d learnt", nlen, got);
		want = 0;
	}
	FUZZ_CHECK(got == (int)want, "%d learnt, %u A/AAAA answers", got, want);
	for (unsigned a = 0; a < nans; a++) {
		const char *found;

		if (!ans[a].family)
			continue;
		found = dns_cache_lookup(cache, ans[a].family, ans[a].addr, now);
		if (nlen > NAME_KEEP) {
			FUZZ_CHECK(!found || strcmp(found, lower), "cut name '%s' learnt", found);
			continue;
		}
		FUZZ_CHECK(found && !strcmp(found, lower), "answer %u: '%s', expected '%s'", a,
			   found ? found : "(none)", lower);
	}
	return 0;
}
