/*
 * maildir.c - Maildir snapshot, message streaming and UPDATE.
 */

#include "maildir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "params.h"
#include "util.h"

/* Subdirectories holding messages.  new/ is read before cur/, so a message
 * that another program moves from new/ to cur/ during the scan is seen in
 * cur/ at the latest (and at worst twice, which the snapshot merges). */
static const char *const message_dirs[] = { "new", "cur" };

static char message_block[MESSAGE_READ_BLOCK];

/* Returned by open_regular for anything that is not a regular file. */
#define NOT_REGULAR (-2)

/* Opens a regular file below dirfd for reading, never following a link nor blocking on a FIFO; -1 with errno on failure, NOT_REGULAR for other file types. */
static int open_regular(int dirfd, const char *path)
{
	struct stat st;
	int fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return errno == ELOOP ? NOT_REGULAR : -1;
	if (fstat(fd, &st) != 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return NOT_REGULAR;
	}
	return fd;
}

/* The file name part of a relative path "cur/NAME". */
static const char *file_name(const char *path)
{
	const char *slash = strchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Length of a file name's base name: the part before the ':' of the flags. */
static size_t base_len(const char *name)
{
	return strcspn(name, ":");
}

/* The number a Maildir file name starts with (its delivery time), saturating. */
static uint64_t leading_number(const char *name)
{
	uint64_t value = 0;

	for (; *name >= '0' && *name <= '9'; name++) {
		uint64_t digit = (uint64_t)(*name - '0');

		if (value > (UINT64_MAX - digit) / 10)
			return UINT64_MAX;
		value = value * 10 + digit;
	}
	return value;
}

/* Stores "dir/name" in the name pool and returns its offset, or SIZE_MAX when out of memory. */
static size_t pool_add(struct maildir *md, const char *dir, const char *name)
{
	size_t dlen = strlen(dir), nlen = strlen(name);
	size_t need = dlen + 1 + nlen + 1;
	size_t off = md->names_len;

	if (!array_grow((void **)&md->names, &md->names_capacity, off + need, 1))
		return SIZE_MAX;
	memcpy(md->names + off, dir, dlen);
	md->names[off + dlen] = '/';
	memcpy(md->names + off + dlen + 1, name, nlen + 1);
	md->names_len += need;
	return off;
}

const char *maildir_path(const struct maildir *md, size_t i)
{
	return md->names + md->msgs[i].name;
}

/* Reads the sizes of one message file; false (logged unless it vanished) when it cannot be served. */
static bool message_sizes(int dirfd, const char *dir, const char *name, bool exact, struct message *m)
{
	struct crlf_counter count = { 0, false };
	int fd = open_regular(dirfd, name);
	ssize_t n;

	if (fd == NOT_REGULAR) {
		log_msg(LOG_WARNING, "skipping %s/%s: not a regular file", dir, name);
		return false;
	}
	if (fd < 0) {
		if (errno != ENOENT)
			log_msg(LOG_WARNING, "skipping %s/%s: %s", dir, name, strerror(errno));
		return false;
	}
	if (!exact) {
		struct stat st;
		bool ok = fstat(fd, &st) == 0;

		if (ok)
			m->stored_size = m->exact_size = (uint64_t)st.st_size;
		else
			log_msg(LOG_WARNING, "skipping %s/%s: %s", dir, name, strerror(errno));
		close(fd);
		return ok;
	}
	while ((n = read(fd, message_block, sizeof message_block)) > 0) {
		crlf_count(&count, message_block, (size_t)n);
		m->stored_size += (uint64_t)n;
	}
	if (n < 0)
		log_msg(LOG_WARNING, "skipping %s/%s: %s", dir, name, strerror(errno));
	close(fd);
	m->exact_size = count.size;
	return n == 0;
}

/* Adds the messages of one subdirectory to the snapshot; a missing subdirectory is empty. */
static bool scan_dir(struct maildir *md, const char *dir, bool exact)
{
	struct dirent *de;
	DIR *d;
	int fd = openat(md->dirfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT)
			return true;
		log_msg(LOG_ERR, "cannot open Maildir %s/: %s", dir, strerror(errno));
		return false;
	}
	d = fdopendir(fd);
	if (d == NULL) {
		log_msg(LOG_ERR, "cannot read Maildir %s/: %s", dir, strerror(errno));
		close(fd);
		return false;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		struct message m = { 0 };

		if (de->d_name[0] == '.')
			continue;
		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN) {
			log_msg(LOG_WARNING, "skipping %s/%s: not a regular file", dir, de->d_name);
			continue;
		}
		if (md->count >= MESSAGES_MAX) {
			log_msg(LOG_WARNING, "more than %d messages: the rest wait for a later session", MESSAGES_MAX);
			break;
		}
		if (!message_sizes(fd, dir, de->d_name, exact, &m))
			continue;
		m.delivered = leading_number(de->d_name);
		m.name = pool_add(md, dir, de->d_name);
		if (m.name == SIZE_MAX ||
		    !array_grow((void **)&md->msgs, &md->capacity, md->count + 1, sizeof *md->msgs)) {
			log_msg(LOG_ERR, "out of memory reading the Maildir");
			closedir(d);
			return false;
		}
		md->msgs[md->count++] = m;
	}
	if (errno != 0) {
		log_msg(LOG_ERR, "cannot read Maildir %s/: %s", dir, strerror(errno));
		closedir(d);
		return false;
	}
	closedir(d);
	return true;
}

/* Delivery order: leading timestamp, then base name, then the whole name. */
static int message_order(const void *a, const void *b, void *pool)
{
	const struct message *x = a, *y = b;
	const char *nx = file_name((const char *)pool + x->name);
	const char *ny = file_name((const char *)pool + y->name);
	size_t lx = base_len(nx), ly = base_len(ny);
	int c;

	if (x->delivered != y->delivered)
		return x->delivered < y->delivered ? -1 : 1;
	c = memcmp(nx, ny, lx < ly ? lx : ly);
	if (c != 0 || lx != ly)
		return c != 0 ? c : (lx < ly ? -1 : 1);
	return strcmp(nx, ny);
}

/* Keeps one entry per base name: a message seen in new/ and again in cur/ after a move is one message (the cur/ one, found later). */
static void merge_duplicates(struct maildir *md)
{
	size_t out = 0;

	for (size_t i = 0; i < md->count; i++) {
		if (out > 0) {
			const char *prev = file_name(maildir_path(md, out - 1));
			const char *cur = file_name(maildir_path(md, i));
			size_t len = base_len(prev);

			if (len == base_len(cur) && memcmp(prev, cur, len) == 0) {
				if (strncmp(maildir_path(md, i), "cur/", 4) == 0)
					md->msgs[out - 1] = md->msgs[i];
				continue;
			}
		}
		md->msgs[out++] = md->msgs[i];
	}
	md->count = out;
}

bool maildir_snapshot(struct maildir *md, const char *path, bool exact)
{
	memset(md, 0, sizeof *md);
	md->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (md->dirfd < 0) {
		if (errno == ENOENT) {
			log_msg(LOG_NOTICE, "Maildir %s does not exist: the mailbox is empty", path);
			return true;
		}
		log_msg(LOG_ERR, "cannot open Maildir %s: %s", path, strerror(errno));
		return false;
	}
	for (size_t i = 0; i < sizeof message_dirs / sizeof *message_dirs; i++) {
		if (!scan_dir(md, message_dirs[i], exact)) {
			maildir_close(md);
			return false;
		}
	}
	if (md->count > 1) {
		qsort_r(md->msgs, md->count, sizeof *md->msgs, message_order, md->names);
		merge_duplicates(md);
	}
	return true;
}

void maildir_close(struct maildir *md)
{
	if (md->dirfd >= 0 && close(md->dirfd) != 0)
		log_msg(LOG_WARNING, "close Maildir: %s", strerror(errno));
	free(md->msgs);
	free(md->names);
	memset(md, 0, sizeof *md);
	md->dirfd = -1;
}

/* A unique-id must be 1..70 octets from 0x21 to 0x7E (RFC 1939). */
static bool uid_ok(const char *s, size_t len)
{
	if (len < 1 || len > 70)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

void maildir_uid(const struct maildir *md, size_t i, char *buf, size_t size)
{
	const char *name = file_name(maildir_path(md, i));
	size_t len = base_len(name);

	if (uid_ok(name, len) && len < size) {
		memcpy(buf, name, len);
		buf[len] = '\0';
		return;
	}
	/* A base name that is no valid unique-id (too long, or odd octets)
	 * is named by a 64-bit FNV-1a hash of it: stable across sessions. */
	uint64_t h = 14695981039346656037ULL;

	for (size_t k = 0; k < len; k++) {
		h ^= (unsigned char)name[k];
		h *= 1099511628211ULL;
	}
	snprintf(buf, size, "H%016llx", (unsigned long long)h);
}

/* Looks for message i under another name with the same base name (another program changed its flags or moved it); updates the snapshot and returns true when found. */
static bool relocate(struct maildir *md, size_t i)
{
	const char *name = file_name(maildir_path(md, i));
	size_t len = base_len(name);
	bool found = false;

	for (size_t k = sizeof message_dirs / sizeof *message_dirs; k-- > 0 && !found;) {
		const char *dir = message_dirs[k];
		int fd = openat(md->dirfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		struct dirent *de;
		DIR *d;

		if (fd < 0 || (d = fdopendir(fd)) == NULL) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		while (!found && (de = readdir(d)) != NULL) {
			if (base_len(de->d_name) == len && memcmp(de->d_name, name, len) == 0) {
				size_t off = pool_add(md, dir, de->d_name);

				/* pool_add may move the pool: name is stale now. */
				if (off != SIZE_MAX) {
					md->msgs[i].name = off;
					found = true;
				}
				break;
			}
		}
		closedir(d);
	}
	return found;
}

enum open_result maildir_open_message(struct maildir *md, size_t i, int *fd_r)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = open_regular(md->dirfd, maildir_path(md, i));

		if (fd >= 0) {
			*fd_r = fd;
			return OPEN_OK;
		}
		if (fd == NOT_REGULAR) {
			log_msg(LOG_WARNING, "%s is no longer a regular file", maildir_path(md, i));
			return OPEN_FAILED;
		}
		if (errno != ENOENT) {
			log_msg(LOG_ERR, "cannot open %s: %s", maildir_path(md, i), strerror(errno));
			return OPEN_FAILED;
		}
		if (attempt > 0 || !relocate(md, i))
			break;
	}
	return OPEN_GONE;
}

bool maildir_send_message(int fd, bool limited, uint64_t body_lines, struct output *o)
{
	struct dot_encoder e;
	ssize_t n;

	dot_encoder_init(&e, limited, body_lines);
	while (o->state == OUTPUT_OK && (n = read(fd, message_block, sizeof message_block)) != 0) {
		if (n < 0) {
			if (errno == EINTR && !io_timed_out())
				continue;
			log_msg(LOG_ERR, "reading a message: %s", strerror(errno));
			return false;
		}
		if (!dot_encode(&e, message_block, (size_t)n, o))
			break;
	}
	dot_finish(&e, o);
	return true;
}

size_t maildir_update(struct maildir *md)
{
	size_t failed = 0;

	for (size_t i = 0; i < md->count; i++) {
		if (!md->msgs[i].deleted)
			continue;
		if (unlinkat(md->dirfd, maildir_path(md, i), 0) == 0)
			continue;
		/* Renamed by another program: remove it under its new name.
		 * Gone altogether: someone else removed it, as asked. */
		if (errno == ENOENT) {
			if (!relocate(md, i))
				continue;
			if (unlinkat(md->dirfd, maildir_path(md, i), 0) == 0 || errno == ENOENT)
				continue;
		}
		log_msg(LOG_ERR, "cannot remove %s: %s", maildir_path(md, i), strerror(errno));
		failed++;
	}
	return failed;
}
