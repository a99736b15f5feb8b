/*
 * maildir-update.h - the changes a session makes to its Maildir at the end: the messages the
 * client deleted or retention expires removed, the Seen flags, and the UID list told of both.
 */
#ifndef POP3_MAILDIR_UPDATE_H
#define POP3_MAILDIR_UPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "maildir.h"

/* Removes every message marked deleted and drops the UIDs of those removed from the UID list (a
 * file that later comes with the same base name is a new message); returns how many could not
 * be removed (each logged). */
size_t maildir_update(struct maildir *md);

/* Marks for removal, without counting them as the client's, the messages retention expires:
 * retrieved at least days ago (or in this session, when days is 0), or (unread) whose file is
 * at least days old; returns how many. */
size_t maildir_expire(struct maildir *md, unsigned days, bool unread, time_t now);

/* Ends the session's changes to flags: messages retrieved and not deleted get the Seen flag, and
 * when record_retrieval their retrieval time (now) goes into the UID list. */
void maildir_finish(struct maildir *md, bool record_retrieval, time_t now);

#endif
