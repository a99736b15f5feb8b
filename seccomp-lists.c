/*
 * seccomp-lists.c - the allow-lists of the three confined processes, each
 * call with the reason it is there.  Any call not on its process's list
 * kills the whole process at once: no later code runs in a state the tests
 * never saw.
 */
#include "seccomp-lists.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#define COUNT(a) (sizeof (a) / sizeof *(a))

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

static const struct seccomp_narrow_call session_narrow[] = {
	/* syslog's reconnection: only local sockets. */
	{ SCMP_SYS(socket), SECCOMP_ARG(0, SCMP_CMP_EQ, AF_UNIX, 0), SCMP_ACT_ALLOW },
	/* fdopendir checks the access mode and sets close-on-exec; the UID
	 * list lock. */
	{ SCMP_SYS(fcntl), SECCOMP_ARG(1, SCMP_CMP_EQ, F_GETFL, 0), SCMP_ACT_ALLOW },
	{ SCMP_SYS(fcntl), SECCOMP_ARG(1, SCMP_CMP_EQ, F_SETFD, 0), SCMP_ACT_ALLOW },
	{ SCMP_SYS(fcntl), SECCOMP_ARG(1, SCMP_CMP_EQ, F_OFD_SETLK, 0), SCMP_ACT_ALLOW },
	/* A directory stream of its own for new/ or cur/ (maildir.c). */
	{ SCMP_SYS(fcntl), SECCOMP_ARG(1, SCMP_CMP_EQ, F_DUPFD_CLOEXEC, 0), SCMP_ACT_ALLOW },
};

static const struct seccomp_allow_list session_list = {
	"session", session_calls, COUNT(session_calls), session_narrow, COUNT(session_narrow)
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

static const struct seccomp_narrow_call prelogin_narrow[] = {
	/* abort(): SIGABRT to itself only. */
	{ SCMP_SYS(kill), SECCOMP_ARG(0, SCMP_CMP_EQ, SECCOMP_OWN_PID, 0), SCMP_ACT_ALLOW },
	{ SCMP_SYS(tgkill), SECCOMP_ARG(0, SCMP_CMP_EQ, SECCOMP_OWN_PID, 0), SCMP_ACT_ALLOW },
	/* syslog's reconnection after a daemon restart fails as it would in
	 * the jail, rather than killing the child. */
	{ SCMP_SYS(socket), SECCOMP_ARG(0, SCMP_CMP_EQ, AF_UNIX, 0), SCMP_ACT_ERRNO(EACCES) },
};

static const struct seccomp_allow_list prelogin_list = {
	"prelogin", prelogin_calls, COUNT(prelogin_calls), prelogin_narrow, COUNT(prelogin_narrow)
};

/* The system calls the helper makes once confined, whatever their arguments: what
 * gss_accept_sec_context, gss_wrap and gss_unwrap made with a MEMORY: keytab in the test
 * suite's exchanges (strace -f), and the channel.  MIT's replay cache (file2, the default:
 * KRB5RCACHEDIR or /var/tmp, krb5_<euid>.rcache2) is opened by name, locked, read and
 * appended to at every context accepted, so opening files stays allowed: opening it before
 * the filter would not do, as libkrb5 opens it anew each time.  What the helper can open is
 * bounded by its user (privsep_user, which owns nothing; the pre-login children that share it
 * are chrooted to an empty directory, and neither can ptrace the other: a process that
 * changed its ids is not dumpable).  krb5.conf was read before the filter; libkrb5 checks it
 * for changes (access, stat) and reads it again only when it changed. */
static const int helper_allowed[] = {
	/* The channel; logging (syslog's datagrams, or standard error in
	 * tests, and the process id). */
	SCMP_SYS(recvfrom), SCMP_SYS(sendmsg), SCMP_SYS(sendto), SCMP_SYS(connect), SCMP_SYS(write),
	SCMP_SYS(getpid),
	/* The replay cache and krb5.conf; the cache's name holds the euid. */
	SCMP_SYS(openat), SCMP_SYS(close), SCMP_SYS(read), SCMP_SYS(lseek), SCMP_SYS(newfstatat),
	SCMP_SYS(access), SCMP_SYS(faccessat), SCMP_SYS(geteuid),
	/* Memory; clocks where the vDSO cannot answer; random sequence
	 * numbers and subkeys. */
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(clock_gettime), SCMP_SYS(getrandom),
	SCMP_SYS(exit_group),
};

static const struct seccomp_narrow_call helper_narrow[] = {
	/* syslog's reconnection: only local sockets. */
	{ SCMP_SYS(socket), SECCOMP_ARG(0, SCMP_CMP_EQ, AF_UNIX, 0), SCMP_ACT_ALLOW },
	/* The replay cache's lock (k5_file_lock: open file description
	 * locks, and process locks where the kernel lacks them) and its
	 * close-on-exec. */
	{ SCMP_SYS(fcntl), SECCOMP_ARG(1, SCMP_CMP_EQ, F_OFD_SETLKW, 0), SCMP_ACT_ALLOW },
	{ SCMP_SYS(fcntl), SECCOMP_ARG(1, SCMP_CMP_EQ, F_OFD_SETLK, 0), SCMP_ACT_ALLOW },
	{ SCMP_SYS(fcntl), SECCOMP_ARG(1, SCMP_CMP_EQ, F_SETLKW, 0), SCMP_ACT_ALLOW },
	{ SCMP_SYS(fcntl), SECCOMP_ARG(1, SCMP_CMP_EQ, F_SETLK, 0), SCMP_ACT_ALLOW },
	{ SCMP_SYS(fcntl), SECCOMP_ARG(1, SCMP_CMP_EQ, F_SETFD, 0), SCMP_ACT_ALLOW },
};

static const struct seccomp_allow_list gssapi_helper_list = {
	"gssapi_helper", helper_allowed, COUNT(helper_allowed), helper_narrow, COUNT(helper_narrow)
};

const struct seccomp_allow_list *const seccomp_lists[] = { &session_list, &prelogin_list, &gssapi_helper_list, NULL };

/* malloc's memory, and the threads' stacks, are never executable. */
static const struct seccomp_narrow_call common_narrow[] = {
	{ SCMP_SYS(mmap), SECCOMP_ARG(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0), SCMP_ACT_ALLOW },
};

const struct seccomp_allow_list seccomp_common_list = { "common", NULL, 0, common_narrow, COUNT(common_narrow) };

/* AddressSanitizer's own calls in make check-sanitize (strace -f, and
 * SCMP_ACT_LOG for the leak check, which cannot run under strace), beyond
 * the thread and memory calls the session's list has already: the leak
 * check at exit clones a tracer thread that stops the others with ptrace
 * and reads /proc/self with open and getdents, with its signal calls
 * around.  Under ASan glibc's own malloc is first used by malloc_trim
 * (mailbox.c), after confinement, and seeds its tcache key with getrandom
 * then. */
static const int sanitizer_calls[] = {
	SCMP_SYS(sched_yield), SCMP_SYS(wait4), SCMP_SYS(ptrace), SCMP_SYS(prctl),
	SCMP_SYS(getppid), SCMP_SYS(gettid), SCMP_SYS(sigaltstack), SCMP_SYS(open), SCMP_SYS(getdents),
	SCMP_SYS(getrandom),
};

const struct seccomp_allow_list seccomp_sanitizer_list = {
	"sanitizer", sanitizer_calls, COUNT(sanitizer_calls), NULL, 0
};
