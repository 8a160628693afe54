/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `consentry scan-pcap`: a capture's traffic through the live monitor's path. Each TCP
 * connection's initiator-to-responder bytes (tcpreasm.h) and each UDP datagram that is not a
 * response become sends: a cs_event like the kernel's (destination, Host header or SNI of the
 * connection, request line, HTTP/2 flow offset), its bytes handed over as with `run --scan-in
 * collector` (deep.h, cscan.h: the same scanner core, split values carried per connection,
 * decoders, HTTP/2 flows), then correlation, recipients, consent and the finding writers. DNS
 * answers in the capture feed the DNS cache the recipients' host selectors use. Findings have
 * channel "pcap", the time of the packet that completed the send and no process.
 */
#ifndef CS_PCAPSCAN_H
#define CS_PCAPSCAN_H

#include "cs_abi.h"

struct fpdb;
struct recipients;
struct consent_db;
struct geoip;
struct output;

struct law_profile;

struct pcapscan_cfg {
	const struct cs_key *key;
	const struct fpdb *db;
	const struct recipients *rcpts;
	const struct consent_db *consent;
	const struct geoip *geoip;     /* --geoip, may be NULL */
	const struct law_profile *law; /* --law, --jurisdiction; NULL: PIPL in CN */
	struct output *out;
	int report_all; /* --all: also consented and exempt findings */
	int scan_all;	/* tokenise every byte (run --scan-all) */
};

/* Bytes of in-order stream data scanned as one send at most (a longer run is cut, carried). */
#define PCAPSCAN_SEND_MAX (64u << 10)

/*
 * Scan the capture at path, write its findings, print the summary to stderr. 0; -EINVAL when
 * the file is not a capture this reads (or is truncated: findings before the cut are written),
 * -EIO when findings could not be written, -ENOMEM.
 */
int pcapscan_file(const struct pcapscan_cfg *cfg, const char *path);

#endif
