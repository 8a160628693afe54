// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/types.h>
#include <maxminddb.h>

#include "lib/log.h"
#include "lib/util.h"
#include "verdict/geoip.h"

/*
 * Search-tree nodes geoip_open visits looking for a record with a country. A Country or City
 * database has one within a few dozen (the first IPv4 networks); an ASN or ISP database has none
 * anywhere, and this bounds the time spent proving it.
 */
#define PROBE_NODES 4096
/* DFS stack: one pending sibling per tree level (128) and the node being expanded */
#define PROBE_STACK 130

struct geoip {
	MMDB_s mmdb;
};

static int is_letter(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* map.iso_code of the entry into cc, upper case: 1, or 0 when absent or not two letters. */
static int entry_code(MMDB_entry_s *e, const char *map, char cc[3])
{
	MMDB_entry_data_s d;

	if (MMDB_get_value(e, &d, map, "iso_code", NULL) != MMDB_SUCCESS || !d.has_data ||
	    d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size != 2 ||
	    !is_letter(d.utf8_string[0]) || !is_letter(d.utf8_string[1]))
		return 0;
	/* ASCII letters only (checked above): clearing bit 5 upper-cases them */
	cc[0] = (char)(d.utf8_string[0] & ~0x20);
	cc[1] = (char)(d.utf8_string[1] & ~0x20);
	cc[2] = '\0';
	return 1;
}

static int entry_country(MMDB_entry_s *e, char cc[3])
{
	return entry_code(e, "country", cc) || entry_code(e, "registered_country", cc);
}

/* Whether a data record within the first PROBE_NODES nodes (depth first) has a country. */
static int has_countries(const MMDB_s *db)
{
	__u32 stack[PROBE_STACK], n = 0;
	char cc[3];

	stack[n++] = 0;
	for (unsigned visited = 0; n && visited < PROBE_NODES; visited++) {
		MMDB_search_node_s node;
		__u32 id = stack[--n];

		if (MMDB_read_node(db, id, &node) != MMDB_SUCCESS)
			return 0;
		if (node.left_record_type == MMDB_RECORD_TYPE_DATA &&
		    entry_country(&node.left_record_entry, cc))
			return 1;
		if (node.right_record_type == MMDB_RECORD_TYPE_DATA &&
		    entry_country(&node.right_record_entry, cc))
			return 1;
		/* right pushed first: the left (lower addresses, IPv4 at ::/96) is visited first */
		if (node.right_record_type == MMDB_RECORD_TYPE_SEARCH_NODE && n < PROBE_STACK)
			stack[n++] = (__u32)node.right_record;
		if (node.left_record_type == MMDB_RECORD_TYPE_SEARCH_NODE && n < PROBE_STACK)
			stack[n++] = (__u32)node.left_record;
	}
	return 0;
}

int geoip_open(struct geoip **out, const char *path)
{
	struct geoip *g;
	struct stat st;
	int fd, status, err;

	*out = NULL;
	/* refuse a FIFO or device before libmaxminddb opens it (it would block or read forever) */
	fd = input_open(path, &st);
	if (fd < 0) {
		input_open_err(path, "GeoIP (MaxMind DB)", fd);
		return fd;
	}
	close(fd);
	if (!st.st_size) {
		pr_err("%s: empty file; expected a MaxMind DB (.mmdb) country database", path);
		return -EINVAL;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	status = MMDB_open(path, MMDB_MODE_MMAP, &g->mmdb);
	if (status != MMDB_SUCCESS) {
		err = status == MMDB_OUT_OF_MEMORY_ERROR ? -ENOMEM
		      : status == MMDB_FILE_OPEN_ERROR	 ? (errno ? -errno : -EIO)
		      : status == MMDB_IO_ERROR		 ? -EIO
							 : -EINVAL;
		if (err == -EINVAL)
			pr_err("%s: not a MaxMind DB (.mmdb) file: %s", path,
			       MMDB_strerror(status));
		else
			pr_err("%s: cannot read MaxMind DB: %s", path, strerror(-err));
		free(g);
		return err;
	}
	if (!has_countries(&g->mmdb)) {
		pr_err("%s: MaxMind DB of type '%s' has no country data (no country.iso_code or "
		       "registered_country.iso_code in its first networks); expected a Country or "
		       "City database",
		       path, g->mmdb.metadata.database_type ? g->mmdb.metadata.database_type : "?");
		geoip_free(g);
		return -EINVAL;
	}
	pr_debug("%s: MaxMind DB %s, IPv%u, %u nodes", path, g->mmdb.metadata.database_type,
		 (unsigned)g->mmdb.metadata.ip_version, (unsigned)g->mmdb.metadata.node_count);
	*out = g;
	return 0;
}

int geoip_country(const struct geoip *g, int family, const void *addr, char cc[3])
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
	struct sockaddr_in sin = {.sin_family = AF_INET};
	const struct sockaddr *sa;
	MMDB_lookup_result_s res;
	int mmdb_err;

	if (!g)
		return 0;
	if (family == AF_INET6) {
		/* copied first: addr need not be aligned for IN6_IS_ADDR_V4MAPPED's 32-bit reads */
		memcpy(&sin6.sin6_addr, addr, 16);
		sa = (const struct sockaddr *)&sin6;
		if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) {
			memcpy(&sin.sin_addr, (const __u8 *)addr + 12, 4);
			sa = (const struct sockaddr *)&sin;
		}
	} else if (family == AF_INET) {
		memcpy(&sin.sin_addr, addr, 4);
		sa = (const struct sockaddr *)&sin;
	} else {
		return 0;
	}
	/* an IPv6 address in an IPv4-only database is an error here: not found */
	res = MMDB_lookup_sockaddr(&g->mmdb, sa, &mmdb_err);
	if (mmdb_err != MMDB_SUCCESS || !res.found_entry)
		return 0;
	return entry_country(&res.entry, cc);
}

void geoip_free(struct geoip *g)
{
	if (!g)
		return;
	MMDB_close(&g->mmdb);
	free(g);
}
