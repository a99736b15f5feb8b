/*
 * account.c - what every account shares.
 */
#include "account.h"

#include <string.h>

#include "log.h"
#include "util.h"

bool account_locked(const struct account *a)
{
	return a->hash[0] == '!';
}

enum verdict account_lock_state(const struct account_query *q, const struct account *a, const char **why)
{
	(void)q;	/* the hash says it all */
	if (!account_locked(a))
		return VERDICT_OK;
	*why = "the account is locked";
	return VERDICT_REFUSED;
}

enum lookup_result account_from_passwd(const struct passwd *pw, const char *hash, const char *source,
				       struct account *out)
{
	if (strlen(pw->pw_name) > USER_NAME_MAX || strlen(pw->pw_dir) >= sizeof out->home || pw->pw_dir[0] != '/') {
		log_msg(LOG_WARNING, "%s: account %.64s has an unusable name or home", source, pw->pw_name);
		return LOOKUP_UNKNOWN;
	}
	str_copy(out->name, sizeof out->name, pw->pw_name);
	str_copy(out->home, sizeof out->home, pw->pw_dir);
	if (!str_copy(out->hash, sizeof out->hash, hash))
		str_copy(out->hash, sizeof out->hash, "!");	/* too long to be a hash: locked */
	out->uid = pw->pw_uid;
	out->gid = pw->pw_gid;
	out->has_nt_hash = false;
	return LOOKUP_FOUND;
}

void account_clear(struct account *a)
{
	explicit_bzero(a, sizeof *a);
}
