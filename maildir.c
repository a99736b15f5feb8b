/*
 * maildir.c - Maildir snapshot, message streaming, flags, retention and
 * UPDATE.
 */
#include "maildir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
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

/* Subdirectories holding messages, by DIR_NEW and DIR_CUR.  new/ is read
 * before cur/, so a message that another program moves from new/ to cur/
 * during the scan is seen in cur/ at the latest (and at worst twice, which
 * the snapshot merges). */
static const char *const message_dirs[MESSAGE_DIRS] = { "new", "cur" };

static char message_block[MESSAGE_READ_BLOCK];

/* Returned by open_regular for anything that is not a regular file. */
#define NOT_REGULAR (-2)

/* Returned by pool_add when the name pool cannot grow. */
#define NO_NAME UINT32_MAX

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

/* Stores name and suffix, NUL-terminated, in the name pool (neither may lie in it: the pool may move); returns the offset, or NO_NAME when out of memory. */
static uint32_t pool_add(struct maildir *md, const char *name, const char *suffix)
{
	size_t nlen = strlen(name), slen = strlen(suffix);
	size_t off = md->names_len, need = nlen + slen + 1;

	if (off + need >= NO_NAME || !array_grow((void **)&md->names, &md->names_capacity, off + need, 1))
		return NO_NAME;
	memcpy(md->names + off, name, nlen);
	memcpy(md->names + off + nlen, suffix, slen + 1);
	md->names_len += need;
	return (uint32_t)off;
}

/* The file name of message i. */
static const char *name_of(const struct maildir *md, size_t i)
{
	return md->names + md->msgs[i].name;
}

/* The fd of the subdirectory holding message i. */
static int dirfd_of(const struct maildir *md, size_t i)
{
	return md->subdir_fd[md->msgs[i].dir];
}

/* "cur/NAME" or "new/NAME" for message i, for log lines: in a buffer the next call reuses (a log line names one message; the sizing threads never log). */
static const char *maildir_path(const struct maildir *md, size_t i)
{
	static char path[sizeof "new/" + NAME_MAX + 1];

	snprintf(path, sizeof path, "%s/%s", message_dirs[md->msgs[i].dir], name_of(md, i));
	return path;
}

/* The base name of message i and its length. */
static const char *message_base(const struct maildir *md, size_t i, size_t *len)
{
	*len = md->msgs[i].base_len;
	return name_of(md, i);
}

/* Opens subdirectory k as md->subdir_fd[k] unless it is open; -1 with errno when it cannot be. */
static int open_subdir(struct maildir *md, size_t k)
{
	if (md->subdir_fd[k] < 0)
		md->subdir_fd[k] = openat(md->dirfd, message_dirs[k], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return md->subdir_fd[k];
}

/* Opens subdirectory k for reading its entries from the start; NULL (errno set) when it cannot be. */
static DIR *open_dir_stream(struct maildir *md, size_t k)
{
	int fd;
	DIR *d;

	/* The stream gets its own descriptor: closedir closes it, and
	 * subdir_fd stays for the *at() calls. */
	fd = open_subdir(md, k) < 0 ? -1 : fcntl(md->subdir_fd[k], F_DUPFD_CLOEXEC, 0);
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

static bool relocate(struct maildir *md, size_t i);

/* Opens message i under its snapshot name; as open_regular. */
static int open_message(const struct maildir *md, size_t i, struct stat *st)
{
	return open_regular(dirfd_of(md, i), name_of(md, i), st);
}

/* Opens message i, following it once if another program renamed it; an fd, or -1 with errno (ENOENT: gone), or NOT_REGULAR. */
static int open_located(struct maildir *md, size_t i, struct stat *st)
{
	int fd = open_message(md, i, st);

	if (fd == -1 && errno == ENOENT) {
		if (!relocate(md, i)) {
			errno = ENOENT;	/* relocate's directory reads may have set it */
			return -1;
		}
		fd = open_message(md, i, st);
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

/* Finds the sizes of message i: from its name where it carries them, else by reading the file once, in block.  A worker thread (worker true) neither follows a rename nor logs: what it cannot size is left to the snapshot's own pass.  False (logged unless it vanished, or by a worker) when it cannot be sized. */
static bool message_sizes(struct maildir *md, size_t i, char *block, bool worker)
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
	fd = worker ? open_message(md, i, &st) : open_located(md, i, &st);
	if (fd < 0) {
		if (!worker && (fd == NOT_REGULAR || errno != ENOENT))
			log_msg(LOG_WARNING, "skipping %s: %s", maildir_path(md, i),
				fd == NOT_REGULAR ? "not a regular file" : strerror(errno));
		return false;
	}
	if (!have_stored)
		m->stored_size = (uint64_t)st.st_size;
	/* Maildir files do not change: reading stops at the size fstat gave,
	 * which saves the read() that would only return 0. */
	while (!have_exact && octets < (uint64_t)st.st_size && (n = read(fd, block, MESSAGE_READ_BLOCK)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (!worker)
				log_msg(LOG_WARNING, "skipping %s: %s", maildir_path(md, i), strerror(errno));
			close(fd);
			return false;
		}
		crlf_count(&count, block, (size_t)n);
		octets += (uint64_t)n;
	}
	if (!have_exact)
		m->exact_size = count.size;
	close(fd);
	return true;
}

/* Work shared by the threads that size unknown messages. */
struct sizing {
	struct maildir *md;
	atomic_size_t next;	/* the first message no thread has claimed */
};

/* Sizes the unknown messages no other thread has claimed, SIZING_CHUNK at a time, until none is left. */
static void *sizing_worker(void *arg)
{
	struct sizing *job = arg;
	struct maildir *md = job->md;
	char *block = malloc(MESSAGE_READ_BLOCK);

	if (block == NULL)
		return NULL;	/* the other threads, or the snapshot's own pass, do the work */
	for (;;) {
		size_t first = atomic_fetch_add(&job->next, SIZING_CHUNK);

		if (first >= md->count)
			break;
		for (size_t i = first; i < first + SIZING_CHUNK && i < md->count; i++)
			if (!md->msgs[i].known)
				md->msgs[i].sized = message_sizes(md, i, block, true);
	}
	free(block);
	return NULL;
}

/* The CPUs this process may run on (its affinity, which cgroups and taskset narrow), at least 1; asked of the kernel rather than of /sys, which a confined session cannot read. */
static size_t usable_cpus(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof set, &set) != 0)
		return 1;
	n = CPU_COUNT(&set);
	return n > 1 ? (size_t)n : 1;
}

/* Sizes the messages the list does not know before the list is locked, with one thread per CPU when there are many: on a first session, reading every file is most of the time.  What a thread cannot size, add_unknown_messages retries (and logs) alone. */
static void size_unknown_messages(struct maildir *md, size_t unknown)
{
	pthread_t threads[SIZING_THREADS_MAX];
	struct sizing job = { .md = md };
	size_t cpus = unknown >= SIZING_PARALLEL_MIN ? usable_cpus() : 1;
	size_t helpers = (cpus < SIZING_THREADS_MAX ? cpus : SIZING_THREADS_MAX) - 1;
	size_t started = 0;

	atomic_init(&job.next, 0);
	/* A thread that cannot be created only leaves more to the others. */
	while (started < helpers && pthread_create(&threads[started], NULL, sizing_worker, &job) == 0)
		started++;
	sizing_worker(&job);
	for (size_t t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
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

/* Reads a directory's stamp (uidlist.h); false when it cannot be read or its change time lies before 1970. */
static bool stamp_of(int fd, struct dir_stamp *s)
{
	struct stat st;

	if (fstat(fd, &st) != 0 || st.st_ctim.tv_sec < 0)
		return false;
	s->ino = (uint64_t)st.st_ino;
	s->size = (uint64_t)st.st_size;
	s->sec = (uint64_t)st.st_ctim.tv_sec;
	s->nsec = (uint64_t)st.st_ctim.tv_nsec;
	return true;
}

static bool stamps_equal(const struct dir_stamp *a, const struct dir_stamp *b)
{
	return a->ino == b->ino && a->size == b->size && a->sec == b->sec && a->nsec == b->nsec;
}

/* Tells whether any later change to the directory must give it another stamp: its change time lies further back than the file system's clock can blur (params.h). */
static bool stamp_settled(const struct dir_stamp *s)
{
	struct timespec now;
	uint64_t margin = s->nsec == 0 ? STAMP_SETTLE_COARSE_NS : STAMP_SETTLE_NS;

	if (clock_gettime(CLOCK_REALTIME, &now) != 0 || now.tv_sec < 0 || s->sec > (uint64_t)now.tv_sec)
		return false;
	return ((uint64_t)now.tv_sec - s->sec) * 1000000000ULL + (uint64_t)now.tv_nsec >= s->nsec + margin;
}

/* What reading the directories found, besides the messages. */
struct scan {
	struct dir_stamp stamps[MESSAGE_DIRS];	/* each directory's, or zero where not settled or not stable */
	bool stable;		/* no directory kept changing while read */
	bool complete;		/* every message file found is in the snapshot */
};

/* Reads the file names of subdirectory k into the snapshot (no file is opened) and notes in scan its stamp and whether it kept changing while read. */
static bool scan_dir(struct maildir *md, size_t k, struct scan *scan)
{
	const char *dir = message_dirs[k];
	size_t first = md->count;
	DIR *d = open_dir_stream(md, k);

	if (d == NULL) {
		if (errno == ENOENT)
			return true;
		log_msg(LOG_ERR, "cannot open Maildir %s/: %s", dir, strerror(errno));
		return false;
	}
	for (int attempt = 1;; attempt++) {
		struct dir_stamp before, after;
		struct dirent *de;

		md->count = first;
		if (!stamp_of(md->subdir_fd[k], &before))
			break;
		while ((errno = 0, de = readdir(d)) != NULL) {
			struct message *m;

			if (!may_be_message(md->subdir_fd[k], dir, de))
				continue;
			if (md->count >= MESSAGES_MAX) {
				log_msg(LOG_WARNING, "more than %d messages: the rest wait for a later session", MESSAGES_MAX);
				scan->complete = false;
				break;
			}
			if (!array_grow((void **)&md->msgs, &md->capacity, md->count + 1, sizeof *md->msgs)) {
				errno = ENOMEM;
				break;
			}
			m = &md->msgs[md->count];
			memset(m, 0, sizeof *m);
			m->delivered = leading_number(de->d_name);
			m->base_len = (uint8_t)base_len(de->d_name);
			m->dir = (uint8_t)k;
			m->name = pool_add(md, de->d_name, "");
			if (m->name == NO_NAME) {
				errno = ENOMEM;
				break;
			}
			md->count++;
		}
		if (errno != 0 || !stamp_of(md->subdir_fd[k], &after))
			break;
		if (stamps_equal(&before, &after)) {
			if (stamp_settled(&before))
				scan->stamps[k] = before;
			break;
		}
		if (attempt == SCAN_ATTEMPTS) {
			scan->stable = false;
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
	const char *nx = (const char *)pool + x->name;
	const char *ny = (const char *)pool + y->name;
	size_t lx = x->base_len, ly = y->base_len;
	int c;

	if (x->delivered != y->delivered)
		return x->delivered < y->delivered ? -1 : 1;
	c = memcmp(nx, ny, lx < ly ? lx : ly);
	if (c != 0 || lx != ly)
		return c != 0 ? c : (lx < ly ? -1 : 1);
	return strcmp(nx, ny);
}

/* Puts the messages in delivery order; a list's entries usually are in that order already, which one pass confirms. */
static void sort_messages(struct maildir *md)
{
	for (size_t i = 1; i < md->count; i++) {
		if (message_order(&md->msgs[i - 1], &md->msgs[i], md->names) > 0) {
			qsort_r(md->msgs, md->count, sizeof *md->msgs, message_order, md->names);
			return;
		}
	}
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
				if (md->msgs[i].dir == DIR_CUR)
					md->msgs[out - 1] = md->msgs[i];
				continue;
			}
		}
		md->msgs[out++] = md->msgs[i];
	}
	md->count = out;
}

/* How the snapshot's messages matched the entries of a UID list. */
struct list_match {
	bool *matched;		/* one flag per entry, by index: some message has it (uidlist_flags) */
	size_t unknown;		/* messages the list does not know */
	bool renamed;		/* some entry's file name changed */
};

/* Copies UIDs and sizes from the list to the messages it knows, records in match which entries
 * they matched, and gives those entries the messages' file names as they are now; false (logged)
 * when memory ran out.  match->matched is the caller's to free. */
static bool match_list(struct maildir *md, struct uidlist *l, struct list_match *match)
{
	*match = (struct list_match){ .matched = uidlist_flags(l) };
	if (match->matched == NULL)
		return false;
	for (size_t i = 0; i < md->count; i++) {
		struct message *m = &md->msgs[i];
		size_t len;
		const char *base = message_base(md, i, &len);
		struct uid_entry *e = uidlist_find(l, base, len);

		m->known = e != NULL;
		if (e == NULL) {
			match->unknown++;
			continue;
		}
		match->matched[e - l->entries] = true;
		m->uid = e->uid;
		m->exact_size = e->exact_size;
		m->stored_size = e->stored_size;
		m->retrieved_at = e->retrieved;
		len = strlen(name_of(md, i));
		if (e->name_len != len || memcmp(uidlist_name(l, e), name_of(md, i), len) != 0) {
			match->renamed = true;
			/* Failing leaves the old name, under which opening the
			 * message finds it by its base name (relocate). */
			uidlist_rename(l, e, name_of(md, i), len);
		}
	}
	return true;
}

/* Tells whether entry i is stale: issued before this session's scan (below scanned_below), and
 * matched by no message the scan found.  Newer entries may belong to mail delivered since. */
static bool is_stale(const struct uidlist *l, const bool *matched, size_t i, uint64_t scanned_below)
{
	return !matched[i] && l->entries[i].uid < scanned_below;
}

/* Tells whether the list holds a stale entry. */
static bool has_stale_entries(const struct uidlist *l, const bool *matched, uint64_t scanned_below)
{
	for (size_t i = 0; i < l->count; i++)
		if (is_stale(l, matched, i, scanned_below))
			return true;
	return false;
}

/* Drops the stale entries from the list (their messages are gone); matched becomes the flags
 * of the entries dropped. */
static void drop_stale_entries(struct uidlist *l, bool *matched, uint64_t scanned_below)
{
	for (size_t i = 0; i < l->count; i++)
		matched[i] = is_stale(l, matched, i, scanned_below);
	uidlist_drop(l, matched);
}

/* Gives the messages the list does not know UIDs (in delivery order) and sizes; drops those that vanished or cannot be served, and returns how many it dropped. */
static size_t add_unknown_messages(struct maildir *md, struct uidlist *l)
{
	size_t out = 0, dropped = 0;

	for (size_t i = 0; i < md->count; i++) {
		struct message *m = &md->msgs[i];

		if (!m->known) {
			struct uid_entry *e;

			if (!m->sized && !message_sizes(md, i, message_block, false)) {
				dropped++;	/* vanished or unreadable: not in this snapshot */
				continue;
			}
			e = uidlist_add(l, name_of(md, i), strlen(name_of(md, i)));
			if (e == NULL) {
				log_msg(LOG_WARNING, "skipping %s: no UID could be given", maildir_path(md, i));
				dropped++;
				continue;
			}
			e->exact_size = m->exact_size;
			e->stored_size = m->stored_size;
			m->uid = e->uid;
			m->known = true;
		}
		md->msgs[out++] = *m;
	}
	md->count = out;
	return dropped;
}

/* Tells whether the list records the scan's stamps already. */
static bool list_records(const struct uidlist *l, const struct scan *scan)
{
	for (size_t k = 0; k < MESSAGE_DIRS; k++)
		if (!stamps_equal(&l->stamps[k], &scan->stamps[k]))
			return false;
	return true;
}

/* Tells whether the list may record the scan's stamps: both directories were read whole, unchanged while read and long enough after their last change, and new/ held no message (the snapshot moves those, which changes cur/). */
static bool scan_recordable(const struct maildir *md, const struct scan *scan)
{
	if (!scan->stable || !scan->complete)
		return false;
	for (size_t k = 0; k < MESSAGE_DIRS; k++)
		if (scan->stamps[k].ino == 0)
			return false;
	for (size_t i = 0; i < md->count; i++)
		if (md->msgs[i].dir != DIR_CUR)
			return false;
	return true;
}

/* Under the list's lock (waiting for it at most wait_ms), re-reads the list (another session may have changed it), gives new messages UIDs, drops stale entries and writes it; with the scan's stamps when recordable and the list then names exactly the messages scanned. */
static bool update_list(struct maildir *md, struct uidlist *l, uint64_t scanned_below, const struct scan *scan,
			bool recordable, unsigned wait_ms)
{
	int lock = uidlist_lock(md->dirfd, wait_ms);
	struct list_match match;
	bool ok;

	if (lock < 0)
		return false;
	uidlist_free(l);
	ok = uidlist_read(md->dirfd, l) != UIDLIST_FAILED && match_list(md, l, &match);
	if (ok) {
		if (scan->stable)
			drop_stale_entries(l, match.matched, scanned_below);
		free(match.matched);
		recordable = add_unknown_messages(md, l) == 0 && recordable && l->count == md->count;
		for (size_t k = 0; k < MESSAGE_DIRS; k++)
			l->stamps[k] = recordable ? scan->stamps[k] : (struct dir_stamp){ 0 };
		ok = uidlist_write(md->dirfd, lock, l);
	}
	uidlist_unlock(lock);
	return ok;
}

/* Renames from (in fromfd) to to (in tofd) unless to exists; file systems without RENAME_NOREPLACE get link() and unlink(), the classic Maildir way. */
static bool rename_noreplace(int fromfd, const char *from, int tofd, const char *to)
{
	if (renameat2(fromfd, from, tofd, to, RENAME_NOREPLACE) == 0)
		return true;
	if (errno != EINVAL && errno != ENOSYS)
		return false;
	if (linkat(fromfd, from, tofd, to, 0) != 0)
		return false;
	if (unlinkat(fromfd, from, 0) != 0)
		log_msg(LOG_WARNING, "cannot remove new/%s after linking it to cur/: %s", from, strerror(errno));
	return true;
}

/* Moves the messages of new/ to cur/ with an empty info ":2," as Dovecot does, never replacing a file. */
static void move_new_to_cur(struct maildir *md)
{
	for (size_t i = 0; i < md->count; i++) {
		char name[NAME_MAX + 1];
		uint32_t to;

		if (md->msgs[i].dir != DIR_NEW || md->subdir_fd[DIR_CUR] < 0)
			continue;
		/* A copy: pool_add may move the pool the name lives in. */
		snprintf(name, sizeof name, "%s", name_of(md, i));
		to = pool_add(md, name, strchr(name, ':') ? "" : ":2,");
		if (to == NO_NAME)
			return;
		if (rename_noreplace(md->subdir_fd[DIR_NEW], name_of(md, i), md->subdir_fd[DIR_CUR], md->names + to)) {
			md->msgs[i].name = to;
			md->msgs[i].dir = DIR_CUR;
		} else if (errno != ENOENT && errno != EEXIST) {
			log_msg(LOG_WARNING, "cannot move %s to cur/: %s", maildir_path(md, i), strerror(errno));
		}
	}
}

/* Tells whether new/ and cur/ still look as the list recorded them when its entries were exactly their messages. */
static bool list_is_current(const struct maildir *md, const struct uidlist *l)
{
	for (size_t k = 0; k < MESSAGE_DIRS; k++) {
		struct dir_stamp now;

		if (l->stamps[k].ino == 0 || md->subdir_fd[k] < 0 || !stamp_of(md->subdir_fd[k], &now) ||
		    !stamps_equal(&now, &l->stamps[k]))
			return false;
	}
	return true;
}

/* A uidlist_sink: makes each entry a message of cur/, its name left in the list's pool (the octet after it becomes the name's NUL). */
static bool take_entry(void *ctx, const struct uid_entry *e, char *pool)
{
	struct maildir *md = ctx;
	struct message *m;

	if (md->count >= MESSAGES_MAX ||
	    !array_grow((void **)&md->msgs, &md->capacity, md->count + 1, sizeof *md->msgs))
		return false;
	m = &md->msgs[md->count++];
	memset(m, 0, sizeof *m);
	m->uid = e->uid;
	m->exact_size = e->exact_size;
	m->stored_size = e->stored_size;
	m->retrieved_at = e->retrieved;
	m->name = e->name;
	m->base_len = e->base_len;
	m->dir = DIR_CUR;
	m->known = true;
	pool[e->name + e->name_len] = '\0';
	m->delivered = leading_number(pool + e->name);
	return true;
}

/* Takes the snapshot from a loaded list whose stamps are current, without reading the directories: the list's pool becomes the name pool.  False when the entries cannot serve (the snapshot is then empty again). */
static bool snapshot_from_list(struct maildir *md, struct uidlist *l)
{
	struct uidlist_sink sink = { take_entry, md };

	if (uidlist_parse_entries(l, &sink) != UIDLIST_OK) {
		md->count = 0;
		return false;
	}
	md->names = l->pool;
	md->names_len = l->pool_len;
	md->names_capacity = l->pool_capacity;
	l->pool = NULL;
	sort_messages(md);
	return true;
}

/* Takes the snapshot by reading new/ and cur/ and matching their files with the list by base name; updates the list under its lock when it lacks messages, has stale entries, or may record the directories' stamps. */
static bool snapshot_from_dirs(struct maildir *md, struct uidlist *list, enum uidlist_status status)
{
	struct scan scan = { .stable = true, .complete = true };
	struct list_match match;
	uint64_t scanned_below;
	bool recordable, stale;

	/* Only a list read whole tells which UIDs predate the scan: after a
	 * missing or corrupt one, another session may have issued lower
	 * UIDs since, so no entry is dropped this time. */
	scanned_below = status == UIDLIST_OK ? list->next_uid : 0;
	for (size_t k = 0; k < MESSAGE_DIRS; k++)
		if (!scan_dir(md, k, &scan))
			return false;
	if (md->count > 1) {
		qsort_r(md->msgs, md->count, sizeof *md->msgs, message_order, md->names);
		merge_duplicates(md);
	}
	if (!match_list(md, list, &match))
		return false;
	stale = scan.stable && has_stale_entries(list, match.matched, scanned_below);
	free(match.matched);
	if (match.unknown > 0)
		size_unknown_messages(md, match.unknown);
	recordable = scan_recordable(md, &scan);
	if (match.unknown > 0 || status != UIDLIST_OK || stale)
		return update_list(md, list, scanned_below, &scan, recordable, UIDLIST_LOCK_WAIT_MS);
	/* Recording the stamps only saves later sessions work: it neither
	 * waits for the lock nor fails the session. */
	if (recordable && (match.renamed || !list_records(list, &scan)))
		update_list(md, list, scanned_below, &scan, true, 0);
	return true;
}

void maildir_init(struct maildir *md)
{
	memset(md, 0, sizeof *md);
	md->dirfd = -1;
	for (size_t k = 0; k < MESSAGE_DIRS; k++)
		md->subdir_fd[k] = -1;
}

bool maildir_snapshot(struct maildir *md, const char *path)
{
	struct uidlist list;
	enum uidlist_status status;
	bool ok;

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
	/* A subdirectory that cannot be opened here is tried again by the scan, which reports why. */
	for (size_t k = 0; k < MESSAGE_DIRS; k++)
		open_subdir(md, k);
	/* The list is read before the directories: every entry it holds
	 * then predates the scan, and one the scan misses is really gone. */
	status = uidlist_load(md->dirfd, &list);
	if (status == UIDLIST_OK && list_is_current(md, &list)) {
		if (snapshot_from_list(md, &list)) {
			uidlist_free(&list);
			return true;
		}
		/* Its entries went to the snapshot, which gave them up: the
		 * list is read again, and what was wrong logged. */
		uidlist_free(&list);
		status = uidlist_load(md->dirfd, &list);
	}
	status = uidlist_complete_read(md->dirfd, &list, status);
	ok = status != UIDLIST_FAILED && snapshot_from_dirs(md, &list, status);
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
	for (size_t k = 0; k < MESSAGE_DIRS; k++)
		if (md->subdir_fd[k] >= 0 && close(md->subdir_fd[k]) != 0)
			log_msg(LOG_WARNING, "close Maildir %s/: %s", message_dirs[k], strerror(errno));
	free(md->msgs);
	free(md->names);
	maildir_init(md);
}

/* Looks for message i under another name with the same base name (another program changed its flags or moved it); updates the snapshot and returns true when found. */
static bool relocate(struct maildir *md, size_t i)
{
	size_t len;
	const char *name = message_base(md, i, &len);
	bool found = false;

	for (size_t k = MESSAGE_DIRS; k-- > 0 && !found;) {
		DIR *d = open_dir_stream(md, k);
		struct dirent *de;

		if (d == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			if (base_len(de->d_name) == len && memcmp(de->d_name, name, len) == 0) {
				uint32_t off = pool_add(md, de->d_name, "");

				/* pool_add may move the pool: name is stale now. */
				if (off != NO_NAME) {
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
	return unlinkat(dirfd_of(md, i), name_of(md, i), 0) == 0;
}

/* Changes the UID list under its lock: re-reads it (another session may have changed it), lets edit change the entries, and writes it back when edit says it changed something.  A list that cannot be read whole is left for the next snapshot to rebuild.  The list written records no stamps: the session changed the directories. */
static void edit_list(struct maildir *md, bool (*edit)(struct maildir *, struct uidlist *, time_t), time_t now)
{
	struct uidlist l;
	int lock = uidlist_lock(md->dirfd, UIDLIST_LOCK_WAIT_MS);

	if (lock < 0)
		return;
	if (uidlist_read(md->dirfd, &l) == UIDLIST_OK && edit(md, &l, now)) {
		memset(l.stamps, 0, sizeof l.stamps);
		uidlist_write(md->dirfd, lock, &l);
	}
	uidlist_free(&l);
	uidlist_unlock(lock);
}

/* Drops the entries of the messages removed: a file that later comes with the same base name (a restored copy, a twin) is a new message, with its own sizes and UID. */
static bool forget_removed(struct maildir *md, struct uidlist *l, time_t now)
{
	bool *removed = uidlist_flags(l);

	(void)now;
	if (removed == NULL)
		return false;
	for (size_t i = 0; i < md->count; i++) {
		size_t len;
		const char *base = message_base(md, i, &len);
		struct uid_entry *e = md->msgs[i].removed ? uidlist_find(l, base, len) : NULL;

		if (e != NULL)
			removed[e - l->entries] = true;
	}
	uidlist_drop(l, removed);
	free(removed);
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
		if (!old && unread && fstatat(dirfd_of(md, i), name_of(md, i), &st, AT_SYMLINK_NOFOLLOW) == 0)
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
	char seen[NAME_MAX + 1];
	uint32_t off;

	if (md->msgs[i].dir != DIR_CUR || !seen_name(name_of(md, i), seen, sizeof seen))
		return true;
	if (renameat(dirfd_of(md, i), name_of(md, i), dirfd_of(md, i), seen) != 0)
		return false;
	off = pool_add(md, seen, "");
	if (off != NO_NAME)
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
