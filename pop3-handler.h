/*
 * pop3-handler.h - configuration and the POP3 session, shared by main()
 * and the tests that drive them.
 */
#ifndef POP3_HANDLER_H
#define POP3_HANDLER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#define POP3_HANDLER_VERSION "0.1.0"
#define DEFAULT_CONFIG_FILE "/etc/pop3-handler.conf"

enum plaintext_policy { PLAINTEXT_NO, PLAINTEXT_YES, PLAINTEXT_SECURE };
enum log_target { LOG_TARGET_SYSLOG, LOG_TARGET_STDERR };

struct config {
	char passwd_file[PATH_MAX];
	char maildir[PATH_MAX];		/* template: %u user, %h home, %% percent */
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
	char privsep_user[PATH_MAX];	/* started as root: the user before login */
	char privsep_dir[PATH_MAX];	/* started as root: the empty directory before login */
	unsigned ntlm;			/* yes/no: offer AUTH NTLM */
	char ntlm_domain[PATH_MAX];	/* NTLM's NetBIOS domain; "" for the host name */
	char keytab[PATH_MAX];		/* GSSAPI: the keytab with the pop/<host> key */
	char krb5_realm[PATH_MAX];	/* GSSAPI: the realm of our users; "" for the default realm */
};

#define EXPIRE_NEVER UINT_MAX

/* Fills cfg with the built-in defaults. */
void config_defaults(struct config *cfg);

/* Sets one key from its text value; on failure writes the reason to err. */
bool config_set(struct config *cfg, const char *key, const char *value, char *err, size_t errlen);

/* Applies a "key = value" assignment (a config line or a -o argument); on failure writes the reason to err. */
bool config_assign(struct config *cfg, const char *assignment, char *err, size_t errlen);

/* Reads a configuration file of "key = value" lines, '#' comments and blank lines; on failure writes the reason to err. */
bool config_load(struct config *cfg, const char *path, char *err, size_t errlen);

/* Expands the Maildir template for a user and home; false when the result is not an absolute path that fits. */
bool maildir_expand(const char *template, const char *user, const char *home, char *out, size_t size);

/* Serves one POP3 session reading commands from in_fd and writing replies to out_fd; returns the process exit status. */
int session_run(const struct config *cfg, int in_fd, int out_fd);

#endif
