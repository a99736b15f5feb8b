/*
 * test-gssapi-helper.c - the GSSAPI helper's boundary without a KDC: its
 * seccomp allow-list (each check in a child that confines itself as the
 * helper does, then makes one call: allowed calls work, others kill it
 * with SIGSYS), and the checks of its answers: a fake helper on a socket
 * pair sends one answer, which gssapi_helper_step() must take or refuse,
 * ending the helper either way once the exchange is over.  The whole
 * exchange through a real helper is tests/login-gssapi.bats'.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "channel.h"
#include "confine.h"
#include "gssapi-helper.h"
#include "unit-log.h"
#include "unit.h"

/* Exit statuses of a confined child, beside 0 and the errno values of its attempt. */
#define CHILD_NO_SECCOMP 251		/* skip: the kernel lacks seccomp filters */
#define CHILD_CONFINE_FAILED 252

/* An outcome: a child's exit status, or minus the signal that killed it. */
#define KILLED_BY(signo) (-(signo))

/* --- the allow-list --- */

static int result(long rc)
{
	return rc < 0 ? errno : 0;
}

/* The replay cache's way: open a file, read it, close it. */
static int read_file(void)
{
	char buf[16];
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, buf, sizeof buf) < 0)
		return errno;
	return result(close(fd));
}

static int random_octets(void)
{
	unsigned char buf[16];

	return result(syscall(SYS_getrandom, buf, sizeof buf, 0));
}

static int inet_socket(void)
{
	return result(socket(AF_INET, SOCK_STREAM, 0));
}

static int run_program(void)
{
	char *const argv[] = { "true", NULL };

	return result(execve("/bin/true", argv, NULL));
}

static int fork_process(void)
{
	return result(syscall(SYS_fork));
}

static int become_root(void)
{
	return result(setuid(0));
}

/* The helper shares its user with the pre-login child, which it must not signal. */
static int signal_parent(void)
{
	return result(kill(getppid(), 0));
}

struct call_case {
	const char *what;
	int (*attempt)(void);
	int outcome;
};

static const struct call_case call_cases[] = {
	{ "opening, reading and closing a file (the replay cache) works", read_file, 0 },
	{ "getrandom works", random_octets, 0 },
	{ "a TCP socket kills the helper with SIGSYS", inet_socket, KILLED_BY(SIGSYS) },
	{ "execve kills the helper with SIGSYS", run_program, KILLED_BY(SIGSYS) },
	{ "fork kills the helper with SIGSYS", fork_process, KILLED_BY(SIGSYS) },
	{ "setuid kills the helper with SIGSYS", become_root, KILLED_BY(SIGSYS) },
	{ "kill kills the helper with SIGSYS", signal_parent, KILLED_BY(SIGSYS) },
};

/* Runs one attempt in a child confined as the helper; its outcome. */
static int run_confined(int (*attempt)(void))
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		unit_bail("fork: %s", strerror(errno));
	if (pid == 0) {
		unsigned missing;

		if (!gssapi_helper_confine(&missing))
			_exit(CHILD_CONFINE_FAILED);
		_exit((missing & CONFINE_NO_SECCOMP) != 0 ? CHILD_NO_SECCOMP : attempt());
	}
	if (waitpid(pid, &status, 0) != pid)
		unit_bail("waitpid: %s", strerror(errno));
	return WIFSIGNALED(status) ? KILLED_BY(WTERMSIG(status)) : WEXITSTATUS(status);
}

static void test_allow_list(void)
{
	for (size_t i = 0; i < sizeof call_cases / sizeof *call_cases; i++) {
		const struct call_case *c = &call_cases[i];
		int outcome = run_confined(c->attempt);

		if (outcome == CHILD_NO_SECCOMP)
			unit_skip("the kernel lacks seccomp filters", "%s", c->what);
		else
			unit_expect_uint((uint64_t)(int64_t)outcome, (uint64_t)(int64_t)c->outcome, "%s", c->what);
	}
}

/* --- the answers --- */

/* One answer of a fake helper, and what gssapi_helper_step() must make of it. */
struct answer_case {
	const char *what;
	size_t size;			/* octets sent: sizeof the answer, unless another */
	uint32_t kind, step, len;
	const char *user;		/* copied into the answer; NULL: 65 octets of 'a', no NUL */
	size_t out_size;		/* the challenge's room */
	enum gssapi_step expected;
	const char *logged;		/* "" when nothing is */
};

#define ANSWER GSSAPI_HELPER_ANSWER
#define ROOM SASL_CHALLENGE_MAX

static const struct answer_case answer_cases[] = {
	{ "a token to send", 0, ANSWER, GSSAPI_CONTINUE, 40, "", ROOM, GSSAPI_CONTINUE, "" },
	{ "a user decided", 0, ANSWER, GSSAPI_DONE, 0, "alice", ROOM, GSSAPI_DONE, "" },
	{ "a failure", 0, ANSWER, GSSAPI_FAILED, 0, "", ROOM, GSSAPI_FAILED, "" },
	{ "an answer cut short", 12, ANSWER, GSSAPI_CONTINUE, 0, "", ROOM, GSSAPI_FAILED, "sent no answer" },
	{ "an answer of another kind", 0, GSSAPI_HELPER_TOKEN, GSSAPI_DONE, 0, "alice", ROOM, GSSAPI_FAILED,
	  "sent no answer" },
	{ "an unknown result", 0, ANSWER, 7, 0, "", ROOM, GSSAPI_FAILED, "sent an unknown result" },
	{ "a length past the token", 0, ANSWER, GSSAPI_CONTINUE, SASL_CHALLENGE_MAX + 1, "", ROOM, GSSAPI_FAILED,
	  "sent a token longer than its room" },
	{ "a length 2^32-1", 0, ANSWER, GSSAPI_CONTINUE, UINT32_MAX, "", ROOM, GSSAPI_FAILED,
	  "sent a token longer than its room" },
	{ "a token longer than the challenge's room", 0, ANSWER, GSSAPI_CONTINUE, 41, "", 40, GSSAPI_FAILED,
	  "sent a token longer than its room" },
	{ "a token with a decision", 0, ANSWER, GSSAPI_DONE, 10, "alice", ROOM, GSSAPI_FAILED,
	  "sent a token with a result that has none" },
	{ "a user name without its NUL", 0, ANSWER, GSSAPI_DONE, 0, NULL, ROOM, GSSAPI_FAILED,
	  "sent a user name without its end" },
	{ "an empty user name", 0, ANSWER, GSSAPI_DONE, 0, "", ROOM, GSSAPI_FAILED, "sent a user name that is not one" },
	{ "a user name with a '/'", 0, ANSWER, GSSAPI_DONE, 0, "../root", ROOM, GSSAPI_FAILED,
	  "sent a user name that is not one" },
	{ "a user name with a newline", 0, ANSWER, GSSAPI_DONE, 0, "alice\nroot", ROOM, GSSAPI_FAILED,
	  "sent a user name that is not one" },
	{ "a user name with a challenge", 0, ANSWER, GSSAPI_CONTINUE, 0, "alice", ROOM, GSSAPI_FAILED,
	  "sent a user name that is not one" },
};

/* The fake helper: takes one request, sends the case's answer, then waits to be killed. */
static void __attribute__((noreturn)) fake_helper(int fd, const struct answer_case *c)
{
	static struct gssapi_helper_request rq;
	static struct gssapi_helper_answer a;

	if (!channel_receive_exact(fd, GSSAPI_HELPER_TOKEN, &rq, sizeof rq))
		_exit(1);
	memset(&a, 0, sizeof a);
	a.kind = c->kind;
	a.step = c->step;
	a.len = c->len;
	memset(a.token, 0x5a, sizeof a.token);
	if (c->user != NULL)
		snprintf(a.user, sizeof a.user, "%s", c->user);
	else
		memset(a.user, 'a', sizeof a.user);
	if (channel_send(fd, &a, c->size != 0 ? c->size : sizeof a, NULL, 0) < 0)
		_exit(1);
	for (;;)
		pause();
}

/* Runs one case against a fake helper started as if by an exchange under way. */
static void run_answer_case(const struct answer_case *c)
{
	static unsigned char out[SASL_CHALLENGE_MAX];
	static const unsigned char token[] = "a client's token";
	struct gssapi_helper h;
	enum gssapi_step step;
	size_t out_len = 99;
	int sv[2];

	unit_log_clear();
	gssapi_helper_init(&h, "/nonexistent/keytab", "");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		unit_bail("socketpair: %s", strerror(errno));
	h.pid = fork();
	if (h.pid < 0)
		unit_bail("fork: %s", strerror(errno));
	if (h.pid == 0)
		fake_helper(sv[1], c);
	close(sv[1]);
	h.fd = sv[0];
	step = gssapi_helper_step(&h, false, token, sizeof token, out, c->out_size, &out_len);
	unit_expect_uint(step, c->expected, "answer: %s: the result", c->what);
	unit_expect_uint(out_len, step == GSSAPI_CONTINUE ? c->len : 0, "answer: %s: the challenge's length",
			 c->what);
	unit_expect_str(h.user, step == GSSAPI_DONE ? c->user : "", "answer: %s: the user", c->what);
	if (c->logged[0] != '\0')
		unit_ok(unit_log_has(c->logged), "answer: %s: logged (%s)", c->what, unit_log_text());
	if (step == GSSAPI_CONTINUE)
		gssapi_helper_stop(&h);
	unit_ok(h.pid == -1 && h.fd == -1, "answer: %s: the helper is ended", c->what);
}

static void test_answers(void)
{
	for (size_t i = 0; i < sizeof answer_cases / sizeof *answer_cases; i++)
		run_answer_case(&answer_cases[i]);
}

int main(void)
{
	char path[] = "/tmp/test-gssapi-helper.XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		unit_bail("mkstemp: %s", strerror(errno));
	close(fd);
	unit_log_open(path);
	unlink(path);
	test_allow_list();
	test_answers();
	return unit_done();
}
