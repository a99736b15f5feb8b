/*
 * textfile.h - reading the configuration and the passwd file: regular
 * files only, line by line, with over-long lines and lines holding a NUL
 * octet refused whole; and opening the other files read whole (the UID
 * list, the previous server's files) under the same rule.
 */
#ifndef POP3_TEXTFILE_H
#define POP3_TEXTFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

/* Opens the file name of the directory dirfd (AT_FDCWD: the working directory) for reading,
 * with flags added (O_NOFOLLOW: not through a symbolic link), if it is a regular file of at
 * most max_size octets, without blocking on a FIFO or device; its size in *size.  -1 with
 * errno otherwise: EINVAL for another file type, EFBIG for a larger file, else open's or
 * fstat's. */
int open_regular_at(int dirfd, const char *name, int flags, uint64_t max_size, uint64_t *size);

/* Opens path for reading if it is a regular file, without blocking on a FIFO or device;
 * NULL with errno (EINVAL for another file type) otherwise. */
FILE *fopen_regular(const char *path);

/* Why the open file f may not be trusted with what the root process reads from it (sshd's
 * StrictModes): "writable by group or others" or "owned by another user" (not root, nor this
 * process's user); the fstat error; or NULL when it may be trusted.  Its fstat in *st. */
const char *file_untrusted(FILE *f, struct stat *st);

enum file_line_status {
	FILE_LINE_OK,
	FILE_LINE_TOO_LONG,	/* the line was longer than the buffer; it was skipped */
	FILE_LINE_NUL,		/* the line holds a NUL octet; it was skipped */
	FILE_LINE_EOF,
	FILE_LINE_ERROR,
};

/* Reads one line into buf without its newline (nor a CR before it), skipping over-long
 * lines and lines with NUL octets whole. */
enum file_line_status file_line_read(FILE *f, char *buf, size_t size);

#endif
