/*
 * seccomp-programs.h - the finished BPF programs of the three confined
 * processes' allow-lists, made at build time by seccomp-gen from
 * seccomp-lists.c (into seccomp-programs.c), so that a process loads its
 * filter as it is instead of building it with libseccomp at every session
 * (some 0.25 ms of CPU per filter).
 */
#ifndef POP3_SECCOMP_PROGRAMS_H
#define POP3_SECCOMP_PROGRAMS_H

#include <linux/filter.h>
#include <stddef.h>

/* AddressSanitizer's leak check runs at exit, confined like the rest: it
 * lists the threads in /proc/self/task and reads /proc/self/maps from a
 * thread that ptraces the others.  A sanitizer build's programs allow it
 * that (make check-sanitize then still finds leaks made after login), and
 * confine.c lets it read /proc/self; a production build has none of it. */
#if defined(__SANITIZE_ADDRESS__)
#define CONFINE_FOR_LEAK_CHECK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CONFINE_FOR_LEAK_CHECK 1
#endif
#endif

/* A filter for seccomp(SECCOMP_SET_MODE_FILTER): every call not allowed
 * kills the whole process, as does a call of another architecture. */
struct seccomp_program {
	const struct sock_filter *code;
	unsigned short length;
	/* The instructions that compare an argument with the process's own
	 * pid: their constant must be set to getpid() before loading. */
	const unsigned short *own_pid_at;
	size_t own_pid_count;
};

extern const struct seccomp_program seccomp_session_program;
extern const struct seccomp_program seccomp_prelogin_program;
extern const struct seccomp_program seccomp_gssapi_helper_program;

#endif
