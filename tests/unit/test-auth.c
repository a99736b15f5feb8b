/*
 * test-auth.c - the login decision of auth.c, through the login door it
 * opens (login.h), in this process: passwords for every account state,
 * what each failure costs and logs, the failure that closes the session,
 * NTLM challenges and the one answer each takes, a GSSAPI exchange that
 * fails, and the change to the account's user after a login.
 *
 * The user database is unit-accounts.h's: alice, root0 (uid 0), carol
 * (locked), dave (no password) and erin (no NT hash), each with the
 * password "secret".
 */
#include "auth.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "unit-accounts.h"
#include "unit-log.h"
#include "unit.h"

static struct unit_world world;

/* A guard and its door, as a session makes them. */
struct decider {
	struct login_guard guard;
	struct login_door door;
};

static void decider_open(struct decider *d, const char *passwd_file, unsigned max_failures, unsigned fail_delay)
{
	memset(&d->guard, 0, sizeof d->guard);
	d->guard.passwd_file = passwd_file;
	d->guard.client = "unit";
	d->guard.max_failures = max_failures;
	d->guard.fail_delay = fail_delay;
	d->guard.ntlm_domain = "EXAMPLE";
	gssapi_helper_init(&d->guard.gssapi, "/nonexistent/keytab", "");
	auth_door_open(&d->door, &d->guard);
	unit_log_clear();
}

static const char *result_name(enum login_result r)
{
	static const char *const names[] = { "OK", "FAILED", "FAILED_LAST", "UNAVAILABLE", "REFUSED", "CONTINUE",
					     "LOST" };

	return r <= LOGIN_LOST ? names[r] : "?";
}

/* Checks a password login of user; the result's name, and the account in *a. */
static const char *password_login(struct decider *d, enum mechanism m, const char *user, const char *password,
				  struct account *a)
{
	struct credential c = { .mechanism = m, .user = user, .password = password };

	return result_name(d->door.check(d->door.self, &c, a));
}

/* ---- passwords ---- */

static const struct {
	const char *what;
	enum mechanism mechanism;
	const char *user, *password;
	const char *result;
	unsigned failures;	/* counted by this login */
	const char *logged;	/* or NULL */
} password_cases[] = {
	{ "the right password", MECHANISM_USER, "alice", "secret", "OK", 0, NULL },
	{ "AUTH PLAIN, the right password", MECHANISM_PLAIN, "alice", "secret", "OK", 0, NULL },
	{ "a wrong password", MECHANISM_USER, "alice", "Secret", "FAILED", 1,
	  "failed login user=alice mechanism=USER client=unit" },
	{ "AUTH PLAIN, a wrong password", MECHANISM_PLAIN, "alice", "wrong", "FAILED", 1,
	  "failed login user=alice mechanism=PLAIN client=unit" },
	{ "an empty password", MECHANISM_PLAIN, "alice", "", "FAILED", 1, "failed login user=alice" },
	{ "an unknown user", MECHANISM_USER, "bob", "secret", "FAILED", 1,
	  "failed login: unknown user, mechanism=USER client=unit" },
	{ "a name the session would not accept", MECHANISM_USER, "", "secret", "FAILED", 1,
	  "failed login: unknown user, mechanism=USER" },
	{ "a locked account, the right password", MECHANISM_USER, "carol", "secret", "FAILED", 1,
	  "failed login user=carol" },
	{ "an account without a password", MECHANISM_USER, "dave", "*", "FAILED", 1, "failed login user=dave" },
	{ "an account without an NT hash", MECHANISM_USER, "erin", "secret", "OK", 0, NULL },
	{ "uid 0, the right password", MECHANISM_USER, "root0", "secret", "REFUSED", 0,
	  "user root0: uid 0 may not be served by this process" },
	{ "uid 0, a wrong password", MECHANISM_USER, "root0", "wrong", "FAILED", 1, "failed login user=root0" },
};

static void test_passwords(void)
{
	for (size_t i = 0; i < sizeof password_cases / sizeof *password_cases; i++) {
		struct decider d;
		struct account a;
		const char *got;

		decider_open(&d, world.passwd, 3, 0);
		got = password_login(&d, password_cases[i].mechanism, password_cases[i].user, password_cases[i].password,
				     &a);
		unit_expect_str(got, password_cases[i].result, "%s: the decision", password_cases[i].what);
		unit_expect_uint(d.guard.failures, password_cases[i].failures, "%s: failures counted",
				 password_cases[i].what);
		if (password_cases[i].logged != NULL && !unit_ok(unit_log_has(password_cases[i].logged),
								  "%s: logged \"%s\"", password_cases[i].what,
								  password_cases[i].logged))
			unit_diag("log: %s", unit_log_text());
		unit_ok(!unit_log_has(password_cases[i].password[0] != '\0' ? password_cases[i].password : "\x01"),
			"%s: the password is not logged", password_cases[i].what);
		if (strcmp(got, "OK") == 0)
			unit_ok(strcmp(a.name, password_cases[i].user) == 0 && a.uid == unit_user_id() &&
					strcmp(a.home, world.dir) == 0,
				"%s: the account is filled in", password_cases[i].what);
		else
			unit_ok(a.name[0] == '\0' && a.hash[0] == '\0', "%s: the account is left wiped",
				password_cases[i].what);
		account_clear(&a);
	}
}

/* The max_failures-th failure is the last; a success meanwhile does not reset the count. */
static void test_failure_count(void)
{
	struct decider d;
	struct account a;

	decider_open(&d, world.passwd, 3, 0);
	unit_expect_str(password_login(&d, MECHANISM_USER, "alice", "wrong1", &a), "FAILED", "the first failure of three");
	unit_expect_str(password_login(&d, MECHANISM_USER, "bob", "wrong2", &a), "FAILED", "the second failure of three");
	unit_ok(!unit_log_has("too many failures"), "no failure before the third logs the closing");
	unit_expect_str(password_login(&d, MECHANISM_PLAIN, "alice", "wrong3", &a), "FAILED_LAST",
			"the third failure of three closes the session");
	unit_expect_uint(d.guard.failures, 3, "three failures counted");
	unit_ok(unit_log_has("failed login user=alice mechanism=PLAIN client=unit\n") &&
			unit_log_has("failed login: too many failures (3), closing the session, client=unit\n"),
		"the last failure is logged, then the closing, each with the client's address");
	decider_open(&d, world.passwd, 1, 0);
	unit_expect_str(password_login(&d, MECHANISM_USER, "alice", "wrong", &a), "FAILED_LAST",
			"max_auth_failures 1: the first failure is the last");
	unit_ok(unit_log_has("failed login: too many failures (1), closing the session, client=unit\n"),
		"max_auth_failures 1: the closing is logged");
}

/* Seconds on the monotonic clock. */
static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Every failure sleeps the delay before it answers; a success does not. */
static void test_failure_delay(void)
{
	struct decider d;
	struct account a;
	double start;

	decider_open(&d, world.passwd, 3, 1);
	start = now();
	password_login(&d, MECHANISM_USER, "alice", "wrong", &a);
	unit_ok(now() - start >= 1.0, "auth_fail_delay 1: a wrong password answers after a second");
	start = now();
	password_login(&d, MECHANISM_USER, "nobody-at-all", "wrong", &a);
	unit_ok(now() - start >= 1.0, "auth_fail_delay 1: an unknown user answers after a second too");
	start = now();
	password_login(&d, MECHANISM_USER, "alice", "secret", &a);
	unit_ok(now() - start < 1.0, "auth_fail_delay 1: the right password answers at once");
	account_clear(&a);
}

/* A user database that cannot be had: LOGIN_UNAVAILABLE, no failure counted. */
static void test_unavailable(void)
{
	char missing[160];
	struct decider d;
	struct account a;

	snprintf(missing, sizeof missing, "%s/missing", world.dir);
	decider_open(&d, missing, 3, 0);
	unit_expect_str(password_login(&d, MECHANISM_USER, "alice", "secret", &a), "UNAVAILABLE",
			"a missing passwd file: unavailable");
	unit_expect_uint(d.guard.failures, 0, "a missing passwd file: no failure counted");
	decider_open(&d, "relative/passwd", 3, 0);
	unit_expect_str(password_login(&d, MECHANISM_USER, "alice", "secret", &a), "UNAVAILABLE",
			"a passwd_file naming no source: unavailable");
	unit_ok(unit_log_has("names no user database"), "a passwd_file naming no source: logged");
}

/* ---- NTLM ---- */

/* Checks an NTLM login of user in domain answering challenge with password. */
static const char *ntlm_login(struct decider *d, const char *user, const char *domain,
			      const unsigned char challenge[NTLM_CHALLENGE_SIZE], const char *password)
{
	unsigned char response[NTLM_RESPONSE_MAX], wide[64];
	size_t wide_len = 0;
	struct credential c = { .mechanism = MECHANISM_NTLM, .user = user, .domain = wide, .response = response };
	struct account a;
	const char *got;

	unit_utf16(domain, false, wide, &wide_len);
	c.domain_len = wide_len;
	c.response_len = unit_ntlm_response(user, domain, challenge, password, response);
	got = result_name(d->door.check(d->door.self, &c, &a));
	account_clear(&a);
	return got;
}

/* Issues a challenge; bails out unless one came. */
static void issue(struct decider *d, unsigned char challenge[NTLM_CHALLENGE_SIZE])
{
	if (d->door.ntlm_challenge(d->door.self, challenge) != LOGIN_CONTINUE)
		unit_bail("no NTLM challenge");
}

static const struct {
	const char *what;
	const char *user, *domain, *password;
	const char *result;
	const char *logged;
} ntlm_cases[] = {
	{ "the right password", "alice", "", "secret", "OK", NULL },
	{ "the right password, our domain", "alice", "EXAMPLE", "secret", "OK", NULL },
	{ "the right password, our domain in lower case", "alice", "example", "secret", "OK", NULL },
	{ "a wrong password", "alice", "", "wrong", "FAILED", "failed login user=alice mechanism=NTLM client=unit" },
	{ "another domain", "alice", "OTHER", "secret", "FAILED", "NTLM login names a domain other than EXAMPLE" },
	{ "an unknown user", "bob", "", "secret", "FAILED", "failed login: unknown user, mechanism=NTLM" },
	{ "a locked account", "carol", "", "secret", "FAILED", "user carol: the account is locked" },
	{ "an account without a password but with an NT hash", "dave", "", "secret", "OK", NULL },
	{ "an account without an NT hash", "erin", "", "secret", "FAILED",
	  "user erin has no NT hash in the user database: NTLM cannot log in" },
	{ "uid 0", "root0", "", "secret", "FAILED", "failed login user=root0" },	/* root0 has no NT hash */
};

static void test_ntlm(void)
{
	unsigned char first[NTLM_CHALLENGE_SIZE], second[NTLM_CHALLENGE_SIZE];
	struct decider d;

	for (size_t i = 0; i < sizeof ntlm_cases / sizeof *ntlm_cases; i++) {
		decider_open(&d, world.passwd, 3, 0);
		issue(&d, first);
		unit_expect_str(ntlm_login(&d, ntlm_cases[i].user, ntlm_cases[i].domain, first, ntlm_cases[i].password),
				ntlm_cases[i].result, "NTLM, %s: the decision", ntlm_cases[i].what);
		if (ntlm_cases[i].logged != NULL)
			unit_ok(unit_log_has(ntlm_cases[i].logged), "NTLM, %s: logged \"%s\"", ntlm_cases[i].what,
				ntlm_cases[i].logged);
	}
	decider_open(&d, world.passwd, 3, 0);
	issue(&d, first);
	issue(&d, second);
	unit_ok(memcmp(first, second, sizeof first) != 0, "NTLM: each challenge is fresh");
	unit_expect_str(ntlm_login(&d, "alice", "", first, "secret"), "FAILED",
			"NTLM: an answer to a challenge replaced by a newer one fails");
	unit_expect_str(ntlm_login(&d, "alice", "", second, "secret"), "FAILED",
			"NTLM: the newer challenge was used up by the failed answer");
	issue(&d, first);
	unit_expect_str(ntlm_login(&d, "alice", "", first, "secret"), "OK",
			"NTLM: the right answer to a fresh challenge after two failures logs in");
	unit_expect_uint(d.guard.failures, 2, "NTLM: the two failed answers were counted");
}

/* A right answer to a fresh challenge logs in; the same answer again fails. */
static void test_ntlm_one_answer(void)
{
	unsigned char challenge[NTLM_CHALLENGE_SIZE];
	struct decider d;

	decider_open(&d, world.passwd, 3, 0);
	issue(&d, challenge);
	unit_expect_str(ntlm_login(&d, "alice", "", challenge, "secret"), "OK", "NTLM: the right answer");
	unit_expect_str(ntlm_login(&d, "alice", "", challenge, "secret"), "FAILED",
			"NTLM: the same answer a second time fails (the challenge is used up)");
	decider_open(&d, world.passwd, 3, 0);
	memset(challenge, 0, sizeof challenge);
	unit_expect_str(ntlm_login(&d, "alice", "", challenge, "secret"), "FAILED",
			"NTLM: an answer without a challenge issued fails");
}

/* ---- GSSAPI ---- */

static void test_gssapi_failure(void)
{
	unsigned char token[64], out[SASL_CHALLENGE_MAX];
	struct challenge c = { out, sizeof out, 0 };
	struct decider d;
	struct account a;

	memset(token, 0x60, sizeof token);
	decider_open(&d, world.passwd, 3, 0);
	unit_expect_str(result_name(d.door.gssapi_step(d.door.self, true, token, sizeof token, &c, &a)), "FAILED",
			"GSSAPI: a token no keytab can accept fails the login");
	unit_expect_uint(d.guard.failures, 1, "GSSAPI: the failed exchange is a counted failure");
	unit_ok(unit_log_has("failed login: GSSAPI exchange failed, client=unit"), "GSSAPI: the failure is logged");
	unit_expect_uint(c.len, 0, "GSSAPI: no challenge after a failure");
}

/* ---- admit ---- */

/* Admits an account in a child process; its exit status: 0 served here as the account's
 * uid, 1 refused, 2 served as another uid. */
static int admit_in_child(struct decider *d, const struct account *a)
{
	struct client_handle none = { -1, -1, NULL, 0 };
	pid_t pid = fork();
	int status;

	if (pid < 0)
		unit_bail("fork: %s", strerror(errno));
	if (pid == 0) {
		if (d->door.admit(d->door.self, a, &none) != ADMIT_SERVE_HERE)
			_exit(1);
		_exit(getuid() == a->uid && geteuid() == a->uid && getgid() == a->gid ? 0 : 2);
	}
	if (waitpid(pid, &status, 0) != pid)
		unit_bail("waitpid: %s", strerror(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_admit(void)
{
	struct decider d;
	struct account a;

	decider_open(&d, world.passwd, 3, 0);
	if (strcmp(password_login(&d, MECHANISM_USER, "alice", "secret", &a), "OK") != 0)
		unit_bail("alice cannot log in");
	unit_expect_uint((uint64_t)admit_in_child(&d, &a), 0, "admit: the process becomes alice's uid and gid");
	a.uid = 0;
	a.gid = 0;
	unit_expect_uint((uint64_t)admit_in_child(&d, &a), 1, "admit: uid 0 is never served");
	a.uid = unit_user_id() + 1;
	a.gid = unit_user_id() + 1;
	unit_expect_uint((uint64_t)admit_in_child(&d, &a), geteuid() == 0 ? 0 : 1,
			 geteuid() == 0 ? "admit: root serves any other uid" : "admit: another user's uid is refused");
	account_clear(&a);
}

int main(void)
{
	unit_world_make(&world, "auth");
	test_passwords();
	test_failure_count();
	test_failure_delay();
	test_unavailable();
	test_ntlm();
	test_ntlm_one_answer();
	test_gssapi_failure();
	test_admit();
	unit_world_remove(&world);
	return unit_done();
}
