/*
 * test-confine.c - confine_session() as a session uses it, and
 * confine_prelogin() as the jailed pre-login child does: each check runs
 * in a child that confines itself (to a scratch Maildir) and then tries one
 * thing the stage does (which must work) or never does (which must fail
 * with EACCES or EPERM, or kill the child with SIGSYS).  Checks of a step
 * the kernel lacks are reported as skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/landlock.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "confine.h"
#include "unit.h"

/* Exit statuses of a child, beside 0 and the errno values of its attempt. */
#define CHILD_NO_LANDLOCK 250		/* skip: the kernel lacks Landlock */
#define CHILD_NO_SECCOMP 251		/* skip: the kernel lacks seccomp filters */
#define CHILD_SETUP_FAILED 252		/* the check's own preparation failed */
#define CHILD_WRONG_MISSING 253		/* confine_session reported other missing steps */
#define CONFINE_FAILED(e) (128 + (e))	/* confine_session failed with errno e */

/* An outcome: a child's exit status, or minus the signal that killed it. */
#define KILLED_BY(signo) (-(signo))

/* Landlock allows at most this many stacked rulesets (LANDLOCK_MAX_NUM_LAYERS). */
#define LANDLOCK_LAYERS_MAX 16

static char root[] = "/tmp/test-confine.XXXXXX";
static char maildir[sizeof root + 16];
/* The scratch directory; children reach every file through it, as a
 * session reaches its Maildir through a directory fd. */
static int root_fd = -1;
/* A socket pair like the pre-login child's channel to its parent. */
static int pair[2] = { -1, -1 };

/* The result of a system call as a child's exit status: 0, or its errno. */
static int result(long rc)
{
	return rc < 0 ? errno : 0;
}

/* --- what a confined child tries --- */

static int read_message(void)
{
	char buf[16];
	int fd = openat(root_fd, "Maildir/cur/read-me:2,", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	return read(fd, buf, sizeof buf) == 5 && close(fd) == 0 ? 0 : EIO;
}

static int create_in_tmp(void)
{
	int fd = openat(root_fd, "Maildir/tmp/list.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return errno;
	return write(fd, "list\n", 5) == 5 && close(fd) == 0 ? 0 : EIO;
}

static int move_new_to_cur(void)
{
	return result(renameat2(root_fd, "Maildir/new/move-me", root_fd, "Maildir/cur/move-me:2,", RENAME_NOREPLACE));
}

static int remove_message(void)
{
	return result(unlinkat(root_fd, "Maildir/cur/remove-me:2,", 0));
}

static int read_outside(void)
{
	int fd = openat(root_fd, "outside", O_RDONLY | O_CLOEXEC);

	return fd < 0 ? errno : 0;
}

static int create_outside(void)
{
	int fd = openat(root_fd, "planted", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	return fd < 0 ? errno : result(close(fd));
}

static int make_directory(void)
{
	return result(mkdirat(root_fd, "Maildir/sub", 0700));
}

static int unix_socket(void)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	return fd < 0 ? errno : result(close(fd));
}

static int inet_socket(void)
{
	return result(socket(AF_INET, SOCK_STREAM, 0));
}

static int become_root(void)
{
	return result(setuid(0));
}

static int run_program(void)
{
	char *const argv[] = { "true", NULL };

	return result(execve("/bin/true", argv, environ));
}

static int executable_memory(void)
{
	return mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? errno : 0;
}

static int set_file_flags(void)
{
	return result(fcntl(STDIN_FILENO, F_SETFL, 0));
}

/* --- what a confined pre-login child tries --- */

/* Landlock ABI versions that added what the pre-login checks below need. */
#define LANDLOCK_ABI_NET 4
#define LANDLOCK_ABI_SCOPE 6

/* CHILD_NO_LANDLOCK unless the kernel has Landlock ABI abi, else 0. */
static int need_landlock_abi(long abi)
{
	return syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) >= abi ? 0 :
	       CHILD_NO_LANDLOCK;
}

/* A request and its answer on the channel, as the child and the parent exchange them. */
static int channel_round_trip(void)
{
	char msg[] = "LOGN", got[sizeof msg];
	struct iovec iov = { msg, sizeof msg };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (sendmsg(pair[0], &mh, 0) != (ssize_t)sizeof msg || recv(pair[1], got, sizeof got, 0) != (ssize_t)sizeof got)
		return errno != 0 ? errno : EIO;
	iov.iov_base = got;
	return recvmsg(pair[0], &mh, MSG_DONTWAIT) < 0 && errno == EAGAIN ? 0 : EIO;
}

static int arm_timer(void)
{
	struct itimerval it = { { 0, 0 }, { 60, 0 } };

	return result(setitimer(ITIMER_REAL, &it, NULL));
}

static int signal_itself(void)
{
	return result(kill(getpid(), 0));
}

/* Signal 0 to the test itself: a pre-login child of one client reaching another's. */
static int signal_another(void)
{
	return result(kill(getppid(), 0));
}

static int signal_another_by_landlock(void)
{
	return need_landlock_abi(LANDLOCK_ABI_SCOPE) ? CHILD_NO_LANDLOCK : signal_another();
}

/* A TCP connection to 127.0.0.1's port 1 (nothing listens: ECONNREFUSED when allowed). */
static int connect_tcp(void)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(1) };
	int fd, rc;

	if (need_landlock_abi(LANDLOCK_ABI_NET))
		return CHILD_NO_LANDLOCK;
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return CHILD_SETUP_FAILED;
	rc = result(connect(fd, (struct sockaddr *)&to, sizeof to));
	return close(fd) == 0 ? rc : EIO;
}

/* --- kernels that lack a step, and a step that fails --- */

/* Makes one system call answer ENOSYS, as a kernel without it does; 0 or a child exit status. */
static int answer_enosys(int call)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int rc;

	if (ctx == NULL)
		return CHILD_SETUP_FAILED;
	rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), call, 0);
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc == -ENOSYS || rc == -EINVAL)
		return CHILD_NO_SECCOMP;
	return rc == 0 ? 0 : CHILD_SETUP_FAILED;
}

static int without_landlock(void)
{
	return answer_enosys(SCMP_SYS(landlock_create_ruleset));
}

static int without_seccomp(void)
{
	return answer_enosys(SCMP_SYS(seccomp));
}

/* Stacks as many Landlock rulesets as the kernel allows, each forbidding
 * only character devices, so that the session's own cannot be added. */
static int landlock_layers_full(void)
{
	uint64_t handled = LANDLOCK_ACCESS_FS_MAKE_CHAR;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return CHILD_SETUP_FAILED;
	for (int i = 0; i < LANDLOCK_LAYERS_MAX; i++) {
		int fd = (int)syscall(SYS_landlock_create_ruleset, &handled, sizeof handled, 0);

		if (fd < 0)
			return errno == ENOSYS || errno == EOPNOTSUPP ? CHILD_NO_LANDLOCK : CHILD_SETUP_FAILED;
		if (syscall(SYS_landlock_restrict_self, fd, 0) != 0 || close(fd) != 0)
			return CHILD_SETUP_FAILED;
	}
	return 0;
}

/* --- the checks --- */

struct check {
	const char *what;
	bool prelogin;		/* confine_prelogin(), else confine_session() */
	int (*prepare)(void);	/* before confining: 0, or a child exit status */
	unsigned emulated;	/* the CONFINE_NO_* bits prepare makes true */
	unsigned needs;		/* the steps the check proves: skipped when the kernel lacks them */
	int (*attempt)(void);	/* after confining: 0 or an errno value */
	int expected;		/* outcome: 0, an errno value, CONFINE_FAILED(e) or KILLED_BY(signal) */
};

#define BOTH (CONFINE_NO_LANDLOCK | CONFINE_NO_SECCOMP)

static const struct check checks[] = {
	{ "reads a message beneath the Maildir", false, NULL, 0, BOTH, read_message, 0 },
	{ "creates and writes a file in tmp/", false, NULL, 0, BOTH, create_in_tmp, 0 },
	{ "renames a message from new/ to cur/", false, NULL, 0, BOTH, move_new_to_cur, 0 },
	{ "removes a message", false, NULL, 0, BOTH, remove_message, 0 },
	{ "opens a Unix socket (syslog's reconnection)", false, NULL, 0, BOTH, unix_socket, 0 },
	{ "cannot open a file outside the Maildir: EACCES", false, NULL, 0, CONFINE_NO_LANDLOCK, read_outside, EACCES },
	{ "cannot create a file outside the Maildir: EACCES", false, NULL, 0, CONFINE_NO_LANDLOCK, create_outside, EACCES },
	{ "mkdir kills the process with SIGSYS", false, NULL, 0, CONFINE_NO_SECCOMP, make_directory, KILLED_BY(SIGSYS) },
	{ "socket(AF_INET) kills the process with SIGSYS", false, NULL, 0, CONFINE_NO_SECCOMP, inet_socket,
	  KILLED_BY(SIGSYS) },
	{ "setuid kills the process with SIGSYS", false, NULL, 0, CONFINE_NO_SECCOMP, become_root, KILLED_BY(SIGSYS) },
	{ "execve kills the process with SIGSYS", false, NULL, 0, CONFINE_NO_SECCOMP, run_program, KILLED_BY(SIGSYS) },
	{ "executable memory kills the process with SIGSYS", false, NULL, 0, CONFINE_NO_SECCOMP, executable_memory,
	  KILLED_BY(SIGSYS) },
	{ "fcntl(F_SETFL) kills the process with SIGSYS", false, NULL, 0, CONFINE_NO_SECCOMP, set_file_flags,
	  KILLED_BY(SIGSYS) },
	{ "without Landlock (landlock_create_ruleset answers ENOSYS): files stay reachable", false, without_landlock,
	  CONFINE_NO_LANDLOCK, CONFINE_NO_SECCOMP, read_outside, 0 },
	{ "without Landlock (landlock_create_ruleset answers ENOSYS): seccomp still kills", false, without_landlock,
	  CONFINE_NO_LANDLOCK, CONFINE_NO_SECCOMP, inet_socket, KILLED_BY(SIGSYS) },
	{ "without seccomp (seccomp answers ENOSYS): system calls stay allowed", false, without_seccomp,
	  CONFINE_NO_SECCOMP, CONFINE_NO_LANDLOCK, inet_socket, 0 },
	{ "without seccomp (seccomp answers ENOSYS): Landlock still refuses: EACCES", false, without_seccomp,
	  CONFINE_NO_SECCOMP, CONFINE_NO_LANDLOCK, read_outside, EACCES },
	{ "without seccomp (seccomp answers ENOSYS): Landlock refuses mkdir beneath the Maildir: EACCES", false,
	  without_seccomp, CONFINE_NO_SECCOMP, CONFINE_NO_LANDLOCK, make_directory, EACCES },
	{ "a step that fails (Landlock layers full) fails confine_session with E2BIG", false, landlock_layers_full,
	  0, CONFINE_NO_LANDLOCK, NULL, CONFINE_FAILED(E2BIG) },
	/* Before login: the channel, the timer, signals to itself; no file, no TCP, no signal to others. */
	{ "pre-login: a request and its answer on the socket pair", true, NULL, 0, BOTH, channel_round_trip, 0 },
	{ "pre-login: arms the inactivity timer", true, NULL, 0, BOTH, arm_timer, 0 },
	{ "pre-login: signals itself", true, NULL, 0, BOTH, signal_itself, 0 },
	{ "pre-login: socket(AF_UNIX) (syslog's reconnection) fails: EACCES", true, NULL, 0, CONFINE_NO_SECCOMP,
	  unix_socket, EACCES },
	{ "pre-login: opening any file kills the process with SIGSYS", true, NULL, 0, CONFINE_NO_SECCOMP, read_message,
	  KILLED_BY(SIGSYS) },
	{ "pre-login: socket(AF_INET) kills the process with SIGSYS", true, NULL, 0, CONFINE_NO_SECCOMP, inet_socket,
	  KILLED_BY(SIGSYS) },
	{ "pre-login: a signal to another process kills with SIGSYS", true, NULL, 0, CONFINE_NO_SECCOMP,
	  signal_another, KILLED_BY(SIGSYS) },
	{ "pre-login: setuid kills the process with SIGSYS", true, NULL, 0, CONFINE_NO_SECCOMP, become_root,
	  KILLED_BY(SIGSYS) },
	{ "pre-login: execve kills the process with SIGSYS", true, NULL, 0, CONFINE_NO_SECCOMP, run_program,
	  KILLED_BY(SIGSYS) },
	{ "pre-login: executable memory kills the process with SIGSYS", true, NULL, 0, CONFINE_NO_SECCOMP,
	  executable_memory, KILLED_BY(SIGSYS) },
	{ "pre-login without seccomp: Landlock refuses every file: EACCES", true, without_seccomp, CONFINE_NO_SECCOMP,
	  CONFINE_NO_LANDLOCK, read_message, EACCES },
	{ "pre-login without seccomp: Landlock refuses a TCP connection (ABI 4): EACCES", true, without_seccomp,
	  CONFINE_NO_SECCOMP, CONFINE_NO_LANDLOCK, connect_tcp, EACCES },
	{ "pre-login without seccomp: Landlock refuses a signal to another process (ABI 6): EPERM", true,
	  without_seccomp, CONFINE_NO_SECCOMP, CONFINE_NO_LANDLOCK, signal_another_by_landlock, EPERM },
};

/* The child's side of a check; returns its exit status. */
static int confined_attempt(const struct check *c)
{
	struct rlimit no_core = { 0, 0 };
	unsigned missing;
	int prepared;

	/* A check that expects SIGSYS must not leave a core file behind. */
	if (setrlimit(RLIMIT_CORE, &no_core) != 0)
		return CHILD_SETUP_FAILED;
	prepared = c->prepare != NULL ? c->prepare() : 0;
	if (prepared != 0)
		return prepared;
	if (!(c->prelogin ? confine_prelogin(&missing) : confine_session(maildir, &missing)))
		return CONFINE_FAILED(errno);
	if (missing & c->needs)
		return missing & c->needs & CONFINE_NO_LANDLOCK ? CHILD_NO_LANDLOCK : CHILD_NO_SECCOMP;
	if (missing != c->emulated)
		return CHILD_WRONG_MISSING;
	return c->attempt();
}

/* Runs a check in a child; returns its outcome. */
static int outcome_of(const struct check *c)
{
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		unit_bail("fork: %s", strerror(errno));
	if (pid == 0)
		_exit(confined_attempt(c));	/* _exit: no exit handlers in a confined process */
	if (waitpid(pid, &status, 0) != pid)
		unit_bail("waitpid: %s", strerror(errno));
	return WIFSIGNALED(status) ? KILLED_BY(WTERMSIG(status)) : WEXITSTATUS(status);
}

/* Says what an outcome means, for a failed check. */
static void describe(const char *label, int outcome)
{
	if (outcome < 0)
		unit_diag("%s: killed by signal %d (%s)", label, -outcome, strsignal(-outcome));
	else if (outcome == CHILD_SETUP_FAILED)
		unit_diag("%s: the check's preparation failed", label);
	else if (outcome == CHILD_WRONG_MISSING)
		unit_diag("%s: confine_session reported other missing steps than emulated", label);
	else if (outcome >= CONFINE_FAILED(0))
		unit_diag("%s: confine_session failed: %s", label, strerror(outcome - CONFINE_FAILED(0)));
	else
		unit_diag("%s: exit %d (%s)", label, outcome, outcome == 0 ? "success" : strerror(outcome));
}

static void run_check(const struct check *c)
{
	int outcome = outcome_of(c);

	if (outcome == CHILD_NO_LANDLOCK)
		unit_skip("the kernel lacks Landlock ABI 2 (Linux 5.19)", "%s", c->what);
	else if (outcome == CHILD_NO_SECCOMP)
		unit_skip("the kernel lacks seccomp filters", "%s", c->what);
	else if (!unit_ok(outcome == c->expected, "%s", c->what)) {
		describe("expected", c->expected);
		describe("got     ", outcome);
	}
}

static void put_file(const char *relative, const char *content)
{
	int fd = openat(root_fd, relative, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content) || close(fd) != 0)
		unit_bail("writing %s: %s", relative, strerror(errno));
}

/* A Maildir with a message in cur/ to read, one in new/ to move, one to remove, and a file beside it. */
static void make_world(void)
{
	static const char *const dirs[] = { "Maildir", "Maildir/cur", "Maildir/new", "Maildir/tmp" };

	if (mkdtemp(root) == NULL)
		unit_bail("mkdtemp: %s", strerror(errno));
	root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		unit_bail("open %s: %s", root, strerror(errno));
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
		if (mkdirat(root_fd, dirs[i], 0700) != 0)
			unit_bail("mkdir %s: %s", dirs[i], strerror(errno));
	snprintf(maildir, sizeof maildir, "%s/Maildir", root);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
		unit_bail("socketpair: %s", strerror(errno));
	put_file("Maildir/cur/read-me:2,", "hello");
	put_file("Maildir/new/move-me", "move");
	put_file("Maildir/cur/remove-me:2,", "bye");
	put_file("outside", "secret");
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	return remove(path);
}

int main(void)
{
	make_world();
	for (size_t i = 0; i < sizeof checks / sizeof *checks; i++)
		run_check(&checks[i]);
	if (nftw(root, remove_entry, 8, FTW_DEPTH | FTW_PHYS) != 0)
		unit_bail("removing %s: %s", root, strerror(errno));
	return unit_done();
}
