/*
 * system-accounts.c - users from the host's own accounts.
 */
#include "system-accounts.h"

#include <errno.h>
#include <pwd.h>
#include <shadow.h>
#include <string.h>
#include <time.h>

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

static enum verdict system_password_login(const struct account_query *q, const char *password,
					 struct account *out, const char **why)
{
	(void)why;	/* a wrong password and a locked account look alike in the log */
	return crypt_verdict(system_lookup(q, out), out, password);
}

const struct account_source system_accounts = {
	.keyword = "system",
	.description = "the host's accounts",
	.nt_hashes = false,
	.lookup = system_lookup,
	.password_login = system_password_login,
	.account_state = account_lock_state,
};
