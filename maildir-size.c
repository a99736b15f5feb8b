/*
 * maildir-size.c - the sizes of the snapshot's messages: the stored size from the file, the
 * exact size from the ,W= tag of its name where that is possible for the file, else by reading
 * each file once, with threads on a first session; and what oe-ns-eoh adds, from the headers.
 */
#include "maildir-size.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "encode.h"
#include "log.h"
#include "params.h"
#include "parse.h"

/* The block maildir_size_message reads files through; each sizing thread has its own. */
static char size_block[MESSAGE_READ_BLOCK];

/* Reads a size written into a base name as ",S=123" or ",W=123" (Maildir++ and Dovecot). */
static bool size_in_name(const char *base, size_t len, char tag, uint64_t *out)
{
	const char tag_start[] = { ',', tag, '=' };

	for (size_t i = 0; i + sizeof tag_start < len; i++) {
		if (memcmp(base + i, tag_start, sizeof tag_start) == 0) {
			size_t start = i + sizeof tag_start, end = start;

			while (end < len && base[end] != ',')
				end++;
			return parse_u64(base + start, end - start, UINT64_MAX, out);
		}
	}
	return false;
}

/* The sizes a message's name claims: its ,S= and ,W= tags, each where it has one. */
struct size_tags {
	bool has_stored, has_exact;
	uint64_t stored, exact;
};

/* Reads the size tags of the len octets of base name base. */
static void read_size_tags(const char *base, size_t len, struct size_tags *t)
{
	t->has_stored = size_in_name(base, len, 'S', &t->stored);
	t->has_exact = size_in_name(base, len, 'W', &t->exact);
}

/* Tells whether a name's ,W= tag may be taken for a file of size octets: it is at least the
 * file (every LF may gain a CR) and at most twice it, and the name has no ,S= tag other than
 * the file's size (a wrong one makes the ,W= tag suspect too). */
static bool exact_tag_fits(const struct size_tags *t, uint64_t size)
{
	return t->has_exact && t->exact >= size && t->exact / 2 <= size && (!t->has_stored || t->stored == size);
}

/* One reading of a message file by the sizing code. */
struct message_read {
	struct maildir *md;
	size_t i;
	bool worker;		/* a worker thread: no rename followed, nothing logged */
	const char *doing;	/* what a failure's log line starts with ("skipping") */
};

/* Opens the message r reads: a worker by its name, the calling thread where it is now; the fd,
 * or a negative value, logged unless it vanished (or by a worker). */
static int read_open(const struct message_read *r, struct stat *st)
{
	int fd = r->worker ? maildir_open_named(r->md, r->i, st) : maildir_open_located(r->md, r->i, st);

	if (fd < 0 && !r->worker && (fd == MAILDIR_NOT_REGULAR || errno != ENOENT))
		log_msg(LOG_WARNING, "%s %s: %s", r->doing, maildir_path(r->md, r->i),
			fd == MAILDIR_NOT_REGULAR ? "not a regular file" : strerror(errno));
	return fd;
}

/* Told each block read; returns true once it needs no more of the file. */
typedef bool block_taker(void *ctx, const char *data, size_t len);

/* Reads the file open as fd, of size octets, through block in reads of at most block_size,
 * handing each to take until it needs no more; false when a read failed (logged unless by a
 * worker, or the file vanished: ESTALE or ENOENT, another host removed it on a shared file
 * system, which is no fault of it). */
static bool read_blocks(const struct message_read *r, int fd, uint64_t size, char *block, size_t block_size,
			block_taker *take, void *ctx)
{
	uint64_t octets = 0;
	ssize_t n;

	/* Maildir files do not change: reading stops at the size fstat gave,
	 * which saves the read() that would only return 0. */
	while (octets < size && (n = read(fd, block, block_size)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (!r->worker && errno != ESTALE && errno != ENOENT)
				log_msg(LOG_WARNING, "%s %s: %s", r->doing, maildir_path(r->md, r->i), strerror(errno));
			return false;
		}
		octets += (uint64_t)n;
		if (take(ctx, block, (size_t)n))
			break;
	}
	return true;
}

/* A block_taker that counts the CRLF size; it needs the whole file. */
static bool take_crlf_count(void *ctx, const char *data, size_t len)
{
	crlf_count(ctx, data, len);
	return false;
}

/* Finds the sizes of message i: both from its name when it carries both and they fit its file
 * (looked at, not opened, so a message the session cannot read is still listed: a name is a
 * hint a hostile or careless program wrote), else the stored size from the file and the exact
 * size from the ,W= tag when it fits, else by reading the file once, in block.  A worker thread
 * (worker true) neither follows a rename nor logs: what it cannot size is left for
 * maildir_size_message.  False (logged unless it vanished, or by a worker) when it cannot be
 * sized. */
static bool message_sizes(struct maildir *md, size_t i, char *block, bool worker)
{
	const struct message_read r = { md, i, worker, "skipping" };
	struct message *m = &md->msgs[i];
	struct crlf_counter count = { 0, false };
	size_t len;
	const char *base = maildir_base(md, i, &len);
	struct size_tags tags;
	bool ok = true;
	struct stat st;
	int fd;

	read_size_tags(base, len, &tags);
	if (tags.has_stored && exact_tag_fits(&tags, tags.stored) && maildir_has_size(md, i, tags.stored)) {
		m->stored_size = tags.stored;
		m->exact_size = tags.exact;
		return true;
	}
	fd = read_open(&r, &st);
	if (fd < 0)
		return false;
	m->stored_size = (uint64_t)st.st_size;
	if (exact_tag_fits(&tags, m->stored_size))
		m->exact_size = tags.exact;
	else if ((ok = read_blocks(&r, fd, m->stored_size, block, MESSAGE_READ_BLOCK, take_crlf_count, &count)))
		m->exact_size = count.size;
	close(fd);
	return ok;
}

bool maildir_size_message(struct maildir *md, size_t i)
{
	return message_sizes(md, i, size_block, false);
}

/* Work shared by the threads that size messages. */
struct sizing {
	struct maildir *md;
	/* Sizes message i if it needs it, reading through block: no rename followed, nothing
	 * logged (what it leaves is for the calling thread to finish). */
	void (*size)(struct maildir *md, size_t i, char *block);
	atomic_size_t next;	/* the first message no thread has claimed */
};

/* Sizes the messages no other thread has claimed, SIZING_CHUNK at a time, until none is left. */
static void *sizing_worker(void *arg)
{
	struct sizing *job = arg;
	struct maildir *md = job->md;
	char *block = malloc(MESSAGE_READ_BLOCK);

	if (block == NULL)
		return NULL;	/* the other threads, or the calling thread after them, do the work */
	for (;;) {
		size_t first = atomic_fetch_add(&job->next, SIZING_CHUNK);

		if (first >= md->count)
			break;
		for (size_t i = first; i < first + SIZING_CHUNK && i < md->count; i++)
			job->size(md, i, block);
	}
	free(block);
	return NULL;
}

/* The CPUs this process may run on (its affinity, which cgroups and taskset narrow), at least 1;
 * asked of the kernel rather than of /sys, which a confined session cannot read. */
static size_t usable_cpus(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof set, &set) != 0)
		return 1;
	n = CPU_COUNT(&set);
	return n > 1 ? (size_t)n : 1;
}

/* Runs the job on every message of the snapshot: with a thread per CPU when it reads many files
 * (files, from SIZING_PARALLEL_MIN on: params.h), else in this thread alone. */
static void run_sizing(struct sizing *job, size_t files)
{
	pthread_t threads[SIZING_THREADS_MAX];
	size_t cpus = files >= SIZING_PARALLEL_MIN ? usable_cpus() : 1;
	size_t helpers = (cpus < SIZING_THREADS_MAX ? cpus : SIZING_THREADS_MAX) - 1;
	size_t started = 0;

	atomic_init(&job->next, 0);
	/* A thread that cannot be created only leaves more to the others. */
	while (started < helpers && pthread_create(&threads[started], NULL, sizing_worker, job) == 0)
		started++;
	sizing_worker(job);
	for (size_t t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
}

/* A sizing job: message i, unless the UID list knew it. */
static void size_if_unknown(struct maildir *md, size_t i, char *block)
{
	if (!md->msgs[i].known)
		md->msgs[i].sized = message_sizes(md, i, block, true);
}

void maildir_size_unknown(struct maildir *md, size_t unknown)
{
	struct sizing job = { .md = md, .size = size_if_unknown };

	run_sizing(&job, unknown);
}

/* A block_taker that looks for the blank line that ends the header; it needs no more after. */
static bool take_header_end(void *ctx, const char *data, size_t len)
{
	return header_end_find(ctx, data, len);
}

/* Reads message i through block as far as the blank line that ends its header, and notes what
 * oe-ns-eoh adds to it (header_read when it could be read; else logged unless it vanished or a
 * worker read it).  A worker thread (worker true) neither follows a rename nor logs. */
static void read_header(struct maildir *md, size_t i, char *block, bool worker)
{
	const struct message_read r = { md, i, worker, "cannot read the header of" };
	struct header_end h = { 0 };
	struct stat st;
	bool ok;
	int fd = read_open(&r, &st);

	if (fd < 0)
		return;
	/* Small reads: a large message's body is not copied for nothing. */
	ok = read_blocks(&r, fd, (uint64_t)st.st_size, block, HEADER_READ_BLOCK, take_header_end, &h);
	close(fd);
	md->msgs[i].eoh_added = ok ? header_end_added(&h) : 0;
	md->msgs[i].header_read = ok;
}

/* A sizing job: where message i's header ends. */
static void size_header_end(struct maildir *md, size_t i, char *block)
{
	read_header(md, i, block, true);
}

void maildir_size_header_ends(struct maildir *md)
{
	struct sizing job = { .md = md, .size = size_header_end };

	run_sizing(&job, md->count);
	/* What the threads left: renamed meanwhile, or a failure to log. */
	for (size_t i = 0; i < md->count; i++)
		if (!md->msgs[i].header_read)
			read_header(md, i, size_block, false);
}
