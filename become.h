/*
 * become.h - the change from root to another user, for good: the jail's
 * user before login, the mail user after it.
 */
#ifndef POP3_BECOME_H
#define POP3_BECOME_H

#include <stdbool.h>
#include <sys/types.h>

/* As root, drops root for good: supplementary groups cleared, then gid and uid changed, each
 * change checked and the way back closed; false (logged) when any step failed. */
bool become_user(uid_t uid, gid_t gid);

#endif
