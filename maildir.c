/*
 * maildir.c - the store of a Maildir: its descriptors, the name pool, and each message opened
 * or acted on under whatever name another program has given it since the snapshot.
 */
#include "maildir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "params.h"
#include "util.h"

/* Subdirectories holding messages, by DIR_NEW and DIR_CUR.  new/ is read
 * before cur/, so a message that another program moves from new/ to cur/
 * during the scan is seen in cur/ at the latest (and at worst twice, which
 * the snapshot merges). */
static const char *const message_dirs[MESSAGE_DIRS] = { "new", "cur" };

/* Opens a regular file below dirfd for reading, never following a link nor blocking on a FIFO; -1
 * with errno on failure, MAILDIR_NOT_REGULAR for other file types. */
static int open_regular(int dirfd, const char *path, struct stat *st)
{
	int fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return errno == ELOOP ? MAILDIR_NOT_REGULAR : -1;
	if (fstat(fd, st) != 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return MAILDIR_NOT_REGULAR;
	}
	return fd;
}

size_t maildir_base_len(const char *name)
{
	return strcspn(name, ":");
}

uint32_t maildir_pool_add(struct maildir *md, const char *name, const char *suffix)
{
	size_t nlen = strlen(name), slen = strlen(suffix);
	size_t off = md->names_len, need = nlen + slen + 1;

	if (off + need >= MAILDIR_NO_NAME || !array_grow((void **)&md->names, &md->names_capacity, off + need, 1))
		return MAILDIR_NO_NAME;
	memcpy(md->names + off, name, nlen);
	memcpy(md->names + off + nlen, suffix, slen + 1);
	md->names_len += need;
	return (uint32_t)off;
}

const char *maildir_name(const struct maildir *md, size_t i)
{
	return md->names + md->msgs[i].name;
}

int maildir_dirfd(const struct maildir *md, size_t i)
{
	return md->subdir_fd[md->msgs[i].dir];
}

const char *maildir_path(const struct maildir *md, size_t i)
{
	static char path[sizeof "new/" + NAME_MAX + 1];

	snprintf(path, sizeof path, "%s/%s", message_dirs[md->msgs[i].dir], maildir_name(md, i));
	return path;
}

const char *maildir_base(const struct maildir *md, size_t i, size_t *len)
{
	*len = md->msgs[i].base_len;
	return maildir_name(md, i);
}

const char *maildir_subdir_name(size_t k)
{
	return message_dirs[k];
}

int maildir_open_subdir(struct maildir *md, size_t k)
{
	if (md->subdir_fd[k] < 0)
		md->subdir_fd[k] = openat(md->dirfd, message_dirs[k], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return md->subdir_fd[k];
}

DIR *maildir_open_dir_stream(struct maildir *md, size_t k)
{
	int fd;
	DIR *d;

	/* The stream gets its own descriptor: closedir closes it, and
	 * subdir_fd stays for the *at() calls. */
	fd = maildir_open_subdir(md, k) < 0 ? -1 : fcntl(md->subdir_fd[k], F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (d == NULL) {
		int saved = errno;

		close(fd);
		errno = saved;
		return NULL;
	}
	/* The duplicate shares the offset an earlier stream left at the end. */
	rewinddir(d);
	return d;
}

/* Looks for message i under another name with the same base name (another program changed its flags
 * or moved it); updates the snapshot and returns true when found. */
static bool relocate(struct maildir *md, size_t i)
{
	size_t len;
	const char *name = maildir_base(md, i, &len);
	bool found = false;

	for (size_t k = MESSAGE_DIRS; k-- > 0 && !found;) {
		DIR *d = maildir_open_dir_stream(md, k);
		struct dirent *de;

		if (d == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			if (maildir_base_len(de->d_name) == len && memcmp(de->d_name, name, len) == 0) {
				uint32_t off = maildir_pool_add(md, de->d_name, "");

				/* maildir_pool_add may move the pool: name is stale now. */
				if (off != MAILDIR_NO_NAME) {
					md->msgs[i].name = off;
					md->msgs[i].dir = (uint8_t)k;
					found = true;
				}
				break;
			}
		}
		closedir(d);
	}
	return found;
}

int maildir_open_named(const struct maildir *md, size_t i, struct stat *st)
{
	int fd = open_regular(maildir_dirfd(md, i), maildir_name(md, i), st);

	/* A stale file handle: on a shared file system, this host still
	 * knew the name of a file another host has removed. */
	if (fd == -1 && errno == ESTALE)
		errno = ENOENT;
	return fd;
}

bool maildir_has_size(const struct maildir *md, size_t i, uint64_t size)
{
	struct stat st;

	return fstatat(maildir_dirfd(md, i), maildir_name(md, i), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st.st_mode) && (uint64_t)st.st_size == size;
}

int maildir_open_located(struct maildir *md, size_t i, struct stat *st)
{
	int fd = maildir_open_named(md, i, st);

	if (fd == -1 && errno == ENOENT) {
		if (!relocate(md, i)) {
			errno = ENOENT;	/* relocate's directory reads may have set it */
			return -1;
		}
		fd = maildir_open_named(md, i, st);
	}
	return fd;
}

void maildir_init(struct maildir *md)
{
	memset(md, 0, sizeof *md);
	md->dirfd = -1;
	for (size_t k = 0; k < MESSAGE_DIRS; k++)
		md->subdir_fd[k] = -1;
}

bool maildir_open(struct maildir *md, const char *path)
{
	maildir_init(md);
	md->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (md->dirfd < 0) {
		if (errno == ENOENT) {
			log_msg(LOG_NOTICE, "Maildir %s does not exist: the mailbox is empty", path);
			return true;
		}
		log_msg(LOG_ERR, "cannot open Maildir %s: %s", path, strerror(errno));
		return false;
	}
	/* A subdirectory that cannot be opened here is tried again when it
	 * is read (maildir_open_dir_stream), by a reader that reports why. */
	for (size_t k = 0; k < MESSAGE_DIRS; k++)
		maildir_open_subdir(md, k);
	return true;
}

void maildir_close(struct maildir *md)
{
	if (md->dirfd >= 0 && close(md->dirfd) != 0)
		log_msg(LOG_WARNING, "close Maildir: %s", strerror(errno));
	for (size_t k = 0; k < MESSAGE_DIRS; k++)
		if (md->subdir_fd[k] >= 0 && close(md->subdir_fd[k]) != 0)
			log_msg(LOG_WARNING, "close Maildir %s/: %s", message_dirs[k], strerror(errno));
	free(md->msgs);
	free(md->names);
	maildir_init(md);
}

enum open_result maildir_open_message(struct maildir *md, size_t i, int *fd_r)
{
	struct stat st;
	char first;
	int fd = maildir_open_located(md, i, &st);

	/* One octet is read before the reply promises the message: on a
	 * shared file system the open may only reach the server with the
	 * first read, and a message another host removed fails there
	 * (ESTALE) rather than in the middle of the message. */
	if (fd >= 0 && pread(fd, &first, 1, 0) < 0) {
		int err = errno;

		close(fd);
		errno = err == ESTALE ? ENOENT : err;
		fd = -1;
	}
	if (fd >= 0) {
		*fd_r = fd;
		return OPEN_OK;
	}
	if (fd == MAILDIR_NOT_REGULAR) {
		log_msg(LOG_WARNING, "%s is no longer a regular file", maildir_path(md, i));
		return OPEN_FAILED;
	}
	if (errno != ENOENT) {
		log_msg(LOG_ERR, "cannot open %s: %s", maildir_path(md, i), strerror(errno));
		return OPEN_FAILED;
	}
	return OPEN_GONE;
}

bool maildir_apply(struct maildir *md, size_t i, bool (*op)(struct maildir *, size_t))
{
	if (op(md, i))
		return true;
	if (errno != ENOENT)
		return false;
	/* Renamed by another program: act on it under its new name.
	 * Gone altogether: nothing is left to act on. */
	return !relocate(md, i) || op(md, i) || errno == ENOENT;
}

/* A snapshot of many messages is mostly these records. */
_Static_assert(sizeof(struct message) == 48, "a message record grew");

const char *maildir_uidl(const struct maildir *md, size_t i)
{
	return md->msgs[i].has_uidl ? md->names + md->msgs[i].uidl : NULL;
}
