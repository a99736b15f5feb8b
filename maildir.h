/*
 * maildir.h - a Maildir's store: its descriptors, the snapshot's message records and their name
 * pool, and each message opened or acted on wherever another program has moved it.
 * Every file access goes through the Maildir's directory fd; message files are never followed
 * through symbolic links.  The snapshot taken at login is maildir-snapshot.h's, the sizes
 * maildir-size.h's, the changes made at the end of a session maildir-update.h's.
 */
#ifndef POP3_MAILDIR_H
#define POP3_MAILDIR_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "uidlist.h"

/* Which subdirectory holds a message: numbered as the UID list's stamps
 * of them are, so that one index serves both. */
enum { DIR_NEW = STAMP_NEW, DIR_CUR = STAMP_CUR, MESSAGE_DIRS = STAMPS };

struct message {
	uint64_t uid;		/* decimal unique-id from the UID list */
	uint64_t exact_size;	/* size with CRLF line ends */
	uint64_t stored_size;	/* size of the file */
	uint64_t delivered;	/* leading timestamp of the file name */
	uint32_t retrieved_at;	/* when first retrieved (seconds since 1970), from the UID list; 0: never */
	uint32_t name;		/* offset in the name pool of its NUL-terminated file name */
	uint32_t uidl;		/* with has_uidl: offset in the name pool of the UIDL taken over */
	uint8_t base_len;	/* length of its base name (before ':'), which renames keep */
	/* Bits, so that a record takes 48 octets: a snapshot of many messages
	 * is mostly these records. */
	unsigned dir : 1;	/* DIR_NEW or DIR_CUR */
	bool deleted : 1;	/* marked by DELE in this session */
	bool removed : 1;	/* its file is gone after UPDATE */
	bool retrieved : 1;	/* sent whole by RETR in this session */
	bool known : 1;		/* has a UID list entry (snapshot-internal) */
	bool sized : 1;		/* sizes found before the list was locked (snapshot-internal) */
	bool has_uidl : 1;	/* UIDL shows the string at uidl, taken over from a previous server */
	unsigned eoh_added : 3;	/* octets oe-ns-eoh adds (header_end_added), when sizes count them */
	bool header_read : 1;	/* eoh_added is known (maildir_size_header_ends-internal) */
};

/* A retrieval time as a message record keeps it: seconds since 1970 in 32 bits (until 2106),
 * 0 for none. */
static inline uint32_t maildir_time32(int64_t t)
{
	return t <= 0 ? 0 : t >= (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

struct maildir {
	int dirfd;		/* the Maildir root, or -1 when it does not exist */
	int subdir_fd[MESSAGE_DIRS];	/* new/ and cur/, or -1 when they could not be opened */
	struct message *msgs;
	size_t count, capacity;
	char *names;		/* pool of NUL-terminated file names (below 4 GiB) */
	size_t names_len, names_capacity;
};

/* Returned by maildir_pool_add when the name pool cannot grow. */
#define MAILDIR_NO_NAME UINT32_MAX

/* Returned by maildir_open_named and maildir_open_located for anything that is not a regular
 * file. */
#define MAILDIR_NOT_REGULAR (-2)

/* Makes md an empty snapshot that holds no descriptor, which maildir_close may be given. */
void maildir_init(struct maildir *md);

/* Makes md an empty snapshot of the Maildir at path: opens its root, and new/ and cur/ where
 * they can be opened.  A Maildir that does not exist leaves md without descriptors (logged as a
 * notice) and is no failure; false (logged) when it cannot be opened otherwise. */
bool maildir_open(struct maildir *md, const char *path);

/* Frees the snapshot and closes the Maildir. */
void maildir_close(struct maildir *md);

/* "new" or "cur": the name of subdirectory k (DIR_NEW or DIR_CUR). */
const char *maildir_subdir_name(size_t k);

/* Opens subdirectory k as md->subdir_fd[k] unless it is open; the fd, or -1 with errno when it
 * cannot be opened. */
int maildir_open_subdir(struct maildir *md, size_t k);

/* Opens subdirectory k for reading its entries from the start, with a descriptor of its own
 * that closedir closes; NULL (errno set) when it cannot be opened. */
DIR *maildir_open_dir_stream(struct maildir *md, size_t k);

/* The length of a file name's base name: the part before the ':' of its info. */
size_t maildir_base_len(const char *name);

/* Stores name and suffix, NUL-terminated, in the name pool (neither may lie in it: the pool may
 * move); returns the offset, or MAILDIR_NO_NAME when memory ran out. */
uint32_t maildir_pool_add(struct maildir *md, const char *name, const char *suffix);

/* The file name of message i, as the snapshot last found it. */
const char *maildir_name(const struct maildir *md, size_t i);

/* The base name of message i, which renames keep; *len is set to its length (it is not
 * NUL-terminated there). */
const char *maildir_base(const struct maildir *md, size_t i, size_t *len);

/* The fd of the subdirectory holding message i. */
int maildir_dirfd(const struct maildir *md, size_t i);

/* "cur/NAME" or "new/NAME" for message i, for a log line: in a buffer the next call reuses, so
 * not for threads. */
const char *maildir_path(const struct maildir *md, size_t i);

/* Opens message i for reading under its snapshot name if it is a regular file, never following
 * a link nor blocking on a FIFO; the fd, or -1 with errno, or MAILDIR_NOT_REGULAR.  Changes
 * nothing: threads may call it. */
int maildir_open_named(const struct maildir *md, size_t i, struct stat *st);

/* Tells whether message i is, under its snapshot name, a regular file of size octets (a link is
 * not followed); false when it is not or cannot be looked at.  Changes nothing: threads may
 * call it. */
bool maildir_has_size(const struct maildir *md, size_t i, uint64_t size);

/* As maildir_open_named, but when message i is gone under its snapshot name, finds it once
 * under the name another program gave it (flags changed, new/ -> cur/) and makes that its name
 * in the snapshot; -1 with errno ENOENT when it is gone altogether. */
int maildir_open_located(struct maildir *md, size_t i, struct stat *st);

enum open_result {
	OPEN_OK,
	OPEN_GONE,		/* removed since the snapshot */
	OPEN_FAILED,		/* present but unreadable; logged */
};

/* The UIDL taken over from a previous server for message i (NUL-terminated), or NULL when
 * UIDL shows its decimal uid. */
const char *maildir_uidl(const struct maildir *md, size_t i);

/* Opens message i for reading, following a rename by another program (flags changed, new/ ->
 * cur/); *fd_r is set on OPEN_OK. */
enum open_result maildir_open_message(struct maildir *md, size_t i, int *fd_r);

/* Applies op, a rename-like operation that fails with errno, to message i; when the message is
 * gone under its snapshot name, applies it once more under the name another program gave it.
 * True when done or when the message is gone altogether; false with op's errno otherwise. */
bool maildir_apply(struct maildir *md, size_t i, bool (*op)(struct maildir *, size_t));

#endif
