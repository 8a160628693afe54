// SPDX-License-Identifier: GPL-2.0-only
/*
 * TLS write functions looked up in ELF files (user/monitor/tls_elf.c tls_elf_scan), on mutated ELF
 * files handed over as a file (a memfd). Properties: every offset found lies inside the file, in a
 * section of code (SHT_PROGBITS with SHF_EXECINSTR) whose bytes the file holds, since a uprobe
 * is placed there; a stripped Go executable is a Go executable; and a second scan of the same
 * file finds the same (nothing depends on memory left uninitialised).
 */
#include <gelf.h>
#include <libelf.h>

#include "fuzz.h"

#include "monitor/tls_elf.h"

static struct fuzz_file file;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup_file(&file, "fuzz_tls_elf");
	return elf_version(EV_CURRENT) == EV_NONE ? -1 : 0;
}

/* off lies in the file bytes of a code section of e */
static int in_code(Elf *e, __u64 off, size_t size)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_EXECINSTR))
			continue;
		if (sh.sh_offset <= size && sh.sh_size <= size - sh.sh_offset &&
		    off >= sh.sh_offset && off < sh.sh_offset + sh.sh_size)
			return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_elf a, b;
	int ra, rb;
	Elf *e;

	fuzz_file_set(&file, data, size);
	ra = tls_elf_scan(file.path, &a);
	rb = tls_elf_scan(file.path, &b);
	FUZZ_CHECK(ra == rb && !memcmp(&a, &b, sizeof(a)), "two scans differ (%d, %d)", ra, rb);
	FUZZ_CHECK(ra <= 0, "rc %d", ra);
	FUZZ_CHECK(!a.go_stripped || a.is_go, "stripped Go but not Go");
	e = elf_memory((char *)data, size);
	for (int f = 0; f < TLS_FN_MAX; f++) {
		if (!a.off[f])
			continue;
		FUZZ_CHECK(a.off[f] < size, "function %d at %llu, file of %zu bytes", f,
			   (unsigned long long)a.off[f], size);
		FUZZ_CHECK(e && in_code(e, a.off[f], size), "function %d at %llu: not in code", f,
			   (unsigned long long)a.off[f]);
	}
	if (e)
		elf_end(e);
	return 0;
}
