/*
 * passwd-file.c - users from a passwd-style file.
 */
#include "passwd-file.h"

#include <crypt.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash-setting.h"
#include "log.h"
#include "parse.h"
#include "password.h"
#include "textfile.h"
#include "util.h"

/* Fields of a passwd-format line: name:hash:uid:gid:gecos:home:shell, and
 * optionally the NT hash for NTLM. */
enum { F_NAME, F_HASH, F_UID, F_GID, F_GECOS, F_HOME, F_SHELL, F_NT_HASH, FIELDS };

/* Refuses a user database that someone other than its owner could change, or that belongs to
 * neither root nor us (logged); its mode in *mode. */
static bool database_safe(FILE *f, const char *path, mode_t *mode)
{
	struct stat st;
	const char *problem = file_untrusted(f, &st);

	if (problem != NULL)
		log_msg(LOG_ERR, "refusing %s: %s", path, problem);
	*mode = problem == NULL ? st.st_mode : 0;
	return problem == NULL;
}

/* Refuses a user database of mode mode whose NT hashes group or others can read (logged): an NT
 * hash logs in with NTLM as the password itself does. */
static bool nt_hashes_private(mode_t mode, const char *path)
{
	if ((mode & (S_IRGRP | S_IROTH)) == 0)
		return true;
	log_msg(LOG_ERR, "refusing %s: it holds NT hashes, which log in as the passwords do, and group or others "
		"can read it (chmod 600)", path);
	return false;
}

/* Splits a passwd line into its fields in place, the eighth ("" when absent) included; false
 * unless there are seven or eight. */
static bool split_fields(char *line, char *field[FIELDS])
{
	char *p = line;
	int n = 0;

	while (n < FIELDS && p != NULL)
		field[n++] = strsep(&p, ":");
	if (n == F_NT_HASH)
		field[n++] = "";
	return n == FIELDS && p == NULL;
}

/* One line of the file taken apart. */
struct entry {
	char *field[FIELDS];
	unsigned uid, gid;
	bool has_nt_hash;
	unsigned char nt_hash[NTLM_HASH_SIZE];	/* wiped after each line */
};

/* Takes a passwd line apart into e; NULL when it is well formed, else what is wrong with it
 * (naming the field, never quoting it: it may be the hash). */
static const char *entry_parse(char *line, struct entry *e)
{
	if (!split_fields(line, e->field))
		return "expected 7 or 8 fields separated by ':'";
	if (!user_name_ok(e->field[F_NAME], strlen(e->field[F_NAME])))
		return "not a valid user name";
	if (!parse_uint_setting(e->field[F_UID], 0, UINT32_MAX - 1, &e->uid))
		return "the uid is not a number below 4294967295";
	if (!parse_uint_setting(e->field[F_GID], 0, UINT32_MAX - 1, &e->gid))
		return "the gid is not a number below 4294967295";
	if (e->field[F_HOME][0] != '/')
		return "the home is not an absolute path";
	e->has_nt_hash = e->field[F_NT_HASH][0] != '\0';
	if (e->has_nt_hash && !ntlm_hash_parse(e->field[F_NT_HASH], e->nt_hash))
		return "the NT hash (eighth field) is not 32 hexadecimal digits";
	return NULL;
}

/* Told each well-formed entry of the file, with its line number. */
typedef void entry_handler(void *ctx, unsigned lineno, const struct entry *e);

/* Hands the entry on line lineno to handle when it is well formed, logs it as skipped when
 * not; tells whether it holds an NT hash. */
static bool line_visit(char *line, const char *path, unsigned lineno, entry_handler *handle, void *ctx)
{
	struct entry e;
	const char *problem = entry_parse(line, &e);
	bool nt_hash = problem == NULL && e.has_nt_hash;

	if (problem != NULL)
		log_msg(LOG_WARNING, "%s line %u: malformed entry skipped: %s", path, lineno, problem);
	else
		handle(ctx, lineno, &e);
	explicit_bzero(&e, sizeof e);
	return nt_hash;
}

/* Reads the passwd-style file at path, handing each well-formed entry to handle and logging
 * the lines it skips; false (logged) when the file cannot be read or may not be trusted, or
 * holds NT hashes that others may read. */
static bool entries_read(const char *path, entry_handler *handle, void *ctx)
{
	enum file_line_status st;
	char line[CONFIG_LINE_MAX];
	unsigned lineno = 0;
	bool ok = true, nt_hash_seen = false;
	mode_t mode;
	FILE *f;

	f = fopen_regular(path);
	if (f == NULL) {
		log_msg(LOG_ERR, "cannot open user database %s: %s", path,
			errno == EINVAL ? "not a regular file" : strerror(errno));
		return false;
	}
	if (!database_safe(f, path, &mode)) {
		fclose(f);
		return false;
	}
	while (ok && (st = file_line_read(f, line, sizeof line)) != FILE_LINE_EOF) {
		const char *start = line + strspn(line, " \t");

		lineno++;
		if (st == FILE_LINE_ERROR) {
			log_msg(LOG_ERR, "reading %s: %s", path, strerror(errno));
			ok = false;
		} else if (st == FILE_LINE_TOO_LONG || st == FILE_LINE_NUL) {
			log_msg(LOG_WARNING, "%s line %u: %s, skipped", path, lineno,
				st == FILE_LINE_NUL ? "NUL octet" : "too long");
		} else if (*start != '\0' && *start != '#' && line_visit(line, path, lineno, handle, ctx)) {
			nt_hash_seen = true;
		}
	}
	explicit_bzero(line, sizeof line);
	fclose(f);
	return ok && (!nt_hash_seen || nt_hashes_private(mode, path));
}

/* What a lookup looks for and finds. */
struct lookup {
	const char *user;
	struct account *out;
	struct setting_tally *tally;	/* NULL: not counted */
	bool found;
};

/* An entry_handler: counts the entry's hash setting and takes the first entry naming the user. */
static void lookup_entry(void *ctx, unsigned lineno, const struct entry *e)
{
	struct lookup *l = ctx;
	struct account *out = l->out;

	(void)lineno;
	if (l->tally != NULL)
		setting_tally_add(l->tally, e->field[F_HASH]);
	if (l->found || strcmp(e->field[F_NAME], l->user) != 0)
		return;
	/* The fields fit (each is shorter than the line it came from), so
	 * the copies cannot fail. */
	str_copy(out->name, sizeof out->name, e->field[F_NAME]);
	str_copy(out->hash, sizeof out->hash, e->field[F_HASH]);
	str_copy(out->home, sizeof out->home, e->field[F_HOME]);
	out->uid = (uid_t)e->uid;
	out->gid = (gid_t)e->gid;
	out->has_nt_hash = e->has_nt_hash;
	if (e->has_nt_hash)
		memcpy(out->nt_hash, e->nt_hash, sizeof e->nt_hash);
	l->found = true;
}

/* Finds q's user in the passwd-style file at its path, the first entry naming it, and counts
 * the settings of the well-formed entries' hashes in tally (unless NULL).  The whole file is
 * read whether the user is found or not: a known user costs the reading an unknown one does,
 * and the tally counts every entry. */
static enum lookup_result file_scan(const struct account_query *q, struct account *out,
				    struct setting_tally *tally)
{
	struct lookup l = { q->user, out, tally, false };

	if (!entries_read(q->setting, lookup_entry, &l)) {
		account_clear(out);
		return LOOKUP_FAILED;
	}
	return l.found ? LOOKUP_FOUND : LOOKUP_UNKNOWN;
}

/* Hands a passwd_file_visit() visitor the entry, without its hash. */
struct visit {
	passwd_visitor *visit;
	void *ctx;
};

/* An entry_handler that hands the entry on as a struct passwd_entry. */
static void visit_entry(void *ctx, unsigned lineno, const struct entry *e)
{
	const struct visit *v = ctx;
	struct passwd_entry pe = { lineno, e->field[F_NAME], e->field[F_HOME], e->uid, e->gid, e->has_nt_hash };

	v->visit(v->ctx, &pe);
}

bool passwd_file_visit(const char *path, passwd_visitor *visit, void *ctx)
{
	struct visit v = { visit, ctx };

	return entries_read(path, visit_entry, &v);
}

/* Finds q's user in the passwd file, for the mechanisms that prove the identity themselves. */
static enum lookup_result file_lookup(const struct account_query *q, struct account *out)
{
	return file_scan(q, out, NULL);
}

/* Checks q's user's password; an unknown user, or one that cannot log in with a password, is
 * checked against a hash of the setting most used in the file, so that it costs what the
 * file's users cost. */
static enum verdict file_password_login(const struct account_query *q, const char *password, struct account *out,
				       const char **why)
{
	struct setting_tally tally = { 0 };
	char dummy[CRYPT_GENSALT_OUTPUT_SIZE];
	enum lookup_result found = file_scan(q, out, &tally);

	(void)why;	/* a wrong password and a locked account look alike in the log */
	dummy_setting_make(setting_tally_most_used(&tally), dummy, sizeof dummy);
	return crypt_verdict(found, out, password, dummy);
}

const struct account_source passwd_file_source = {
	.keyword = NULL,
	.description = "the passwd file",
	.nt_hashes = true,
	.lookup = file_lookup,
	.password_login = file_password_login,
	.account_state = account_lock_state,
};
