/*
 * uidlist-file.h - the UID list's file (uidlist.h is the list in memory).
 *
 * The list lives in the Maildir root as "pop3-handler-uidlist".  It is
 * only ever replaced whole (temporary file, fsync, rename), under a short
 * fcntl lock on "pop3-handler-uidlist.lock" that the kernel (or NFS lockd)
 * releases when its holder dies.  Readers take no lock.
 *
 * Each entry names its message's whole file name in cur/ as last seen, so
 * that a session can take its snapshot from the list alone: the header
 * records what new/ and cur/ looked like (struct dir_stamp) when the list
 * was known to name exactly their messages, and while both still look so,
 * nothing has been delivered, removed or renamed since.
 *
 * UIDs are never reused.  The list records the next UID to issue, and so
 * does the lock file (its high-water mark, written before each new list).
 *
 * Several hosts may share the Maildir (shared-fs.h).  Their sessions
 * exclude each other with the lock, and each write records in the lock
 * file, beside the mark, the checksum of the list it installs; a session
 * holding the lock reads the record past its host's caches and reads the
 * list again until it is the one recorded (a host's cache may still hold
 * the list another host replaced), and a session that read the list
 * without the lock takes it as current only when it is the one recorded.
 * A list that is missing or corrupt starts again at the higher of that mark
 * and the clock floor: the current time in microseconds since 1970.  So a
 * new mailbox starts near 1.8e15, and UIDs then grow by one per message.
 * Losing the list alone loses no UID; losing the lock file too is safe as
 * long as the mailbox issued fewer UIDs than microseconds have passed since
 * its list was created, and the clock did not go back.
 */
#ifndef POP3_UIDLIST_FILE_H
#define POP3_UIDLIST_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uidlist.h"

#define UIDLIST_FILE "pop3-handler-uidlist"
#define UIDLIST_TEMP "pop3-handler-uidlist.tmp"
#define UIDLIST_LOCK "pop3-handler-uidlist.lock"

/* Takes each entry as the list is parsed, in file order, instead of the list keeping it: the
 * name is an offset in the list's pool, where the octet after the name may be overwritten (with
 * a NUL, say).  False stops the parse (out of memory). */
struct uidlist_sink {
	bool (*put)(void *ctx, const struct uid_entry *e, char *pool);
	void *ctx;
};

enum uidlist_status {
	UIDLIST_OK,
	UIDLIST_MISSING,	/* no list yet: empty, next UID from the clock floor */
	UIDLIST_CORRUPT,	/* logged; empty, next UID above everything it named and the clock floor */
	UIDLIST_FAILED,		/* cannot be read (permissions, not a regular file, memory); logged */
};

/* The clock floor: the lowest UID a list created now may issue. */
uint64_t uidlist_clock_floor(void);

/* Reads the list from the Maildir at dirfd into l (which it initialises). */
enum uidlist_status uidlist_read(int dirfd, struct uidlist *l);

/* Reads the list file into l's pool and parses its header only (next UID, stamps); the entries
 * wait for uidlist_parse_entries.  UIDLIST_OK when the header is sound.  l->latest tells whether
 * it is the list the lock file records: always on a local file system, where no read can be
 * older than the last write. */
enum uidlist_status uidlist_load(int dirfd, struct uidlist *l);

/* Completes what uidlist_load began with status, as uidlist_read does: parses the entries into
 * l, logs a corrupt list and raises the next UID; returns the status uidlist_read would. */
enum uidlist_status uidlist_complete_read(int dirfd, struct uidlist *l, enum uidlist_status status);

/* Frees l, which holds an earlier read of the list (or is initialised), and reads it again as
 * uidlist_read does under the lock held as lock_fd (another session may have changed it), logging
 * it corrupt only when the earlier read did not.  On a shared file system it reads until it gets
 * the list the lock file records, for at most SHARED_STALE_WAIT_MS. */
enum uidlist_status uidlist_reread(int dirfd, int lock_fd, struct uidlist *l);


/* Parses the entries of a list uidlist_load gave UIDLIST_OK, into l or, with a sink, to the
 * sink only; UIDLIST_CORRUPT (logged; l emptied as uidlist_read leaves a corrupt list, entries
 * already given to a sink are void) or UIDLIST_OK. */
enum uidlist_status uidlist_parse_entries(struct uidlist *l, const struct uidlist_sink *sink);

/* Parses a list held in memory, as uidlist_read does with the file's bytes. */
enum uidlist_status uidlist_parse(const char *data, size_t len, struct uidlist *l);

/* Replaces the list file atomically with l, after recording its next UID in the lock file held
 * as lock_fd; false (logged) on failure. */
bool uidlist_write(int dirfd, int lock_fd, const struct uidlist *l);

/* Takes the list's lock, waiting for another holder at most wait_ms; returns the lock's fd, or
 * -1 (logged, except when wait_ms is 0 and the lock is only held). */
int uidlist_lock(int dirfd, unsigned wait_ms);

/* Releases the lock taken by uidlist_lock. */
void uidlist_unlock(int lock_fd);

#endif
