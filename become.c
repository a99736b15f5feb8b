/*
 * become.c - dropping root for another user, for good.
 */
#include "become.h"

#include <errno.h>
#include <grp.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

bool become_user(uid_t uid, gid_t gid)
{
	if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
		log_msg(LOG_ERR, "cannot become uid %u gid %u: %s", (unsigned)uid, (unsigned)gid, strerror(errno));
		return false;
	}
	/* Trust but verify: every id changed, and root cannot come back. */
	if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid ||
	    getgroups(0, NULL) != 0 || setuid(0) == 0) {
		log_msg(LOG_ERR, "privilege change to uid %u did not take effect", (unsigned)uid);
		return false;
	}
	return true;
}
