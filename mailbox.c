/*
 * mailbox.c - the session's mailbox: opening, counting, finishing.
 */
#include "mailbox.h"

#include <errno.h>
#include <malloc.h>
#include <string.h>
#include <time.h>

#include "confine.h"
#include "encode.h"
#include "log.h"
#include "maildir-size.h"
#include "maildir-snapshot.h"
#include "maildir-update.h"
#include "params.h"
#include "uidl-import.h"
#include "util.h"

/* Confines the session to the Maildir at path unless the configuration says confine = no;
 * false (logged) when a step the kernel supports failed.  Steps the kernel lacks are logged
 * and skipped. */
static bool confine_to_maildir(const struct session *s, const char *user, const char *path)
{
	unsigned missing;

	if (!s->cfg->confine)
		return true;
	log_prepare_confinement();
	if (!confine_session(path, &missing)) {
		log_msg(LOG_ERR, "user %s: cannot confine the session to %s: %s", user, path, strerror(errno));
		return false;
	}
	if (missing & CONFINE_NO_LANDLOCK)
		log_msg(LOG_WARNING, "the kernel lacks Landlock ABI 2 (Linux 5.19): file access is not confined");
	if (missing & CONFINE_NO_SECCOMP)
		log_msg(LOG_WARNING, "the kernel lacks seccomp filters: system calls are not confined");
	return true;
}

uint64_t mailbox_message_size(const struct session *s, size_t i)
{
	const struct message *m = &s->box.md.msgs[i];
	uint64_t size = s->cfg->exact_size ? m->exact_size + m->eoh_added : m->stored_size;

	return size < MESSAGE_SIZE_MAX ? size : MESSAGE_SIZE_MAX;
}

/* Takes the snapshot of the Maildir at path; false with the -ERR that closes the session. */
static bool open_maildir(struct session *s, const struct account *a, struct reply *r)
{
	const struct uidl_migration migration = { (enum uidl_migrate)s->cfg->uidl_migrate,
						   s->cfg->uidl_migrate_format, s->cfg->uidl_from_header };
	char path[PATH_MAX];

	if (!maildir_expand(s->cfg->maildir, a->name, a->home, path, sizeof path)) {
		log_msg(LOG_ERR, "user %s: the maildir template does not give an absolute path", a->name);
		reply_err(r, "SYS/PERM", "Mailbox unavailable");
	} else if (!confine_to_maildir(s, a->name, path)) {
		reply_err(r, "SYS/TEMP", "Mailbox temporarily unavailable");
	} else if (!maildir_snapshot(&s->box.md, path, &migration)) {
		reply_err(r, "SYS/TEMP", "Cannot open the mailbox");
	} else {
		/* The blank line oe-ns-eoh adds is counted where sizes are exact:
		 * exact_size = no gives the files' sizes, as stored. */
		if ((s->cfg->client_workarounds & WORKAROUND_OE_NS_EOH) && s->cfg->exact_size)
			maildir_size_header_ends(&s->box.md);
		/* The scan's buffers, crypt(3)'s data and the UID list's write
		 * block are free now, and the stack start-up and the login ran
		 * deeper than the session will go: their pages go back to the
		 * kernel rather than stay with a session that may idle for
		 * half an hour (timeout_auth). */
		malloc_trim(0);
		if (!stack_trim())
			log_msg(LOG_WARNING, "cannot give back the stack's unused pages: %s", strerror(errno));
		return true;
	}
	r->close = true;
	return false;
}

void mailbox_open(struct session *s, const struct account *a, enum mechanism mechanism, struct reply *r)
{
	struct mailbox *box = &s->box;

	if (!open_maildir(s, a, r))
		return;
	box->live_count = box->md.count;
	for (size_t i = 0; i < box->md.count; i++)
		box->live_octets += mailbox_message_size(s, i);
	box->total_octets = box->live_octets;
	box->open = true;
	s->state = STATE_TRANSACTION;
	io_timer_start(s->cfg->timeout_auth);
	log_msg(LOG_INFO, "login user=%s mechanism=%s client=%s messages=%zu octets=%llu", a->name,
		mechanism_name(mechanism), s->client.address, box->live_count, (unsigned long long)box->live_octets);
	reply_ok(r, "Logged in, %zu message%s (%llu octets)", box->live_count, plural(box->live_count),
		 (unsigned long long)box->live_octets);
}

void mailbox_mark_deleted(struct session *s, size_t i)
{
	s->box.md.msgs[i].deleted = true;
	s->box.live_count--;
	s->box.live_octets -= mailbox_message_size(s, i);
}

void mailbox_unmark_all(struct session *s)
{
	s->box.live_count = 0;
	s->box.live_octets = 0;
	for (size_t i = 0; i < s->box.md.count; i++) {
		s->box.md.msgs[i].deleted = false;
		s->box.live_count++;
		s->box.live_octets += mailbox_message_size(s, i);
	}
}

static bool expire_enabled(const struct session *s)
{
	return s->cfg->expire_days != EXPIRE_NEVER;
}

/* Ends the session's Maildir changes other than removals: the Seen flags and, with
 * retention, the retrieval times. */
static void finish_maildir(struct session *s)
{
	maildir_finish(&s->box.md, expire_enabled(s), time(NULL));
	s->box.finished = true;
}

void mailbox_quit(struct session *s, struct reply *r)
{
	struct mailbox *box = &s->box;
	size_t marked = box->md.count - box->live_count;
	size_t expired = 0, failed;

	if (expire_enabled(s))
		expired = maildir_expire(&box->md, s->cfg->expire_days, s->cfg->expire_days_unread, time(NULL));
	failed = maildir_update(&box->md);
	finish_maildir(s);
	log_msg(LOG_INFO, "logout user=%s retrieved=%zu octets=%llu deleted=%zu octets=%llu expired=%zu failed=%zu",
		s->login.user, box->retrieved, (unsigned long long)box->retrieved_octets, marked,
		(unsigned long long)(box->total_octets - box->live_octets), expired, failed);
	if (failed > 0)
		reply_err(r, "SYS/TEMP", "Some deleted messages were not removed (%zu of %zu)", failed,
			  marked + expired);
	else
		reply_ok(r, "Bye, %zu message%s deleted", marked, plural(marked));
	r->close = true;
}

void mailbox_abandon(struct session *s)
{
	if (!s->box.open || s->box.finished)
		return;
	log_msg(LOG_INFO, "user=%s session ended without QUIT: nothing removed", s->login.user);
	finish_maildir(s);
}
