/*
 * transaction.c - the commands of the TRANSACTION state.
 */
#include "transaction.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "authorization.h"
#include "log.h"
#include "mailbox.h"

static void cmd_stat(struct session *s, const struct request *q, struct reply *r)
{
	(void)q;
	reply_ok(r, "%zu %llu", s->box.live_count, (unsigned long long)s->box.live_octets);
}

static bool body_list(struct session *s)
{
	for (size_t i = 0; i < s->box.md.count; i++)
		if (!s->box.md.msgs[i].deleted)
			output_number_pair(&s->out, i + 1, mailbox_message_size(s, i));
	return true;
}

static void cmd_list(struct session *s, const struct request *q, struct reply *r)
{
	if (q->has_message) {
		reply_ok(r, "%zu %llu", q->message + 1, (unsigned long long)mailbox_message_size(s, q->message));
		return;
	}
	reply_ok(r, "%zu message%s (%llu octets)", s->box.live_count, plural(s->box.live_count),
		 (unsigned long long)s->box.live_octets);
	r->body = body_list;
}

static bool body_uidl(struct session *s)
{
	for (size_t i = 0; i < s->box.md.count; i++) {
		const char *taken_over = maildir_uidl(&s->box.md, i);

		if (s->box.md.msgs[i].deleted)
			continue;
		if (taken_over != NULL)
			output_number_text(&s->out, i + 1, taken_over);
		else
			output_number_pair(&s->out, i + 1, s->box.md.msgs[i].uid);
	}
	return true;
}

static void cmd_uidl(struct session *s, const struct request *q, struct reply *r)
{
	const char *taken_over;

	if (q->has_message) {
		taken_over = maildir_uidl(&s->box.md, q->message);
		if (taken_over != NULL)
			reply_ok(r, "%zu %s", q->message + 1, taken_over);
		else
			reply_ok(r, "%zu %llu", q->message + 1, (unsigned long long)s->box.md.msgs[q->message].uid);
		return;
	}
	reply_ok(r, "Unique-id listing follows");
	r->body = body_uidl;
}

/* Streams the message opened by RETR or TOP; false when it could not be read to its end. */
static bool body_message(struct session *s)
{
	struct mailbox *box = &s->box;
	uint64_t before = s->out.sent + s->out.len;
	bool ok = output_message(&s->out, box->message_fd, box->top, box->top_lines,
				 s->cfg->client_workarounds);

	/* RETR (not TOP) makes a message seen: the Seen flag follows at the
	 * end of the session. */
	if (ok && !box->top && s->out.state == OUTPUT_OK)
		box->md.msgs[box->message].retrieved = true;
	/* ESTALE: another host removed the message meanwhile (shared file
	 * systems); nothing of ours is lost. */
	if (close(box->message_fd) != 0 && errno != ESTALE)
		log_msg(LOG_WARNING, "close message: %s", strerror(errno));
	box->message_fd = -1;
	box->retrieved++;
	box->retrieved_octets += s->out.sent + s->out.len - before;
	return ok;
}

/* Opens the requested message for RETR or TOP and sets the reply. */
static void send_message(struct session *s, const struct request *q, bool top, struct reply *r)
{
	struct mailbox *box = &s->box;

	switch (maildir_open_message(&box->md, q->message, &box->message_fd)) {
	case OPEN_OK:
		box->message = q->message;
		box->top = top;
		box->top_lines = q->count;
		reply_ok(r, "%llu octets", (unsigned long long)mailbox_message_size(s, q->message));
		r->body = body_message;
		break;
	case OPEN_GONE:
		reply_err(r, NULL, "Message %zu was removed from the mailbox by another program", q->message + 1);
		break;
	case OPEN_FAILED:
		reply_err(r, "SYS/TEMP", "Cannot read message %zu", q->message + 1);
		break;
	}
}

static void cmd_retr(struct session *s, const struct request *q, struct reply *r)
{
	send_message(s, q, false, r);
}

static void cmd_top(struct session *s, const struct request *q, struct reply *r)
{
	send_message(s, q, true, r);
}

static void cmd_dele(struct session *s, const struct request *q, struct reply *r)
{
	mailbox_mark_deleted(s, q->message);
	reply_ok(r, "Message %zu deleted", q->message + 1);
}

static void cmd_noop(struct session *s, const struct request *q, struct reply *r)
{
	(void)s, (void)q;
	reply_ok(r, "%s", "");
}

static void cmd_rset(struct session *s, const struct request *q, struct reply *r)
{
	(void)q;
	mailbox_unmark_all(s);
	reply_ok(r, "%zu message%s (%llu octets)", s->box.live_count, plural(s->box.live_count),
		 (unsigned long long)s->box.live_octets);
}

static void cmd_quit(struct session *s, const struct request *q, struct reply *r)
{
	(void)q;
	mailbox_quit(s, r);
}

/* A table ends with the default row: any other keyword is refused by the engine. */
const struct command_def transaction_commands[] = {
	{ "STAT", 0, 0, 0, cmd_stat },
	{ "LIST", 0, 1, COMMAND_MESSAGE, cmd_list },
	{ "RETR", 1, 1, COMMAND_MESSAGE, cmd_retr },
	{ "DELE", 1, 1, COMMAND_MESSAGE, cmd_dele },
	{ "NOOP", 0, 0, 0, cmd_noop },
	{ "RSET", 0, 0, 0, cmd_rset },
	{ "QUIT", 0, 0, 0, cmd_quit },
	{ "TOP", 2, 2, COMMAND_MESSAGE | COMMAND_LINE_COUNT, cmd_top },
	{ "UIDL", 0, 1, COMMAND_MESSAGE, cmd_uidl },
	{ "CAPA", 0, 0, 0, authorization_capa },
	{ NULL, 0, 0, 0, NULL },
};
