/*
 * maildir-snapshot.h - the snapshot of a Maildir taken at login: its messages in delivery
 * order with their UIDs and sizes, reconciled with the UID list.
 */
#ifndef POP3_MAILDIR_SNAPSHOT_H
#define POP3_MAILDIR_SNAPSHOT_H

#include <stdbool.h>

#include "maildir.h"

struct uidl_migration;

/* Opens the Maildir at path into md and takes the snapshot: cur/ and new/ in delivery order with
 * UIDs and sizes from the UID list (updated under its lock for new messages), then moves new/
 * messages to cur/.  While new/ and cur/ are as the list last recorded them, the list alone
 * gives the snapshot, without reading the directories.  The session that makes the list (or
 * makes it again after a loss) takes over the UIDLs of a previous server as migration says.  A
 * Maildir that does not exist is empty.  False (logged, md left empty) on any other failure. */
bool maildir_snapshot(struct maildir *md, const char *path, const struct uidl_migration *migration);

#endif
