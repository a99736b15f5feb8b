/*
 * textfile.c - regular text files read line by line.
 */
#include "textfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int open_regular_at(int dirfd, const char *name, int flags, uint64_t max_size, uint64_t *size)
{
	struct stat st;
	int fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | flags), err = 0;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0)
		err = errno;
	else if (!S_ISREG(st.st_mode))
		err = EINVAL;
	else if ((uint64_t)st.st_size > max_size)
		err = EFBIG;
	if (err != 0) {
		close(fd);
		errno = err;
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

FILE *fopen_regular(const char *path)
{
	uint64_t size;
	FILE *f;
	int fd = open_regular_at(AT_FDCWD, path, 0, UINT64_MAX, &size);

	if (fd < 0)
		return NULL;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return NULL;
	}
	f = fdopen(fd, "r");
	if (f == NULL)
		close(fd);
	return f;
}

const char *file_untrusted(FILE *f, struct stat *st)
{
	if (fstat(fileno(f), st) != 0)
		return strerror(errno);
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return "writable by group or others";
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return "owned by another user";
	return NULL;
}

enum file_line_status file_line_read(FILE *f, char *buf, size_t size)
{
	size_t len = 0;
	bool nul = false, too_long = false;
	int c;

	while ((c = getc(f)) != EOF && c != '\n') {
		nul |= c == '\0';
		if (len + 1 < size)
			buf[len++] = (char)c;
		else
			too_long = true;
	}
	if (ferror(f))
		return FILE_LINE_ERROR;
	if (c == EOF && len == 0 && !too_long && !nul)
		return FILE_LINE_EOF;
	/* A line written on Windows ends in CR LF: the CR is no part of it. */
	if (len > 0 && buf[len - 1] == '\r' && !too_long)
		len--;
	buf[len] = '\0';
	if (nul)
		return FILE_LINE_NUL;
	return too_long ? FILE_LINE_TOO_LONG : FILE_LINE_OK;
}
