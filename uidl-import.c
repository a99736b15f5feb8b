/*
 * uidl-import.c - the UIDLs of a previous server: read, checked, given.
 */
#include "uidl-import.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "params.h"
#include "parse.h"
#include "textfile.h"
#include "uidl-formats.h"
#include "util.h"

/* The files the servers leave in the Maildir root. */
#define DOVECOT_UIDLIST "dovecot-uidlist"
#define COURIER_SIZELIST "courierpop3dsizelist"

/* Appends len octets to the pool; their offset, or -1 when memory ran out. */
static int64_t keep_octets(struct uidl_import *im, const char *s, size_t len)
{
	return pool_append(&im->pool, &im->pool_len, &im->pool_capacity, s, len);
}

/* A uidl_sink: keeps one UIDL a file names; one too long to be a unique-id is kept as refused,
 * and a base name longer than a file name can be is dropped (no message has it). */
static bool keep(void *ctx, const char *base, size_t base_len, const char *uidl, size_t uidl_len)
{
	struct uidl_import *im = ctx;
	bool fits = uidl_len <= UIDL_STRING_MAX;
	int64_t b, u;

	if (base_len > UINT8_MAX)
		return true;
	if (im->count >= MESSAGES_MAX) {
		im->overflowed = true;
		return false;
	}
	if (!array_grow((void **)&im->taken, &im->capacity, im->count + 1, sizeof *im->taken))
		return false;
	b = keep_octets(im, base, base_len);
	u = keep_octets(im, uidl, fits ? uidl_len : 0);
	if (b < 0 || u < 0)
		return false;
	im->taken[im->count++] = (struct uidl_taken){ (uint32_t)b, (uint32_t)u, (uint8_t)base_len,
						      (uint8_t)(fits ? uidl_len : 0),
						      fits && unique_id_ok(uidl, uidl_len) ? UIDL_GIVEN : UIDL_NOT_UNIQUE_ID };
	return true;
}

/* Why a file could not be read, from the errno of open_regular_at(), malloc() or read(). */
static const char *why_unread(int err)
{
	switch (err) {
	case EINVAL:
		return "not a regular file";
	case EFBIG:
		return "too large";
	case ENOMEM:
		return "out of memory";
	default:
		return strerror(err);
	}
}

/* Reads the file name of the Maildir root into a malloc'd buffer; NULL (logged unless it is
 * missing) when it cannot be, is not a regular file or is larger than UIDL_IMPORT_FILE_MAX. */
static char *read_file(int dirfd, const char *name, size_t *len)
{
	uint64_t size;
	char *data = NULL;
	int fd = open_regular_at(dirfd, name, O_NOFOLLOW, UIDL_IMPORT_FILE_MAX, &size), err = 0;

	if (fd < 0) {
		err = errno;
	} else {
		data = malloc((size_t)size + 1);
		if (data == NULL)
			err = ENOMEM;
		else if (!read_all(fd, data, (size_t)size, len))
			err = errno;
		close(fd);
	}
	if (err == 0)
		return data;
	if (err != ENOENT)
		log_msg(LOG_WARNING, "not taking over UIDLs from %s: %s", name, why_unread(err));
	free(data);
	return NULL;
}

/* Orders kept UIDLs by their UIDL, then their base name. */
static int by_uidl(const void *a, const void *b, void *pool)
{
	const struct uidl_taken *x = a, *y = b;
	const char *p = pool;
	int c = memcmp(p + x->uidl, p + y->uidl, x->uidl_len < y->uidl_len ? x->uidl_len : y->uidl_len);

	return c != 0 ? c : (int)x->uidl_len - (int)y->uidl_len;
}

/* Orders kept UIDLs by base name. */
static int by_base(const void *a, const void *b, void *pool)
{
	const struct uidl_taken *x = a, *y = b;
	const char *p = pool;
	int c = memcmp(p + x->base, p + y->base, x->base_len < y->base_len ? x->base_len : y->base_len);

	return c != 0 ? c : (int)x->base_len - (int)y->base_len;
}

/* Tells whether two kept entries say the same thing: one base name, one UIDL (a file that names
 * a message twice alike only repeats itself). */
static bool same_entry(const struct uidl_taken *x, const struct uidl_taken *y, const char *pool)
{
	return by_base(x, y, (void *)(uintptr_t)pool) == 0 && by_uidl(x, y, (void *)(uintptr_t)pool) == 0;
}

/* Sorted by order, refuses (for why) every run of entries equal under it that do not all say the
 * same. */
static void refuse_runs(struct uidl_import *im, int (*order)(const void *, const void *, void *),
			enum uidl_refusal why)
{
	size_t start = 0;

	if (im->count < 2)
		return;
	qsort_r(im->taken, im->count, sizeof *im->taken, order, im->pool);
	for (size_t i = 1; i <= im->count; i++) {
		bool mixed = false;

		if (i < im->count && order(&im->taken[i - 1], &im->taken[i], im->pool) == 0)
			continue;
		for (size_t k = start + 1; k < i; k++)
			mixed |= !same_entry(&im->taken[start], &im->taken[k], im->pool);
		for (size_t k = start; mixed && k < i; k++)
			if (im->taken[k].refused == UIDL_GIVEN)
				im->taken[k].refused = why;
		start = i;
	}
}

/* Refuses every UIDL that two messages share, and every message given two UIDLs (a hostile or
 * damaged file: which one the client saw cannot be known); leaves the entries by base name. */
static void refuse_shared(struct uidl_import *im)
{
	refuse_runs(im, by_uidl, UIDL_SHARED_IN_FILE);
	refuse_runs(im, by_base, UIDL_NAMED_TWICE);
}

/* Reads and parses the previous server's file name into im, as its kind says; false when memory
 * ran out (the caller logs it).  A file that cannot be read, or names more messages than a
 * mailbox may hold, gives nothing (logged). */
static bool load_file(struct uidl_import *im, int dirfd, const char *name, bool dovecot)
{
	struct uidl_sink sink = { keep, im };
	size_t len = 0;
	char *data = read_file(dirfd, name, &len);
	bool ok;

	if (data == NULL)
		return true;
	ok = dovecot ? dovecot_uidlist_parse(data, len, im->opt->format, &sink)
		     : courier_sizelist_parse(data, len, &sink);
	free(data);
	if (im->overflowed) {
		log_msg(LOG_WARNING, "not taking over UIDLs from %s: more than %d entries", name, MESSAGES_MAX);
		im->count = 0;
		im->pool_len = 0;	/* no entry is left to refer to it */
		im->overflowed = false;
		ok = true;
	}
	if (im->source == NULL)
		im->source = name;
	return ok;
}

bool uidl_import_load(struct uidl_import *im, int dirfd, const struct uidl_migration *opt, uint64_t uids_from)
{
	memset(im, 0, sizeof *im);
	im->opt = opt;
	im->uids_from = uids_from;
	/* The pool exists from here on, so that an empty string has a place in it. */
	if (!array_grow((void **)&im->pool, &im->pool_capacity, 1, 1))
		return false;
	if (opt->mode != UIDL_MIGRATE_AUTO)
		return true;
	/* Courier's is read when Dovecot's gives nothing (missing, unreadable, no entry). */
	if (!load_file(im, dirfd, DOVECOT_UIDLIST, true))
		return false;
	if (im->count == 0) {
		const char *read_first = im->source;

		im->source = NULL;
		if (!load_file(im, dirfd, COURIER_SIZELIST, false))
			return false;
		if (im->source == NULL)
			im->source = read_first;	/* the counts name the file that was there */
	}
	refuse_shared(im);
	return true;
}

/* Orders message numbers by the UIDLs planned for them. */
static int by_planned_uidl(const void *a, const void *b, void *ctx)
{
	const struct uidl_import *im = ctx;

	return by_uidl(&im->planned[*(const size_t *)a], &im->planned[*(const size_t *)b], im->pool);
}

/* The kept entry for a base name, or NULL. */
static const struct uidl_taken *lookup(const struct uidl_import *im, const char *base, size_t len)
{
	size_t lo = 0, hi = im->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct uidl_taken *t = &im->taken[mid];
		int c = memcmp(im->pool + t->base, base, t->base_len < len ? t->base_len : len);

		if (c == 0)
			c = (int)t->base_len - (int)len;
		if (c == 0)
			return t;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Reads the header of message i into buf (at most size octets); its length, 0 when it cannot be
 * read. */
static size_t read_header(struct maildir *md, size_t i, char *buf, size_t size)
{
	struct stat st;
	size_t n = 0;
	int fd = maildir_open_named(md, i, &st);

	if (fd < 0)
		return 0;
	if (!read_all(fd, buf, size, &n))
		n = 0;
	close(fd);
	return n;
}

/* Counts a UIDL that cannot be given, logging why. */
static void refuse(struct uidl_import *im, struct maildir *md, size_t i, enum uidl_refusal why)
{
	static const char *const reasons[] = {
		[UIDL_NOT_UNIQUE_ID] = "not an RFC 1939 unique-id (1 to 70 octets from 0x21 to 0x7e)",
		[UIDL_SHARED_IN_FILE] = "the previous server's file gives the same UIDL to another message",
		[UIDL_NAMED_TWICE] = "the previous server's file gives the message two UIDLs",
		[UIDL_SHARED_IN_MAILDIR] = "another message would show the same UIDL",
		[UIDL_NUMBER_CLASH] = "an all-digit UIDL that one of our decimal UIDs could equal",
	};

	im->refused++;
	log_msg(LOG_NOTICE, "%s: not taking over its UIDL: %s", maildir_path(md, i), reasons[why]);
}

/* Why uidl (len octets) cannot be given, or UIDL_GIVEN. */
static enum uidl_refusal judge(const struct uidl_import *im, const char *uidl, size_t len)
{
	uint64_t n;

	if (!unique_id_ok(uidl, len))
		return UIDL_NOT_UNIQUE_ID;
	/* Our UIDs are written as decimal numbers without leading zeros, and
	 * none is below UIDL_NUMBER_SAFE_BELOW while the list's UIDs start
	 * above it: any other such number could one day be one of them. */
	if ((len == 1 || uidl[0] != '0') && parse_u64(uidl, len, UINT64_MAX, &n) &&
	    (n >= UIDL_NUMBER_SAFE_BELOW || im->uids_from < UIDL_NUMBER_SAFE_BELOW))
		return UIDL_NUMBER_CLASH;
	return UIDL_GIVEN;
}

/* Plans uidl (len octets, copied into the pool) for message i unless judge() refuses it; false
 * when memory ran out. */
static bool plan_copy(struct uidl_import *im, struct maildir *md, size_t i, const char *uidl, size_t len)
{
	enum uidl_refusal why = judge(im, uidl, len);
	int64_t off;

	if (why != UIDL_GIVEN) {
		refuse(im, md, i, why);
		return true;
	}
	off = keep_octets(im, uidl, len);
	if (off < 0)
		return false;
	im->planned[i] = (struct uidl_taken){ 0, (uint32_t)off, 0, (uint8_t)len, UIDL_GIVEN };
	return true;
}

/* Plans the UIDL of message i: its X-UIDL, its base name, or its entry in the file. */
static bool plan_one(struct uidl_import *im, struct maildir *md, size_t i)
{
	static char header[UIDL_HEADER_READ_MAX];
	size_t base_len, n, len;
	const char *base = maildir_base(md, i, &base_len), *value;
	const struct uidl_taken *t;
	enum uidl_refusal why;

	if (im->opt->from_header && (n = read_header(md, i, header, sizeof header)) > 0 &&
	    xuidl_find(header, n, &value, &len))
		return plan_copy(im, md, i, value, len);
	if (im->opt->mode == UIDL_MIGRATE_MAILDIR_NAME)
		return plan_copy(im, md, i, base, base_len);
	if (im->source == NULL)
		return true;
	t = lookup(im, base, base_len);
	if (t == NULL)
		im->not_found++;
	else if (t->refused != UIDL_GIVEN)
		refuse(im, md, i, t->refused);
	else if ((why = judge(im, im->pool + t->uidl, t->uidl_len)) != UIDL_GIVEN)
		refuse(im, md, i, why);
	else
		im->planned[i] = *t;
	return true;
}

/* Refuses the planned UIDLs two messages would share; false when memory ran out. */
static bool refuse_planned_twins(struct uidl_import *im, struct maildir *md)
{
	size_t *order = malloc((im->planned_count + 1) * sizeof *order), n = 0;

	if (order == NULL)
		return false;
	for (size_t i = 0; i < im->planned_count; i++)
		if (im->planned[i].uidl_len > 0)
			order[n++] = i;
	qsort_r(order, n, sizeof *order, by_planned_uidl, im);
	for (size_t k = 1; k < n; k++) {
		struct uidl_taken *x = &im->planned[order[k - 1]], *y = &im->planned[order[k]];

		if (by_uidl(x, y, im->pool) == 0)
			x->refused = y->refused = UIDL_SHARED_IN_MAILDIR;
	}
	for (size_t k = 0; k < n; k++)
		if (im->planned[order[k]].refused != UIDL_GIVEN)
			refuse(im, md, order[k], im->planned[order[k]].refused);
	free(order);
	return true;
}

bool uidl_import_plan(struct uidl_import *im, struct maildir *md)
{
	im->planned = calloc(md->count + 1, sizeof *im->planned);
	if (im->planned == NULL)
		return false;
	im->planned_count = md->count;
	for (size_t i = 0; i < md->count; i++)
		if (!md->msgs[i].known && !plan_one(im, md, i))
			return false;
	return refuse_planned_twins(im, md);
}

const char *uidl_import_for(struct uidl_import *im, size_t i, size_t *len)
{
	const struct uidl_taken *t = i < im->planned_count ? &im->planned[i] : NULL;

	if (t == NULL || t->uidl_len == 0 || t->refused != UIDL_GIVEN)
		return NULL;
	*len = t->uidl_len;
	im->given++;
	return im->pool + t->uidl;
}

void uidl_import_log(const struct uidl_import *im)
{
	if (im->given + im->not_found + im->refused == 0)
		return;
	log_msg(LOG_INFO, "took over the UIDLs of the previous server (%s): %zu taken over, %zu not found, %zu refused",
		im->source != NULL ? im->source
				   : im->opt->mode == UIDL_MIGRATE_MAILDIR_NAME ? "file names" : "X-UIDL headers",
		im->given, im->not_found, im->refused);
}

void uidl_import_free(struct uidl_import *im)
{
	free(im->taken);
	free(im->planned);
	free(im->pool);
	memset(im, 0, sizeof *im);
}
