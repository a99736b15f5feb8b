/*
 * seccomp-gen.c - the build's generator of seccomp-programs.c: builds each
 * allow-list of seccomp-lists.c with libseccomp, as a binary tree (the
 * fewest instructions per call), every other call and every other
 * architecture killing the whole process, and writes the programs out as
 * C on standard output: once as they are, once for a sanitizer build.
 * It runs on the build machine, so the programs are for its architecture.
 */
#include <errno.h>
#include <limits.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seccomp-lists.h"

/* Two stand-ins for a process's own pid, each above any pid (the kernel's
 * pid_max is at most 2^22): the programs built with each differ exactly in
 * the instructions that compare with the pid. */
#define OWN_PID_STAND_IN_A 0x7ffffff0u
#define OWN_PID_STAND_IN_B 0x7ffffff1u

/* The largest program the kernel loads. */
#define PROGRAM_MAX BPF_MAXINSNS

/* libseccomp's SCMP_ACT_KILL_PROCESS needs API level 4; setting it keeps the
 * programs independent of the build machine's kernel, which libseccomp
 * would otherwise probe. */
#define LIBSECCOMP_API_LEVEL 4

struct program {
	struct sock_filter *code;
	size_t length;
};

/* Reports a failure of step for the named list and exits. */
static _Noreturn void fail(const char *step, const char *name, int error)
{
	fprintf(stderr, "seccomp-gen: %s (%s): %s\n", step, name, strerror(error));
	exit(1);
}

/* Adds list's rules to ctx, own_pid standing for SECCOMP_OWN_PID; a libseccomp error (negative)
 * or 0. */
static int add_list(scmp_filter_ctx ctx, const struct seccomp_allow_list *list, scmp_datum_t own_pid)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < list->count; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, list->calls[i], 0);
	for (size_t i = 0; rc == 0 && i < list->narrow_count; i++) {
		struct scmp_arg_cmp arg = list->narrow[i].arg;

		if (arg.datum_a == SECCOMP_OWN_PID)
			arg.datum_a = own_pid;
		rc = seccomp_rule_add_exact_array(ctx, list->narrow[i].action, list->narrow[i].call, 1, &arg);
	}
	return rc;
}

/* Reads ctx's program back from libseccomp's export; a libseccomp error or errno value
 * (negative), or 0. */
static int export_program(scmp_filter_ctx ctx, struct program *p)
{
	FILE *f = tmpfile();
	long size = 0;
	int rc;

	if (f == NULL)
		return -errno;
	rc = seccomp_export_bpf(ctx, fileno(f));
	if (rc == 0 && (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0))
		rc = -errno;
	if (rc == 0 && (size == 0 || size % (long)sizeof *p->code != 0 || size / (long)sizeof *p->code > PROGRAM_MAX))
		rc = -EPROTO;
	if (rc == 0) {
		p->length = (size_t)size / sizeof *p->code;
		p->code = malloc((size_t)size);
		if (p->code == NULL || fread(p->code, sizeof *p->code, p->length, f) != p->length)
			rc = -EIO;
	}
	fclose(f);
	return rc;
}

/* list's program, with the common rules and (for_leak_check) the sanitizer's, own_pid standing
 * for SECCOMP_OWN_PID; exits on failure. */
static struct program build(const struct seccomp_allow_list *list, bool for_leak_check, scmp_datum_t own_pid)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	struct program p = { NULL, 0 };
	int rc;

	if (ctx == NULL)
		fail("seccomp_init", list->name, ENOMEM);
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (rc == 0)
		rc = add_list(ctx, list, own_pid);
	if (rc == 0)
		rc = add_list(ctx, &seccomp_common_list, own_pid);
	if (rc == 0 && for_leak_check)
		rc = add_list(ctx, &seccomp_sanitizer_list, own_pid);
	if (rc == 0)
		rc = export_program(ctx, &p);
	seccomp_release(ctx);
	if (rc != 0)
		fail("building the program", list->name, -rc);
	return p;
}

/* Stores in at the indexes of the instructions where a and b differ, and returns their count;
 * exits unless they differ only in constants that are a's and b's pid stand-ins. */
static size_t own_pid_sites(const char *name, const struct program *a, const struct program *b, unsigned short *at)
{
	size_t count = 0;

	if (a->length != b->length)
		fail("the pid's place in the program", name, EPROTO);
	for (size_t i = 0; i < a->length; i++) {
		const struct sock_filter *x = &a->code[i], *y = &b->code[i];

		if (memcmp(x, y, sizeof *x) == 0)
			continue;
		if (x->code != y->code || x->jt != y->jt || x->jf != y->jf || x->k != OWN_PID_STAND_IN_A ||
		    y->k != OWN_PID_STAND_IN_B)
			fail("the pid's place in the program", name, EPROTO);
		at[count++] = (unsigned short)i;
	}
	return count;
}

/* Writes list's program as C: its instructions, the places of its pid, and its struct
 * seccomp_program. */
static void print_program(const struct seccomp_allow_list *list, bool for_leak_check)
{
	struct program p = build(list, for_leak_check, OWN_PID_STAND_IN_A);
	struct program q = build(list, for_leak_check, OWN_PID_STAND_IN_B);
	unsigned short at[PROGRAM_MAX];
	size_t sites = own_pid_sites(list->name, &p, &q, at);

	printf("\nstatic const struct sock_filter %s_code[] = {\n", list->name);
	for (size_t i = 0; i < p.length; i++)
		printf("\t{ 0x%04x, %u, %u, 0x%08x },\n", p.code[i].code, p.code[i].jt, p.code[i].jf, p.code[i].k);
	printf("};\n");
	if (sites > 0) {
		printf("static const unsigned short %s_own_pid_at[] = {", list->name);
		for (size_t i = 0; i < sites; i++)
			printf(" %u,", at[i]);
		printf(" };\n");
	}
	printf("const struct seccomp_program seccomp_%s_program = { %s_code, %zu, %s%s, %zu };\n", list->name,
	       list->name, p.length, sites > 0 ? list->name : "NULL", sites > 0 ? "_own_pid_at" : "", sites);
	free(p.code);
	free(q.code);
}

int main(void)
{
	int rc = seccomp_api_set(LIBSECCOMP_API_LEVEL);

	if (rc != 0)
		fail("seccomp_api_set", "libseccomp", -rc);
	printf("/* seccomp-programs.c - made by seccomp-gen from seccomp-lists.c: do not edit. */\n");
	printf("#include \"seccomp-programs.h\"\n\n#ifndef CONFINE_FOR_LEAK_CHECK\n");
	for (size_t i = 0; seccomp_lists[i] != NULL; i++)
		print_program(seccomp_lists[i], false);
	printf("\n#else\n");
	for (size_t i = 0; seccomp_lists[i] != NULL; i++)
		print_program(seccomp_lists[i], true);
	printf("\n#endif\n");
	if (fflush(stdout) != 0 || ferror(stdout))
		fail("writing the programs", "standard output", errno);
	return 0;
}
