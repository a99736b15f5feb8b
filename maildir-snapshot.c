/*
 * maildir-snapshot.c - the snapshot taken at login: new/ and cur/ scanned (or, while their
 * stamps say nothing changed, the UID list alone), reconciled with the UID list under its lock,
 * and new/ moved to cur/.
 */
#include "maildir-snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "maildir-size.h"
#include "params.h"
#include "shared-fs.h"
#include "uidl-import.h"
#include "uidlist-file.h"
#include "util.h"

/* Directory change times are compared in nanoseconds. */
#define NSEC_PER_SEC 1000000000ULL

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

/* Tells whether a directory entry may be a message: not a dot file, and a regular file (checked
 * with fstatat where the file system gives no type). */
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

/* Reads a directory's stamp (uidlist.h); false when it cannot be read or its change time lies
 * before 1970. */
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

/* Tells whether any later change to the directory must give it another stamp: its change time lies
 * further back than the file system's clock can blur (params.h). */
static bool stamp_settled(const struct dir_stamp *s)
{
	struct timespec now;
	uint64_t margin = s->nsec == 0 ? STAMP_SETTLE_COARSE_NS : STAMP_SETTLE_NS;

	if (clock_gettime(CLOCK_REALTIME, &now) != 0 || now.tv_sec < 0 || s->sec > (uint64_t)now.tv_sec)
		return false;
	return ((uint64_t)now.tv_sec - s->sec) * NSEC_PER_SEC + (uint64_t)now.tv_nsec >= s->nsec + margin;
}

/* What reading the directories found, besides the messages. */
struct scan {
	struct dir_stamp stamps[MESSAGE_DIRS];	/* each directory's, or zero where not settled or not stable */
	bool stable;		/* no directory kept changing while read */
	bool complete;		/* every message file found is in the snapshot */
	uint64_t scanned_below;	/* the list's entries below this UID predate the scan; 0: none is known to */
};

/* Adds to the snapshot a record for the file name of subdirectory k; false with errno ENOMEM
 * when memory or the name pool ran out. */
static bool add_scanned(struct maildir *md, size_t k, const char *name)
{
	struct message *m;

	if (!array_grow((void **)&md->msgs, &md->capacity, md->count + 1, sizeof *md->msgs)) {
		errno = ENOMEM;
		return false;
	}
	m = &md->msgs[md->count];
	memset(m, 0, sizeof *m);
	m->delivered = leading_number(name);
	m->base_len = (uint8_t)maildir_base_len(name);
	m->dir = (uint8_t)k;
	m->name = maildir_pool_add(md, name, "");
	if (m->name == MAILDIR_NO_NAME) {
		errno = ENOMEM;
		return false;
	}
	md->count++;
	return true;
}

/* Reads the names of the messages in d, subdirectory k, into the snapshot once (no file is
 * opened); errno is left nonzero after a failure, for the caller to report. */
static void read_names(struct maildir *md, size_t k, DIR *d, struct scan *scan)
{
	const char *dir = maildir_subdir_name(k);
	struct dirent *de;

	while ((errno = 0, de = readdir(d)) != NULL) {
		if (!may_be_message(md->subdir_fd[k], dir, de))
			continue;
		if (md->count >= MESSAGES_MAX) {
			log_msg(LOG_WARNING, "more than %d messages: the rest wait for a later session", MESSAGES_MAX);
			scan->complete = false;
			break;
		}
		if (!add_scanned(md, k, de->d_name))
			break;
	}
}

/* Reads the file names of subdirectory k into the snapshot and notes in scan its stamp and
 * whether it kept changing while read. */
static bool scan_dir(struct maildir *md, size_t k, struct scan *scan)
{
	const char *dir = maildir_subdir_name(k);
	size_t first = md->count;
	DIR *d = maildir_open_dir_stream(md, k);

	if (d == NULL) {
		if (errno == ENOENT)
			return true;
		log_msg(LOG_ERR, "cannot open Maildir %s/: %s", dir, strerror(errno));
		return false;
	}
	for (int attempt = 1;; attempt++) {
		struct dir_stamp before, after;

		md->count = first;
		if (!stamp_of(md->subdir_fd[k], &before))
			break;
		read_names(md, k, d, scan);
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

/* Puts the messages in delivery order; a list's entries usually are in that order already, which
 * one pass confirms. */
static void sort_messages(struct maildir *md)
{
	for (size_t i = 1; i < md->count; i++) {
		if (message_order(&md->msgs[i - 1], &md->msgs[i], md->names) > 0) {
			qsort_r(md->msgs, md->count, sizeof *md->msgs, message_order, md->names);
			return;
		}
	}
}

/* Tells whether messages i and j have one base name. */
static bool same_base(const struct maildir *md, size_t i, size_t j)
{
	size_t li, lj;
	const char *bi = maildir_base(md, i, &li);
	const char *bj = maildir_base(md, j, &lj);

	return li == lj && memcmp(bi, bj, li) == 0;
}

/* Keeps one entry per base name (message_order puts them side by side): a message seen in new/
 * and again in cur/ after a move is one message (the cur/ one). */
static void merge_duplicates(struct maildir *md)
{
	size_t out = 0;

	for (size_t i = 0; i < md->count; i++) {
		if (out > 0 && same_base(md, out - 1, i)) {
			if (md->msgs[i].dir == DIR_CUR)
				md->msgs[out - 1] = md->msgs[i];
			continue;
		}
		md->msgs[out++] = md->msgs[i];
	}
	md->count = out;
}

/* Tells whether two of the sorted messages have one base name. */
static bool has_duplicate_bases(const struct maildir *md)
{
	for (size_t i = 1; i < md->count; i++)
		if (same_base(md, i - 1, i))
			return true;
	return false;
}

/* How the snapshot's messages matched the entries of a UID list. */
struct list_match {
	bool *matched;		/* one flag per entry, by index: some message has it (uidlist_flags) */
	size_t unknown;		/* messages the list does not know */
	bool renamed;		/* some entry's file name changed */
};

/* Gives message m the UIDL taken over (len octets), copied into the name pool; false (logged)
 * when memory ran out. */
static bool take_uidl(struct maildir *md, struct message *m, const char *uidl, size_t len)
{
	char copy[UIDL_STRING_MAX + 1];
	uint32_t off;

	memcpy(copy, uidl, len);
	copy[len] = '\0';
	off = maildir_pool_add(md, copy, "");
	if (off == MAILDIR_NO_NAME) {
		log_msg(LOG_ERR, "out of memory taking the snapshot");
		return false;
	}
	m->uidl = off;
	m->has_uidl = true;
	return true;
}

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
		const char *base = maildir_base(md, i, &len);
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
		m->retrieved_at = maildir_time32(e->retrieved);
		if (e->uidl_len > 0 && !take_uidl(md, m, uidlist_uidl(l, e), e->uidl_len)) {
			free(match->matched);
			match->matched = NULL;
			return false;
		}
		len = strlen(maildir_name(md, i));
		if (e->name_len != len || memcmp(uidlist_name(l, e), maildir_name(md, i), len) != 0) {
			match->renamed = true;
			/* Failing leaves the old name, under which opening the
			 * message finds it by its base name (maildir_open_located). */
			uidlist_rename(l, e, maildir_name(md, i), len);
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

/* Gives message i, just given entry e, the UIDL the previous server showed for it, if im has
 * one; false (logged) when memory ran out. */
static bool take_imported_uidl(struct maildir *md, size_t i, struct uid_entry *e, struct uidlist *l,
			       struct uidl_import *im)
{
	size_t len;
	const char *uidl = uidl_import_for(im, i, &len);

	if (uidl == NULL)
		return true;
	if (!uidlist_set_uidl(l, e, uidl, len)) {
		log_msg(LOG_ERR, "out of memory taking the snapshot");
		return false;
	}
	return take_uidl(md, &md->msgs[i], uidl, len);
}

/* Tells whether message i, which the list does not know, may be given a UID now.  When recheck
 * says so, another session changed the list since this one read it before its scan: that session
 * may have given the message a UID and removed it, or removed it under the UID the earlier list
 * gave it.  On a local file system its file tells (a message sized before the lock is looked for,
 * one not sized yet is opened to be sized); on a shared one (shared-fs.h) this host may still see
 * a file another host removed, so the message waits for the next session. */
static bool may_take_uid(struct maildir *md, size_t i, bool recheck, bool shared)
{
	if (recheck && shared)
		return false;
	if (md->msgs[i].sized)
		return !recheck || maildir_has_size(md, i, md->msgs[i].stored_size);
	return maildir_size_message(md, i);
}

/* Gives the messages the list does not know UIDs (in delivery order), sizes and the UIDLs im
 * takes over; drops those that vanished, cannot be served or must wait (may_take_uid), and
 * returns how many it dropped, or SIZE_MAX when memory ran out. */
static size_t add_unknown_messages(struct maildir *md, struct uidlist *l, struct uidl_import *im, bool recheck)
{
	size_t out = 0, dropped = 0;
	bool shared = recheck && fs_is_shared(md->dirfd);

	for (size_t i = 0; i < md->count; i++) {
		struct message *m = &md->msgs[i];

		if (!m->known) {
			struct uid_entry *e;

			if (!may_take_uid(md, i, recheck, shared)) {
				dropped++;	/* vanished, unreadable or unsure: not in this snapshot */
				continue;
			}
			e = uidlist_add(l, maildir_name(md, i), strlen(maildir_name(md, i)));
			if (e == NULL) {
				log_msg(LOG_WARNING, "skipping %s: no UID could be given", maildir_path(md, i));
				dropped++;
				continue;
			}
			e->exact_size = m->exact_size;
			e->stored_size = m->stored_size;
			m->uid = e->uid;
			m->known = true;
			if (!take_imported_uidl(md, i, e, l, im))
				return SIZE_MAX;
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

/* Tells whether the list may record the scan's stamps: both directories were read whole, unchanged
 * while read and long enough after their last change, and new/ held no message (the snapshot moves
 * those, which changes cur/). */
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

/* Reads into im what the previous server left, when the list is being made (read with status
 * after it was missing or corrupt), and plans the UIDLs of md's messages; false (logged) when
 * memory ran out. */
static bool import_uidls(struct uidl_import *im, struct maildir *md, const struct uidlist *l,
			 enum uidlist_status status, const struct uidl_migration *migration)
{
	memset(im, 0, sizeof *im);
	if (status == UIDLIST_OK || (migration->mode == UIDL_MIGRATE_NO && !migration->from_header))
		return true;
	if (uidl_import_load(im, md->dirfd, migration, l->next_uid) && uidl_import_plan(im, md))
		return true;
	log_msg(LOG_ERR, "out of memory taking over the previous server's UIDLs");
	return false;
}

/* Tells whether two reads of the list got the same file: both found none, or both the same END
 * line's checksum. */
static bool same_list_file(const struct uidlist *a, const struct uidlist *b)
{
	return a->has_checksum == b->has_checksum && a->checksum == b->checksum;
}

/* Under the list's lock (waiting for it at most wait_ms), re-reads the list (another session may
 * have changed it), gives new messages UIDs (and, when the list is being made, the UIDLs the
 * previous server showed), drops stale entries and writes it; with the scan's stamps when
 * recordable and the list then names exactly the messages scanned. */
static bool update_list(struct maildir *md, struct uidlist *l, const struct scan *scan, bool recordable,
			unsigned wait_ms, const struct uidl_migration *migration)
{
	struct uidlist before = { .has_checksum = l->has_checksum, .checksum = l->checksum };
	int lock = uidlist_lock(md->dirfd, wait_ms);
	struct uidl_import im = { 0 };
	struct list_match match;
	enum uidlist_status status;
	size_t dropped;
	bool ok;

	bool changed;

	if (lock < 0)
		return false;
	status = uidlist_reread(md->dirfd, lock, l);
	changed = !same_list_file(&before, l);
	ok = status != UIDLIST_FAILED && match_list(md, l, &match);
	if (ok) {
		if (scan->stable)
			drop_stale_entries(l, match.matched, scan->scanned_below);
		free(match.matched);
		ok = import_uidls(&im, md, l, status, migration) &&
		     (dropped = add_unknown_messages(md, l, &im, changed)) != SIZE_MAX;
	}
	if (ok) {
		recordable = dropped == 0 && recordable && l->count == md->count;
		for (size_t k = 0; k < MESSAGE_DIRS; k++)
			l->stamps[k] = recordable ? scan->stamps[k] : (struct dir_stamp){ 0 };
		ok = uidlist_write(md->dirfd, lock, l);
	}
	if (ok)
		uidl_import_log(&im);
	uidl_import_free(&im);
	uidlist_unlock(lock);
	return ok;
}

/* Renames from (in fromfd) to to (in tofd) unless to exists; false with errno when it did not.
 * File systems without RENAME_NOREPLACE (GlusterFS) get a look for to, then rename(), as Dovecot,
 * Courier and qmail move new/ to cur/.  Not link() and unlink(): between the two, a session on
 * another front end may delete the message under its new/ name, and the cur/ name would bring it
 * back.  The look leaves a window in which another program could create to; Maildir names are
 * unique, so only another mover of the same message could, and a rename onto another name of the
 * same file changes nothing. */
static bool rename_noreplace(int fromfd, const char *from, int tofd, const char *to)
{
	struct stat st;

	if (renameat2(fromfd, from, tofd, to, RENAME_NOREPLACE) == 0)
		return true;
	if (errno != EINVAL && errno != ENOSYS)
		return false;
	if (fstatat(tofd, to, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return false;
	}
	return errno == ENOENT && renameat(fromfd, from, tofd, to) == 0;
}

/* Moves the messages of new/ to cur/ with an empty info ":2," as Dovecot does, never replacing a
 * file. */
static void move_new_to_cur(struct maildir *md)
{
	for (size_t i = 0; i < md->count; i++) {
		char name[NAME_MAX + 1];
		uint32_t to;

		if (md->msgs[i].dir != DIR_NEW || md->subdir_fd[DIR_CUR] < 0)
			continue;
		/* A copy: maildir_pool_add may move the pool the name lives in. */
		snprintf(name, sizeof name, "%s", maildir_name(md, i));
		to = maildir_pool_add(md, name, strchr(name, ':') ? "" : ":2,");
		if (to == MAILDIR_NO_NAME)
			return;
		if (rename_noreplace(md->subdir_fd[DIR_NEW], maildir_name(md, i), md->subdir_fd[DIR_CUR],
				     md->names + to)) {
			md->msgs[i].name = to;
			md->msgs[i].dir = DIR_CUR;
		} else if (errno != ENOENT && errno != EEXIST) {
			log_msg(LOG_WARNING, "cannot move %s to cur/: %s", maildir_path(md, i), strerror(errno));
		}
	}
}

/* Tells whether new/ and cur/ still look as the list recorded them when its entries were exactly
 * their messages. */
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

/* A uidlist_sink: makes each entry a message of cur/, its name left in the list's pool (the octet
 * after it becomes the name's NUL). */
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
	m->retrieved_at = maildir_time32(e->retrieved);
	m->name = e->name;
	m->base_len = e->base_len;
	m->dir = DIR_CUR;
	m->known = true;
	pool[e->name + e->name_len] = '\0';
	if (e->uidl_len > 0) {
		/* The octet after the UIDL is the space before the name. */
		pool[e->uidl + e->uidl_len] = '\0';
		m->uidl = e->uidl;
		m->has_uidl = true;
	}
	m->delivered = leading_number(pool + e->name);
	return true;
}

/* Takes the snapshot from a loaded list whose stamps are current, without reading the directories:
 * the list's pool becomes the name pool.  False when the entries cannot serve (the snapshot is then
 * empty again, the pool the list's): a corrupt list, or one that names a base name twice, which
 * the full read (uidlist_insert) refuses too. */
static bool snapshot_from_list(struct maildir *md, struct uidlist *l)
{
	struct uidlist_sink sink = { take_entry, md };

	if (uidlist_parse_entries(l, &sink) != UIDLIST_OK) {
		md->count = 0;
		return false;
	}
	md->names = l->pool;
	sort_messages(md);
	if (has_duplicate_bases(md)) {
		md->names = NULL;
		md->count = 0;
		return false;
	}
	md->names_len = l->pool_len;
	md->names_capacity = l->pool_capacity;
	l->pool = NULL;
	return true;
}

/* Takes the snapshot by reading new/ and cur/ and matching their files with the list by base name;
 * updates the list under its lock (taking over UIDLs as migration says when it is made) when it
 * lacks messages, has stale entries, or may record the directories' stamps. */
static bool snapshot_from_dirs(struct maildir *md, struct uidlist *list, enum uidlist_status status,
			       const struct uidl_migration *migration)
{
	/* Only a list read whole tells which UIDs predate the scan: after a
	 * missing or corrupt one, another session may have issued lower
	 * UIDs since, so no entry is dropped this time. */
	struct scan scan = { .stable = true, .complete = true,
			     .scanned_below = status == UIDLIST_OK ? list->next_uid : 0 };
	struct list_match match;
	bool recordable, stale;

	for (size_t k = 0; k < MESSAGE_DIRS; k++)
		if (!scan_dir(md, k, &scan))
			return false;
	if (md->count > 1) {
		qsort_r(md->msgs, md->count, sizeof *md->msgs, message_order, md->names);
		merge_duplicates(md);
	}
	if (!match_list(md, list, &match))
		return false;
	stale = scan.stable && has_stale_entries(list, match.matched, scan.scanned_below);
	free(match.matched);
	if (match.unknown > 0)
		maildir_size_unknown(md, match.unknown);
	recordable = scan_recordable(md, &scan);
	if (match.unknown > 0 || status != UIDLIST_OK || stale)
		return update_list(md, list, &scan, recordable, UIDLIST_LOCK_WAIT_MS, migration);
	/* Recording the stamps only saves later sessions work: it neither
	 * waits for the lock nor fails the session. */
	if (recordable && (match.renamed || !list_records(list, &scan)))
		update_list(md, list, &scan, true, 0, migration);
	return true;
}

bool maildir_snapshot(struct maildir *md, const char *path, const struct uidl_migration *migration)
{
	struct uidlist list;
	enum uidlist_status status;
	bool ok;

	if (!maildir_open(md, path))
		return false;
	if (md->dirfd < 0)
		return true;	/* no Maildir: an empty mailbox */
	/* The list is read before the directories: every entry it holds
	 * then predates the scan, and one the scan misses is really gone. */
	status = uidlist_load(md->dirfd, &list);
	if (status == UIDLIST_OK && list.latest && list_is_current(md, &list)) {
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
	ok = status != UIDLIST_FAILED && snapshot_from_dirs(md, &list, status, migration);
	uidlist_free(&list);
	if (!ok) {
		maildir_close(md);
		return false;
	}
	move_new_to_cur(md);
	return true;
}
