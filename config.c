/*
 * config.c - the settings table with each key's form and default, the
 * configuration file loader, and the Maildir template.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "encode.h"
#include "params.h"
#include "parse.h"
#include "textfile.h"
#include "uidl-formats.h"
#include "userdb.h"
#include "util.h"

enum setting_kind {
	SET_PATH,		/* an absolute path */
	SET_DATABASE,		/* an absolute path, or a keyword naming an account source */
	SET_TEMPLATE,		/* the Maildir template */
	SET_NAME,		/* a user name */
	SET_DOMAIN,		/* a domain or realm name (unset, "": found at run time) */
	SET_NUMBER,		/* a decimal number in [min, max], or the word "never" when allowed */
	SET_UIDL_FORMAT,	/* Dovecot's pop3_uidl_format (dovecot_format_ok) */
	SET_CHOICE,		/* one word of a list, stored as its index */
	SET_LIST,		/* words of a list, any number, stored as a bit set: bit i for choices[i] */
};

struct setting {
	const char *key;
	size_t offset;
	const char *text_default;	/* string kinds */
	const char *const *choices;	/* SET_CHOICE, SET_LIST; SET_NUMBER: the word for EXPIRE_NEVER */
	enum setting_kind kind;
	unsigned number_default;	/* numbers, choices and lists */
	unsigned min, max;		/* SET_NUMBER */
	size_t size;			/* string kinds: the field's size, its NUL included */
};

static const char *const yes_no[] = { "no", "yes", NULL };
static const char *const plaintext_choices[] = { "no", "yes", "secure", NULL };
static const char *const log_choices[] = { "syslog", "stderr", NULL };
static const char *const never_word[] = { "never", NULL };
static const char *const migrate_choices[] = { "auto", "maildir-name", "no", NULL };	/* enum uidl_migrate */
/* In the order of the WORKAROUND_* bits (encode.h). */
static const char *const workaround_words[] = { "outlook-no-nuls", "oe-ns-eoh", NULL };

#define AT(field) offsetof(struct config, field)
#define STRING(key, kind, text) { #key, AT(key), text, NULL, kind, 0, 0, 0, sizeof(((struct config *)0)->key) }
#define NUMBER(key, def, min, max) { #key, AT(key), NULL, NULL, SET_NUMBER, def, min, max, 0 }
#define CHOICE(key, def, words) { #key, AT(key), NULL, words, SET_CHOICE, def, 0, 0, 0 }
#define LIST(key, words) { #key, AT(key), NULL, words, SET_LIST, 0, 0, 0, 0 }

static const struct setting settings[] = {
	STRING(passwd_file, SET_DATABASE, PASSWD_FILE_DEFAULT),
	STRING(maildir, SET_TEMPLATE, MAILDIR_DEFAULT),
	NUMBER(max_command_length, COMMAND_LENGTH_DEFAULT, COMMAND_LENGTH_MIN, COMMAND_LENGTH_MAX),
	NUMBER(timeout_unauth, TIMEOUT_UNAUTH_DEFAULT, 1, TIMEOUT_MAX),
	NUMBER(timeout_auth, TIMEOUT_AUTH_DEFAULT, 1, TIMEOUT_MAX),
	NUMBER(max_auth_failures, AUTH_FAILURES_DEFAULT, 1, AUTH_FAILURES_MAX),
	NUMBER(auth_fail_delay, AUTH_FAIL_DELAY_DEFAULT, 0, AUTH_FAIL_DELAY_MAX),
	CHOICE(exact_size, 1, yes_no),
	CHOICE(plaintext_auth, PLAINTEXT_SECURE, plaintext_choices),
	CHOICE(tls, 0, yes_no),
	CHOICE(log, LOG_TARGET_SYSLOG, log_choices),
	{ "expire_days", AT(expire_days), NULL, never_word, SET_NUMBER, EXPIRE_NEVER, 0, EXPIRE_DAYS_MAX, 0 },
	CHOICE(expire_days_unread, 0, yes_no),
	CHOICE(confine, 1, yes_no),
	STRING(privsep_user, SET_NAME, PRIVSEP_USER_DEFAULT),
	STRING(privsep_dir, SET_PATH, PRIVSEP_DIR_DEFAULT),
	CHOICE(ntlm, 0, yes_no),
	CHOICE(ntlm_plaintext, 0, yes_no),
	STRING(ntlm_domain, SET_DOMAIN, ""),
	STRING(keytab, SET_PATH, KEYTAB_DEFAULT),
	STRING(krb5_realm, SET_DOMAIN, ""),
	STRING(pam_service, SET_NAME, PAM_SERVICE_DEFAULT),
	CHOICE(uidl_migrate, UIDL_MIGRATE_AUTO, migrate_choices),
	STRING(uidl_migrate_format, SET_UIDL_FORMAT, UIDL_MIGRATE_FORMAT_DEFAULT),
	CHOICE(uidl_from_header, 0, yes_no),
	LIST(client_workarounds, workaround_words),
};

#define SETTINGS (sizeof settings / sizeof *settings)

/* The field a setting stores into. */
static void *field_of(struct config *cfg, const struct setting *s)
{
	return (char *)cfg + s->offset;
}

static bool is_string(const struct setting *s)
{
	return s->kind != SET_NUMBER && s->kind != SET_CHOICE && s->kind != SET_LIST;
}

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	for (size_t i = 0; i < SETTINGS; i++) {
		const struct setting *s = &settings[i];

		if (is_string(s))
			str_copy(field_of(cfg, s), s->size, s->text_default);
		else
			*(unsigned *)field_of(cfg, s) = s->number_default;
	}
}

/* Checks that a Maildir template uses only %u, %h and %%, and yields an absolute path. */
static bool template_ok(const char *t)
{
	if (t[0] != '/' && strncmp(t, "%h", 2) != 0)
		return false;
	for (const char *p = strchr(t, '%'); p != NULL; p = strchr(p + 2, '%'))
		if (p[1] != 'u' && p[1] != 'h' && p[1] != '%')
			return false;
	return true;
}

/* Writes why a SET_DATABASE value is refused: it must be a path or one of the keywords. */
static void database_error(const struct setting *s, char *err, size_t errlen)
{
	int len = snprintf(err, errlen, "%s: must be an absolute path", s->key);

	/* "an absolute path, system or pam" */
	for (size_t i = 0; userdb_keyword(i) != NULL && len >= 0 && (size_t)len < errlen; i++)
		len += snprintf(err + len, errlen - (size_t)len, "%s%s", userdb_keyword(i + 1) != NULL ? ", " : " or ",
				userdb_keyword(i));
}

/* Tells whether a string value has the form its setting wants; when not, writes why. */
static bool string_ok(const struct setting *s, const char *value, char *err, size_t errlen)
{
	switch (s->kind) {
	case SET_PATH:
		if (value[0] == '/')
			return true;
		snprintf(err, errlen, "%s: must be an absolute path", s->key);
		return false;
	case SET_DATABASE:
		if (userdb_named(value) != NULL)
			return true;
		database_error(s, err, errlen);
		return false;
	case SET_TEMPLATE:
		if (template_ok(value))
			return true;
		snprintf(err, errlen, "%s: must start with / or %%h and use only %%u, %%h and %%%%", s->key);
		return false;
	case SET_UIDL_FORMAT:
		if (dovecot_format_ok(value))
			return true;
		snprintf(err, errlen,
			 "%s: expected a pop3_uidl_format naming %%u or %%f (with %%v, %%%%, X for hex, widths: "
			 "%%08Xu%%08Xv)", s->key);
		return false;
	case SET_NAME:
		if (user_name_ok(value, strlen(value)))
			return true;
		snprintf(err, errlen, "%s: not a valid user name", s->key);
		return false;
	default:
		if (domain_name_ok(value))
			return true;
		snprintf(err, errlen, "%s: expected 1 to %d letters, digits, '.', '-' or '_'", s->key,
			 DOMAIN_NAME_MAX);
		return false;
	}
}

/* Stores a string setting; false when it is too long or not of its setting's form. */
static bool set_string(const struct setting *s, char *dst, const char *value, char *err, size_t errlen)
{
	if (!string_ok(s, value, err, errlen))
		return false;
	if (strlen(value) >= s->size) {
		snprintf(err, errlen, "%s: value too long", s->key);
		return false;
	}
	return str_copy(dst, s->size, value);	/* fits: checked above */
}

/* Stores the index of value in the setting's word list; false when it is not one of them. */
static bool set_choice(const struct setting *s, unsigned *dst, const char *value, char *err, size_t errlen)
{
	for (unsigned i = 0; s->choices[i] != NULL; i++) {
		if (strcmp(value, s->choices[i]) == 0) {
			*dst = i;
			return true;
		}
	}
	snprintf(err, errlen, "%s: expected %s%s%s%s%s", s->key, s->choices[0],
		 s->choices[2] ? ", " : " or ", s->choices[1],
		 s->choices[2] ? " or " : "", s->choices[2] ? s->choices[2] : "");
	return false;
}

/* The index of the len octets at word in the setting's word list, or -1. */
static int word_index(const struct setting *s, const char *word, size_t len)
{
	for (int i = 0; s->choices[i] != NULL; i++)
		if (strlen(s->choices[i]) == len && memcmp(word, s->choices[i], len) == 0)
			return i;
	return -1;
}

/* Writes why a SET_LIST value is refused: the word, cut to 64 octets, is none of the list's
 * ("" for a comma without a word on both sides).  The one list, client_workarounds, names
 * workarounds. */
static void list_error(const struct setting *s, const char *word, size_t len, char *err, size_t errlen)
{
	int n = len == 0 ? snprintf(err, errlen, "%s: a comma needs a word on both sides (", s->key)
			 : snprintf(err, errlen, "%s: unknown workaround '%.*s' (", s->key, len > 64 ? 64 : (int)len,
				    word);

	/* "expected a, b or c)" */
	for (size_t i = 0; s->choices[i] != NULL && n >= 0 && (size_t)n < errlen; i++)
		n += snprintf(err + n, errlen - (size_t)n, "%s%s%s", i == 0 ? "expected " : "",
			      s->choices[i], s->choices[i + 1] == NULL ? ")" : s->choices[i + 2] ? ", " : " or ");
}

/* Stores a list of the setting's words as a bit set; the words are separated by blanks, a comma,
 * or both (as Dovecot takes them), a word given twice counts once, and "" means none.  False
 * when a word is none of the list's, or a comma has no word on one side. */
static bool set_list(const struct setting *s, unsigned *dst, const char *value, char *err, size_t errlen)
{
	const char *p = value + strspn(value, " \t");
	unsigned bits = 0;

	while (*p != '\0') {
		size_t len = strcspn(p, " \t,");
		int i = word_index(s, p, len);

		if (i < 0) {
			list_error(s, p, len, err, errlen);
			return false;
		}
		bits |= 1u << i;
		p += len;
		p += strspn(p, " \t");
		if (*p == ',') {
			p++;
			p += strspn(p, " \t");
			if (*p == '\0') {
				list_error(s, p, 0, err, errlen);
				return false;
			}
		}
	}
	*dst = bits;
	return true;
}

/* Stores a number in [min, max], or EXPIRE_NEVER for the setting's word. */
static bool set_number(const struct setting *s, unsigned *dst, const char *value, char *err, size_t errlen)
{
	if (s->choices != NULL && strcmp(value, s->choices[0]) == 0) {
		*dst = EXPIRE_NEVER;
		return true;
	}
	if (parse_uint_setting(value, s->min, s->max, dst))
		return true;
	snprintf(err, errlen, "%s: expected a number from %u to %u%s%s", s->key, s->min, s->max,
		 s->choices ? " or " : "", s->choices ? s->choices[0] : "");
	return false;
}

bool config_set(struct config *cfg, const char *key, const char *value, char *err, size_t errlen)
{
	for (size_t i = 0; i < SETTINGS; i++) {
		const struct setting *s = &settings[i];

		if (strcmp(key, s->key) != 0)
			continue;
		if (s->kind == SET_CHOICE)
			return set_choice(s, field_of(cfg, s), value, err, errlen);
		if (s->kind == SET_LIST)
			return set_list(s, field_of(cfg, s), value, err, errlen);
		if (s->kind == SET_NUMBER)
			return set_number(s, field_of(cfg, s), value, err, errlen);
		return set_string(s, field_of(cfg, s), value, err, errlen);
	}
	snprintf(err, errlen, "unknown key '%.64s'", key);
	return false;
}

/* Room for a number, or for the words of a list. */
#define VALUE_TEXT_MAX 128

/* Writes the words of a list's bit set n into buf of size octets, blank-separated. */
static const char *list_text(const struct setting *s, unsigned n, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned i = 0; s->choices[i] != NULL && len < size; i++)
		if ((n & 1U << i) != 0)
			len += (size_t)snprintf(buf + len, size - len, "%s%s", len > 0 ? " " : "", s->choices[i]);
	return buf;
}

/* The value of setting s in cfg as the file writes it. */
static const char *value_text(const struct config *cfg, const struct setting *s, char *buf, size_t size)
{
	const void *field = (const char *)cfg + s->offset;
	unsigned n;

	if (is_string(s))
		return field;
	n = *(const unsigned *)field;
	if (s->kind == SET_LIST)
		return list_text(s, n, buf, size);
	if (s->kind == SET_CHOICE)
		return s->choices[n];
	if (n == EXPIRE_NEVER && s->choices != NULL)
		return s->choices[0];
	snprintf(buf, size, "%u", n);
	return buf;
}

/* Writes the settings of cfg that are (or are not) at their defaults, one line each. */
static void print_group(const struct config *cfg, const struct config *defaults, bool at_default, FILE *out)
{
	char buf[VALUE_TEXT_MAX], default_buf[VALUE_TEXT_MAX];

	for (size_t i = 0; i < SETTINGS; i++) {
		const struct setting *s = &settings[i];
		const char *value = value_text(cfg, s, buf, sizeof buf);

		if ((strcmp(value, value_text(defaults, s, default_buf, sizeof default_buf)) == 0) != at_default)
			continue;
		/* A domain left empty is found at run time; no line can set
		 * that, so it is shown as a comment.  An empty list is "key =". */
		if (value[0] == '\0' && s->kind == SET_DOMAIN)
			fprintf(out, "# %s = (unset: found at run time)\n", s->key);
		else
			fprintf(out, "%s =%s%s\n", s->key, value[0] != '\0' ? " " : "", value);
	}
}

void config_print(const struct config *cfg, FILE *out)
{
	struct config defaults;

	config_defaults(&defaults);
	fprintf(out, "# set by the configuration file or -o\n");
	print_group(cfg, &defaults, false, out);
	fprintf(out, "# at their defaults\n");
	print_group(cfg, &defaults, true, out);
}

bool config_assign(struct config *cfg, const char *assignment, char *err, size_t errlen)
{
	char copy[CONFIG_LINE_MAX];
	char *eq;

	if (!str_copy(copy, sizeof copy, assignment)) {
		snprintf(err, errlen, "line too long");
		return false;
	}
	eq = strchr(copy, '=');
	if (eq == NULL) {
		snprintf(err, errlen, "expected key = value");
		return false;
	}
	*eq = '\0';
	return config_set(cfg, trim_blanks(copy), trim_blanks(eq + 1), err, errlen);
}

/* Reports the problem of line lineno of the file at path through report; whether to go on. */
static bool report_at(config_report *report, void *ctx, const char *path, unsigned lineno, const char *why)
{
	char text[RESPONSE_MAX + PATH_MAX];

	snprintf(text, sizeof text, "%s line %u: %s", path, lineno, why);
	return report(ctx, text);
}

/* Applies the lines of f (the file at path), reporting each bad one; false when one was bad
 * (reading stops at the first the report says to stop at). */
static bool load_lines(struct config *cfg, FILE *f, const char *path, config_report *report, void *ctx)
{
	char line[CONFIG_LINE_MAX], why[RESPONSE_MAX];
	enum file_line_status st;
	unsigned lineno = 0;
	bool ok = true, line_ok, go_on = true;

	while (go_on && (st = file_line_read(f, line, sizeof line)) != FILE_LINE_EOF) {
		char *start = trim_blanks(line);

		lineno++;
		line_ok = true;
		if (st == FILE_LINE_ERROR) {
			snprintf(why, sizeof why, "%s", strerror(errno));
			line_ok = go_on = false;
		} else if (st == FILE_LINE_TOO_LONG || st == FILE_LINE_NUL) {
			snprintf(why, sizeof why, st == FILE_LINE_NUL ? "NUL octet in the line" : "line too long");
			line_ok = false;
		} else if (*start != '\0' && *start != '#') {
			line_ok = config_assign(cfg, start, why, sizeof why);
		}
		if (!line_ok) {
			ok = false;
			go_on = report_at(report, ctx, path, lineno, why) && go_on;
		}
	}
	return ok;
}

enum config_load config_load_each(struct config *cfg, const char *path, config_report *report, void *ctx)
{
	struct stat file_stat;
	const char *problem;
	char why[RESPONSE_MAX];
	bool ok;
	FILE *f;

	/* "-c /dev/null": no file, only the defaults and -o. */
	if (strcmp(path, "/dev/null") == 0)
		return CONFIG_LOADED;
	f = fopen_regular(path);
	if (f == NULL) {
		snprintf(why, sizeof why, "cannot read %s: %s", path,
			 errno == EINVAL ? "not a regular file" : strerror(errno));
		report(ctx, why);
		return CONFIG_UNREADABLE;
	}
	/* It names the files the root process trusts (the passwd file, the
	 * keytab) and the users it becomes: only root, or the user we run as,
	 * may write it. */
	problem = file_untrusted(f, &file_stat);
	if (problem != NULL)
		snprintf(why, sizeof why, "refusing %s: %s", path, problem);
	ok = problem == NULL || report(ctx, why);
	ok = ok && load_lines(cfg, f, path, report, ctx) && problem == NULL;
	fclose(f);
	return ok ? CONFIG_LOADED : CONFIG_PROBLEMS;
}

bool config_keep_first(void *ctx, const char *problem)
{
	const struct config_first *first = ctx;

	snprintf(first->err, first->errlen, "%s", problem);
	return false;
}

bool config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	struct config_first first = { err, errlen };

	return config_load_each(cfg, path, config_keep_first, &first) == CONFIG_LOADED;
}

bool maildir_expand(const char *template, const char *user, const char *home, char *out, size_t size)
{
	size_t len = 0;

	for (const char *p = template; *p != '\0'; p++) {
		const char *piece = p;
		size_t n = 1;

		if (*p == '%') {
			p++;
			piece = *p == 'u' ? user : *p == 'h' ? home : p;
			n = *p == '%' ? 1 : strlen(piece);
			if (*p != 'u' && *p != 'h' && *p != '%')
				return false;
		}
		if (len + n >= size)
			return false;
		memcpy(out + len, piece, n);
		len += n;
	}
	out[len] = '\0';
	return out[0] == '/';
}

bool config_check(const struct config *cfg, char *err, size_t errlen)
{
	const struct account_source *db = userdb_named(cfg->passwd_file);

	if (cfg->ntlm && db != NULL && !db->nt_hashes) {
		snprintf(err, errlen, "ntlm = yes needs a passwd_file with NT hashes: %s have none", db->description);
		return false;
	}
	return true;
}
