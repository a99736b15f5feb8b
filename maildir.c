/*
 * maildir.c - Maildir snapshot, message streaming, flags, retention and
 * UPDATE.
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
#include "parse.h"
#include "uidlist.h"
#include "util.h"

/* Subdirectories holding messages.  new/ is read before cur/, so a message
 * that another program moves from new/ to cur/ during the scan is seen in
 * cur/ at the latest (and at worst twice, which the snapshot merges). */
static const char *const message_dirs[] = { "new", "cur" };
#define MESSAGE_DIRS (sizeof message_dirs / sizeof *message_dirs)

static char message_block[MESSAGE_READ_BLOCK];

/* Returned by open_regular for anything that is not a regular file. */
#define NOT_REGULAR (-2)

/* Opens a regular file below dirfd for reading, never following a link nor blocking on a FIFO; -1 with errno on failure, NOT_REGULAR for other file types. */
static int open_regular(int dirfd, const char *path, struct stat *st)
{
	int fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return errno == ELOOP ? NOT_REGULAR : -1;
	if (fstat(fd, st) != 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
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
static size_t pool_add(struct maildir *md, const char *dir, const char *name, const char *suffix)
{
	size_t dlen = strlen(dir), nlen = strlen(name), slen = strlen(suffix);
	size_t need = dlen + 1 + nlen + slen + 1;
	size_t off = md->names_len;

	if (!array_grow((void **)&md->names, &md->names_capacity, off + need, 1))
		return SIZE_MAX;
	memcpy(md->names + off, dir, dlen);
	md->names[off + dlen] = '/';
	memcpy(md->names + off + dlen + 1, name, nlen);
	memcpy(md->names + off + dlen + 1 + nlen, suffix, slen + 1);
	md->names_len += need;
	return off;
}

const char *maildir_path(const struct maildir *md, size_t i)
{
	return md->names + md->msgs[i].name;
}

/* The base name of message i and its length. */
static const char *message_base(const struct maildir *md, size_t i, size_t *len)
{
	*len = md->msgs[i].base_len;
	return file_name(maildir_path(md, i));
}

static bool relocate(struct maildir *md, size_t i);

/* Opens message i, following it once if another program renamed it; an fd, or -1 with errno (ENOENT: gone), or NOT_REGULAR. */
static int open_located(struct maildir *md, size_t i, struct stat *st)
{
	int fd = open_regular(md->dirfd, maildir_path(md, i), st);

	if (fd == -1 && errno == ENOENT) {
		if (!relocate(md, i)) {
			errno = ENOENT;	/* relocate's directory reads may have set it */
			return -1;
		}
		fd = open_regular(md->dirfd, maildir_path(md, i), st);
	}
	return fd;
}

/* Reads a size written into a base name as ",S=123" or ",W=123" (Maildir++ and Dovecot). */
static bool size_in_name(const char *base, size_t len, char tag, uint64_t *out)
{
	for (size_t i = 0; i + 3 < len; i++) {
		if (base[i] == ',' && base[i + 1] == tag && base[i + 2] == '=') {
			size_t start = i + 3, end = start;

			while (end < len && base[end] != ',')
				end++;
			return parse_u64(base + start, end - start, UINT64_MAX, out);
		}
	}
	return false;
}

/* Finds the sizes of message i: from its name where it carries them, else by reading the file once; false (logged unless it vanished) when it cannot be served. */
static bool message_sizes(struct maildir *md, size_t i)
{
	struct message *m = &md->msgs[i];
	struct crlf_counter count = { 0, false };
	uint64_t octets = 0;
	size_t len;
	const char *base = message_base(md, i, &len);
	bool have_stored = size_in_name(base, len, 'S', &m->stored_size);
	bool have_exact = size_in_name(base, len, 'W', &m->exact_size);
	struct stat st;
	ssize_t n;
	int fd;

	if (have_stored && have_exact)
		return true;
	fd = open_located(md, i, &st);
	if (fd == NOT_REGULAR || fd < 0) {
		if (fd == NOT_REGULAR || errno != ENOENT)
			log_msg(LOG_WARNING, "skipping %s: %s", maildir_path(md, i),
				fd == NOT_REGULAR ? "not a regular file" : strerror(errno));
		return false;
	}
	if (!have_stored)
		m->stored_size = (uint64_t)st.st_size;
	/* Maildir files do not change: reading stops at the size fstat gave,
	 * which saves the read() that would only return 0. */
	while (!have_exact && octets < (uint64_t)st.st_size &&
	       (n = read(fd, message_block, sizeof message_block)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_msg(LOG_WARNING, "skipping %s: %s", maildir_path(md, i), strerror(errno));
			close(fd);
			return false;
		}
		crlf_count(&count, message_block, (size_t)n);
		octets += (uint64_t)n;
	}
	if (!have_exact)
		m->exact_size = count.size;
	close(fd);
	return true;
}

/* Tells whether a directory entry may be a message: not a dot file, and a regular file (checked with fstatat where the file system gives no type). */
static bool may_be_message(int fd, const char *dir, const struct dirent *de)
{
	struct stat st;

	if (de->d_name[0] == '.')
		return false;
	if (de->d_type == DT_UNKNOWN && fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode))
		return true;
	if (de->d_type == DT_REG)
		return true;
	if (de->d_type != DT_UNKNOWN)
		log_msg(LOG_WARNING, "skipping %s/%s: not a regular file", dir, de->d_name);
	return false;
}

/* The modification time of a directory, to notice changes made while it is read. */
static bool dir_mtime(int fd, struct timespec *t)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return false;
	*t = st.st_mtim;
	return true;
}

/* Reads the file names of one subdirectory into the snapshot (no file is opened); sets *stable false if the directory kept changing while read. */
static bool scan_dir(struct maildir *md, const char *dir, bool *stable)
{
	int fd = openat(md->dirfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	size_t first = md->count;
	DIR *d;

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
	for (int attempt = 1;; attempt++) {
		struct timespec before, after;
		struct dirent *de;

		md->count = first;
		if (!dir_mtime(fd, &before))
			break;
		while ((errno = 0, de = readdir(d)) != NULL) {
			struct message *m;

			if (!may_be_message(fd, dir, de))
				continue;
			if (md->count >= MESSAGES_MAX) {
				log_msg(LOG_WARNING, "more than %d messages: the rest wait for a later session", MESSAGES_MAX);
				break;
			}
			if (!array_grow((void **)&md->msgs, &md->capacity, md->count + 1, sizeof *md->msgs)) {
				errno = ENOMEM;
				break;
			}
			m = &md->msgs[md->count];
			memset(m, 0, sizeof *m);
			m->delivered = leading_number(de->d_name);
			m->base_len = base_len(de->d_name);
			m->name = pool_add(md, dir, de->d_name, "");
			if (m->name == SIZE_MAX) {
				errno = ENOMEM;
				break;
			}
			md->count++;
		}
		if (errno != 0 || !dir_mtime(fd, &after))
			break;
		if (before.tv_sec == after.tv_sec && before.tv_nsec == after.tv_nsec)
			break;
		if (attempt == SCAN_ATTEMPTS) {
			*stable = false;
			break;
		}
		rewinddir(d);
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
	/* Every path is "cur/" or "new/" and the name. */
	const char *nx = (const char *)pool + x->name + 4;
	const char *ny = (const char *)pool + y->name + 4;
	size_t lx = x->base_len, ly = y->base_len;
	int c;

	if (x->delivered != y->delivered)
		return x->delivered < y->delivered ? -1 : 1;
	c = memcmp(nx, ny, lx < ly ? lx : ly);
	if (c != 0 || lx != ly)
		return c != 0 ? c : (lx < ly ? -1 : 1);
	return strcmp(nx, ny);
}

/* Keeps one entry per base name: a message seen in new/ and again in cur/ after a move is one message (the cur/ one). */
static void merge_duplicates(struct maildir *md)
{
	size_t out = 0;

	for (size_t i = 0; i < md->count; i++) {
		if (out > 0) {
			size_t lp, lc;
			const char *prev = message_base(md, out - 1, &lp);
			const char *cur = message_base(md, i, &lc);

			if (lp == lc && memcmp(prev, cur, lp) == 0) {
				if (strncmp(maildir_path(md, i), "cur/", 4) == 0)
					md->msgs[out - 1] = md->msgs[i];
				continue;
			}
		}
		md->msgs[out++] = md->msgs[i];
	}
	md->count = out;
}

/* Copies UIDs and sizes from the list to the messages it knows, marking those entries seen; returns how many messages it does not know. */
static size_t match_list(struct maildir *md, struct uidlist *l)
{
	size_t unknown = 0;

	for (size_t i = 0; i < md->count; i++) {
		struct message *m = &md->msgs[i];
		size_t len;
		const char *base = message_base(md, i, &len);
		struct uid_entry *e = uidlist_find(l, base, len);

		m->known = e != NULL;
		if (e == NULL) {
			unknown++;
			continue;
		}
		e->seen = true;
		m->uid = e->uid;
		m->exact_size = e->exact_size;
		m->stored_size = e->stored_size;
		m->retrieved_at = e->retrieved;
	}
	return unknown;
}

/* Tells whether the list holds an entry, issued before this session's scan, whose message the scan did not find. */
static bool has_stale_entries(const struct uidlist *l, uint64_t scanned_below)
{
	for (size_t i = 0; i < l->count; i++)
		if (!l->entries[i].seen && l->entries[i].uid < scanned_below)
			return true;
	return false;
}

/* Drops from the list the entries issued before the scan whose messages it did not find; newer entries may belong to mail delivered since. */
static void prune_stale_entries(struct uidlist *l, uint64_t scanned_below)
{
	for (size_t i = 0; i < l->count; i++)
		if (l->entries[i].uid >= scanned_below)
			l->entries[i].seen = true;
	uidlist_prune_unseen(l);
}

/* Gives the messages the list does not know UIDs (in delivery order) and sizes; drops those that vanished. */
static bool add_unknown_messages(struct maildir *md, struct uidlist *l)
{
	size_t out = 0;

	for (size_t i = 0; i < md->count; i++) {
		struct message *m = &md->msgs[i];

		if (!m->known) {
			size_t len;
			const char *base = message_base(md, i, &len);
			struct uid_entry *e;

			if (!message_sizes(md, i))
				continue;	/* vanished or unreadable: not in this snapshot */
			e = uidlist_add(l, base, len);
			if (e == NULL) {
				log_msg(LOG_WARNING, "skipping %s: no UID could be given", maildir_path(md, i));
				continue;
			}
			e->seen = true;
			e->exact_size = m->exact_size;
			e->stored_size = m->stored_size;
			m->uid = e->uid;
			m->known = true;
		}
		md->msgs[out++] = *m;
	}
	md->count = out;
	return true;
}

/* Under the list's lock, re-reads the list (another session may have changed it), gives new messages UIDs, prunes and writes it. */
static bool update_list(struct maildir *md, struct uidlist *l, uint64_t scanned_below, bool stable)
{
	int lock = uidlist_lock(md->dirfd);
	bool ok;

	if (lock < 0)
		return false;
	uidlist_free(l);
	ok = uidlist_read(md->dirfd, l) != UIDLIST_FAILED;
	if (ok) {
		match_list(md, l);
		if (stable)
			prune_stale_entries(l, scanned_below);
		ok = add_unknown_messages(md, l) && uidlist_write(md->dirfd, lock, l);
	}
	uidlist_unlock(lock);
	return ok;
}

/* Renames from to to unless to exists; file systems without RENAME_NOREPLACE get link() and unlink(), the classic Maildir way. */
static bool rename_noreplace(int dirfd, const char *from, const char *to)
{
	if (renameat2(dirfd, from, dirfd, to, RENAME_NOREPLACE) == 0)
		return true;
	if (errno != EINVAL && errno != ENOSYS)
		return false;
	if (linkat(dirfd, from, dirfd, to, 0) != 0)
		return false;
	if (unlinkat(dirfd, from, 0) != 0)
		log_msg(LOG_WARNING, "cannot remove %s after linking it to %s: %s", from, to, strerror(errno));
	return true;
}

/* Moves the messages of new/ to cur/ with an empty info ":2," as Dovecot does, never replacing a file. */
static void move_new_to_cur(struct maildir *md)
{
	for (size_t i = 0; i < md->count; i++) {
		char name[NAME_MAX + 1];
		size_t to;

		if (strncmp(maildir_path(md, i), "new/", 4) != 0)
			continue;
		/* A copy: pool_add may move the pool the path lives in. */
		snprintf(name, sizeof name, "%s", file_name(maildir_path(md, i)));
		to = pool_add(md, "cur", name, strchr(name, ':') ? "" : ":2,");
		if (to == SIZE_MAX)
			return;
		if (rename_noreplace(md->dirfd, maildir_path(md, i), md->names + to))
			md->msgs[i].name = to;
		else if (errno != ENOENT && errno != EEXIST)
			log_msg(LOG_WARNING, "cannot move %s to cur/: %s", maildir_path(md, i), strerror(errno));
	}
}

bool maildir_snapshot(struct maildir *md, const char *path)
{
	struct uidlist list;
	enum uidlist_status status;
	uint64_t scanned_below;
	bool stable = true, ok = true;

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
	/* The list is read before the directories: every entry it holds
	 * then predates the scan, and one the scan misses is really gone. */
	status = uidlist_read(md->dirfd, &list);
	/* Only a list read whole tells which UIDs predate the scan: after a
	 * missing or corrupt one, another session may have issued lower
	 * UIDs since, so nothing is pruned this time. */
	scanned_below = status == UIDLIST_OK ? list.next_uid : 0;
	for (size_t i = 0; ok && i < MESSAGE_DIRS; i++)
		ok = status != UIDLIST_FAILED && scan_dir(md, message_dirs[i], &stable);
	if (ok && md->count > 1) {
		qsort_r(md->msgs, md->count, sizeof *md->msgs, message_order, md->names);
		merge_duplicates(md);
	}
	if (ok && (match_list(md, &list) > 0 || status != UIDLIST_OK ||
		   (stable && has_stale_entries(&list, scanned_below))))
		ok = update_list(md, &list, scanned_below, stable);
	uidlist_free(&list);
	if (!ok) {
		maildir_close(md);
		return false;
	}
	move_new_to_cur(md);
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

/* Looks for message i under another name with the same base name (another program changed its flags or moved it); updates the snapshot and returns true when found. */
static bool relocate(struct maildir *md, size_t i)
{
	size_t len;
	const char *name = message_base(md, i, &len);
	bool found = false;

	for (size_t k = MESSAGE_DIRS; k-- > 0 && !found;) {
		const char *dir = message_dirs[k];
		int fd = openat(md->dirfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		struct dirent *de;
		DIR *d;

		if (fd < 0 || (d = fdopendir(fd)) == NULL) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		while ((de = readdir(d)) != NULL) {
			if (base_len(de->d_name) == len && memcmp(de->d_name, name, len) == 0) {
				size_t off = pool_add(md, dir, de->d_name, "");

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
	struct stat st;
	int fd = open_located(md, i, &st);

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

/* Applies a rename-like operation to message i, following it once if another program renamed it; true when done or when the message is gone. */
static bool apply_to_message(struct maildir *md, size_t i, bool (*op)(struct maildir *, size_t))
{
	if (op(md, i))
		return true;
	if (errno != ENOENT)
		return false;
	/* Renamed by another program: act on it under its new name.
	 * Gone altogether: nothing is left to act on. */
	return !relocate(md, i) || op(md, i) || errno == ENOENT;
}

static bool unlink_message(struct maildir *md, size_t i)
{
	return unlinkat(md->dirfd, maildir_path(md, i), 0) == 0;
}

/* Changes the UID list under its lock: re-reads it (another session may have changed it), lets edit change the entries, and writes it back when edit says it changed something.  A list that cannot be read whole is left for the next snapshot to rebuild. */
static void edit_list(struct maildir *md, bool (*edit)(struct maildir *, struct uidlist *, time_t), time_t now)
{
	struct uidlist l;
	int lock = uidlist_lock(md->dirfd);

	if (lock < 0)
		return;
	if (uidlist_read(md->dirfd, &l) == UIDLIST_OK && edit(md, &l, now))
		uidlist_write(md->dirfd, lock, &l);
	uidlist_free(&l);
	uidlist_unlock(lock);
}

/* Drops the entries of the messages removed: a file that later comes with the same base name (a restored copy, a twin) is a new message, with its own sizes and UID. */
static bool forget_removed(struct maildir *md, struct uidlist *l, time_t now)
{
	(void)now;
	for (size_t i = 0; i < l->count; i++)
		l->entries[i].seen = true;
	for (size_t i = 0; i < md->count; i++) {
		size_t len;
		const char *base = message_base(md, i, &len);
		struct uid_entry *e = md->msgs[i].removed ? uidlist_find(l, base, len) : NULL;

		if (e != NULL)
			e->seen = false;
	}
	uidlist_prune_unseen(l);
	return true;
}

size_t maildir_update(struct maildir *md)
{
	size_t failed = 0, gone = 0;

	for (size_t i = 0; i < md->count; i++) {
		if (!md->msgs[i].deleted)
			continue;
		if (apply_to_message(md, i, unlink_message)) {
			md->msgs[i].removed = true;
			gone++;
			continue;
		}
		log_msg(LOG_ERR, "cannot remove %s: %s", maildir_path(md, i), strerror(errno));
		failed++;
	}
	if (gone > 0)
		edit_list(md, forget_removed, 0);
	return failed;
}

size_t maildir_expire(struct maildir *md, unsigned days, bool unread, time_t now)
{
	int64_t limit = (int64_t)now - (int64_t)days * 86400;
	size_t expired = 0;

	for (size_t i = 0; i < md->count; i++) {
		struct message *m = &md->msgs[i];
		struct stat st;
		bool old;

		if (m->deleted)
			continue;
		old = (m->retrieved && days == 0) || (m->retrieved_at != 0 && m->retrieved_at <= limit);
		if (!old && unread && fstatat(md->dirfd, maildir_path(md, i), &st, AT_SYMLINK_NOFOLLOW) == 0)
			old = st.st_mtime <= limit;
		if (old) {
			m->deleted = true;
			expired++;
		}
	}
	return expired;
}

/* Builds in buf the file name of name with the Seen flag added to its info, flag letters kept sorted (":2,RT" -> ":2,RST", no info -> ":2,S"); false when it has S already or an info we do not know. */
static bool seen_name(const char *name, char *buf, size_t size)
{
	const char *colon = strchr(name, ':');
	size_t len = strlen(name), head;

	if (len + sizeof ":2,S" > size)
		return false;
	if (colon == NULL)
		return snprintf(buf, size, "%s:2,S", name) > 0;
	if (strncmp(colon, ":2,", 3) != 0 || strchr(colon + 3, 'S') != NULL)
		return false;
	head = (size_t)(colon + 3 - name);
	while (name[head] != '\0' && name[head] < 'S')
		head++;
	memcpy(buf, name, head);
	buf[head] = 'S';
	memcpy(buf + head + 1, name + head, len - head + 1);
	return true;
}

/* Gives message i, if it is in cur/, the Seen flag; true when done or nothing is to be done. */
static bool mark_seen(struct maildir *md, size_t i)
{
	char seen[NAME_MAX + 1], path[sizeof "cur/" + NAME_MAX + 1];
	size_t off;

	if (strncmp(maildir_path(md, i), "cur/", 4) != 0 ||
	    !seen_name(file_name(maildir_path(md, i)), seen, sizeof seen))
		return true;
	snprintf(path, sizeof path, "cur/%s", seen);
	if (renameat(md->dirfd, maildir_path(md, i), md->dirfd, path) != 0)
		return false;
	off = pool_add(md, "cur", seen, "");
	if (off != SIZE_MAX)
		md->msgs[i].name = off;
	return true;
}

/* Records the retrieval time of the messages first retrieved in this session. */
static bool record_retrievals(struct maildir *md, struct uidlist *l, time_t now)
{
	bool changed = false;

	for (size_t i = 0; i < md->count; i++) {
		size_t len;
		const char *base = message_base(md, i, &len);
		struct uid_entry *e;

		if (!md->msgs[i].retrieved || md->msgs[i].retrieved_at != 0)
			continue;
		e = uidlist_find(l, base, len);
		if (e != NULL && e->retrieved == 0 && now > 0) {
			e->retrieved = (int64_t)now;
			changed = true;
		}
	}
	return changed;
}

void maildir_finish(struct maildir *md, bool record_retrieval, time_t now)
{
	bool any = false;

	for (size_t i = 0; i < md->count; i++) {
		if (!md->msgs[i].retrieved || md->msgs[i].deleted)
			continue;
		any = true;
		if (!apply_to_message(md, i, mark_seen))
			log_msg(LOG_WARNING, "cannot set the Seen flag of %s: %s", maildir_path(md, i), strerror(errno));
	}
	if (any && record_retrieval)
		edit_list(md, record_retrievals, now);
}
