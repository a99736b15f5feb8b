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

/* Checks one passwd line: when it is well formed, counts its hash's setting in tally (unless
 * NULL), sets *nt_hash_seen when it has an NT hash, and, when it names user (unless NULL),
 * fills out; a malformed line is logged. */
static enum lookup_result parse_entry(char *line, const char *path, unsigned lineno, const char *user,
				      struct account *out, struct setting_tally *tally, bool *nt_hash_seen)
{
	unsigned char nt_hash[NTLM_HASH_SIZE];
	enum lookup_result result = LOOKUP_UNKNOWN;
	char *field[FIELDS];
	unsigned uid, gid;
	bool has_nt_hash = false;
	bool well_formed = split_fields(line, field) &&
			   user_name_ok(field[F_NAME], strlen(field[F_NAME])) &&
			   parse_uint_setting(field[F_UID], 0, UINT32_MAX - 1, &uid) &&
			   parse_uint_setting(field[F_GID], 0, UINT32_MAX - 1, &gid) &&
			   field[F_HOME][0] == '/' &&
			   (!(has_nt_hash = field[F_NT_HASH][0] != '\0') || ntlm_hash_parse(field[F_NT_HASH], nt_hash));

	if (!well_formed)
		log_msg(LOG_WARNING, "%s line %u: malformed entry skipped", path, lineno);
	else if (tally != NULL)
		setting_tally_add(tally, field[F_HASH]);
	if (well_formed && has_nt_hash)
		*nt_hash_seen = true;
	if (well_formed && user != NULL && strcmp(field[F_NAME], user) == 0) {
		/* The fields fit (each is shorter than the line it came
		 * from), so the copies cannot fail. */
		str_copy(out->name, sizeof out->name, field[F_NAME]);
		str_copy(out->hash, sizeof out->hash, field[F_HASH]);
		str_copy(out->home, sizeof out->home, field[F_HOME]);
		out->uid = (uid_t)uid;
		out->gid = (gid_t)gid;
		out->has_nt_hash = has_nt_hash;
		if (has_nt_hash)
			memcpy(out->nt_hash, nt_hash, sizeof nt_hash);
		result = LOOKUP_FOUND;
	}
	explicit_bzero(nt_hash, sizeof nt_hash);
	return result;
}

/* Finds q's user in the passwd-style file at its path, the first entry naming it, and counts
 * the settings of the well-formed entries' hashes in tally (unless NULL).  The whole file is
 * read whether the user is found or not: a known user costs the reading an unknown one does,
 * and the tally counts every entry. */
static enum lookup_result file_scan(const struct account_query *q, struct account *out,
				    struct setting_tally *tally)
{
	const char *path = q->setting, *user = q->user;
	enum lookup_result result = LOOKUP_UNKNOWN;
	enum file_line_status st;
	char line[CONFIG_LINE_MAX];
	unsigned lineno = 0;
	bool nt_hash_seen = false;
	mode_t mode;
	FILE *f;

	f = fopen_regular(path);
	if (f == NULL) {
		log_msg(LOG_ERR, "cannot open user database %s: %s", path,
			errno == EINVAL ? "not a regular file" : strerror(errno));
		return LOOKUP_FAILED;
	}
	if (!database_safe(f, path, &mode)) {
		fclose(f);
		return LOOKUP_FAILED;
	}
	while (result != LOOKUP_FAILED && (st = file_line_read(f, line, sizeof line)) != FILE_LINE_EOF) {
		const char *start;

		lineno++;
		if (st == FILE_LINE_ERROR) {
			log_msg(LOG_ERR, "reading %s: %s", path, strerror(errno));
			result = LOOKUP_FAILED;
		} else if (st == FILE_LINE_TOO_LONG || st == FILE_LINE_NUL) {
			log_msg(LOG_WARNING, "%s line %u: %s, skipped", path, lineno,
				st == FILE_LINE_NUL ? "NUL octet" : "too long");
		} else {
			start = line + strspn(line, " \t");
			if (*start != '\0' && *start != '#' &&
			    parse_entry(line, path, lineno, result == LOOKUP_UNKNOWN ? user : NULL, out, tally,
					&nt_hash_seen) == LOOKUP_FOUND)
				result = LOOKUP_FOUND;
		}
	}
	explicit_bzero(line, sizeof line);
	if (nt_hash_seen && !nt_hashes_private(mode, path))
		result = LOOKUP_FAILED;
	fclose(f);
	if (result == LOOKUP_FAILED)
		account_clear(out);
	return result;
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
