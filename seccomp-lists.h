/*
 * seccomp-lists.h - the system calls each confined process may make: the
 * session after login, the pre-login child and the GSSAPI helper.  Only
 * seccomp-gen reads these lists, at build time: it turns them into the
 * BPF programs of seccomp-programs.c, which confine.c installs.
 */
#ifndef POP3_SECCOMP_LISTS_H
#define POP3_SECCOMP_LISTS_H

#include <stddef.h>
#include <stdint.h>

#include <seccomp.h>

/* An argument value that stands for the confined process's own pid, which
 * only that process knows: seccomp-gen marks where it lands in the program,
 * and confine.c writes getpid() there. */
#define SECCOMP_OWN_PID ((scmp_datum_t)UINT32_MAX)

/* A system call allowed (or answered with action) only with one argument
 * in a given shape. */
struct seccomp_narrow_call {
	int call;
	struct scmp_arg_cmp arg;
	uint32_t action;
};

#define SECCOMP_ARG(n, op, a, b) { (n), (op), (a), (b) }

/* A process's allow-list: the calls allowed whatever their arguments, and
 * the narrow ones. */
struct seccomp_allow_list {
	const char *name;		/* seccomp_<name>_program in seccomp-programs.c */
	const int *calls;
	size_t count;
	const struct seccomp_narrow_call *narrow;
	size_t narrow_count;
};

/* The session, the pre-login child, the GSSAPI helper; NULL after the last. */
extern const struct seccomp_allow_list *const seccomp_lists[];

/* What every list allows besides its own: memory that is never executable. */
extern const struct seccomp_allow_list seccomp_common_list;

/* What every list allows in a sanitizer build: AddressSanitizer's leak
 * check at exit. */
extern const struct seccomp_allow_list seccomp_sanitizer_list;

#endif
