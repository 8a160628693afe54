// SPDX-License-Identifier: GPL-2.0-only
/* Symbol lookup for the TLS uprobes: offsets of the write functions in real binaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <elf.h>
#include <errno.h>
#include <cmocka.h>

#include "monitor/tls_elf.h"

static const char *first_readable(const char *const *paths)
{
	for (; *paths; paths++)
		if (!access(*paths, R_OK))
			return *paths;
	return NULL;
}

/*
 * The file offset of function sym in lib as readelf tells it, independently of tls.c (which
 * reads the section headers with libelf): the symbol's address in the dynamic symbol table,
 * translated through the LOAD segment (program header) that holds it. 0 when sym is absent;
 * the test is skipped without readelf.
 */
static unsigned long long readelf_off(const char *lib, const char *sym)
{
	unsigned long long addr = 0, off, vaddr, filesz, got = 0;
	char cmd[512], line[1024];
	FILE *p;

	if (system("readelf --version >/dev/null 2>&1"))
		skip();
	snprintf(cmd, sizeof(cmd), "readelf -W --dyn-syms '%s'", lib);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		char type[16], ndx[16], name[256], *at;
		unsigned long long v;

		if (sscanf(line, "%*u: %llx %*s %15s %*s %*s %15s %255s", &v, type, ndx, name) != 4)
			continue;
		at = strchr(name, '@'); /* SSL_write@@OPENSSL_3.0.0 */
		if (at)
			*at = '\0';
		if (!strcmp(type, "FUNC") && strcmp(ndx, "UND") && v && !strcmp(name, sym))
			addr = v;
	}
	assert_int_equal(pclose(p), 0);
	if (!addr)
		return 0;
	snprintf(cmd, sizeof(cmd), "readelf -W -l '%s'", lib);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p))
		if (sscanf(line, " LOAD %llx %llx %*x %llx", &off, &vaddr, &filesz) == 3 &&
		    addr >= vaddr && addr < vaddr + filesz)
			got = addr - vaddr + off;
	assert_int_equal(pclose(p), 0);
	assert_true(got != 0);
	return got;
}

/* Every function of fns at exactly readelf's offset, and present. */
static void expect_offsets(const char *lib, const struct tls_elf *e, const enum tls_fn *fns,
			   const char *const *names, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		unsigned long long want = readelf_off(lib, names[i]);

		assert_true(want != 0);
		assert_int_equal(e->off[fns[i]], want);
	}
}

static void test_libssl(void **state)
{
	static const char *const libs[] = {"/usr/lib/x86_64-linux-gnu/libssl.so.3",
					   "/usr/lib/aarch64-linux-gnu/libssl.so.3",
					   "/usr/lib64/libssl.so.3", NULL};
	static const enum tls_fn fns[] = {TLS_FN_SSL_WRITE, TLS_FN_SSL_WRITE_EX, TLS_FN_SSL_FREE};
	static const char *const names[] = {"SSL_write", "SSL_write_ex", "SSL_free"};
	const char *lib = first_readable(libs);
	struct tls_elf e;

	(void)state;
	if (!lib)
		skip();
	assert_int_equal(tls_elf_scan(lib, &e), 0);
	expect_offsets(lib, &e, fns, names, 3);
	assert_int_equal(e.off[TLS_FN_GNUTLS_SEND], 0);
	assert_false(e.is_go);
}

static void test_gnutls(void **state)
{
	static const char *const libs[] = {"/usr/lib/x86_64-linux-gnu/libgnutls.so.30",
					   "/usr/lib/aarch64-linux-gnu/libgnutls.so.30", NULL};
	static const enum tls_fn fns[] = {TLS_FN_GNUTLS_SEND, TLS_FN_GNUTLS_DEINIT};
	static const char *const names[] = {"gnutls_record_send", "gnutls_deinit"};
	const char *lib = first_readable(libs);
	struct tls_elf e;

	(void)state;
	if (!lib)
		skip();
	assert_int_equal(tls_elf_scan(lib, &e), 0);
	expect_offsets(lib, &e, fns, names, 2);
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
	/* not regular files: refused at once, a FIFO is not waited on (--tls-lib) */
	{
		char dir[] = "/tmp/cs_tls_elf_XXXXXX", fifo[64];

		assert_non_null(mkdtemp(dir));
		snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
		assert_int_equal(mkfifo(fifo, 0600), 0);
		assert_int_equal(tls_elf_scan(fifo, &e), -EINVAL);
		assert_int_equal(tls_elf_scan(dir, &e), -EINVAL);
		assert_int_equal(tls_elf_scan("/dev/zero", &e), -EINVAL);
		unlink(fifo);
		rmdir(dir);
	}
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
