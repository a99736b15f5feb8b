/*
 * unit-log.h - the log of the code under test captured in a file, for the
 * unit tests that check what was logged (test-privsep, test-gssapi): log.h
 * writes to standard error, which goes to the file.  Header-only and
 * static, like unit.h.
 */
#ifndef POP3_UNIT_LOG_H
#define POP3_UNIT_LOG_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "unit.h"

/* The log file: standard error is a copy of it. */
static inline int *unit_log_fd(void)
{
	static int fd = -1;

	return &fd;
}

/* Sends the log to a new file at path (standard error, log_to_stderr()), or bails out. */
static inline void unit_log_open(const char *path)
{
	int *fd = unit_log_fd();

	*fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (*fd < 0 || dup2(*fd, STDERR_FILENO) < 0)
		unit_bail("log file %s: %s", path, strerror(errno));
	log_to_stderr();
}

/* Empties the log. */
static inline void unit_log_clear(void)
{
	int fd = *unit_log_fd();

	if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
		unit_bail("ftruncate: %s", strerror(errno));
}

/* The log so far (its first 16 KiB), NUL-terminated in a buffer the next call reuses. */
static inline const char *unit_log_text(void)
{
	static char buf[16384];
	ssize_t n = pread(*unit_log_fd(), buf, sizeof buf - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* Tells whether the log holds text. */
static inline bool unit_log_has(const char *text)
{
	return strstr(unit_log_text(), text) != NULL;
}

#endif
