// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <gelf.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "monitor/tls_elf.h"
#include "lib/util.h"

static const char *const fn_names[TLS_FN_MAX] = {
    [TLS_FN_SSL_WRITE] = "SSL_write",
    [TLS_FN_SSL_WRITE_EX] = "SSL_write_ex",
    [TLS_FN_GNUTLS_SEND] = "gnutls_record_send",
    [TLS_FN_PR_WRITE] = "PR_Write",
    [TLS_FN_PR_SEND] = "PR_Send",
    [TLS_FN_GO_WRITE] = "crypto/tls.(*Conn).Write",
    [TLS_FN_SSL_FREE] = "SSL_free",
    [TLS_FN_GNUTLS_DEINIT] = "gnutls_deinit",
    [TLS_FN_PR_CLOSE] = "PR_Close",
    [TLS_FN_GO_CLOSE] = "crypto/tls.(*Conn).Close",
};

const char *tls_fn_name(int f)
{
	return fn_names[f];
}

/*
 * File offset of a function symbol, through its section: 0 unless that is code the file holds
 * and the symbol lies inside it (a crafted file could point a uprobe past the end of the file,
 * or into data).
 */
static __u64 sym_file_off(Elf *e, const GElf_Sym *sym, __u64 fsize)
{
	Elf_Scn *scn = elf_getscn(e, sym->st_shndx);
	GElf_Shdr sh;

	if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
	    !(sh.sh_flags & SHF_EXECINSTR) || sh.sh_offset > fsize ||
	    sh.sh_size > fsize - sh.sh_offset || sym->st_value < sh.sh_addr ||
	    sym->st_value - sh.sh_addr >= sh.sh_size)
		return 0;
	return sym->st_value - sh.sh_addr + sh.sh_offset;
}

int tls_elf_scan(const char *path, struct tls_elf *out)
{
	Elf_Scn *scn = NULL;
	struct stat st;
	size_t shstrndx;
	int fd, err = 0;
	Elf *e;

	memset(out, 0, sizeof(*out));
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	/* never blocks on a FIFO (--tls-lib); only regular files are ELF files we probe */
	fd = input_open(path, &st);
	if (fd < 0)
		return fd;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF || elf_getshdrstrndx(e, &shstrndx)) {
		err = -ENOEXEC;
		goto out;
	}
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(e, shstrndx, sh.sh_name);
		if (name && (!strcmp(name, ".gopclntab") || !strcmp(name, ".go.buildinfo")))
			out->is_go = 1;
	}
	scn = NULL;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t n;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !sh.sh_entsize)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; i < n; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(d, (int)i, &sym) ||
			    GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF ||
			    !sym.st_value)
				continue;
			name = elf_strptr(e, sh.sh_link, sym.st_name);
			if (!name)
				continue;
			for (int f = 0; f < TLS_FN_MAX; f++) {
				if (out->off[f] || strcmp(name, fn_names[f]))
					continue;
				/* uprobes take a file offset: translate through the section */
				out->off[f] = sym_file_off(e, &sym, (__u64)st.st_size);
			}
		}
	}
	if (out->is_go && !out->off[TLS_FN_GO_WRITE]) {
		/* a Go binary with crypto/tls linked in but no symbols left to find it by */
		int has_symtab = 0;

		scn = NULL;
		while ((scn = elf_nextscn(e, scn))) {
			GElf_Shdr sh;

			if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
				has_symtab = 1;
		}
		out->go_stripped = !has_symtab;
	}
out:
	if (e)
		elf_end(e);
	close(fd);
	return err;
}
