/*
 * authorization.c - the commands of the AUTHORIZATION state.
 */
#include "authorization.h"

#include "attempt.h"
#include "sasl.h"

static void cmd_user(struct session *s, const struct request *q, struct reply *r)
{
	if (!s->login.policy.plaintext_ok) {
		attempt_refuse(s, MECHANISM_USER, r);
		return;
	}
	/* Profile V0008/V0009: always +OK, whether or not the user exists.
	 * A name we would never accept is remembered as "" and fails at PASS. */
	attempt_set_user(s, q->cmd->argv[0].text, q->cmd->argv[0].len);
	s->login.user_given = true;
	reply_ok(r, "Send your password");
}

static void cmd_pass(struct session *s, const struct request *q, struct reply *r)
{
	struct credential c = { .mechanism = MECHANISM_USER, .user = s->login.user, .password = q->cmd->rest };

	if (!s->login.policy.plaintext_ok) {
		attempt_refuse(s, MECHANISM_USER, r);
		return;
	}
	if (!s->login.user_given) {
		reply_bad(r, "Send USER first");
		return;
	}
	if (q->cmd->rest_len == 0) {
		reply_bad(r, "Missing password");
		return;
	}
	/* Profile V0011: the password is the rest of the line, spaces and
	 * all.  The line is NUL-terminated where the password ends. */
	s->login.user_given = false;
	if (attempt_begin(s, r))
		attempt_login(s, &c, r);
}

static void cmd_apop(struct session *s, const struct request *q, struct reply *r)
{
	(void)s, (void)q;
	reply_err(r, NULL, "APOP is not supported");
}

static bool body_capabilities(struct session *s)
{
	static const char *const common[] = {
		"TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING",
		"IMPLEMENTATION pop3-handler",
	};

	for (size_t i = 0; i < sizeof common / sizeof *common; i++)
		output_line(&s->out, "%s", common[i]);
	if (s->cfg->expire_days == EXPIRE_NEVER)
		output_line(&s->out, "EXPIRE NEVER");
	else
		output_line(&s->out, "EXPIRE %u", s->cfg->expire_days);
	if (s->state == STATE_AUTHORIZATION) {
		if (s->login.policy.plaintext_ok)
			output_line(&s->out, "USER");
		sasl_write_capability(s);
	}
	return true;
}

void authorization_capa(struct session *s, const struct request *q, struct reply *r)
{
	(void)s, (void)q;
	reply_ok(r, "Capability list follows");
	r->body = body_capabilities;
}

static void cmd_quit(struct session *s, const struct request *q, struct reply *r)
{
	(void)s, (void)q;
	reply_ok(r, "Bye");
	r->close = true;
}

/* A table ends with the default row: any other keyword is refused by the engine. */
const struct command_def authorization_commands[] = {
	{ "USER", 1, 1, 0, cmd_user },
	{ "PASS", 0, ARGS_ANY, COMMAND_SECRET, cmd_pass },
	{ "APOP", 0, ARGS_ANY, COMMAND_SECRET, cmd_apop },
	{ "AUTH", 0, ARGS_ANY, COMMAND_SECRET, sasl_auth },
	{ "CAPA", 0, 0, 0, authorization_capa },
	{ "QUIT", 0, 0, 0, cmd_quit },
	{ NULL, 0, 0, 0, NULL },
};
