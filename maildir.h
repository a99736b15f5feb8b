/*
 * maildir.h - the snapshot of a Maildir taken at login, message streaming,
 * the Seen flag, retention, and the UPDATE that removes what the client
 * deleted.  Every file access goes through the Maildir's directory fd;
 * message files are never followed through symbolic links.  UIDs and sizes
 * come from the UID list (uidlist.h).
 */
#ifndef POP3_MAILDIR_H
#define POP3_MAILDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "io.h"
#include "uidlist.h"

/* Which subdirectory holds a message: numbered as the UID list's stamps
 * of them are, so that one index serves both. */
enum { DIR_NEW = STAMP_NEW, DIR_CUR = STAMP_CUR, MESSAGE_DIRS = STAMPS };

struct message {
	uint64_t uid;		/* decimal unique-id from the UID list */
	uint64_t exact_size;	/* size with CRLF line ends */
	uint64_t stored_size;	/* size of the file */
	uint64_t delivered;	/* leading timestamp of the file name */
	int64_t retrieved_at;	/* when first retrieved, from the UID list; 0: never recorded */
	uint32_t name;		/* offset in the name pool of its NUL-terminated file name */
	uint8_t base_len;	/* length of its base name (before ':'), which renames keep */
	/* Bits, so that a record takes 48 octets: a snapshot of many messages
	 * is mostly these records. */
	unsigned dir : 1;	/* DIR_NEW or DIR_CUR */
	bool deleted : 1;	/* marked by DELE in this session */
	bool removed : 1;	/* its file is gone after UPDATE */
	bool retrieved : 1;	/* sent whole by RETR in this session */
	bool known : 1;		/* has a UID list entry (snapshot-internal) */
	bool sized : 1;		/* sizes found before the list was locked (snapshot-internal) */
};

struct maildir {
	int dirfd;		/* the Maildir root, or -1 when it does not exist */
	int subdir_fd[MESSAGE_DIRS];	/* new/ and cur/, or -1 when they could not be opened */
	struct message *msgs;
	size_t count, capacity;
	char *names;		/* pool of NUL-terminated file names (below 4 GiB) */
	size_t names_len, names_capacity;
};

/* Makes md an empty snapshot that holds no descriptor, which maildir_close may be given. */
void maildir_init(struct maildir *md);

/* Opens the Maildir at path and takes the snapshot: cur/ and new/ in delivery order with UIDs and sizes from the UID list (updated under its lock for new messages), then moves new/ messages to cur/.  While new/ and cur/ are as the list last recorded them, the list alone gives the snapshot, without reading the directories.  A Maildir that does not exist is empty.  False (logged) on any other failure. */
bool maildir_snapshot(struct maildir *md, const char *path);

/* Frees the snapshot and closes the Maildir. */
void maildir_close(struct maildir *md);

enum open_result {
	OPEN_OK,
	OPEN_GONE,		/* removed since the snapshot */
	OPEN_FAILED,		/* present but unreadable; logged */
};

/* Opens message i for reading, following a rename by another program (flags changed, new/ -> cur/); *fd_r is set on OPEN_OK. */
enum open_result maildir_open_message(struct maildir *md, size_t i, int *fd_r);

/* Removes every message marked deleted; returns how many could not be removed (each logged). */
size_t maildir_update(struct maildir *md);

/* Marks for removal, without counting them as the client's, the messages retention expires: retrieved at least days ago, or (unread) whose file is at least days old; returns how many. */
size_t maildir_expire(struct maildir *md, unsigned days, bool unread, time_t now);

/* Ends the session's changes to flags: messages retrieved and not deleted get the Seen flag, and when record_retrieval their retrieval time goes into the UID list. */
void maildir_finish(struct maildir *md, bool record_retrieval, time_t now);

#endif
