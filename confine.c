/*
 * confine.c - the confinement of a session's two stages: no new
 * privileges, Landlock on the file system (and on TCP and signals), and a
 * seccomp allow-list.  A bug in the protocol or Maildir code then reaches
 * no file outside the user's Maildir (before login: no file at all) and no
 * system call the stage never makes.
 */
#include "confine.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* AddressSanitizer's leak check runs at exit, confined like the rest: it
 * lists the threads in /proc/self/task and reads /proc/self/maps from a
 * thread that ptraces the others.  A sanitizer build allows it that
 * (make check-sanitize then still finds leaks made after login); a
 * production build has none of it. */
#if defined(__SANITIZE_ADDRESS__)
#define CONFINE_FOR_LEAK_CHECK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CONFINE_FOR_LEAK_CHECK 1
#endif
#endif

/* Debian 12's kernel headers (Linux 6.1) stop at Landlock ABI 2; these
 * values are the kernel's stable ABI since the versions named. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)	/* ABI 3, Linux 6.2 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)	/* ABI 5, Linux 6.10 */
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)	/* ABI 4, Linux 6.7 */
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)	/* ABI 6, Linux 6.12 */
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

/* struct landlock_ruleset_attr as of ABI 6: the installed header may lack
 * the later fields.  The kernel takes a larger struct than it knows as
 * long as the fields it does not know are zero. */
struct ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;	/* ABI 4 */
	uint64_t scoped;		/* ABI 6 */
};

/* The file system rights each Landlock ABI version added, by version. */
static const uint64_t fs_rights_added[] = {
	0,
	(LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1,	/* 1: EXECUTE to MAKE_SYM */
	LANDLOCK_ACCESS_FS_REFER,		/* 2 */
	LANDLOCK_ACCESS_FS_TRUNCATE,		/* 3 */
	0,					/* 4: TCP rights only */
	LANDLOCK_ACCESS_FS_IOCTL_DEV,		/* 5 */
};
#define FS_RIGHTS_KNOWN (sizeof fs_rights_added / sizeof *fs_rights_added)

/* What a session does beneath its Maildir: read messages and directories;
 * write the UID list (created, truncated, renamed over) and its lock file;
 * rename messages from new/ to cur/ (REFER: across directories) and to
 * new flags; remove messages.  Not: execute, make directories, devices,
 * FIFOs, sockets or symbolic links, remove directories. */
#define MAILDIR_RIGHTS (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR | \
			LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG | \
			LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_REFER | \
			LANDLOCK_ACCESS_FS_TRUNCATE)

/* ABI 1 refuses every rename and link between directories, which moving
 * new/ to cur/ needs: below ABI 2 the kernel lacks what a session needs.
 * Before login no file is reached at all, which ABI 1 can enforce. */
#define LANDLOCK_ABI_MAILDIR 2
#define LANDLOCK_ABI_NO_FILES 1
#define LANDLOCK_ABI_NET 4
#define LANDLOCK_ABI_SCOPE 6

/* The file system rights Landlock ABI abi knows. */
static uint64_t fs_rights_of_abi(long abi)
{
	uint64_t rights = 0;

	for (long v = 1; v <= abi && v < (long)FS_RIGHTS_KNOWN; v++)
		rights |= fs_rights_added[v];
	return rights;
}

/* Allows rights beneath the directory at path; false with errno set when
 * the rule cannot be added. */
static bool allow_beneath(int ruleset, const char *path, uint64_t rights)
{
	struct landlock_path_beneath_attr beneath = { .allowed_access = rights };
	bool ok;

	beneath.parent_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	/* A Maildir that cannot be opened gets no rule, so no file at all
	 * stays reachable: the snapshot that follows meets the same trouble
	 * and reports it. */
	if (beneath.parent_fd < 0)
		return true;
	ok = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0) == 0;
	if (close(beneath.parent_fd) != 0)
		ok = false;
	return ok;
}

/* Fills a ruleset that handles the file system rights handled (allowing nothing when maildir
 * is NULL), and enforces it; false with errno set. */
static bool enforce_ruleset(int ruleset, const char *maildir, uint64_t handled)
{
	bool ok = maildir == NULL || allow_beneath(ruleset, maildir, MAILDIR_RIGHTS & handled);

#ifdef CONFINE_FOR_LEAK_CHECK
	ok = ok && allow_beneath(ruleset, "/proc/self", LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR);
#endif
	return ok && syscall(SYS_landlock_restrict_self, ruleset, 0) == 0;
}

/* Restricts file access to beneath maildir (to nothing when NULL), forbids TCP and signals to
 * processes outside this one; false with errno set on failure, true with CONFINE_NO_LANDLOCK
 * added to *missing when the kernel lacks Landlock (or the ABI version a Maildir needs). */
static bool restrict_files(const char *maildir, unsigned *missing)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	long abi_min = maildir != NULL ? LANDLOCK_ABI_MAILDIR : LANDLOCK_ABI_NO_FILES;
	struct ruleset_attr attr = { 0 };
	int ruleset, saved;
	bool ok;

	if ((abi < 0 && (errno == ENOSYS || errno == EOPNOTSUPP)) || (abi >= 0 && abi < abi_min)) {
		*missing |= CONFINE_NO_LANDLOCK;
		return true;
	}
	if (abi < 0)
		return false;
	attr.handled_access_fs = fs_rights_of_abi(abi);
	if (abi >= LANDLOCK_ABI_NET)
		attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
	if (abi >= LANDLOCK_ABI_SCOPE)
		attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
	if (ruleset < 0)
		return false;
	ok = enforce_ruleset(ruleset, maildir, attr.handled_access_fs);
	saved = errno;
	if (close(ruleset) != 0 && ok)
		return false;
	errno = saved;
	return ok;
}

/* The system calls the TRANSACTION state makes, whatever their arguments:
 * what every session of the test suite made once confined (strace -f, in
 * the normal, the sanitizer and the libfaketime runs) and a session on
 * 30,000 messages, plus the few that the comments justify. */
static const int session_calls[] = {
	/* The client: commands in, replies out. */
	SCMP_SYS(read), SCMP_SYS(write),
	/* The Maildir, through its directory fd (Landlock keeps it there):
	 * scans, messages, the UID list and its lock, new/ to cur/ (renameat
	 * where RENAME_NOREPLACE is not supported), flags, removals; on a
	 * shared file system, the list linked under its checksum name and the
	 * lock file's record read past this host's caches (shared-fs.c: its
	 * type, a truncation to its own size). */
	SCMP_SYS(openat), SCMP_SYS(close), SCMP_SYS(newfstatat), SCMP_SYS(getdents64), SCMP_SYS(lseek),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(renameat), SCMP_SYS(renameat2), SCMP_SYS(linkat),
	SCMP_SYS(unlinkat), SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(fstatfs), SCMP_SYS(ftruncate),
	/* Memory: malloc, and realloc of the large snapshot arrays; the
	 * stack's dead pages found (mincore) and given back (madvise, below). */
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(mincore),
	/* The inactivity timer and its SIGALRM; the UID list lock's waits,
	 * which the kernel resumes with restart_syscall after a stop. */
	SCMP_SYS(setitimer), SCMP_SYS(rt_sigreturn), SCMP_SYS(clock_nanosleep), SCMP_SYS(restart_syscall),
	/* Clocks: the vDSO answers without a system call, except where the
	 * clock source cannot be read from user space. */
	SCMP_SYS(clock_gettime), SCMP_SYS(time),
	/* Logging: the process id in every line, syslog's datagrams and its
	 * reconnection to /dev/log (socket is below). */
	SCMP_SYS(getpid), SCMP_SYS(connect), SCMP_SYS(sendto),
	/* glibc's qsort sizes its buffer by the memory installed. */
	SCMP_SYS(sysinfo),
	/* A first session reads many message files with one thread per CPU
	 * of its affinity (maildir-size.c): the threads' creation, stacks (with a
	 * guard page, given back at their end), joining and exit; glibc sets
	 * up its signal for set*id() calls at the first thread. */
	SCMP_SYS(sched_getaffinity), SCMP_SYS(clone3), SCMP_SYS(clone), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction),
	SCMP_SYS(mprotect), SCMP_SYS(madvise), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
	SCMP_SYS(futex), SCMP_SYS(exit),
	/* The end. */
	SCMP_SYS(exit_group),
};

/* The system calls of the pre-login child (privsep.c), whatever their
 * arguments: what its sessions in the test suite made once jailed (strace
 * -f: greetings, USER and PASS, AUTH PLAIN, NTLM and GSSAPI relayed,
 * overlong lines, the autologout), plus what the comments justify. */
static const int prelogin_calls[] = {
	/* The client; the requests to the parent and its answers on the
	 * socket pair (recv and its peeks are recvfrom). */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(sendmsg), SCMP_SYS(recvmsg), SCMP_SYS(recvfrom),
	/* The inactivity timer and its SIGALRM. */
	SCMP_SYS(setitimer), SCMP_SYS(rt_sigreturn), SCMP_SYS(restart_syscall),
	/* Logging: the process id and the time in every line, syslog's
	 * datagrams on the connection opened before the jail, and its close
	 * when the daemon went away (the reconnection's socket() fails, see
	 * below: the jail has no /dev/log to reach anyway). */
	SCMP_SYS(getpid), SCMP_SYS(clock_gettime), SCMP_SYS(time), SCMP_SYS(sendto), SCMP_SYS(close),
	/* Memory: glibc's syslog formats into a memory stream. */
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap),
	/* abort() blocks signals and raises SIGABRT at itself (kill and
	 * tgkill are allowed only with its own pid, below). */
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(gettid),
	/* The end. */
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

#ifdef CONFINE_FOR_LEAK_CHECK
/* AddressSanitizer's own calls in make check-sanitize (strace -f, and
 * SCMP_ACT_LOG for the leak check, which cannot run under strace), beyond
 * the thread and memory calls the list above has already: the leak check
 * at exit clones a tracer thread that stops the others with ptrace and
 * reads /proc/self with open and getdents, with its signal calls around.
 * Under ASan glibc's own malloc is first used by malloc_trim (mailbox.c),
 * after confinement, and seeds its tcache key with getrandom then. */
static const int sanitizer_calls[] = {
	SCMP_SYS(sched_yield), SCMP_SYS(wait4), SCMP_SYS(ptrace), SCMP_SYS(prctl),
	SCMP_SYS(getppid), SCMP_SYS(gettid), SCMP_SYS(sigaltstack), SCMP_SYS(open), SCMP_SYS(getdents),
	SCMP_SYS(getrandom),
};
#endif

static const struct confine_narrow_call session_narrow_calls[] = {
	/* syslog's reconnection: only local sockets. */
	{ SCMP_SYS(socket), CONFINE_ARG(0, SCMP_CMP_EQ, AF_UNIX, 0) },
	/* fdopendir checks the access mode and sets close-on-exec; the UID
	 * list lock. */
	{ SCMP_SYS(fcntl), CONFINE_ARG(1, SCMP_CMP_EQ, F_GETFL, 0) },
	{ SCMP_SYS(fcntl), CONFINE_ARG(1, SCMP_CMP_EQ, F_SETFD, 0) },
	{ SCMP_SYS(fcntl), CONFINE_ARG(1, SCMP_CMP_EQ, F_OFD_SETLK, 0) },
	/* A directory stream of its own for new/ or cur/ (maildir.c). */
	{ SCMP_SYS(fcntl), CONFINE_ARG(1, SCMP_CMP_EQ, F_DUPFD_CLOEXEC, 0) },
};

#define COUNT(a) (sizeof (a) / sizeof *(a))

static const struct confine_allow_list session_list = {
	session_calls, COUNT(session_calls), session_narrow_calls, COUNT(session_narrow_calls)
};
static const struct confine_allow_list prelogin_list = { prelogin_calls, COUNT(prelogin_calls), NULL, 0 };

/* What every allow-list has: malloc's memory, never executable. */
static const struct scmp_arg_cmp not_executable = CONFINE_ARG(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);

/* Allows each of count calls whatever their arguments; a libseccomp error (negative) or 0. */
static int allow_calls(scmp_filter_ctx ctx, const int *calls, size_t count)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < count; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0);
	return rc;
}

/* Adds every rule of list, and the one of every list, to ctx; a libseccomp error (negative) or
 * 0. */
static int add_allowed_calls(scmp_filter_ctx ctx, const struct confine_allow_list *list)
{
	int rc = allow_calls(ctx, list->calls, list->count);

	if (rc == 0)
		rc = seccomp_rule_add_exact_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, &not_executable);
#ifdef CONFINE_FOR_LEAK_CHECK
	if (rc == 0)
		rc = allow_calls(ctx, sanitizer_calls, COUNT(sanitizer_calls));
#endif
	for (size_t i = 0; rc == 0 && i < list->narrow_count; i++)
		rc = seccomp_rule_add_exact_array(ctx, SCMP_ACT_ALLOW, list->narrow[i].call, 1, &list->narrow[i].arg);
	return rc;
}

/* The pre-login child's rules that depend on the moment: signals only to itself (its pid
 * known only now), and socket() failing with EACCES rather than killing, so that syslog's
 * reconnection after a daemon restart fails as it would in the jail; a libseccomp error
 * (negative) or 0. */
static int add_prelogin_rules(scmp_filter_ctx ctx)
{
	const struct scmp_arg_cmp to_self = CONFINE_ARG(0, SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0);
	const struct scmp_arg_cmp local = CONFINE_ARG(0, SCMP_CMP_EQ, AF_UNIX, 0);
	int rc = seccomp_rule_add_exact_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1, &to_self);

	if (rc == 0)
		rc = seccomp_rule_add_exact_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1, &to_self);
	if (rc == 0)
		rc = seccomp_rule_add_exact_array(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1, &local);
	return rc;
}

/* Tells whether the kernel has seccomp filters that can kill the whole process (Linux 4.14 and
 * later). */
static bool seccomp_can_kill_process(void)
{
	uint32_t action = SECCOMP_RET_KILL_PROCESS;

	return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

/* confine_system_calls, with the rules add_more adds (unless NULL) besides list's. */
static bool restrict_calls(const struct confine_allow_list *list, int (*add_more)(scmp_filter_ctx), unsigned *missing)
{
	scmp_filter_ctx ctx;
	int rc;

	if (!seccomp_can_kill_process()) {
		if (errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
			return false;
		*missing |= CONFINE_NO_SECCOMP;
		return true;
	}
	/* Any call not on the list kills the whole process at once: no
	 * later code runs in a state the tests never saw. */
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL) {
		errno = ENOMEM;
		return false;
	}
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (rc == 0)
		rc = add_allowed_calls(ctx, list);
	if (rc == 0 && add_more != NULL)
		rc = add_more(ctx);
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0)
		errno = -rc;
	return rc == 0;
}

/* Sets no-new-privileges: Landlock requires it of an unprivileged process, and no exec'd
 * program could gain privileges anyway; false with errno set. */
static bool forbid_new_privileges(unsigned *missing)
{
	*missing = 0;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0;
}

bool confine_system_calls(const struct confine_allow_list *list, unsigned *missing)
{
	return restrict_calls(list, NULL, missing);
}

bool confine_session(const char *maildir, unsigned *missing)
{
	return forbid_new_privileges(missing) && restrict_files(maildir, missing) &&
	       restrict_calls(&session_list, NULL, missing);
}

bool confine_prelogin(unsigned *missing)
{
	return forbid_new_privileges(missing) && restrict_files(NULL, missing) &&
	       restrict_calls(&prelogin_list, add_prelogin_rules, missing);
}
