/*
 * test-privsep.c - the privileged parent of privilege separation, driven
 * directly over a real SOCK_SEQPACKET socket pair.  The test plays the
 * child: it forges messages on its end, lets the parent take one step, and
 * reads what came back.  Well-formed requests must be decided and answered
 * (failures counted and delayed in the parent); malformed, oversized,
 * surplus, repeated and out-of-order messages must be refused without an
 * answer and without a password check.  Round trips fork a process that
 * runs the real child side (the login door of privsep_door_open), and
 * privsep_parent_serve is shown to kill a refused child.
 *
 * The user database (unit-accounts.h) holds alice (password "secret",
 * and her NT hash) with a uid this process may serve, and root0 (uid 0),
 * whose right password is always refused.  Cheap sha256crypt hashes keep the many checks fast.
 * NTLM requests carry NTLMv2 responses computed here with nettle, apart
 * from ntlm.c, and GSSAPI tokens show the parent's checks around the
 * exchange (the exchange itself is tests/login-gssapi.bats').
 */
#include "privsep.h"

#include "auth.h"

#include <crypt.h>
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "ntlm.h"
#include "unit-accounts.h"
#include "unit-log.h"
#include "unit.h"

static struct unit_world world;

/* Counts this process's open descriptors (a refused message must leave none behind). */
static unsigned open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	if (d == NULL)
		unit_bail("/proc/self/fd: %s", strerror(errno));
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

/* ---- a channel: the test's (child) end and the parent's side ---- */

struct channel {
	int child;			/* the test writes here as the child would */
	struct login_guard guard;
	struct login_door decider;	/* auth.c's door on the guard */
	struct privsep_parent p;
};

static void channel_open(struct channel *c, unsigned max_failures, unsigned fail_delay, bool plaintext_ok)
{
	struct login_policy policy = { MECHANISM_BIT(MECHANISM_USER) | MECHANISM_BIT(MECHANISM_PLAIN), false, false, 0 };
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		unit_bail("socketpair: %s", strerror(errno));
	memset(&c->guard, 0, sizeof c->guard);
	c->guard.passwd_file = world.passwd;
	c->guard.client = "unit";
	c->guard.max_failures = max_failures;
	c->guard.fail_delay = fail_delay;
	c->child = sv[1];
	auth_door_open(&c->decider, &c->guard);
	policy.plaintext_ok = plaintext_ok;
	policy.max_exchanges = max_failures + AUTH_EXTRA_EXCHANGES;
	privsep_parent_init(&c->p, sv[0], &c->decider, &policy);
	unit_log_clear();
}

static void channel_close(struct channel *c)
{
	if (c->child >= 0)
		close(c->child);
	if (c->p.fd >= 0)
		close(c->p.fd);
	if (c->p.client_in >= 0)
		close(c->p.client_in);
	if (c->p.client_out >= 0)
		close(c->p.client_out);
}

/* Sends len octets of data with nfds descriptors attached. */
static void send_message(int fd, const void *data, size_t len, const int *fds, size_t nfds)
{
	union {
		char buf[CMSG_SPACE(3 * sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { (void *)(uintptr_t)data, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds > 0) {
		struct cmsghdr *c;

		memset(&control, 0, sizeof control);
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	if (sendmsg(fd, &msg, 0) != (ssize_t)len)
		unit_bail("sendmsg: %s", strerror(errno));
}

/* A well-formed login request. */
static struct privsep_login login(uint32_t mechanism, const char *user, const char *secret)
{
	struct privsep_login rq;

	memset(&rq, 0, sizeof rq);
	rq.kind = PRIVSEP_LOGIN;
	rq.mechanism = mechanism;
	rq.user_len = (uint32_t)strlen(user);
	rq.secret_len = (uint32_t)strlen(secret);
	memcpy(rq.user, user, rq.user_len);
	memcpy(rq.secret, secret, rq.secret_len);
	return rq;
}

static void send_login(struct channel *c, uint32_t mechanism, const char *user, const char *secret)
{
	struct privsep_login rq = login(mechanism, user, secret);

	send_message(c->child, &rq, sizeof rq, NULL, 0);
}

/* A hand-over carrying input. */
static struct privsep_hand_over hand_over(const char *input)
{
	struct privsep_hand_over h;

	memset(&h, 0, sizeof h);
	h.kind = PRIVSEP_HAND_OVER;
	h.input_len = (uint32_t)strlen(input);
	memcpy(h.input, input, h.input_len);
	return h;
}

/* The octets a hand-over travels in: its header and the input it announces. */
static size_t hand_over_size(const struct privsep_hand_over *h)
{
	return offsetof(struct privsep_hand_over, input) + h->input_len;
}

/* The answer waiting on the child's end as text ("OK", "FAILED", ...), "none", or "malformed". */
static const char *answer(const struct channel *c)
{
	static const char *const names[] = { "OK", "FAILED", "FAILED_LAST", "UNAVAILABLE", "REFUSED" };
	struct privsep_answer a;
	ssize_t n = recv(c->child, &a, sizeof a, MSG_DONTWAIT | MSG_TRUNC);

	if (n < 0 && errno == EAGAIN)
		return "none";
	if (n != (ssize_t)sizeof a || a.kind != PRIVSEP_ANSWER || a.result > LOGIN_REFUSED)
		return "malformed";
	return names[a.result];
}

static const char *step_name(enum privsep_step s)
{
	static const char *const names[] = { "ANSWERED", "HANDED_OVER", "ENDED", "REFUSED" };

	return names[s];
}

/* Checks one step of the parent and the answer the child then sees. */
static void expect_step(struct channel *c, enum privsep_step want_step, const char *want_answer, const char *what)
{
	enum privsep_step got = privsep_parent_step(&c->p);

	unit_expect_str(step_name(got), step_name(want_step), "%s: the parent's step", what);
	unit_expect_str(answer(c), want_answer, "%s: the answer", what);
}

/* Sends a well-formed login request and checks that the parent answers it with want_answer. */
static void expect_answer(struct channel *c, uint32_t mechanism, const char *user, const char *secret,
			  const char *want_answer, const char *what)
{
	send_login(c, mechanism, user, secret);
	expect_step(c, STEP_ANSWERED, want_answer, what);
}

/* Checks that the parent refused a message: no answer, no password checked, the reason logged. */
static void expect_refused(struct channel *c, const char *logged, const char *what)
{
	expect_step(c, STEP_REFUSED, "none", what);
	unit_expect_uint(c->guard.failures, 0, "%s: no password was checked", what);
	if (!unit_ok(unit_log_has(logged), "%s: logged \"%s\"", what, logged))
		unit_diag("log: %s", unit_log_text());
}

/* Brings a fresh channel to the point after an accepted login. */
static void logged_in(struct channel *c)
{
	channel_open(c, 3, 0, true);
	expect_answer(c, MECHANISM_USER, "alice", "secret", "OK", "the right password");
}

/* ---- malformed login requests, one per row ---- */

enum spoil {
	OVERSIZED, LONG, SHORT, TWO_OCTETS, EMPTY, UNKNOWN_KIND, ANSWER_KIND, UNKNOWN_MECHANISM,
	USER_LEN_LONGER, USER_LEN_SHORTER, USER_LEN_HUGE, USER_UNTERMINATED, USER_SLASH, USER_SPACE,
	USER_CONTROL, USER_LEADING_DOT, SECRET_LEN_LONGER, SECRET_LEN_HUGE, SECRET_UNTERMINATED,
	PASS_CR, PASS_LF, PASS_EMPTY,
};

struct bad_request {
	const char *what;
	enum spoil spoil;
	const char *logged;
};

static const struct bad_request bad_requests[] = {
	{ "one octet more than the largest message", OVERSIZED, "an oversized message" },
	{ "one octet more than a request", LONG, "a request of the wrong size or with descriptors" },
	{ "one octet less than a request", SHORT, "a request of the wrong size or with descriptors" },
	{ "two octets", TWO_OCTETS, "a message too short to have a kind" },
	{ "an empty message from a live child", EMPTY, "an empty message" },
	{ "an unknown kind", UNKNOWN_KIND, "a message of unknown kind" },
	{ "the parent's own answer kind", ANSWER_KIND, "a message of unknown kind" },
	{ "a mechanism past the last", UNKNOWN_MECHANISM, "an unknown mechanism" },
	{ "user_len longer than the name", USER_LEN_LONGER, "a user name of the wrong length" },
	{ "user_len shorter than the name", USER_LEN_SHORTER, "a user name of the wrong length" },
	{ "user_len 2^32-1", USER_LEN_HUGE, "a user name of the wrong length" },
	{ "a user name without NUL", USER_UNTERMINATED, "a user name of the wrong length" },
	{ "a user name with '/'", USER_SLASH, "a user name with forbidden characters" },
	{ "a user name with a space", USER_SPACE, "a user name with forbidden characters" },
	{ "a user name with a control octet", USER_CONTROL, "a user name with forbidden characters" },
	{ "a user name starting with '.'", USER_LEADING_DOT, "a user name with forbidden characters" },
	{ "secret_len longer than the secret", SECRET_LEN_LONGER, "a secret of the wrong length" },
	{ "secret_len 2^32-1", SECRET_LEN_HUGE, "a secret of the wrong length" },
	{ "a secret without NUL", SECRET_UNTERMINATED, "a secret of the wrong length" },
	{ "a USER/PASS password with CR", PASS_CR, "a password no command line can carry" },
	{ "a USER/PASS password with LF", PASS_LF, "a password no command line can carry" },
	{ "an empty USER/PASS password", PASS_EMPTY, "a password no command line can carry" },
};

/* Sends the spoiled request of a row. */
static void send_spoiled(struct channel *c, enum spoil spoil)
{
	/* One octet more than the largest message (a hand-over). */
	static char raw[sizeof(struct privsep_hand_over) + 1];
	struct privsep_login rq = login(MECHANISM_USER, "alice", "secret");
	size_t len = sizeof rq;

	switch (spoil) {
	case OVERSIZED: len = sizeof raw; break;
	case LONG: len = sizeof rq + 1; break;
	case SHORT: len = sizeof rq - 1; break;
	case TWO_OCTETS: len = 2; break;
	case EMPTY: len = 0; break;
	case UNKNOWN_KIND: rq.kind = 0x12345678; break;
	case ANSWER_KIND: rq.kind = PRIVSEP_ANSWER; break;
	case UNKNOWN_MECHANISM: rq.mechanism = MECHANISMS; break;
	case USER_LEN_LONGER: rq.user_len = 6; break;
	case USER_LEN_SHORTER: rq.user_len = 4; break;
	case USER_LEN_HUGE: rq.user_len = UINT32_MAX; break;
	case USER_UNTERMINATED:
		memset(rq.user, 'a', sizeof rq.user);
		rq.user_len = sizeof rq.user;
		break;
	case USER_SLASH: rq = login(MECHANISM_USER, "al/ce", "secret"); break;
	case USER_SPACE: rq = login(MECHANISM_USER, "al ce", "secret"); break;
	case USER_CONTROL: rq = login(MECHANISM_USER, "al\x01" "ce", "secret"); break;
	case USER_LEADING_DOT: rq = login(MECHANISM_USER, ".alice", "secret"); break;
	case SECRET_LEN_LONGER: rq.secret_len = 7; break;
	case SECRET_LEN_HUGE: rq.secret_len = UINT32_MAX; break;
	case SECRET_UNTERMINATED:
		memset(rq.secret, 's', sizeof rq.secret);
		rq.secret_len = sizeof rq.secret;
		break;
	case PASS_CR: rq = login(MECHANISM_USER, "alice", "sec\rret"); break;
	case PASS_LF: rq = login(MECHANISM_USER, "alice", "sec\nret"); break;
	case PASS_EMPTY: rq = login(MECHANISM_USER, "alice", ""); break;
	}
	memset(raw, 0, sizeof raw);
	memcpy(raw, &rq, sizeof rq);
	send_message(c->child, raw, len, NULL, 0);
}

static void test_bad_requests(void)
{
	for (size_t i = 0; i < sizeof bad_requests / sizeof *bad_requests; i++) {
		const struct bad_request *b = &bad_requests[i];
		struct channel c;

		channel_open(&c, 3, 0, true);
		send_spoiled(&c, b->spoil);
		expect_refused(&c, b->logged, b->what);
		channel_close(&c);
	}
}

/* ---- well-formed requests are decided and answered ---- */

struct good_request {
	const char *what;
	uint32_t mechanism;
	const char *user, *secret;
	const char *answer;
	unsigned failures;		/* counted by the parent afterwards */
};

static const struct good_request good_requests[] = {
	{ "USER/PASS, right password", MECHANISM_USER, "alice", "secret", "OK", 0 },
	{ "AUTH PLAIN, right password", MECHANISM_PLAIN, "alice", "secret", "OK", 0 },
	{ "USER/PASS, wrong password", MECHANISM_USER, "alice", "Secret", "FAILED", 1 },
	{ "unknown user", MECHANISM_USER, "bob", "secret", "FAILED", 1 },
	{ "a name the child did not accept (empty)", MECHANISM_USER, "", "secret", "FAILED", 1 },
	{ "AUTH PLAIN, empty password", MECHANISM_PLAIN, "alice", "", "FAILED", 1 },
	{ "AUTH PLAIN, a password with CR LF", MECHANISM_PLAIN, "alice", "sec\r\nret", "FAILED", 1 },
	{ "uid 0, right password", MECHANISM_USER, "root0", "secret", "REFUSED", 0 },
};

static void test_good_requests(void)
{
	for (size_t i = 0; i < sizeof good_requests / sizeof *good_requests; i++) {
		const struct good_request *g = &good_requests[i];
		struct channel c;

		channel_open(&c, 3, 0, true);
		expect_answer(&c, g->mechanism, g->user, g->secret, g->answer, g->what);
		unit_expect_uint(c.guard.failures, g->failures, "%s: failures counted by the parent", g->what);
		channel_close(&c);
	}
}

static void test_failure_log(void)
{
	struct channel c;

	channel_open(&c, 3, 0, true);
	expect_answer(&c, MECHANISM_PLAIN, "alice", "wrong", "FAILED", "failure log");
	unit_ok(unit_log_has("failed login user=alice mechanism=PLAIN client=unit"),
		"the parent logs a failure with user, mechanism and client");
	expect_answer(&c, MECHANISM_USER, "bob", "wrong", "FAILED", "failure log, unknown user");
	unit_ok(unit_log_has("failed login: unknown user, mechanism=USER client=unit"),
		"the parent logs an unknown user's failure without the name");
	unit_ok(!unit_log_has("wrong"), "no password in the log");
	channel_close(&c);
}

static void test_failures_close(void)
{
	struct channel c;

	channel_open(&c, 3, 0, true);
	expect_answer(&c, MECHANISM_USER, "alice", "wrong1", "FAILED", "first failure");
	expect_answer(&c, MECHANISM_USER, "bob", "wrong2", "FAILED", "second failure");
	expect_answer(&c, MECHANISM_PLAIN, "alice", "wrong3", "FAILED_LAST", "the third failure of three");
	unit_expect_uint(c.guard.failures, 3, "the parent counted three failures");
	send_login(&c, MECHANISM_USER, "alice", "secret");
	expect_step(&c, STEP_REFUSED, "none", "a request after the last failure");
	unit_ok(unit_log_has("a request out of order"), "a request after the last failure: logged");
	unit_expect_uint(c.guard.failures, 3, "a request after the last failure: no password checked");
	channel_close(&c);
}

static void test_failure_delay(void)
{
	struct timespec t0, t1;
	struct channel c;
	double took;

	channel_open(&c, 3, 1, true);
	send_login(&c, MECHANISM_USER, "alice", "wrong");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_step(&c, STEP_ANSWERED, "FAILED", "auth_fail_delay=1");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	unit_ok(took >= 1.0, "the parent sleeps the failure delay before it answers (%.2f s)", took);
	channel_close(&c);
}

static void test_one_in_flight(void)
{
	struct channel c;

	channel_open(&c, 3, 0, true);
	send_login(&c, MECHANISM_USER, "alice", "wrong");
	send_login(&c, MECHANISM_USER, "alice", "secret");
	expect_step(&c, STEP_REFUSED, "none", "a second request sent before the first was answered");
	unit_ok(unit_log_has("a request before the answer to the previous one"), "a request in flight: logged");
	channel_close(&c);

	/* recv() gives 0 for an empty message as at the end: it must not pass for the end. */
	channel_open(&c, 3, 0, true);
	send_login(&c, MECHANISM_USER, "alice", "wrong");
	send_message(c.child, "", 0, NULL, 0);
	expect_step(&c, STEP_REFUSED, "none", "an empty message sent before the answer");
	channel_close(&c);
}

static void test_too_many_requests(void)
{
	unsigned allowed = 3 + AUTH_EXTRA_EXCHANGES;
	unsigned answered = 0;
	struct channel c;

	/* Refusals are no failures: only the bound ends this. */
	channel_open(&c, 3, 0, true);
	for (unsigned i = 0; i < allowed; i++) {
		send_login(&c, MECHANISM_USER, "root0", "secret");
		answered += privsep_parent_step(&c.p) == STEP_ANSWERED && strcmp(answer(&c), "REFUSED") == 0;
	}
	unit_expect_uint(answered, allowed, "max_auth_failures + AUTH_EXTRA_EXCHANGES requests are answered");
	unit_log_clear();
	send_login(&c, MECHANISM_USER, "alice", "secret");
	expect_refused(&c, "too many login exchanges", "one request more");
	channel_close(&c);
}

static void test_plaintext_policy(void)
{
	struct channel c;

	channel_open(&c, 3, 0, false);
	send_login(&c, MECHANISM_PLAIN, "alice", "secret");
	expect_refused(&c, "a plaintext login the policy forbids", "AUTH PLAIN where plaintext is not allowed");
	channel_close(&c);
}

static void test_descriptors_with_login(void)
{
	struct privsep_login rq = login(MECHANISM_USER, "alice", "secret");
	int fds[2] = { STDIN_FILENO, STDOUT_FILENO };
	unsigned before = open_fds();
	struct channel c;

	channel_open(&c, 3, 0, true);
	send_message(c.child, &rq, sizeof rq, fds, 2);
	expect_refused(&c, "a request of the wrong size or with descriptors", "a login request with descriptors");
	channel_close(&c);
	unit_expect_uint(open_fds(), before, "a login request with descriptors: none of them kept");
}

/* ---- NTLM: the challenge and the login that answers it ---- */

/* The NTLMv2 response of alice in an empty domain with password to challenge. */
static size_t ntlm_response(const unsigned char challenge[NTLM_CHALLENGE_SIZE], const char *password,
			    unsigned char *out)
{
	return unit_ntlm_response("alice", "", challenge, password, out);
}

/* An NTLM login request for alice answering challenge with password. */
static struct privsep_login ntlm_login(const unsigned char challenge[NTLM_CHALLENGE_SIZE], const char *password)
{
	struct privsep_login rq = login(MECHANISM_NTLM, "alice", "");

	rq.response_len = (uint32_t)ntlm_response(challenge, password, rq.response);
	return rq;
}

/* Asks the parent for a challenge and takes one step; false unless a challenge came back, in challenge. */
static bool get_challenge(struct channel *c, unsigned char challenge[NTLM_CHALLENGE_SIZE])
{
	struct privsep_challenge rq = { PRIVSEP_CHALLENGE, 0, { 0 } }, a;

	send_message(c->child, &rq, sizeof rq, NULL, 0);
	if (privsep_parent_step(&c->p) != STEP_ANSWERED ||
	    recv(c->child, &a, sizeof a, MSG_DONTWAIT | MSG_TRUNC) != (ssize_t)sizeof a ||
	    a.kind != PRIVSEP_CHALLENGE || a.ok != 1)
		return false;
	memcpy(challenge, a.challenge, sizeof a.challenge);
	return true;
}

static void ntlm_channel_open(struct channel *c)
{
	channel_open(c, 3, 0, false);
	c->p.policy.offered |= MECHANISM_BIT(MECHANISM_NTLM);
	c->p.policy.ntlm_ok = true;	/* a protected connection */
	c->guard.ntlm_domain = "EXAMPLE";
}

static void test_ntlm_login(void)
{
	unsigned char first[NTLM_CHALLENGE_SIZE], second[NTLM_CHALLENGE_SIZE];
	struct privsep_login rq;
	struct channel c;

	/* Plaintext forbidden: NTLM sends no password, so on a protected
	 * connection it still works. */
	ntlm_channel_open(&c);
	unit_ok(get_challenge(&c, first), "NTLM: a challenge request is answered with a challenge");
	rq = ntlm_login(first, "secret");
	send_message(c.child, &rq, sizeof rq, NULL, 0);
	expect_step(&c, STEP_ANSWERED, "OK", "NTLM: the right response to the challenge");
	unit_expect_str(mechanism_name(c.p.mechanism), "NTLM", "NTLM: the mechanism after the login");
	channel_close(&c);

	ntlm_channel_open(&c);
	unit_ok(get_challenge(&c, first) && get_challenge(&c, second) && memcmp(first, second, sizeof first) != 0,
		"NTLM: each challenge is fresh");
	rq = ntlm_login(first, "secret");
	send_message(c.child, &rq, sizeof rq, NULL, 0);
	expect_step(&c, STEP_ANSWERED, "FAILED", "NTLM: the right password answering a replaced challenge");
	channel_close(&c);

	ntlm_channel_open(&c);
	unit_ok(get_challenge(&c, first), "NTLM: a challenge for a wrong password");
	rq = ntlm_login(first, "Secret");
	send_message(c.child, &rq, sizeof rq, NULL, 0);
	expect_step(&c, STEP_ANSWERED, "FAILED", "NTLM: a wrong password");
	unit_expect_uint(c.guard.failures, 1, "NTLM: the failure is counted in the parent");
	unit_ok(unit_log_has("failed login user=alice mechanism=NTLM"), "NTLM: the failure is logged");
	rq = ntlm_login(first, "secret");
	send_message(c.child, &rq, sizeof rq, NULL, 0);
	expect_step(&c, STEP_REFUSED, "none", "NTLM: a second answer to one challenge");
	unit_ok(unit_log_has("an NTLM login without a challenge"), "NTLM: a second answer to one challenge: logged");
	channel_close(&c);
	/* The user database unreadable: the challenge is used up all the same. */
	ntlm_channel_open(&c);
	unit_ok(get_challenge(&c, first), "NTLM: a challenge while the user database is unsafe");
	if (chmod(world.passwd, 0620) != 0)
		unit_bail("chmod: %s", strerror(errno));
	rq = ntlm_login(first, "secret");
	send_message(c.child, &rq, sizeof rq, NULL, 0);
	expect_step(&c, STEP_ANSWERED, "UNAVAILABLE", "NTLM: the user database unsafe");
	if (chmod(world.passwd, 0600) != 0)
		unit_bail("chmod: %s", strerror(errno));
	send_message(c.child, &rq, sizeof rq, NULL, 0);
	expect_step(&c, STEP_REFUSED, "none", "NTLM: the same answer again once the database is back");
	channel_close(&c);
	/* Offered, but not on this connection (no TLS, ntlm_plaintext = no):
	 * an honest child never asks. */
	ntlm_channel_open(&c);
	c.p.policy.ntlm_ok = false;
	unit_ok(!get_challenge(&c, first), "NTLM not allowed on this connection: the challenge request is refused");
	unit_ok(unit_log_has("NTLM is not offered or not allowed on this connection"),
		"NTLM not allowed on this connection: logged");
	channel_close(&c);
}

struct bad_ntlm {
	const char *what;
	bool offered, challenge;
	uint32_t domain_len, response_len, secret_len;
	const char *logged;
};

static const struct bad_ntlm bad_ntlm_requests[] = {
	{ "NTLM not offered", false, false, 0, 48, 0, "an NTLM login, which is not offered" },
	{ "no challenge issued", true, false, 0, 48, 0, "an NTLM login without a challenge" },
	{ "an NTLMv1-sized response", true, true, 0, 24, 0, "an NTLM credential of the wrong size" },
	{ "a response one octet short", true, true, 0, NTLM_RESPONSE_MIN - 1, 0, "an NTLM credential of the wrong size" },
	{ "response_len past the buffer", true, true, 0, NTLM_RESPONSE_MAX + 1, 0, "an NTLM credential of the wrong size" },
	{ "response_len 2^32-1", true, true, 0, UINT32_MAX, 0, "an NTLM credential of the wrong size" },
	{ "an odd domain_len", true, true, 3, 48, 0, "an NTLM credential of the wrong size" },
	{ "domain_len past the buffer", true, true, NTLM_DOMAIN_MAX + 2, 48, 0, "an NTLM credential of the wrong size" },
	{ "a password besides", true, true, 0, 48, 6, "an NTLM credential of the wrong size" },
};

static void test_bad_ntlm_requests(void)
{
	unsigned char challenge[NTLM_CHALLENGE_SIZE] = { 0 };
	struct privsep_challenge spoiled = { PRIVSEP_CHALLENGE, 1, { 0 } };
	struct channel c;

	for (size_t i = 0; i < sizeof bad_ntlm_requests / sizeof *bad_ntlm_requests; i++) {
		const struct bad_ntlm *b = &bad_ntlm_requests[i];
		struct privsep_login rq = ntlm_login(challenge, "secret");

		ntlm_channel_open(&c);
		if (!b->offered)
			c.p.policy.offered &= ~MECHANISM_BIT(MECHANISM_NTLM);
		if (b->challenge && !get_challenge(&c, challenge))
			unit_bail("no challenge");
		rq.domain_len = b->domain_len;
		rq.response_len = b->response_len;
		rq.secret_len = b->secret_len;
		memcpy(rq.secret, "secret", 6);
		send_message(c.child, &rq, sizeof rq, NULL, 0);
		expect_refused(&c, b->logged, b->what);
		channel_close(&c);
	}
	channel_open(&c, 3, 0, true);
	send_message(c.child, &spoiled, sizeof spoiled - 1, NULL, 0);
	expect_refused(&c, "a request of the wrong size or with descriptors", "a challenge request one octet short");
	channel_close(&c);
	channel_open(&c, 3, 0, true);
	spoiled.ok = 0;
	send_message(c.child, &spoiled, sizeof spoiled, NULL, 0);
	expect_refused(&c, "a challenge request, but NTLM is not offered", "a challenge request without NTLM");
	channel_close(&c);
	ntlm_channel_open(&c);
	spoiled.ok = 1;
	send_message(c.child, &spoiled, sizeof spoiled, NULL, 0);
	expect_refused(&c, "a malformed challenge request", "a challenge request that carries an answer");
	channel_close(&c);
}

/* ---- GSSAPI: the parent's checks around the exchange ---- */

/* Sends a GSSAPI request of len token octets and takes one step; the answer as text: "challenge N", "decided FAILED", ..., or "none". */
static const char *gssapi_round(struct channel *c, uint32_t first, uint32_t len)
{
	static const char *const names[] = { "OK", "FAILED", "FAILED_LAST", "UNAVAILABLE", "REFUSED" };
	static struct privsep_gssapi_request rq;
	static struct privsep_gssapi_answer a;
	static char text[64];

	memset(&rq, 0, sizeof rq);
	rq.kind = PRIVSEP_GSSAPI;
	rq.first = first;
	rq.len = len;
	memset(rq.token, 0x60, sizeof rq.token);
	send_message(c->child, &rq, sizeof rq, NULL, 0);
	if (privsep_parent_step(&c->p) != STEP_ANSWERED)
		return "none";
	if (recv(c->child, &a, sizeof a, MSG_DONTWAIT | MSG_TRUNC) != (ssize_t)sizeof a ||
	    a.kind != PRIVSEP_GSSAPI_ANSWER || a.decided > 1 || a.result > LOGIN_REFUSED)
		return "malformed";
	if (a.decided)
		snprintf(text, sizeof text, "decided %s", names[a.result]);
	else
		snprintf(text, sizeof text, "challenge %u", a.len);
	return text;
}

/* A GSSAPI token the parent must refuse, on a fresh channel. */
struct bad_gssapi {
	const char *what;
	bool offered;
	uint32_t first, len;
	const char *logged;
};

static const struct bad_gssapi bad_gssapi_requests[] = {
	{ "GSSAPI not offered", false, 1, 10, "a GSSAPI token, which is not offered" },
	{ "a token that continues no exchange", true, 0, 10, "a GSSAPI token outside an exchange" },
	{ "first = 2", true, 2, 10, "a malformed GSSAPI token" },
	{ "a length past the token", true, 1, GSSAPI_TOKEN_MAX + 1, "a malformed GSSAPI token" },
};

/* Opens a channel whose guard offers GSSAPI (or not) with a keytab that does not exist. */
static void gssapi_channel_open(struct channel *c, bool offered)
{
	channel_open(c, 3, 0, true);
	if (offered)
		c->p.policy.offered |= MECHANISM_BIT(MECHANISM_GSSAPI);
	gssapi_helper_init(&c->guard.gssapi, "/nonexistent/keytab", "");
}

static void test_gssapi_requests(void)
{
	struct channel c;

	for (size_t i = 0; i < sizeof bad_gssapi_requests / sizeof *bad_gssapi_requests; i++) {
		const struct bad_gssapi *b = &bad_gssapi_requests[i];

		gssapi_channel_open(&c, b->offered);
		unit_expect_str(gssapi_round(&c, b->first, b->len), "none", "%s: refused", b->what);
		unit_ok(unit_log_has(b->logged), "%s: logged \"%s\"", b->what, b->logged);
		channel_close(&c);
	}
	gssapi_channel_open(&c, true);
	unit_expect_str(gssapi_round(&c, 1, 10), "decided FAILED", "GSSAPI: a token no keytab can accept fails the login");
	unit_expect_uint(c.guard.failures, 1, "GSSAPI: the failed exchange is a failure counted in the parent");
	unit_ok(unit_log_has("failed login: GSSAPI exchange failed"), "GSSAPI: the failed exchange is logged");
	unit_expect_str(gssapi_round(&c, 0, 10), "none", "GSSAPI: a token after the exchange failed is refused");
	channel_close(&c);
}

/* ---- the hand-over ---- */

static void test_hand_over_out_of_order(void)
{
	struct privsep_hand_over h = hand_over("STAT\r\n");
	int fds[2] = { STDIN_FILENO, STDOUT_FILENO };
	unsigned before = open_fds();
	struct channel c;

	channel_open(&c, 3, 0, true);
	send_message(c.child, &h, hand_over_size(&h), fds, 2);
	expect_refused(&c, "a hand-over without an accepted login", "a hand-over before any login");
	channel_close(&c);

	channel_open(&c, 3, 0, true);
	expect_answer(&c, MECHANISM_USER, "alice", "wrong", "FAILED", "a failed login");
	send_message(c.child, &h, hand_over_size(&h), fds, 2);
	expect_step(&c, STEP_REFUSED, "none", "a hand-over after a failed login");
	channel_close(&c);
	unit_expect_uint(open_fds(), before, "refused hand-overs: their descriptors are not kept");

	logged_in(&c);
	send_login(&c, MECHANISM_USER, "alice", "secret");
	expect_step(&c, STEP_REFUSED, "none", "a login request where the hand-over is due");
	unit_ok(unit_log_has("a request out of order"), "a login request where the hand-over is due: logged");
	channel_close(&c);
}

struct bad_hand_over {
	const char *what;
	size_t nfds;
	uint32_t input_len;
	int len_delta;			/* octets sent beyond the 6 of input ("STAT\r\n"), or short of them */
	const char *logged;
};

static const struct bad_hand_over bad_hand_overs[] = {
	{ "no descriptors", 0, 6, 0, "a malformed hand-over" },
	{ "one descriptor", 1, 6, 0, "a malformed hand-over" },
	{ "three descriptors", 3, 6, 0, "an oversized message" },
	{ "input_len beyond the buffer", 2, INPUT_BUFFER_SIZE + 1, 0, "a malformed hand-over" },
	{ "input_len 2^32-1", 2, UINT32_MAX, 0, "a malformed hand-over" },
	{ "one octet short", 2, 6, -1, "a malformed hand-over" },
	{ "one octet more than input_len says", 2, 6, 1, "a malformed hand-over" },
	{ "the whole buffer, as an older version sent it", 2, 6, INPUT_BUFFER_SIZE - 6, "a malformed hand-over" },
	{ "half a header", 2, 6, -8, "a malformed hand-over" },
};

static void test_bad_hand_overs(void)
{
	int fds[3] = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO };

	for (size_t i = 0; i < sizeof bad_hand_overs / sizeof *bad_hand_overs; i++) {
		const struct bad_hand_over *b = &bad_hand_overs[i];
		struct privsep_hand_over h = hand_over("STAT\r\n");
		unsigned before = open_fds();
		struct channel c;

		logged_in(&c);
		h.input_len = b->input_len;
		send_message(c.child, &h, (size_t)((int)offsetof(struct privsep_hand_over, input) + 6 + b->len_delta),
			     fds, b->nfds);
		expect_step(&c, STEP_REFUSED, "none", b->what);
		unit_ok(unit_log_has(b->logged), "%s: logged \"%s\"", b->what, b->logged);
		channel_close(&c);
		unit_expect_uint(open_fds(), before, "%s: no descriptor kept", b->what);
	}
}

/* Tells whether two descriptors name the same open pipe. */
static bool same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void test_hand_over_taken(void)
{
	struct privsep_hand_over h = hand_over("STAT\r\nLIST\r\n");
	int client[2];
	struct channel c;

	if (pipe(client) != 0)
		unit_bail("pipe: %s", strerror(errno));
	logged_in(&c);
	unit_expect_str(mechanism_name(c.p.mechanism), "USER", "after the login: the mechanism");
	unit_expect_uint(c.p.account.uid, geteuid() == 0 ? 4242 : getuid(), "after the login: alice's uid");
	send_message(c.child, &h, hand_over_size(&h), client, 2);
	expect_step(&c, STEP_HANDED_OVER, "none", "a hand-over after the login");
	unit_expect_bytes(c.p.input, c.p.input_len, BYTES("STAT\r\nLIST\r\n"), "the hand-over: the unused input");
	unit_ok(same_file(c.p.client_in, client[0]) && same_file(c.p.client_out, client[1]),
		"the hand-over: the client's input and output descriptors");
	send_login(&c, MECHANISM_USER, "alice", "secret");
	expect_step(&c, STEP_REFUSED, "none", "a login request after the hand-over");
	channel_close(&c);
	close(client[0]);
	close(client[1]);
}

static void test_end(void)
{
	struct channel c;

	channel_open(&c, 3, 0, true);
	close(c.child);
	c.child = -1;
	unit_expect_str(step_name(privsep_parent_step(&c.p)), "ENDED", "the child closed its end: the session ended");
	channel_close(&c);
}

/* ---- round trips with the real child side in another process ---- */

/* The child's login door on the channel's child end, as the jailed child opens it (its
 * output has nothing buffered to flush). */
static void child_door(struct channel *c, struct login_door *door)
{
	static struct output out;
	static struct privsep_child child;

	output_init(&out, -1);
	child.fd = c->child;
	child.out = &out;
	privsep_door_open(door, &child);
}

/* Runs the child side in a process: ask with the password, hand over on success; exit status 0 when handed over, 1 when refused, 2 when asking failed. */
static pid_t fork_asker(struct channel *c, const char *password, const int client[2])
{
	pid_t pid = fork();

	if (pid < 0)
		unit_bail("fork: %s", strerror(errno));
	if (pid == 0) {
		struct credential cred = { .mechanism = MECHANISM_USER, .user = "alice", .password = password };
		struct client_handle handle = { client[0], client[1], "LIST\r\n", 6 };
		struct login_door door;
		struct account a;
		enum login_result result;

		close(c->p.fd);
		child_door(c, &door);
		result = door.check(door.self, &cred, &a);
		if (result == LOGIN_LOST)
			_exit(2);
		if (result != LOGIN_OK)
			_exit(1);
		_exit(door.admit(door.self, &a, &handle) == ADMIT_HANDED_OVER ? 0 : 2);
	}
	return pid;
}

/* Runs the child side of NTLM in a process: a challenge, then the response computed with password; exit status 0 for LOGIN_OK, 1 for another result, 2 when asking failed. */
static pid_t fork_ntlm_asker(struct channel *c, const char *password)
{
	pid_t pid = fork();

	if (pid < 0)
		unit_bail("fork: %s", strerror(errno));
	if (pid == 0) {
		unsigned char challenge[NTLM_CHALLENGE_SIZE], response[NTLM_RESPONSE_MAX];
		struct credential cred = { .mechanism = MECHANISM_NTLM, .user = "alice", .domain = response,
					   .response = response };
		struct login_door door;
		struct account a;
		enum login_result result;

		close(c->p.fd);
		child_door(c, &door);
		if (door.ntlm_challenge(door.self, challenge) != LOGIN_CONTINUE)
			_exit(2);
		cred.response_len = ntlm_response(challenge, password, response);
		result = door.check(door.self, &cred, &a);
		if (result == LOGIN_LOST)
			_exit(2);
		_exit(result == LOGIN_OK ? 0 : 1);
	}
	return pid;
}

static int exit_status(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		unit_bail("waitpid: %s", strerror(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_round_trips(void)
{
	int client[2];
	struct channel c;
	pid_t pid;

	if (pipe(client) != 0)
		unit_bail("pipe: %s", strerror(errno));
	channel_open(&c, 3, 0, true);
	pid = fork_asker(&c, "wrong", client);
	unit_expect_str(step_name(privsep_parent_step(&c.p)), "ANSWERED", "the child's login request, wrong password: answered");
	unit_expect_uint((uint64_t)exit_status(pid), 1, "the child's login request, wrong password: the child learns it failed");
	channel_close(&c);

	channel_open(&c, 3, 0, true);
	pid = fork_asker(&c, "secret", client);
	unit_expect_str(step_name(privsep_parent_step(&c.p)), "ANSWERED", "the child's login request, right password: answered");
	unit_expect_str(step_name(privsep_parent_step(&c.p)), "HANDED_OVER", "the hand-over: taken");
	unit_expect_bytes(c.p.input, c.p.input_len, BYTES("LIST\r\n"), "the hand-over: the unused input");
	unit_ok(same_file(c.p.client_in, client[0]) && same_file(c.p.client_out, client[1]),
		"the hand-over: the client's descriptors");
	unit_expect_uint((uint64_t)exit_status(pid), 0, "the child's login request and hand-over: the child succeeded");
	channel_close(&c);

	for (int right = 0; right <= 1; right++) {
		ntlm_channel_open(&c);
		pid = fork_ntlm_asker(&c, right ? "secret" : "wrong");
		unit_expect_str(step_name(privsep_parent_step(&c.p)), "ANSWERED", "the child's challenge request: answered");
		unit_expect_str(step_name(privsep_parent_step(&c.p)), "ANSWERED", "the child's login request, NTLM: answered");
		unit_expect_uint((uint64_t)exit_status(pid), right ? 0 : 1, "the child's login request, NTLM, %s password: the child learns the result",
				 right ? "right" : "wrong");
		channel_close(&c);
	}
	close(client[0]);
	close(client[1]);
}

/* ---- privsep_parent_serve ---- */

/* A child process that sends a message of len octets (none when len is 0) and then exits with status, or waits to be killed when status is negative. */
static pid_t fork_sender(struct channel *c, size_t len, int status)
{
	struct privsep_login rq = login(MECHANISM_USER, "alice", "secret");
	pid_t pid = fork();

	if (pid < 0)
		unit_bail("fork: %s", strerror(errno));
	if (pid == 0) {
		close(c->p.fd);
		if (len > 0)
			send_message(c->child, &rq, len, NULL, 0);
		if (status >= 0)
			_exit(status);
		for (;;)
			pause();
	}
	close(c->child);
	c->child = -1;
	return pid;
}

static void test_serve(void)
{
	struct channel c;
	int status = -1;
	bool in;
	pid_t pid;

	channel_open(&c, 3, 0, true);
	pid = fork_sender(&c, 3, -1);
	in = privsep_parent_serve(&c.p, pid, &status);
	unit_ok(!in && status == 1, "serve: a malformed request ends the session with status 1 (%d)", status);
	unit_ok(kill(pid, 0) != 0 && errno == ESRCH, "serve: the refused child was killed and reaped");
	channel_close(&c);

	channel_open(&c, 3, 0, true);
	pid = fork_sender(&c, 0, 0);
	in = privsep_parent_serve(&c.p, pid, &status);
	unit_ok(!in && status == 0, "serve: a child that ends without a login: status 0 (%d)", status);
	channel_close(&c);

	channel_open(&c, 3, 0, true);
	pid = fork_sender(&c, 0, 3);
	in = privsep_parent_serve(&c.p, pid, &status);
	unit_ok(!in && status == 1, "serve: a child that fails: status 1 (%d)", status);
	unit_ok(unit_log_has("the network process ended with status 3"), "serve: the child's failure is logged");
	channel_close(&c);
}

int main(void)
{
	unit_world_make(&world, "privsep");
	test_bad_requests();
	test_good_requests();
	test_failure_log();
	test_failures_close();
	test_failure_delay();
	test_one_in_flight();
	test_too_many_requests();
	test_plaintext_policy();
	test_descriptors_with_login();
	test_ntlm_login();
	test_bad_ntlm_requests();
	test_gssapi_requests();
	test_hand_over_out_of_order();
	test_bad_hand_overs();
	test_hand_over_taken();
	test_end();
	test_round_trips();
	test_serve();
	unit_world_remove(&world);
	return unit_done();
}
