/*
 * maildir.h - the snapshot of a Maildir taken at login, message streaming,
 * and the UPDATE that removes what the client deleted.  Every file access
 * goes through the Maildir's directory fd; message files are never
 * followed through symbolic links.
 */
#ifndef POP3_MAILDIR_H
#define POP3_MAILDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io.h"

struct message {
	uint64_t exact_size;	/* size with CRLF line ends */
	uint64_t stored_size;	/* size of the file */
	uint64_t delivered;	/* leading timestamp of the file name */
	size_t name;		/* offset in the name pool of "cur/NAME" or "new/NAME" */
	bool deleted;		/* marked by DELE in this session */
};

struct maildir {
	int dirfd;		/* the Maildir root, or -1 when it does not exist */
	struct message *msgs;
	size_t count, capacity;
	char *names;		/* pool of NUL-terminated relative paths */
	size_t names_len, names_capacity;
};

/* Opens the Maildir at path and takes the snapshot of cur/ and new/ in delivery order, reading each file for its CRLF size when exact; a Maildir that does not exist is empty.  Returns false (and logs why) on any other failure. */
bool maildir_snapshot(struct maildir *md, const char *path, bool exact);

/* Frees the snapshot and closes the Maildir. */
void maildir_close(struct maildir *md);

/* The path of message i relative to the Maildir root ("cur/..." or "new/..."). */
const char *maildir_path(const struct maildir *md, size_t i);

/* The unique-id of message i: its base name (the file name before ':'), copied into buf. */
void maildir_uid(const struct maildir *md, size_t i, char *buf, size_t size);

enum open_result {
	OPEN_OK,
	OPEN_GONE,		/* removed since the snapshot */
	OPEN_FAILED,		/* present but unreadable; logged */
};

/* Opens message i for reading, following a rename by another program (flags changed, new/ -> cur/); *fd_r is set on OPEN_OK. */
enum open_result maildir_open_message(struct maildir *md, size_t i, int *fd_r);

/* Copies message i to o as RETR (limited false) or TOP (header plus body_lines lines) send it, without the final "." line; false (logged) on a read error. */
bool maildir_send_message(int fd, bool limited, uint64_t body_lines, struct output *o);

/* Removes every message marked deleted; returns how many could not be removed (each logged). */
size_t maildir_update(struct maildir *md);

#endif
