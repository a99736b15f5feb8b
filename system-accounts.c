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
	struct spwd *sp = NULL;

	if (strlen(pw->pw_name) > USER_NAME_MAX || strlen(pw->pw_dir) >= sizeof out->home ||
	    pw->pw_dir[0] != '/') {
		log_msg(LOG_WARNING, "system account %.64s: unusable name or home", pw->pw_name);
		return LOOKUP_UNKNOWN;
	}
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
	str_copy(out->name, sizeof out->name, pw->pw_name);
	str_copy(out->home, sizeof out->home, pw->pw_dir);
	if (!str_copy(out->hash, sizeof out->hash, hash))
		str_copy(out->hash, sizeof out->hash, "!");	/* too long to be a hash: locked */
	out->uid = pw->pw_uid;
	out->gid = pw->pw_gid;
	out->has_nt_hash = false;	/* the host keeps none */
	if (sp != NULL)
		explicit_bzero(sp->sp_pwdp, strlen(sp->sp_pwdp));
	return LOOKUP_FOUND;
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

const struct account_source system_accounts = {
	.keyword = "system",
	.description = "the host's accounts",
	.nt_hashes = false,
	.lookup = system_lookup,
	.password_ok = crypt_password_ok,
	.account_usable = account_not_locked,
};
