/*
 * system-accounts.c - users from the host's own accounts.
 */
#include "system-accounts.h"

#include <crypt.h>
#include <errno.h>
#include <pwd.h>
#include <shadow.h>
#include <string.h>
#include <time.h>

#include "hash-setting.h"
#include "log.h"
#include "password.h"
#include "util.h"

/* Copies a host account; an account whose hash is in /etc/shadow gets it from there, and one
 * that is expired gets a locked hash. */
static enum lookup_result system_entry(const struct passwd *pw, struct account *out)
{
	const char *hash = pw->pw_passwd;
	enum lookup_result found;
	struct spwd *sp = NULL;

	if (strcmp(hash, "x") == 0) {
		errno = 0;
		sp = getspnam(pw->pw_name);
		if (sp == NULL && errno != 0 && errno != ENOENT) {
			log_msg(LOG_ERR, "cannot read the shadow entry of %s: %s", pw->pw_name, strerror(errno));
			return LOOKUP_FAILED;
		}
		hash = sp != NULL ? sp->sp_pwdp : "*";
	}
	/* sp_expire counts days since 1970; -1 means never. */
	if (sp != NULL && sp->sp_expire >= 0 && time(NULL) / SECONDS_PER_DAY >= sp->sp_expire)
		hash = "!expired";
	found = account_from_passwd(pw, hash, "the host's accounts", out);
	if (sp != NULL)
		explicit_bzero(sp->sp_pwdp, strlen(sp->sp_pwdp));
	return found;
}

/* Finds user among the host's accounts. */
static enum lookup_result system_lookup(const struct account_query *q, struct account *out)
{
	const char *user = q->user;
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		if (errno != 0 && errno != ENOENT && errno != ESRCH) {
			log_msg(LOG_ERR, "cannot look up user %s: %s", user, strerror(errno));
			return LOOKUP_FAILED;
		}
		return LOOKUP_UNKNOWN;
	}
	return system_entry(pw, out);
}

/* Counts the settings of the first SHADOW_TALLY_MAX shadow entries' hashes in t, wiping each;
 * false (logged) when they cannot be read. */
static bool shadow_tally(struct setting_tally *t)
{
	struct spwd *sp = NULL;
	bool ok;

	setspent();
	for (unsigned n = 0; n < SHADOW_TALLY_MAX; n++) {
		errno = 0;
		sp = getspent();
		if (sp == NULL)
			break;
		if (sp->sp_pwdp == NULL)
			continue;
		setting_tally_add(t, sp->sp_pwdp);
		explicit_bzero(sp->sp_pwdp, strlen(sp->sp_pwdp));
	}
	/* getspent() ends with NULL, and ENOENT or no errno at all. */
	ok = sp != NULL || errno == 0 || errno == ENOENT;
	if (!ok)
		log_msg(LOG_WARNING, "cannot read the shadow entries: %s; unknown users cost a hash of "
			"libxcrypt's default method", strerror(errno));
	endspent();
	return ok;
}

const char *system_dummy_setting(void)
{
	/* Read once, when the first check needs it, not for each login:
	 * the host's accounts change seldom, and enumerating a shadow map
	 * that a directory serves costs more than a hash.  Not the first
	 * entry with a password either: root's may be of another method
	 * than the users' that a POP3 server serves. */
	static char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct setting_tally tally = { 0 };

	if (setting[0] == '\0')
		dummy_setting_make(shadow_tally(&tally) ? setting_tally_most_used(&tally) : NULL, setting,
				   sizeof setting);
	return setting;
}

static enum verdict system_password_login(const struct account_query *q, const char *password,
					 struct account *out, const char **why)
{
	(void)why;	/* a wrong password and a locked account look alike in the log */
	return crypt_verdict(system_lookup(q, out), out, password, system_dummy_setting());
}

const struct account_source system_accounts = {
	.keyword = "system",
	.description = "the host's accounts",
	.nt_hashes = false,
	.lookup = system_lookup,
	.password_login = system_password_login,
	.account_state = account_lock_state,
};
