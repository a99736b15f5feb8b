/*
 * maildir-update.c - the changes made at the end of a session: removals (UPDATE and retention),
 * Seen flags, and the UID list edited under its lock to match.
 */
#include "maildir-update.h"

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
#include "uidlist-file.h"
#include "util.h"

/* The info of a file name that carries flags: this prefix, then the flag letters in order. */
#define FLAGS_INFO ":2,"
#define FLAGS_INFO_LEN (sizeof FLAGS_INFO - 1)

/* Removes the file of message i; false with errno when it cannot. */
static bool unlink_message(struct maildir *md, size_t i)
{
	return unlinkat(maildir_dirfd(md, i), maildir_name(md, i), 0) == 0;
}

/* Changes the UID list under its lock: re-reads it (another session may have changed it), lets edit
 * change the entries, and writes it back when edit says it changed something.  A list that cannot
 * be read whole is left for the next snapshot to rebuild.  The list written records no stamps: the
 * session changed the directories. */
static void edit_list(struct maildir *md, bool (*edit)(struct maildir *, struct uidlist *, time_t), time_t now)
{
	struct uidlist l;
	int lock = uidlist_lock(md->dirfd, UIDLIST_LOCK_WAIT_MS);

	if (lock < 0)
		return;
	uidlist_init(&l);
	if (uidlist_reread(md->dirfd, lock, &l) == UIDLIST_OK && edit(md, &l, now)) {
		memset(l.stamps, 0, sizeof l.stamps);
		uidlist_write(md->dirfd, lock, &l);
	}
	uidlist_free(&l);
	uidlist_unlock(lock);
}

/* Drops the entries of the messages removed: a file that later comes with the same base name (a
 * restored copy, a twin) is a new message, with its own sizes and UID. */
static bool forget_removed(struct maildir *md, struct uidlist *l, time_t now)
{
	bool *removed = uidlist_flags(l);

	(void)now;
	if (removed == NULL)
		return false;
	for (size_t i = 0; i < md->count; i++) {
		size_t len;
		const char *base = maildir_base(md, i, &len);
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
		if (maildir_apply(md, i, unlink_message)) {
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
	int64_t limit = (int64_t)now - (int64_t)days * SECONDS_PER_DAY;
	size_t expired = 0;

	for (size_t i = 0; i < md->count; i++) {
		struct message *m = &md->msgs[i];
		struct stat st;
		bool old;

		if (m->deleted)
			continue;
		old = (m->retrieved && days == 0) || (m->retrieved_at != 0 && (int64_t)m->retrieved_at <= limit);
		if (!old && unread && fstatat(maildir_dirfd(md, i), maildir_name(md, i), &st, AT_SYMLINK_NOFOLLOW) == 0)
			old = st.st_mtime <= limit;
		if (old) {
			m->deleted = true;
			expired++;
		}
	}
	return expired;
}

/* Builds in buf the file name of name with the Seen flag added to its info, flag letters kept
 * sorted (":2,RT" -> ":2,RST", no info -> ":2,S"); false when it has S already or an info we do not
 * know. */
static bool seen_name(const char *name, char *buf, size_t size)
{
	const char *colon = strchr(name, ':');
	size_t len = strlen(name), head;

	if (len + sizeof FLAGS_INFO "S" > size)
		return false;
	if (colon == NULL)
		return snprintf(buf, size, "%s" FLAGS_INFO "S", name) > 0;
	if (strncmp(colon, FLAGS_INFO, FLAGS_INFO_LEN) != 0 || strchr(colon + FLAGS_INFO_LEN, 'S') != NULL)
		return false;
	head = (size_t)(colon + FLAGS_INFO_LEN - name);
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

	if (md->msgs[i].dir != DIR_CUR || !seen_name(maildir_name(md, i), seen, sizeof seen))
		return true;
	if (renameat(maildir_dirfd(md, i), maildir_name(md, i), maildir_dirfd(md, i), seen) != 0)
		return false;
	off = maildir_pool_add(md, seen, "");
	if (off != MAILDIR_NO_NAME)
		md->msgs[i].name = off;
	return true;
}

/* Records the retrieval time of the messages first retrieved in this session. */
static bool record_retrievals(struct maildir *md, struct uidlist *l, time_t now)
{
	bool changed = false;

	for (size_t i = 0; i < md->count; i++) {
		size_t len;
		const char *base = maildir_base(md, i, &len);
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
		if (!maildir_apply(md, i, mark_seen))
			log_msg(LOG_WARNING, "cannot set the Seen flag of %s: %s", maildir_path(md, i),
				strerror(errno));
	}
	if (any && record_retrieval)
		edit_list(md, record_retrievals, now);
}
