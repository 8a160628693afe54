// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "monitor/inputs.h"
#include "fpdb/keyfile.h"
#include "lib/log.h"
#include "verdict/consent.h"
#include "verdict/geoip.h"
#include "verdict/consent_pg.h"
#include "verdict/recipients.h"

int inputs_exit_code(int err)
{
	/* an unreachable consent database is like a missing consent file */
	return err == -EINVAL || err == -ENOENT || err == -EHOSTUNREACH || err == -EKEYREJECTED ||
		       err == -EPERM || err == -EACCES || err == -EISDIR
		   ? 2
		   : 1;
}

int inputs_load(struct inputs *in)
{
	int err;

	if (!in->fp_path || !in->key_path || !in->consent_path || !in->rcpt_path) {
		pr_err("-f FINGERPRINTS, -k KEYFILE, -c consent.csv and -R recipients.csv are "
		       "required (see --help)");
		return -EINVAL;
	}
	err = law_profile_init(&in->law, in->law_name, in->jurisdiction);
	if (err)
		return err;
	err = keyfile_load(in->key_path, &in->key, 0);
	if (err)
		return err;
	err = fpdb_load_as(&in->db, in->fp_path, &in->key, in->form);
	if (err)
		return err;
	err = recipients_load(&in->rcpts, in->rcpt_path);
	if (err)
		return err;
	if (!consent_pg_is_url(in->consent_path)) {
		err = consent_load(&in->consent, in->consent_path, in->rcpts);
	} else {
		err = consent_pg_open(&in->pg, in->consent_path);
		if (!err)
			err = consent_pg_load(in->pg, &in->consent, in->rcpts);
	}
	if (err || !in->geoip_path)
		return err;
	return geoip_open(&in->geoip, in->geoip_path);
}

int inputs_opt(struct inputs *in, int opt)
{
	switch (opt) {
	case 'f':
		in->fp_path = optarg;
		return 1;
	case 'k':
		in->key_path = optarg;
		return 1;
	case 'c':
		in->consent_path = optarg;
		return 1;
	case 'R':
		in->rcpt_path = optarg;
		return 1;
	case INPUTS_OPT_GEOIP:
		in->geoip_path = optarg;
		return 1;
	case INPUTS_OPT_LAW:
		in->law_name = optarg;
		return 1;
	case INPUTS_OPT_JURISDICTION:
		in->jurisdiction = optarg;
		return 1;
	}
	return 0;
}

void inputs_release(struct inputs *in)
{
	geoip_free(in->geoip);
	in->geoip = NULL;
	consent_free(in->consent);
	consent_pg_free(in->pg);
	recipients_free(in->rcpts);
	fpdb_release(&in->db);
	memset(&in->key, 0, sizeof(in->key));
}
