/*
 * config.h - the settings of pop3-handler: their defaults, the file of
 * "key = value" lines and the -o overrides that set them, and the Maildir
 * template they name.
 */
#ifndef POP3_CONFIG_H
#define POP3_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "params.h"

enum plaintext_policy { PLAINTEXT_NO, PLAINTEXT_YES, PLAINTEXT_SECURE };
enum log_target { LOG_TARGET_SYSLOG, LOG_TARGET_STDERR };
/* Where a new UID list takes over a previous server's UIDLs from (uidl-import.h). */
enum uidl_migrate { UIDL_MIGRATE_AUTO, UIDL_MIGRATE_MAILDIR_NAME, UIDL_MIGRATE_NO };

/* The strings that are paths take CONFIG_PATH_MAX; the names take what their form allows, so that
 * the whole (which every session keeps, and start-up zeroes) spans few pages. */
struct config {
	char passwd_file[CONFIG_PATH_MAX];	/* the account source: a path or a userdb keyword */
	char maildir[CONFIG_PATH_MAX];		/* template: %u user, %h home, %% percent */
	unsigned max_command_length;
	unsigned timeout_unauth, timeout_auth;
	unsigned max_auth_failures, auth_fail_delay;
	unsigned exact_size;		/* yes/no */
	unsigned plaintext_auth;	/* enum plaintext_policy */
	unsigned tls;			/* yes/no */
	unsigned log;			/* enum log_target */
	unsigned expire_days;		/* retention in days, or EXPIRE_NEVER */
	unsigned expire_days_unread;	/* yes/no: expire unread messages by age too */
	unsigned confine;		/* yes/no: Landlock and seccomp after login */
	char privsep_user[USER_NAME_MAX + 1];	/* started as root: the user before login */
	char privsep_dir[CONFIG_PATH_MAX];	/* started as root: the empty directory before login */
	unsigned ntlm;			/* yes/no: offer AUTH NTLM */
	unsigned ntlm_plaintext;	/* yes/no: NTLM also on connections plaintext_auth deems unsafe */
	char ntlm_domain[DOMAIN_NAME_MAX + 1];	/* NTLM's NetBIOS domain; "" for the host name */
	char keytab[CONFIG_PATH_MAX];		/* GSSAPI: the keytab with the pop/<host> key */
	char krb5_realm[DOMAIN_NAME_MAX + 1];	/* GSSAPI: the realm of our users; "" for the default realm */
	char pam_service[USER_NAME_MAX + 1];	/* passwd_file = pam: the PAM service (/etc/pam.d/<name>) */
	unsigned uidl_migrate;		/* enum uidl_migrate */
	char uidl_migrate_format[UIDL_FORMAT_MAX + 1];	/* Dovecot's pop3_uidl_format as the site had it */
	unsigned uidl_from_header;	/* yes/no: a new UID list takes X-UIDL headers over */
	unsigned client_workarounds;	/* a bit set: WORKAROUND_* (encode.h) */
};

#define EXPIRE_NEVER UINT_MAX

/* Fills cfg with the built-in defaults (params.h). */
void config_defaults(struct config *cfg);

/* Sets one key from its text value; on failure writes the reason to err. */
bool config_set(struct config *cfg, const char *key, const char *value, char *err, size_t errlen);

/* Applies a "key = value" assignment (a configuration line or a -o argument); on failure
 * writes the reason to err. */
bool config_assign(struct config *cfg, const char *assignment, char *err, size_t errlen);

/* Reads a configuration file of "key = value" lines, '#' comments and blank lines ("/dev/null":
 * none); on failure writes the reason, with the file and line, to err. */
bool config_load(struct config *cfg, const char *path, char *err, size_t errlen);

/* Told one problem of a configuration (with its file and line, or its -o argument); returns
 * whether to go on looking for more. */
typedef bool config_report(void *ctx, const char *problem);

/* Where config_keep_first() keeps the problem. */
struct config_first {
	char *err;
	size_t errlen;
};

/* A config_report that keeps the problem in ctx (a struct config_first) and stops: a session
 * refuses to start at its configuration's first problem. */
bool config_keep_first(void *ctx, const char *problem);

enum config_load {
	CONFIG_LOADED,		/* no problem */
	CONFIG_PROBLEMS,	/* bad lines, or a file others may change */
	CONFIG_UNREADABLE,	/* no file to read */
};

/* config_load(), telling report each problem (a bad line, the file unsafe or unreadable) and
 * applying the good lines until report says to stop. */
enum config_load config_load_each(struct config *cfg, const char *path, config_report *report, void *ctx);

/* Writes the settings of cfg to out as configuration lines that load back to them: first
 * those that differ from the defaults, then the defaults, each group under a comment line. */
void config_print(const struct config *cfg, FILE *out);

/* Checks the settings against each other once all are read; on failure writes the reason to
 * err. */
bool config_check(const struct config *cfg, char *err, size_t errlen);

/* Expands the Maildir template for a user and home; false when the result is not an
 * absolute path that fits. */
bool maildir_expand(const char *template, const char *user, const char *home, char *out, size_t size);

#endif
