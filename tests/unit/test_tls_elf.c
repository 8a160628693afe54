// SPDX-License-Identifier: GPL-2.0-only
/* Symbol lookup for the TLS uprobes: offsets of the write functions in real binaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <elf.h>
#include <errno.h>
#include <cmocka.h>

#include "tls.h"

static const char *first_readable(const char *const *paths)
{
	for (; *paths; paths++)
		if (!access(*paths, R_OK))
			return *paths;
	return NULL;
}

static void test_libssl(void **state)
{
	static const char *const libs[] = {"/usr/lib/x86_64-linux-gnu/libssl.so.3",
					   "/usr/lib/aarch64-linux-gnu/libssl.so.3",
					   "/usr/lib64/libssl.so.3", NULL};
	const char *lib = first_readable(libs);
	struct tls_elf e;

	(void)state;
	if (!lib)
		skip();
	assert_int_equal(tls_elf_scan(lib, &e), 0);
	assert_true(e.off[TLS_FN_SSL_WRITE] != 0);
	assert_true(e.off[TLS_FN_SSL_WRITE_EX] != 0);
	assert_true(e.off[TLS_FN_SSL_WRITE] != e.off[TLS_FN_SSL_WRITE_EX]);
	assert_int_equal(e.off[TLS_FN_GNUTLS_SEND], 0);
	assert_false(e.is_go);
}

static void test_gnutls(void **state)
{
	static const char *const libs[] = {"/usr/lib/x86_64-linux-gnu/libgnutls.so.30",
					   "/usr/lib/aarch64-linux-gnu/libgnutls.so.30", NULL};
	const char *lib = first_readable(libs);
	struct tls_elf e;

	(void)state;
	if (!lib)
		skip();
	assert_int_equal(tls_elf_scan(lib, &e), 0);
	assert_true(e.off[TLS_FN_GNUTLS_SEND] != 0);
	assert_int_equal(e.off[TLS_FN_SSL_WRITE], 0);
}

static void test_not_tls(void **state)
{
	struct tls_elf e;

	(void)state;
	assert_int_equal(tls_elf_scan("/bin/true", &e), 0);
	for (int f = 0; f < TLS_FN_MAX; f++)
		assert_int_equal(e.off[f], 0);
	{
		char path[] = "/tmp/cs_not_elf_XXXXXX";
		int fd = mkstemp(path);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, "plain text, not ELF\n", 20), 20);
		close(fd);
		assert_int_equal(tls_elf_scan(path, &e), -ENOEXEC);
		unlink(path);
	}
	assert_true(tls_elf_scan("/nonexistent", &e) < 0);
}

static Elf64_Shdr shdr(Elf64_Word name, Elf64_Word type, Elf64_Xword flags, Elf64_Addr addr,
		       Elf64_Off off, Elf64_Xword size)
{
	return (Elf64_Shdr){.sh_name = name,
			    .sh_type = type,
			    .sh_flags = flags,
			    .sh_addr = addr,
			    .sh_offset = off,
			    .sh_size = size};
}

/*
 * A crafted ELF file: symbols of TLS write functions that point into data, past the end of
 * their code section, and into a code section the file does not hold. None is a place for a
 * uprobe: only the one inside .text is found, at its exact offset (found by
 * tests/fuzz/fuzz_tls_elf: offsets outside the file were returned).
 */
static void test_crafted(void **state)
{
	static const char strtab[] = "\0SSL_write\0SSL_write_ex\0gnutls_record_send\0PR_Write";
	static const char shstrtab[] = "\0.text\0.data\0.symtab\0.strtab\0.shstrtab\0.far";
	enum { TEXT = 0x40, DATA = 0x50, SYMS = 0x60, NSYMS = 5 };
	enum { STR = SYMS + NSYMS * sizeof(Elf64_Sym), SHSTR = STR + sizeof(strtab) };
	enum {
		SH = (SHSTR + sizeof(shstrtab) + 7) & ~7,
		NSH = 7,
		SIZE = SH + NSH * sizeof(Elf64_Shdr)
	};
	static unsigned char f[SIZE];
	Elf64_Ehdr *eh = (Elf64_Ehdr *)f;
	Elf64_Sym *sym = (Elf64_Sym *)(f + SYMS);
	Elf64_Shdr *sh = (Elf64_Shdr *)(f + SH);
	char path[] = "/tmp/cs_tls_elf_XXXXXX";
	struct tls_elf e;
	int fd;

	(void)state;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_DYN;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_shoff = SH;
	eh->e_shentsize = sizeof(Elf64_Shdr);
	eh->e_shnum = NSH;
	eh->e_shstrndx = 5;
	memset(f + TEXT, 0xc3, 16);
	memcpy(f + STR, strtab, sizeof(strtab));
	memcpy(f + SHSTR, shstrtab, sizeof(shstrtab));
	/* .text at 0x1000 (file 0x40, 16 bytes), .data at 0x2000, .far at 0x3000 past the end */
	sh[1] = shdr(1, SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, 0x1000, TEXT, 16);
	sh[2] = shdr(7, SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, 0x2000, DATA, 16);
	sh[3] = shdr(13, SHT_SYMTAB, 0, 0, SYMS, NSYMS * sizeof(Elf64_Sym));
	sh[3].sh_link = 4;
	sh[3].sh_info = 1;
	sh[3].sh_entsize = sizeof(Elf64_Sym);
	sh[4] = shdr(21, SHT_STRTAB, 0, 0, STR, sizeof(strtab));
	sh[5] = shdr(29, SHT_STRTAB, 0, 0, SHSTR, sizeof(shstrtab));
	sh[6] = shdr(39, SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, 0x3000, 0x100000, 16);
	/* SSL_write in .data, SSL_write_ex past .text, gnutls_record_send in it, PR_Write in .far
	 */
	sym[1] = (Elf64_Sym){1, ELF64_ST_INFO(STB_GLOBAL, STT_FUNC), 0, 2, 0x2000, 8};
	sym[2] = (Elf64_Sym){11, ELF64_ST_INFO(STB_GLOBAL, STT_FUNC), 0, 1, 0x1010, 8};
	sym[3] = (Elf64_Sym){24, ELF64_ST_INFO(STB_GLOBAL, STT_FUNC), 0, 1, 0x1004, 8};
	sym[4] = (Elf64_Sym){43, ELF64_ST_INFO(STB_GLOBAL, STT_FUNC), 0, 6, 0x3000, 8};
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, f, sizeof(f)), sizeof(f));
	close(fd);
	assert_int_equal(tls_elf_scan(path, &e), 0);
	unlink(path);
	assert_int_equal(e.off[TLS_FN_SSL_WRITE], 0);
	assert_int_equal(e.off[TLS_FN_SSL_WRITE_EX], 0);
	assert_int_equal(e.off[TLS_FN_GNUTLS_SEND], TEXT + 4);
	assert_int_equal(e.off[TLS_FN_PR_WRITE], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_libssl),
	    cmocka_unit_test(test_gnutls),
	    cmocka_unit_test(test_not_tls),
	    cmocka_unit_test(test_crafted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
