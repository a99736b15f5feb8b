/*
 * session.c - the session engine: the line loop, the command lookup in the
 * current state's table, the argument rules, and the one reply writer.
 */
#include "session.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static void __attribute__((format(printf, 4, 0)))
reply_vset(struct reply *r, enum reply_kind kind, const char *code, const char *format, va_list ap)
{
	r->kind = kind;
	r->code = code;
	vsnprintf(r->text, sizeof r->text, format, ap);
}

void reply_ok(struct reply *r, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	reply_vset(r, REPLY_OK, NULL, format, ap);
	va_end(ap);
}

void reply_err(struct reply *r, const char *code, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	reply_vset(r, REPLY_ERR, code, format, ap);
	va_end(ap);
}

void reply_bad(struct reply *r, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	reply_vset(r, REPLY_BAD, NULL, format, ap);
	va_end(ap);
}

void reply_challenge(struct reply *r, size_t len, answer_handler *answer, size_t max)
{
	r->kind = REPLY_CHALLENGE;
	r->challenge_len = len;
	r->answer = answer;
	r->answer_max = max;
}

void reply_none(struct reply *r)
{
	r->kind = REPLY_NONE;
}

const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

void reply_write(struct output *o, const struct reply *r)
{
	output_response(o, r->kind == REPLY_OK, r->code, r->text);
}

/* The command named keyword in a table, or NULL. */
static const struct command_def *find_command(const struct command_def *table, const char *keyword)
{
	for (; table->keyword != NULL; table++)
		if (strcmp(table->keyword, keyword) == 0)
			return table;
	return NULL;
}

/* Tells whether another state than the current one knows a keyword. */
static bool known_elsewhere(const struct session *s, const char *keyword)
{
	for (size_t k = 0; k < STATES; k++)
		if (k != s->state && keyword[0] != '\0' && find_command(s->commands[k], keyword) != NULL)
			return true;
	return false;
}

/* Resolves a message number argument: false with the reply set when it names no live
 * message. */
static bool resolve_message(const struct session *s, const struct command *c, struct request *q, struct reply *r)
{
	uint64_t digits_only;

	if (!parse_message_number(c->argv[0].text, c->argv[0].len, s->box.md.count, &q->message)) {
		/* Digits out of range name no message; anything else is a syntax error. */
		if (parse_line_count(c->argv[0].text, c->argv[0].len, &digits_only))
			reply_err(r, NULL, "No such message");
		else
			reply_bad(r, "Invalid message number");
		return false;
	}
	q->message--;
	q->has_message = true;
	if (s->box.md.msgs[q->message].deleted) {
		reply_err(r, NULL, "Message %zu is deleted", q->message + 1);
		return false;
	}
	return true;
}

/* Checks a command's arguments against its row and resolves them into q; false with the
 * reply set when they do not fit. */
static bool check_arguments(const struct session *s, const struct command_def *def, const struct command *c,
			    struct request *q, struct reply *r)
{
	if (c->argc < def->min_args || c->argc > def->max_args) {
		reply_bad(r, "Wrong number of arguments for %s", def->keyword);
		return false;
	}
	if ((def->flags & COMMAND_MESSAGE) && c->argc >= 1 && !resolve_message(s, c, q, r))
		return false;
	if ((def->flags & COMMAND_LINE_COUNT) && !parse_line_count(c->argv[1].text, c->argv[1].len, &q->count)) {
		reply_bad(r, "Invalid line count");
		return false;
	}
	return true;
}

/* Turns one command line into a reply. */
static void dispatch(struct session *s, struct line *line, struct reply *r)
{
	const struct command_def *def;
	struct command c;
	struct request q = { &c, false, 0, 0 };

	switch (command_parse(line->text, line->len, &c)) {
	case PARSE_EMPTY:
		reply_bad(r, "Empty command");
		return;
	case PARSE_BAD_BYTE:
		reply_bad(r, "Invalid octet (NUL or CR) in command");
		return;
	case PARSE_OK:
		break;
	}
	def = find_command(s->commands[s->state], c.keyword);
	if (def == NULL)
		reply_bad(r, known_elsewhere(s, c.keyword) ? "Command not valid in this state" : "Unknown command");
	else if (check_arguments(s, def, &c, &q, r))
		def->run(s, &q, r);
	if (def != NULL && (def->flags & COMMAND_SECRET))
		explicit_bzero(line->text, line->len);
}

void session_reply(struct session *s, struct reply *r)
{
	if (r->kind == REPLY_NONE) {
		s->state = STATE_END;
		return;
	}
	if (r->kind == REPLY_BAD && ++s->bad_commands >= BAD_COMMANDS_MAX) {
		reply_err(r, NULL, "Too many bad commands, closing connection");
		r->body = NULL;
		r->close = true;
	}
	if (r->kind == REPLY_CHALLENGE) {
		output_continuation(&s->out, s->challenge, r->challenge_len);
		s->awaiting = r->answer;
		s->awaiting_max = r->answer_max;
	} else {
		reply_write(&s->out, r);
	}
	if (r->body != NULL) {
		if (!r->body(s)) {
			/* The body could not be finished: a "." now would pass
			 * a truncated message off as whole.  Hang up instead. */
			s->state = STATE_END;
			return;
		}
		output_put(&s->out, ".\r\n", 3);
	}
	if (r->close)
		s->state = STATE_END;
}

/* Tells the client it was idle for too long, and logs it. */
static void autologout(struct session *s)
{
	bool in = s->state == STATE_TRANSACTION;
	struct reply r = { 0 };

	log_msg(LOG_INFO, "autologout user=%s client=%s after %u s idle", in ? s->login.user : "-",
		s->client.address, in ? s->cfg->timeout_auth : s->cfg->timeout_unauth);
	reply_err(&r, NULL, "Autologout: idle for too long, closing connection");
	reply_write(&s->out, &r);
	output_flush(&s->out);
}

/* Waits for more input; false when the session must end (end of input, error, or
 * autologout). */
static bool wait_for_input(struct session *s)
{
	for (;;) {
		ssize_t n;

		/* Pipelining: replies go out when the client has nothing more
		 * queued, not after every line. */
		if (!output_flush(&s->out))
			return false;
		n = input_read(&s->in, s->client.in_fd);
		if (n > 0)
			return true;
		if (n < 0 && errno == EINTR) {
			if (!io_timed_out())
				continue;
			autologout(s);
			return false;
		}
		if (n < 0)
			log_msg(LOG_INFO, "reading from the client: %s", strerror(errno));
		return false;
	}
}

/* Takes the next line: a command, or the answer a challenge awaits. */
static void take_line(struct session *s, struct line *line, struct reply *r)
{
	answer_handler *answer = s->awaiting;

	s->awaiting = NULL;
	if (answer != NULL)
		answer(s, line, r);
	else
		dispatch(s, line, r);
}

void session_serve(struct session *s)
{
	while (s->state != STATE_END && s->out.state == OUTPUT_OK) {
		struct reply r = { 0 };
		struct line line;

		line_reader_limit(&s->in, s->awaiting != NULL ? s->awaiting_max : s->cfg->max_command_length);
		switch (line_take(&s->in, &line)) {
		case LINE_NEED_MORE:
			if (!wait_for_input(s))
				return;
			continue;
		case LINE_TOO_LONG:
			s->awaiting = NULL;
			reply_bad(&r, "Command line too long");
			break;
		case LINE_OK:
			take_line(s, &line, &r);
			break;
		}
		io_timer_restart();	/* profile V0002: any command resets the timer */
		session_reply(s, &r);
	}
	output_flush(&s->out);
}

void session_init(struct session *s, const struct config *cfg, const struct command_def *const tables[STATES],
		  int in_fd, int out_fd)
{
	memset(s, 0, offsetof(struct session, challenge));
	s->cfg = cfg;
	for (size_t k = 0; k < STATES; k++)
		s->commands[k] = tables[k];
	s->state = STATE_AUTHORIZATION;
	s->client.in_fd = in_fd;
	io_client_address(in_fd, s->client.address, sizeof s->client.address);
	s->box.message_fd = -1;
	maildir_init(&s->box.md);
	line_reader_init(&s->in, cfg->max_command_length);
	output_init(&s->out, out_fd);
	io_signals_init();
}

void session_greet(struct session *s)
{
	struct reply r = { 0 };

	io_timer_start(s->cfg->timeout_unauth);
	reply_ok(&r, "POP3 server ready");
	session_reply(s, &r);
}

int session_close(struct session *s)
{
	if (s->out.state != OUTPUT_OK)
		log_msg(LOG_INFO, "client %s",
			s->out.state == OUTPUT_TIMED_OUT ? "stopped reading: autologout" : "went away");
	maildir_close(&s->box.md);
	line_reader_wipe(&s->in);
	return 0;
}
