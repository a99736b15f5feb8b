/*
 * test-config.c - table-driven tests of config.c: the defaults, every kind
 * of setting with good and bad values (and the reason a bad one gets),
 * "key = value" assignments, configuration files (comments, blank lines,
 * CRLF, the line a problem is on), the settings checked against each
 * other, and the Maildir template's expansion.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "encode.h"
#include "params.h"
#include "unit.h"

/* ---- config_defaults ---- */

static void test_defaults(void)
{
	struct config cfg;

	memset(&cfg, 0xa5, sizeof cfg);
	config_defaults(&cfg);
	unit_expect_str(cfg.passwd_file, PASSWD_FILE_DEFAULT, "default passwd_file");
	unit_expect_str(cfg.maildir, MAILDIR_DEFAULT, "default maildir");
	unit_expect_uint(cfg.max_command_length, COMMAND_LENGTH_DEFAULT, "default max_command_length");
	unit_expect_uint(cfg.timeout_unauth, TIMEOUT_UNAUTH_DEFAULT, "default timeout_unauth (profile V0002: 60)");
	unit_expect_uint(cfg.timeout_auth, TIMEOUT_AUTH_DEFAULT, "default timeout_auth (profile V0002: 1800)");
	unit_expect_uint(cfg.max_auth_failures, AUTH_FAILURES_DEFAULT, "default max_auth_failures");
	unit_expect_uint(cfg.auth_fail_delay, AUTH_FAIL_DELAY_DEFAULT, "default auth_fail_delay");
	unit_expect_uint(cfg.exact_size, 1, "default exact_size yes");
	unit_expect_uint(cfg.plaintext_auth, PLAINTEXT_SECURE, "default plaintext_auth secure");
	unit_expect_uint(cfg.tls, 0, "default tls no");
	unit_expect_uint(cfg.log, LOG_TARGET_SYSLOG, "default log syslog");
	unit_expect_uint(cfg.expire_days, EXPIRE_NEVER, "default expire_days never");
	unit_expect_uint(cfg.expire_days_unread, 0, "default expire_days_unread no");
	unit_expect_uint(cfg.confine, 1, "default confine yes");
	unit_expect_str(cfg.privsep_user, PRIVSEP_USER_DEFAULT, "default privsep_user");
	unit_expect_str(cfg.privsep_dir, PRIVSEP_DIR_DEFAULT, "default privsep_dir");
	unit_expect_uint(cfg.ntlm, 0, "default ntlm no");
	unit_expect_str(cfg.ntlm_domain, "", "default ntlm_domain: none (the host name at run time)");
	unit_expect_str(cfg.keytab, KEYTAB_DEFAULT, "default keytab");
	unit_expect_str(cfg.krb5_realm, "", "default krb5_realm: none (krb5.conf's at run time)");
	unit_expect_str(cfg.pam_service, PAM_SERVICE_DEFAULT, "default pam_service");
	unit_expect_uint(cfg.uidl_migrate, UIDL_MIGRATE_AUTO, "default uidl_migrate auto");
	unit_expect_str(cfg.uidl_migrate_format, "%08Xu%08Xv", "default uidl_migrate_format: Dovecot's");
	unit_expect_uint(cfg.uidl_from_header, 0, "default uidl_from_header no");
	unit_expect_uint(cfg.client_workarounds, 0, "default client_workarounds: none");
}

/* ---- config_set and config_assign ---- */

struct set_case {
	const char *assignment;
	const char *expected;	/* "ok" and the value as stored, or the error */
};

/* The value a key holds, as text: strings as they are, numbers in decimal ("never" for
 * EXPIRE_NEVER). */
static void value_of(const struct config *cfg, const char *key, char *out, size_t size)
{
#define TEXT(k) { #k, offsetof(struct config, k), true }
#define NUMBER(k) { #k, offsetof(struct config, k), false }
	static const struct {
		const char *key;
		size_t offset;
		bool text;
	} fields[] = {
		TEXT(passwd_file), TEXT(maildir), TEXT(privsep_user), TEXT(privsep_dir), TEXT(ntlm_domain),
		TEXT(keytab), TEXT(krb5_realm), TEXT(pam_service), TEXT(uidl_migrate_format), NUMBER(max_command_length),
		NUMBER(timeout_unauth),
		NUMBER(timeout_auth), NUMBER(max_auth_failures), NUMBER(auth_fail_delay), NUMBER(exact_size),
		NUMBER(plaintext_auth), NUMBER(tls), NUMBER(log), NUMBER(expire_days), NUMBER(expire_days_unread),
		NUMBER(confine), NUMBER(ntlm), NUMBER(uidl_migrate), NUMBER(uidl_from_header),
		NUMBER(client_workarounds),
	};
#undef TEXT
#undef NUMBER

	snprintf(out, size, "<no such key>");
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
		const char *field = (const char *)cfg + fields[i].offset;
		unsigned v;

		if (strcmp(key, fields[i].key) != 0)
			continue;
		memcpy(&v, field, sizeof v);
		if (fields[i].text)
			snprintf(out, size, "%s", field);
		else if (v == EXPIRE_NEVER)
			snprintf(out, size, "never");
		else
			snprintf(out, size, "%u", v);
	}
}

static const struct set_case set_cases[] = {
	/* paths, and the account source's keywords */
	{ "passwd_file = /etc/mail/passwd", "ok /etc/mail/passwd" },
	{ "passwd_file = system", "ok system" },
	{ "passwd_file = pam", "ok pam" },
	{ "pam_service = pop3", "ok pop3" },
	{ "pam_service = ../shadow", "pam_service: not a valid user name" },
	{ "pam_service = a/b", "pam_service: not a valid user name" },
	{ "passwd_file = passwd", "passwd_file: must be an absolute path, system or pam" },
	{ "passwd_file = ~/passwd", "passwd_file: must be an absolute path, system or pam" },
	{ "passwd_file =", "passwd_file: must be an absolute path, system or pam" },
	{ "privsep_dir = /var/empty2", "ok /var/empty2" },
	{ "privsep_dir = var/empty", "privsep_dir: must be an absolute path" },
	{ "privsep_dir = system", "privsep_dir: must be an absolute path" },
	{ "keytab = /etc/pop.keytab", "ok /etc/pop.keytab" },
	{ "keytab = krb5.keytab", "keytab: must be an absolute path" },
	/* the Maildir template */
	{ "maildir = %h/Maildir", "ok %h/Maildir" },
	{ "maildir = /var/mail/%u/", "ok /var/mail/%u/" },
	{ "maildir = /var/100%%/%u", "ok /var/100%%/%u" },
	{ "maildir = Maildir", "maildir: must start with / or %h and use only %u, %h and %%" },
	{ "maildir = %u/Maildir", "maildir: must start with / or %h and use only %u, %h and %%" },
	{ "maildir = /var/mail/%d", "maildir: must start with / or %h and use only %u, %h and %%" },
	{ "maildir = /var/mail/%", "maildir: must start with / or %h and use only %u, %h and %%" },
	/* names */
	{ "privsep_user = pop3", "ok pop3" },
	{ "privsep_user = .hidden", "privsep_user: not a valid user name" },
	{ "privsep_user = a/b", "privsep_user: not a valid user name" },
	{ "ntlm_domain = EXAMPLE", "ok EXAMPLE" },
	{ "krb5_realm = EXAMPLE.COM", "ok EXAMPLE.COM" },
	{ "ntlm_domain = EX AMPLE", "ntlm_domain: expected 1 to 255 letters, digits, '.', '-' or '_'" },
	{ "krb5_realm =", "krb5_realm: expected 1 to 255 letters, digits, '.', '-' or '_'" },
	/* numbers, at and past their bounds */
	{ "max_command_length = 40", "ok 40" },
	{ "max_command_length = 1024", "ok 1024" },
	{ "max_command_length = 39", "max_command_length: expected a number from 40 to 1024" },
	{ "max_command_length = 1025", "max_command_length: expected a number from 40 to 1024" },
	{ "timeout_unauth = 1", "ok 1" },
	{ "timeout_unauth = 0", "timeout_unauth: expected a number from 1 to 86400" },
	{ "timeout_auth = 86400", "ok 86400" },
	{ "timeout_auth = 86401", "timeout_auth: expected a number from 1 to 86400" },
	{ "timeout_auth = +60", "timeout_auth: expected a number from 1 to 86400" },
	{ "timeout_auth = 60s", "timeout_auth: expected a number from 1 to 86400" },
	{ "timeout_auth = 99999999999999999999", "timeout_auth: expected a number from 1 to 86400" },
	{ "max_auth_failures = 100", "ok 100" },
	{ "max_auth_failures = 0", "max_auth_failures: expected a number from 1 to 100" },
	{ "auth_fail_delay = 0", "ok 0" },
	{ "auth_fail_delay = 61", "auth_fail_delay: expected a number from 0 to 60" },
	{ "expire_days = 0", "ok 0" },
	{ "expire_days = 36500", "ok 36500" },
	{ "expire_days = never", "ok never" },
	{ "expire_days = 36501", "expire_days: expected a number from 0 to 36500 or never" },
	{ "expire_days = Never", "expire_days: expected a number from 0 to 36500 or never" },
	/* choices */
	{ "exact_size = no", "ok 0" },
	{ "exact_size = yes", "ok 1" },
	{ "exact_size = YES", "exact_size: expected no or yes" },
	{ "plaintext_auth = secure", "ok 2" },
	{ "plaintext_auth = yes", "ok 1" },
	{ "plaintext_auth = maybe", "plaintext_auth: expected no, yes or secure" },
	{ "uidl_migrate = maildir-name", "ok 1" },
	{ "uidl_migrate = no", "ok 2" },
	{ "uidl_migrate = dovecot", "uidl_migrate: expected auto, maildir-name or no" },
	{ "uidl_from_header = yes", "ok 1" },
	{ "uidl_migrate_format = %f", "ok %f" },
	{ "uidl_migrate_format = %u-%v", "ok %u-%v" },
	{ "uidl_migrate_format = %v", "uidl_migrate_format: expected a pop3_uidl_format naming %u or %f (with %v, %%, X for hex, widths: %08Xu%08Xv)" },
	{ "uidl_migrate_format = %g", "uidl_migrate_format: expected a pop3_uidl_format naming %u or %f (with %v, %%, X for hex, widths: %08Xu%08Xv)" },
	{ "log = stderr", "ok 1" },
	{ "log = file", "log: expected syslog or stderr" },
	{ "confine = no", "ok 0" },
	{ "ntlm = yes", "ok 1" },
	/* lists: words separated by blanks and/or a comma, any order, repeats harmless */
	{ "client_workarounds =", "ok 0" },
	{ "client_workarounds = outlook-no-nuls", "ok 1" },
	{ "client_workarounds = oe-ns-eoh", "ok 2" },
	{ "client_workarounds = outlook-no-nuls oe-ns-eoh", "ok 3" },
	{ "client_workarounds = oe-ns-eoh,outlook-no-nuls", "ok 3" },
	{ "client_workarounds = oe-ns-eoh ,\toutlook-no-nuls", "ok 3" },
	{ "client_workarounds = oe-ns-eoh\t\toutlook-no-nuls", "ok 3" },
	{ "client_workarounds = oe-ns-eoh oe-ns-eoh, oe-ns-eoh", "ok 2" },
	{ "client_workarounds = outlook", "client_workarounds: unknown workaround 'outlook' (expected outlook-no-nuls or oe-ns-eoh)" },
	{ "client_workarounds = OE-NS-EOH", "client_workarounds: unknown workaround 'OE-NS-EOH' (expected outlook-no-nuls or oe-ns-eoh)" },
	{ "client_workarounds = oe-ns-eoh delay-newmail", "client_workarounds: unknown workaround 'delay-newmail' (expected outlook-no-nuls or oe-ns-eoh)" },
	{ "client_workarounds = oe-ns-eoh;outlook-no-nuls", "client_workarounds: unknown workaround 'oe-ns-eoh;outlook-no-nuls' (expected outlook-no-nuls or oe-ns-eoh)" },
	{ "client_workarounds = \"oe-ns-eoh\"", "client_workarounds: unknown workaround '\"oe-ns-eoh\"' (expected outlook-no-nuls or oe-ns-eoh)" },
	{ "client_workarounds = yes", "client_workarounds: unknown workaround 'yes' (expected outlook-no-nuls or oe-ns-eoh)" },
	{ "client_workarounds = xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "client_workarounds: unknown workaround 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' (expected outlook-no-nuls or oe-ns-eoh)" },
	{ "client_workarounds = ,oe-ns-eoh", "client_workarounds: a comma needs a word on both sides (expected outlook-no-nuls or oe-ns-eoh)" },
	{ "client_workarounds = oe-ns-eoh,", "client_workarounds: a comma needs a word on both sides (expected outlook-no-nuls or oe-ns-eoh)" },
	{ "client_workarounds = oe-ns-eoh ,", "client_workarounds: a comma needs a word on both sides (expected outlook-no-nuls or oe-ns-eoh)" },
	{ "client_workarounds = oe-ns-eoh,,outlook-no-nuls", "client_workarounds: a comma needs a word on both sides (expected outlook-no-nuls or oe-ns-eoh)" },
	{ "client_workarounds = oe-ns-eoh, ,outlook-no-nuls", "client_workarounds: a comma needs a word on both sides (expected outlook-no-nuls or oe-ns-eoh)" },
	{ "client_workarounds = ,", "client_workarounds: a comma needs a word on both sides (expected outlook-no-nuls or oe-ns-eoh)" },
	/* the assignment itself */
	{ "  tls\t=\tyes  ", "ok 1" },
	{ "tls=yes", "ok 1" },
	{ "tls yes", "expected key = value" },
	{ "colour = blue", "unknown key 'colour'" },
	{ "= yes", "unknown key ''" },
	{ "TLS = yes", "unknown key 'TLS'" },
};

static void test_set(void)
{
	for (size_t i = 0; i < sizeof set_cases / sizeof *set_cases; i++) {
		const struct set_case *c = &set_cases[i];
		char err[RESPONSE_MAX] = "", got[CONFIG_PATH_MAX + 8], key[64];
		struct config cfg;

		config_defaults(&cfg);
		if (config_assign(&cfg, c->assignment, err, sizeof err)) {
			sscanf(c->assignment, " %63[a-z_0-9]", key);
			strcpy(got, "ok ");
			value_of(&cfg, key, got + 3, sizeof got - 3);
		} else {
			snprintf(got, sizeof got, "%s", err);
		}
		unit_expect_str(got, c->expected, "config_assign \"%s\"", c->assignment);
	}
}

/* A refused value leaves the setting as it was. */
static void test_refused_keeps_value(void)
{
	char err[RESPONSE_MAX];
	struct config cfg;

	config_defaults(&cfg);
	unit_ok(!config_set(&cfg, "timeout_auth", "0", err, sizeof err) && cfg.timeout_auth == TIMEOUT_AUTH_DEFAULT,
		"a refused number leaves the default");
	unit_ok(!config_set(&cfg, "passwd_file", "relative", err, sizeof err) &&
			strcmp(cfg.passwd_file, PASSWD_FILE_DEFAULT) == 0,
		"a refused path leaves the default");
	unit_ok(config_set(&cfg, "client_workarounds", "oe-ns-eoh", err, sizeof err) &&
			!config_set(&cfg, "client_workarounds", "oe-ns-eoh x", err, sizeof err) &&
			cfg.client_workarounds == WORKAROUND_OE_NS_EOH,
		"a refused list leaves the value before, not the words before the bad one");
	unit_ok(config_set(&cfg, "client_workarounds", "", err, sizeof err) && cfg.client_workarounds == 0,
		"an empty list means none");
}

/* Each word of client_workarounds sets the bit the encoder reads for it (encode.h). */
static void test_workaround_bits(void)
{
	char err[RESPONSE_MAX];
	struct config cfg;

	config_defaults(&cfg);
	unit_ok(config_set(&cfg, "client_workarounds", "outlook-no-nuls", err, sizeof err) &&
			cfg.client_workarounds == WORKAROUND_OUTLOOK_NO_NULS,
		"outlook-no-nuls is WORKAROUND_OUTLOOK_NO_NULS");
	unit_ok(config_set(&cfg, "client_workarounds", "oe-ns-eoh", err, sizeof err) &&
			cfg.client_workarounds == WORKAROUND_OE_NS_EOH,
		"oe-ns-eoh is WORKAROUND_OE_NS_EOH");
}

/* A value of CONFIG_PATH_MAX octets or more is refused whole; one just below fits. */
static void test_long_values(void)
{
	static char value[CONFIG_PATH_MAX + 1];
	char err[RESPONSE_MAX];
	struct config cfg;

	config_defaults(&cfg);
	value[0] = '/';
	memset(value + 1, 'a', CONFIG_PATH_MAX - 2);
	value[CONFIG_PATH_MAX - 1] = '\0';
	unit_ok(config_set(&cfg, "keytab", value, err, sizeof err) && strlen(cfg.keytab) == CONFIG_PATH_MAX - 1,
		"a path of CONFIG_PATH_MAX - 1 octets is stored");
	value[CONFIG_PATH_MAX - 1] = 'a';
	value[CONFIG_PATH_MAX] = '\0';
	unit_ok(!config_set(&cfg, "keytab", value, err, sizeof err), "a path of CONFIG_PATH_MAX octets is refused");
	unit_expect_str(err, "keytab: value too long", "the reason for a path too long");
}

/* ---- config_load ---- */

static char world[64];

/* Writes content to a file of the test's and returns its path. */
static const char *write_file(const char *name, const char *content, size_t len)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", world, name);
	f = fopen(path, "w");
	if (f == NULL || fwrite(content, 1, len, f) != len || fclose(f) != 0)
		unit_bail("writing %s: %s", path, strerror(errno));
	return path;
}

struct load_case {
	const char *what;
	const char *content;
	size_t len;
	const char *expected;	/* "ok" with the settings the file changed, or the error after the path */
};

static const struct load_case load_cases[] = {
	{ "comments, blank lines and settings", BYTES("# a comment\n\n  # indented comment\ntls = yes\n"
						      "timeout_auth = 600\n"), "ok tls=1 timeout_auth=600" },
	{ "CRLF lines", BYTES("tls = yes\r\ntimeout_auth = 600\r\n"), "ok tls=1 timeout_auth=600" },
	{ "the last line without newline", BYTES("tls = yes\ntimeout_auth = 600"), "ok tls=1 timeout_auth=600" },
	{ "an empty file", BYTES(""), "ok tls=0 timeout_auth=1800" },
	{ "a later line wins", BYTES("timeout_auth = 600\ntimeout_auth = 700\n"), "ok tls=0 timeout_auth=700" },
	{ "an unknown key on line 3", BYTES("# x\ntls = yes\ncolor = red\n"), " line 3: unknown key 'color'" },
	{ "a bad value on line 1", BYTES("tls = perhaps\n"), " line 1: tls: expected no or yes" },
	{ "a line without '='", BYTES("\ntls\n"), " line 2: expected key = value" },
	{ "a NUL in a line", BYTES("tls = yes\ntls\0 = no\n"), " line 2: NUL octet in the line" },
	{ "a comment after the value is part of it", BYTES("tls = yes # always\n"),
	  " line 1: tls: expected no or yes" },
};

static void test_load(void)
{
	static char too_long[CONFIG_LINE_MAX + 16];
	char err[RESPONSE_MAX], got[RESPONSE_MAX + 64];

	for (size_t i = 0; i < sizeof load_cases / sizeof *load_cases; i++) {
		const struct load_case *c = &load_cases[i];
		const char *path = write_file("conf", c->content, c->len);
		struct config cfg;

		config_defaults(&cfg);
		if (config_load(&cfg, path, err, sizeof err))
			snprintf(got, sizeof got, "ok tls=%u timeout_auth=%u", cfg.tls, cfg.timeout_auth);
		else
			snprintf(got, sizeof got, "%s", strncmp(err, path, strlen(path)) == 0 ? err + strlen(path) : err);
		unit_expect_str(got, c->expected, "config_load: %s", c->what);
	}
	memset(too_long, 'a', sizeof too_long - 1);
	memcpy(too_long, "tls = yes\nkeytab = /", 20);
	too_long[sizeof too_long - 2] = '\n';
	{
		struct config cfg;
		const char *path = write_file("conf", too_long, sizeof too_long - 1);

		config_defaults(&cfg);
		unit_ok(!config_load(&cfg, path, err, sizeof err) && strstr(err, " line 2: line too long") != NULL,
			"config_load: a line longer than CONFIG_LINE_MAX is refused with its number");
	}
}

/* "/dev/null" is no file; a missing file and a directory are errors that say so. */
static void test_load_special(void)
{
	char err[RESPONSE_MAX], path[128];
	struct config cfg;

	config_defaults(&cfg);
	unit_ok(config_load(&cfg, "/dev/null", err, sizeof err) && cfg.tls == 0, "config_load: /dev/null is no file");
	snprintf(path, sizeof path, "%s/missing", world);
	unit_ok(!config_load(&cfg, path, err, sizeof err) && strstr(err, "No such file or directory") != NULL,
		"config_load: a missing file");
	unit_ok(!config_load(&cfg, world, err, sizeof err) && strstr(err, "not a regular file") != NULL,
		"config_load: a directory is not a regular file");
}

/* ---- config_load_each ---- */

/* A config_report that keeps every problem, one per line, and goes on. */
static bool keep_all(void *ctx, const char *problem)
{
	char *all = ctx;

	snprintf(all + strlen(all), RESPONSE_MAX * 4 - strlen(all), "%s\n", problem + strlen(world));
	return true;
}

/* Every bad line is reported, in order, and the good lines around them are applied. */
static void test_load_each(void)
{
	static const char content[] = "tls = maybe\ntimeout_auth = 600\ncolor = red\nexact_size = no\nx\0y\n";
	char all[RESPONSE_MAX * 4] = "";
	const char *path = write_file("conf", content, sizeof content - 1);
	struct config cfg;

	config_defaults(&cfg);
	unit_ok(config_load_each(&cfg, path, keep_all, all) == CONFIG_PROBLEMS, "config_load_each: bad lines");
	unit_expect_str(all, "/conf line 1: tls: expected no or yes\n/conf line 3: unknown key 'color'\n"
			"/conf line 5: NUL octet in the line\n", "config_load_each: each bad line, with its number");
	unit_ok(cfg.timeout_auth == 600 && cfg.exact_size == 0 && cfg.tls == 0,
		"config_load_each: the good lines are applied");
	all[0] = '\0';
	unit_ok(config_load_each(&cfg, world, keep_all, all) == CONFIG_UNREADABLE, "config_load_each: a directory");
}

/* ---- config_print ---- */

/* The printed settings load back to the same settings, and print the same. */
static void test_print(void)
{
	static const char changed_first[] = "# set by the configuration file or -o\ntimeout_auth = 77\n"
					    "plaintext_auth = yes\nntlm_domain = EXAMPLE\n"
					    "client_workarounds = outlook-no-nuls oe-ns-eoh\n# at their defaults\n";
	static char printed[8192], again[8192];
	struct config cfg, loaded;
	char err[RESPONSE_MAX];
	FILE *f;

	config_defaults(&cfg);
	unit_ok(config_set(&cfg, "expire_days", "never", err, sizeof err) &&
		config_set(&cfg, "timeout_auth", "77", err, sizeof err) &&
		config_set(&cfg, "ntlm_domain", "EXAMPLE", err, sizeof err) &&
		config_set(&cfg, "plaintext_auth", "yes", err, sizeof err) &&
		config_set(&cfg, "client_workarounds", "oe-ns-eoh,outlook-no-nuls", err, sizeof err),
		"config_print: settings to print");
	f = fmemopen(printed, sizeof printed - 1, "w");
	config_print(&cfg, f);
	fclose(f);
	unit_ok(strncmp(printed, changed_first, sizeof changed_first - 1) == 0, "config_print: the changed settings first");
	unit_ok(strstr(printed, "\nexpire_days = never\n") != NULL, "config_print: expire_days never as its word");
	unit_ok(strstr(printed, "\n# krb5_realm = (unset: found at run time)\n") != NULL,
		"config_print: an unset realm as a comment");
	config_defaults(&loaded);
	unit_ok(config_load(&loaded, write_file("conf", printed, strlen(printed)), err, sizeof err),
		"config_print: its lines load back");
	f = fmemopen(again, sizeof again - 1, "w");
	config_print(&loaded, f);
	fclose(f);
	unit_expect_str(again, printed, "config_print: loaded back, it prints the same");
}

/* ---- config_check ---- */

static void test_check(void)
{
	char err[RESPONSE_MAX] = "";
	struct config cfg;

	config_defaults(&cfg);
	unit_ok(config_check(&cfg, err, sizeof err), "config_check: the defaults");
	cfg.ntlm = 1;
	unit_ok(config_check(&cfg, err, sizeof err), "config_check: ntlm with a passwd file");
	strcpy(cfg.passwd_file, "system");
	unit_ok(!config_check(&cfg, err, sizeof err), "config_check: ntlm with the host's accounts is refused");
	unit_expect_str(err, "ntlm = yes needs a passwd_file with NT hashes: the host's accounts have none",
			"config_check: why ntlm with the host's accounts is refused");
	strcpy(cfg.passwd_file, "pam");
	unit_ok(!config_check(&cfg, err, sizeof err), "config_check: ntlm with PAM is refused");
	unit_expect_str(err, "ntlm = yes needs a passwd_file with NT hashes: the accounts PAM checks have none",
			"config_check: why ntlm with PAM is refused");
	cfg.ntlm = 0;
	unit_ok(config_check(&cfg, err, sizeof err), "config_check: PAM without ntlm");
	strcpy(cfg.passwd_file, "system");
	unit_ok(config_check(&cfg, err, sizeof err), "config_check: the host's accounts without ntlm");
}

/* ---- maildir_expand ---- */

static const struct {
	const char *template, *user, *home;
	size_t size;
	const char *expected;	/* the path, or "<refused>" */
} expand_cases[] = {
	{ "%h/Maildir", "alice", "/home/alice", 256, "/home/alice/Maildir" },
	{ "/var/mail/%u", "alice", "/home/alice", 256, "/var/mail/alice" },
	{ "/var/mail/%u/%u", "bob", "/", 256, "/var/mail/bob/bob" },
	{ "/srv/100%%/%u", "alice", "/home/alice", 256, "/srv/100%/alice" },
	{ "%h", "alice", "/home/alice", 256, "/home/alice" },
	{ "%h/Maildir", "alice", "home/alice", 256, "<refused>" },	/* not absolute */
	{ "/var/mail/%x", "alice", "/home/alice", 256, "<refused>" },
	{ "/var/mail/%u", "alice", "/home/alice", 16, "/var/mail/alice" },	/* 15 octets and the NUL */
	{ "/var/mail/%u", "alice", "/home/alice", 15, "<refused>" },
	{ "/var/mail/%u", "alice2", "/home/alice", 16, "<refused>" },
};

static void test_expand(void)
{
	for (size_t i = 0; i < sizeof expand_cases / sizeof *expand_cases; i++) {
		char out[256];
		bool ok = maildir_expand(expand_cases[i].template, expand_cases[i].user, expand_cases[i].home, out,
					 expand_cases[i].size);

		unit_expect_str(ok ? out : "<refused>", expand_cases[i].expected, "maildir_expand \"%s\" user %s home %s (%zu)",
				expand_cases[i].template, expand_cases[i].user, expand_cases[i].home, expand_cases[i].size);
	}
}

int main(void)
{
	snprintf(world, sizeof world, "/tmp/pop3-unit-config.XXXXXX");
	if (mkdtemp(world) == NULL)
		unit_bail("mkdtemp: %s", strerror(errno));
	test_defaults();
	test_set();
	test_refused_keeps_value();
	test_workaround_bits();
	test_long_values();
	test_load();
	test_load_special();
	test_load_each();
	test_print();
	test_check();
	test_expand();
	{
		char path[128];

		snprintf(path, sizeof path, "%s/conf", world);
		unlink(path);
		rmdir(world);
	}
	return unit_done();
}
