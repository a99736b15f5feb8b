/*
 * test-userdb.c - the account sources behind userdb.h: which source a
 * passwd_file setting names; the passwd-style file (well-formed entries,
 * every kind of malformed line skipped and logged, the NT hash field, a
 * file others could change refused); the host's accounts; the crypt(3)
 * check every source with hashes shares (password.c); and the setting most
 * used in a database, which an unknown user's dummy check takes
 * (hash-setting.c).
 */
#include "userdb.h"

#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash-setting.h"
#include "pam-accounts.h"
#include "passwd-file.h"
#include "password.h"
#include "system-accounts.h"
#include "unit-log.h"
#include "unit.h"

static char world[64];
static char passwd_path[128];
static char hash[CRYPT_OUTPUT_SIZE];

/* ---- userdb_named and the keywords ---- */

static void test_named(void)
{
	unit_ok(userdb_named("system") == &system_accounts, "passwd_file = system names the host's accounts");
	unit_ok(userdb_named("/etc/pop3-handler/passwd") == &passwd_file_source, "an absolute path names a passwd file");
	unit_ok(userdb_named("/system") == &passwd_file_source, "\"/system\" is a path");
	unit_ok(userdb_named("passwd") == NULL, "a relative path names nothing");
	unit_ok(userdb_named("System") == NULL, "keywords are case-sensitive");
	unit_ok(userdb_named("") == NULL, "an empty setting names nothing");
	unit_expect_str(userdb_keyword(0), "system", "the first keyword");
	unit_expect_str(userdb_keyword(1), "pam", "the second keyword");
	unit_ok(userdb_keyword(2) == NULL, "two keywords today");
	unit_ok(userdb_named("pam") == &pam_accounts, "passwd_file = pam names PAM and NSS");
	unit_ok(passwd_file_source.nt_hashes && !system_accounts.nt_hashes && !pam_accounts.nt_hashes,
		"only the passwd file holds NT hashes");
}

/* ---- the passwd file ---- */

/* Writes the passwd file with mode. */
static void write_passwd(const char *content, mode_t mode)
{
	FILE *f = fopen(passwd_path, "w");

	if (f == NULL || fputs(content, f) == EOF || fclose(f) != 0 || chmod(passwd_path, mode) != 0)
		unit_bail("writing %s: %s", passwd_path, strerror(errno));
}

/* Looks user up in the passwd file, rendered: "found uid gid home nt=yes|no", "unknown" or
 * "failed". */
static const char *lookup(const char *user)
{
	static char text[2 * CONFIG_LINE_MAX];
	struct account_query q = { passwd_path, user, "unit", "pop3-handler" };
	struct account a;

	memset(&a, 0x5a, sizeof a);
	switch (passwd_file_source.lookup(&q, &a)) {
	case LOOKUP_FOUND:
		snprintf(text, sizeof text, "found %s %u %u %s nt=%s", a.name, (unsigned)a.uid, (unsigned)a.gid,
			 a.home, a.has_nt_hash ? "yes" : "no");
		break;
	case LOOKUP_UNKNOWN:
		snprintf(text, sizeof text, "unknown");
		break;
	default:
		snprintf(text, sizeof text, "failed");
	}
	account_clear(&a);
	return text;
}

#define NT "a4f49c406510bdcab6824ee7c30fd852"

static const char passwd_lines[] =
	"# users\n"
	"\n"
	"alice:$5$x$y:1001:1002:Alice:/home/alice:/bin/sh\n"
	"bob:*:1003:1003::/home/bob:/usr/sbin/nologin:" NT "\n"
	"carol:!$5$x$y:1004:1004::/home/carol:/bin/sh:A4F49C406510BDCAB6824EE7C30FD852\n"
	"short:x:1005:1005::/home/short\n"			/* six fields */
	"long:x:1006:1006::/home/long:/bin/sh:" NT ":extra\n"	/* nine */
	"baduid:x:-1:1007::/home/baduid:/bin/sh\n"
	"bigid:x:4294967295:1008::/home/bigid:/bin/sh\n"	/* (uid_t)-1 */
	"badgid:x:1009:12a::/home/badgid:/bin/sh\n"
	"relhome:x:1010:1010::home/relhome:/bin/sh\n"
	"badnt:x:1011:1011::/home/badnt:/bin/sh:" "a4f49c406510bdcab6824ee7c30fd85\n"	/* 31 digits */
	"badnt2:x:1012:1012::/home/badnt2:/bin/sh:" "g4f49c406510bdcab6824ee7c30fd852\n"
	".dot:x:1013:1013::/home/dot:/bin/sh\n"
	"two words:x:1014:1014::/home/two:/bin/sh\n"
	"  # an indented comment\n"
	"dup:x:1015:1015::/home/dup1:/bin/sh\n"
	"dup:x:1016:1016::/home/dup2:/bin/sh\n"
	"crlf:x:1017:1017::/home/crlf:/bin/sh\r\n"
	"root0:x:0:0::/root:/bin/sh\n";

static const struct {
	const char *user;
	const char *expected;
	const char *logged;	/* a line skipped on the way, or NULL */
} lookup_cases[] = {
	{ "alice", "found alice 1001 1002 /home/alice nt=no", NULL },
	{ "bob", "found bob 1003 1003 /home/bob nt=yes", NULL },
	{ "carol", "found carol 1004 1004 /home/carol nt=yes", NULL },	/* upper-case digits */
	{ "nobody-here", "unknown", "line 6: malformed entry skipped" },
	{ "short", "unknown", "line 6: malformed entry skipped" },
	{ "long", "unknown", "line 7: malformed entry skipped" },
	{ "baduid", "unknown", "line 8: malformed entry skipped" },
	{ "bigid", "unknown", "line 9: malformed entry skipped" },
	{ "badgid", "unknown", "line 10: malformed entry skipped" },
	{ "relhome", "unknown", "line 11: malformed entry skipped" },
	{ "badnt", "unknown", "line 12: malformed entry skipped" },
	{ "badnt2", "unknown", "line 13: malformed entry skipped" },
	{ ".dot", "unknown", "line 14: malformed entry skipped" },
	{ "two words", "unknown", "line 15: malformed entry skipped" },
	{ "dup", "found dup 1015 1015 /home/dup1 nt=no", NULL },	/* the first entry wins */
	{ "crlf", "found crlf 1017 1017 /home/crlf nt=no", NULL },
	{ "root0", "found root0 0 0 /root nt=no", NULL },		/* the login decision refuses uid 0 */
	{ "Alice", "unknown", NULL },
	{ "ali", "unknown", NULL },
};

static void test_passwd_file(void)
{
	write_passwd(passwd_lines, 0600);
	for (size_t i = 0; i < sizeof lookup_cases / sizeof *lookup_cases; i++) {
		unit_log_clear();
		unit_expect_str(lookup(lookup_cases[i].user), lookup_cases[i].expected, "passwd file: look up \"%s\"",
				lookup_cases[i].user);
		if (lookup_cases[i].logged != NULL)
			unit_ok(unit_log_has(lookup_cases[i].logged), "passwd file: looking up \"%s\" logged \"%s\"",
				lookup_cases[i].user, lookup_cases[i].logged);
	}
}

/* A line too long or holding a NUL is skipped whole, and the lookup goes on past it. */
static void test_passwd_file_hostile_lines(void)
{
	static char content[CONFIG_LINE_MAX + 256];
	size_t n;

	memset(content, 'x', sizeof content);
	memcpy(content, "alice:", 6);
	n = CONFIG_LINE_MAX + 10;
	content[n++] = '\n';
	n += (size_t)snprintf(content + n, sizeof content - n, "bob:x:1003:1003::/home/bob:/bin/sh\n");
	static const char tail[] = "nul\0:x:1:1::/h:/s\ncarol:x:1004:1004::/home/carol:/bin/sh\n";
	FILE *f;

	write_passwd("", 0600);
	f = fopen(passwd_path, "w");
	if (f == NULL || fwrite(content, 1, n, f) != n || fwrite(tail, 1, sizeof tail - 1, f) != sizeof tail - 1 ||
	    fclose(f) != 0)
		unit_bail("writing %s", passwd_path);
	unit_log_clear();
	unit_expect_str(lookup("alice"), "unknown", "passwd file: a line too long is no entry");
	unit_ok(unit_log_has("line 1: too long, skipped"), "passwd file: the long line is logged");
	unit_expect_str(lookup("bob"), "found bob 1003 1003 /home/bob nt=no", "passwd file: the line after a long one");
	unit_log_clear();
	unit_expect_str(lookup("carol"), "found carol 1004 1004 /home/carol nt=no", "passwd file: the line after a NUL");
	unit_ok(unit_log_has("line 3: NUL octet, skipped"), "passwd file: the line with a NUL is logged");
}

/* A file group or others may write, a missing file and a directory fail every lookup. */
static void test_passwd_file_unsafe(void)
{
	char saved[sizeof passwd_path];

	write_passwd("alice:$5$x$y:1001:1002::/home/alice:/bin/sh\n", 0620);
	unit_log_clear();
	unit_expect_str(lookup("alice"), "failed", "passwd file writable by the group: refused");
	unit_ok(unit_log_has("writable by group or others"), "passwd file writable by the group: logged");
	write_passwd("alice:$5$x$y:1001:1002::/home/alice:/bin/sh\n", 0602);
	unit_expect_str(lookup("alice"), "failed", "passwd file writable by others: refused");
	write_passwd("alice:$5$x$y:1001:1002::/home/alice:/bin/sh\n", 0644);
	unit_expect_str(lookup("alice"), "found alice 1001 1002 /home/alice nt=no", "passwd file readable by all: used");
	unlink(passwd_path);
	unit_log_clear();
	unit_expect_str(lookup("alice"), "failed", "passwd file missing: the lookup fails");
	unit_ok(unit_log_has("cannot open user database"), "passwd file missing: logged");
	memcpy(saved, passwd_path, sizeof saved);
	snprintf(passwd_path, sizeof passwd_path, "%s", world);
	unit_log_clear();
	unit_expect_str(lookup("alice"), "failed", "passwd file a directory: the lookup fails");
	unit_ok(unit_log_has("not a regular file"), "passwd file a directory: logged");
	memcpy(passwd_path, saved, sizeof saved);
}

/* The passwd file's password login: the verdict, rendered. */
static const char *password_login(const char *user, const char *password)
{
	static const char *const names[] = { "OK", "UNKNOWN", "REFUSED", "UNAVAILABLE" };
	struct account_query q = { passwd_path, user, "unit", "pop3-handler" };
	const char *why = NULL;
	struct account a;
	enum verdict v;

	memset(&a, 0, sizeof a);
	v = passwd_file_source.password_login(&q, password, &a, &why);
	account_clear(&a);
	return names[v];
}

/* A password login: the verdicts the login decision turns into replies and log lines. */
static void test_password_login(void)
{
	char line[2 * CRYPT_OUTPUT_SIZE + 128];

	snprintf(line, sizeof line, "alice:%s:1001:1002::/home/alice:/bin/sh\ncarol:!%s:1004:1004::/home/carol:/bin/sh\n",
		 hash, hash);
	write_passwd(line, 0600);
	unit_expect_str(password_login("alice", "secret"), "OK", "password login: the right password");
	unit_expect_str(password_login("alice", "wrong"), "REFUSED", "password login: a wrong password");
	unit_expect_str(password_login("carol", "secret"), "REFUSED", "password login: a locked account");
	unit_expect_str(password_login("nobody-here", "secret"), "UNKNOWN", "password login: an unknown user");
	unlink(passwd_path);
	unit_expect_str(password_login("alice", "secret"), "UNAVAILABLE", "password login: no passwd file");
}

/* ---- the host's accounts ---- */

/* The host's accounts, asked about user. */
static enum lookup_result system_lookup(const char *user, struct account *a)
{
	struct account_query q = { "system", user, "unit", "pop3-handler" };

	return system_accounts.lookup(&q, a);
}

static void test_system_accounts(void)
{
	struct account a;

	unit_ok(system_lookup("root", &a) == LOOKUP_FOUND && a.uid == 0 &&
			strcmp(a.name, "root") == 0 && a.home[0] == '/',
		"host accounts: root is found, with uid 0 and a home");
	unit_ok(!a.has_nt_hash, "host accounts: no NT hash");
	account_clear(&a);
	unit_ok(system_lookup("no-such-user-4242", &a) == LOOKUP_UNKNOWN,
		"host accounts: an unknown user");
	unit_ok(system_lookup("nobody", &a) == LOOKUP_FOUND && a.hash[0] != '\0' &&
			!password_ok(&a, "", NULL),
		"host accounts: nobody is found, and no empty password logs it in");
	account_clear(&a);
}

/* ---- password_ok and the account states ---- */

static void test_passwords(void)
{
	const char *why = NULL;
	struct account a;

	memset(&a, 0, sizeof a);
	strcpy(a.hash, hash);
	unit_ok(password_ok(&a, "secret", NULL), "password_ok: the right password");
	unit_ok(!password_ok(&a, "Secret", NULL), "password_ok: a wrong password");
	unit_ok(!password_ok(&a, "secret ", NULL), "password_ok: the right password and a space");
	unit_ok(!password_ok(&a, "", NULL), "password_ok: an empty password");
	unit_ok(!password_ok(NULL, "secret", NULL), "password_ok: no account (an unknown user)");
	a.hash[0] = '!';
	memmove(a.hash + 1, hash, strlen(hash) + 1);
	unit_ok(!password_ok(&a, "secret", NULL), "password_ok: a locked hash ('!' before it)");
	unit_ok(account_locked(&a) && account_lock_state(NULL, &a, &why) == VERDICT_REFUSED, "account_locked: '!'");
	strcpy(a.hash, "*");
	unit_ok(!password_ok(&a, "*", NULL) && !password_ok(&a, "secret", NULL), "password_ok: '*' has no password");
	unit_ok(!account_locked(&a) && account_lock_state(NULL, &a, &why) == VERDICT_OK, "account_locked: '*' is not locked");
	a.hash[0] = '\0';
	unit_ok(!password_ok(&a, "", NULL) && !password_ok(&a, "secret", NULL), "password_ok: an empty hash has no password");
	unit_ok(!account_locked(&a), "account_locked: an empty hash is not locked");
	strcpy(a.hash, "$unknown$method");
	unit_ok(!password_ok(&a, "secret", NULL), "password_ok: a method libxcrypt does not know");
	strcpy(a.hash, hash);
	account_clear(&a);
	unit_ok(a.hash[0] == '\0' && a.uid == 0, "account_clear: the hash is wiped");
}

/* ---- the setting most used in a database, and its dummy ---- */

/* The setting most used among the n hashes, "(none)" when none counts. */
static const char *most_used(const char *const *hashes, size_t n)
{
	static struct setting_tally t;
	const char *best;

	memset(&t, 0, sizeof t);
	for (size_t i = 0; i < n; i++)
		setting_tally_add(&t, hashes[i]);
	best = setting_tally_most_used(&t);
	return best != NULL ? best : "(none)";
}

#define MOST_USED(...) most_used((const char *const[]){ __VA_ARGS__ }, \
				 sizeof (const char *const[]){ __VA_ARGS__ } / sizeof(const char *))

static void test_setting_tally(void)
{
	static const char bcrypt[] = "$2b$10$abcdefghijklmnopqrstuuWddY5gVmxAK1EDtNZQyj..q4mmDTL2W";
	static const char yes[] = "$y$j9T$abcdefghijklmnop$wRwvHNqzMkHLG74uLLCRVTwaZ.a1aIothEUeYGf9oED";
	static struct setting_tally t;
	char name[32];

	unit_expect_str(MOST_USED("$6$salt$digest"), "$6$", "tally: sha512crypt of the default cost");
	unit_expect_str(MOST_USED("$6$rounds=5000$salt$digest"), "$6$rounds=5000$", "tally: rounds kept");
	unit_expect_str(MOST_USED(yes), "$y$j9T$", "tally: yescrypt's parameters kept");
	unit_expect_str(MOST_USED(bcrypt), "$2b$10$", "tally: bcrypt's cost, its salt and digest in one field");
	unit_expect_str(MOST_USED("$5$a$d", "$6$b$d", "$6$c$d", "$5$e$d", "$6$f$d"), "$6$",
			"tally: the most used wins, whatever the salts");
	unit_expect_str(MOST_USED("$5$a$d", "$6$b$d", "$6$rounds=9$c$d", "$6$rounds=9$c$d"), "$6$rounds=9$",
			"tally: another cost is another setting");
	unit_expect_str(MOST_USED("$5$a$d", "$6$b$d"), "$5$", "tally: of equals, the first counted");
	unit_expect_str(MOST_USED("$6$a$d", "!$y$j9T$a$d", "!$y$j9T$b$d", "*", "*", "", "", "!"), "$6$",
			"tally: locked ('!'), '*' and empty hashes are not counted");
	unit_expect_str(MOST_USED("abcdefghijklm", "abcdefghijklm", "$6$a$d"), "$6$", "tally: DES is not counted");
	unit_expect_str(MOST_USED("$6$digest", "$6$", "$$a$d", "$", "x"), "(none)",
			"tally: hashes without a setting before a salt are not counted");
	unit_expect_str(MOST_USED("$6$a$d", "$x$000000000000000000000000000000000000000000000000000000000000000$s$d",
				  "$x$000000000000000000000000000000000000000000000000000000000000000$s$d"),
			"$6$", "tally: a setting of 64 octets or more is not counted");
	for (int i = 0; i < SETTING_TALLY_ROWS; i++) {
		snprintf(name, sizeof name, "$%d$salt$digest", i);
		setting_tally_add(&t, name);
	}
	setting_tally_add(&t, "$new$a$d");
	setting_tally_add(&t, "$new$b$d");
	unit_expect_str(setting_tally_most_used(&t), "$0$", "tally: a new setting past the rows is not counted");
	setting_tally_add(&t, "$7$salt$digest");
	unit_expect_str(setting_tally_most_used(&t), "$7$", "tally: the settings in the rows still are");
}

/* Tells whether setting, made from from, starts with want and makes a hash (not '*'). */
static bool dummy_makes(const char *from, const char *want)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data cd;
	const char *h;

	dummy_setting_make(from, setting, sizeof setting);
	memset(&cd, 0, sizeof cd);
	h = crypt_r("secret", setting, &cd);
	return strncmp(setting, want, strlen(want)) == 0 && strlen(setting) > strlen(want) && h != NULL &&
	       h[0] != '*' && strncmp(h, setting, strlen(setting)) == 0;
}

static void test_dummy_setting(void)
{
	unit_ok(dummy_makes("$6$", "$6$"), "dummy: sha512crypt with a salt");
	unit_ok(dummy_makes("$6$rounds=6000$", "$6$rounds=6000$"), "dummy: sha512crypt keeps its rounds");
	unit_ok(dummy_makes("$y$jD5.7$", "$y$jD5.7$"), "dummy: yescrypt keeps its parameters");
	unit_ok(dummy_makes("$2b$06$", "$2b$06$"), "dummy: bcrypt keeps its cost");
	unit_ok(dummy_makes("$5$", "$5$"), "dummy: sha256crypt");
	unit_ok(dummy_makes(NULL, "$y$"), "dummy: none counted, libxcrypt's default method");
	unit_ok(dummy_makes("$unknown$", "$y$"), "dummy: a method libxcrypt lacks, its default method");
	unit_ok(dummy_makes("", "$y$") && dummy_makes("xy", "$y$") && dummy_makes("$", "$y$"),
		"dummy: no method at all, its default method");
}

int main(void)
{
	struct crypt_data cd;
	const char *h;
	char log_path[128];

	snprintf(world, sizeof world, "/tmp/pop3-unit-userdb.XXXXXX");
	if (mkdtemp(world) == NULL)
		unit_bail("mkdtemp: %s", strerror(errno));
	snprintf(passwd_path, sizeof passwd_path, "%s/passwd", world);
	snprintf(log_path, sizeof log_path, "%s/log", world);
	unit_log_open(log_path);
	memset(&cd, 0, sizeof cd);
	h = crypt_r("secret", "$5$rounds=1000$unitsalt$", &cd);
	if (h == NULL || h[0] == '*')
		unit_bail("crypt_r failed");
	snprintf(hash, sizeof hash, "%s", h);
	test_named();
	test_passwd_file();
	test_passwd_file_hostile_lines();
	test_passwd_file_unsafe();
	test_password_login();
	test_system_accounts();
	test_passwords();
	test_setting_tally();
	test_dummy_setting();
	unlink(passwd_path);
	unlink(log_path);
	rmdir(world);
	return unit_done();
}
