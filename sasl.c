/*
 * sasl.c - the SASL mechanisms and their exchanges.
 */
#include "sasl.h"

#include <string.h>
#include <strings.h>

#include "attempt.h"
#include "base64.h"
#include "netbios.h"
#include "ntlm.h"

/* Takes a mechanism's response number step (0 is the first), decoded into data (len octets,
 * with room for a NUL after them). */
typedef void sasl_responder(struct session *s, unsigned step, unsigned char *data, size_t len, struct reply *r);

static sasl_responder gssapi_respond, ntlm_respond, plain_respond;

/* The SASL mechanisms, in the order CAPA and AUTH list them. */
static const struct sasl_mechanism {
	enum mechanism mechanism;
	sasl_responder *respond;
	size_t line_max;	/* its longest response line; 0: a command line's length */
} sasl_mechanisms[] = {
	{ MECHANISM_GSSAPI, gssapi_respond, GSSAPI_LINE_MAX },
	{ MECHANISM_NTLM, ntlm_respond, SASL_LINE_MAX },
	{ MECHANISM_PLAIN, plain_respond, 0 },
};

#define SASL_MECHANISMS (sizeof sasl_mechanisms / sizeof *sasl_mechanisms)

void sasl_init(struct session *s)
{
	netbios_host_name(s->sasl.host);
	netbios_name(s->sasl.ntlm_domain, s->cfg->ntlm_domain[0] != '\0' ? s->cfg->ntlm_domain : s->sasl.host);
}

/* The table row of the mechanism under way. */
static const struct sasl_mechanism *current(const struct session *s)
{
	for (size_t i = 0; i < SASL_MECHANISMS; i++)
		if (sasl_mechanisms[i].mechanism == s->sasl.mechanism)
			return &sasl_mechanisms[i];
	return NULL;
}

static void sasl_answer(struct session *s, struct line *line, struct reply *r);

/* Sends a challenge of len octets in s->challenge; the next line is the mechanism's next
 * response.  RFC 5034 bounds a response by what its mechanism needs: a Kerberos ticket (with
 * a Windows PAC) may be very long, an NTLM message a few kilobytes at most, a PLAIN response
 * (a name and a password) fits a command line, and a password never gets longer than the
 * privileged parent takes. */
static void send_challenge(struct session *s, size_t len, struct reply *r)
{
	size_t line_max = current(s)->line_max;

	reply_challenge(r, len, sasl_answer, line_max != 0 ? line_max : s->cfg->max_command_length);
}

/* Takes one base64 SASL response (initial or after a challenge) for the mechanism under
 * way. */
static void sasl_respond(struct session *s, const char *text, size_t len, struct reply *r)
{
	/* Static: a whole Kerberos ticket (the longest response), and a
	 * password, pass through. */
	static unsigned char decoded[GSSAPI_TOKEN_MAX + 1];
	size_t n, written;

	/* RFC 5034: "=" is an empty response. */
	if (len == 1 && text[0] == '=')
		len = 0;
	written = BASE64_DECODED_MAX(len);
	if (base64_decode(text, len, decoded, sizeof decoded - 1, &n))
		current(s)->respond(s, s->sasl.step++, decoded, n, r);
	else
		reply_bad(r, "Invalid base64 in the SASL response");
	/* A decoder that fails has written part of the response already:
	 * what it may have written is wiped, not the whole 47 KiB. */
	explicit_bzero(decoded, written < sizeof decoded ? written : sizeof decoded);
}

/* Takes the line answering a challenge: "*" cancels, anything else is the base64 response. */
static void sasl_answer(struct session *s, struct line *line, struct reply *r)
{
	if (line->len == 1 && line->text[0] == '*')
		reply_err(r, NULL, "Authentication cancelled");
	else
		sasl_respond(s, line->text, line->len, r);
	explicit_bzero(line->text, line->len);
}

/* PLAIN: authzid NUL authcid NUL password (RFC 4616), then the login. */
static void plain_respond(struct session *s, unsigned step, unsigned char *data, size_t len, struct reply *r)
{
	struct sasl_plain plain;
	struct credential c = { .mechanism = MECHANISM_PLAIN };

	(void)step;	/* PLAIN has one response */
	switch (sasl_plain_parse((char *)data, len, &plain)) {
	case PLAIN_MALFORMED:
		reply_bad(r, "Malformed SASL PLAIN response");
		break;
	case PLAIN_BAD_AUTHCID:
		reply_bad(r, "Invalid authentication identity");
		break;
	case PLAIN_BAD_AUTHZID:
		reply_err(r, "AUTH", "Authorization identity must be empty or the user name");
		break;
	case PLAIN_OK:
		if (!attempt_begin(s, r))
			break;
		attempt_set_user(s, plain.authcid, plain.authcid_len);
		c.user = s->login.user;
		c.password = plain.password;
		attempt_login(s, &c, r);
		break;
	}
}

/* NTLM's NEGOTIATE: answered with a CHALLENGE whose server challenge comes from the door. */
static void ntlm_negotiate(struct session *s, unsigned char *msg, size_t len, struct reply *r)
{
	struct ntlm_target t = { .domain = s->sasl.ntlm_domain, .computer = s->sasl.host };
	struct login_door *door = &s->login.door;
	enum login_result issued;
	uint32_t flags;
	size_t n = 0;

	if (!ntlm_parse_negotiate(msg, len, &flags)) {
		reply_bad(r, "Malformed NTLM message");
		return;
	}
	if (!attempt_begin(s, r))
		return;
	issued = door->ntlm_challenge(door->self, t.challenge);
	if (issued == LOGIN_CONTINUE)
		n = ntlm_build_challenge(flags, &t, s->challenge, sizeof s->challenge, &s->sasl.ntlm_flags);
	explicit_bzero(t.challenge, sizeof t.challenge);
	if (issued == LOGIN_LOST)
		reply_none(r);
	else if (n == 0)
		reply_err(r, "SYS/TEMP", "Authentication is temporarily unavailable");
	else
		send_challenge(s, n, r);
}

/* NTLM's AUTHENTICATE, answering our CHALLENGE: the login. */
static void ntlm_authenticate(struct session *s, unsigned char *msg, size_t len, struct reply *r)
{
	static struct ntlm_authenticate a;
	struct credential c = { .mechanism = MECHANISM_NTLM, .user = s->login.user, .domain = a.domain,
				.response = a.response };

	switch (ntlm_parse_authenticate(msg, len, s->sasl.ntlm_flags, &a)) {
	case NTLM_MALFORMED:
	case NTLM_TOO_LONG:
		reply_bad(r, "Malformed NTLM message");
		return;
	case NTLM_NOT_V2:
		reply_err(r, "AUTH", "Only NTLMv2 responses are accepted");
		return;
	case NTLM_BAD_USER:
		reply_bad(r, "Invalid authentication identity");
		return;
	case NTLM_OK:
		attempt_set_user(s, a.user, a.user_len);
		break;
	}
	c.domain_len = a.domain_len;
	c.response_len = a.response_len;
	attempt_login(s, &c, r);
	explicit_bzero(&a, sizeof a);
}

/* NTLM: the NEGOTIATE first, then the AUTHENTICATE. */
static void ntlm_respond(struct session *s, unsigned step, unsigned char *data, size_t len, struct reply *r)
{
	if (step == 0)
		ntlm_negotiate(s, data, len, r);
	else
		ntlm_authenticate(s, data, len, r);
}

/* GSSAPI: each response goes to the door, which sends the next challenge or decides. */
static void gssapi_respond(struct session *s, unsigned step, unsigned char *data, size_t len, struct reply *r)
{
	struct login_door *door = &s->login.door;
	struct challenge out = { s->challenge, sizeof s->challenge, 0 };
	struct account a;
	enum login_result result;

	if (step == 0 && !attempt_begin(s, r))
		return;
	result = door->gssapi_step(door->self, step == 0, data, len, &out, &a);
	if (result == LOGIN_CONTINUE)
		send_challenge(s, out.len, r);
	else
		attempt_decided(s, result, &a, MECHANISM_GSSAPI, r);
	account_clear(&a);
}

/* The offered mechanism named name (any case), or NULL. */
static const struct sasl_mechanism *find_mechanism(const struct session *s, const char *name, size_t len)
{
	for (size_t i = 0; i < SASL_MECHANISMS; i++) {
		const struct sasl_mechanism *m = &sasl_mechanisms[i];
		const char *m_name = mechanism_name(m->mechanism);

		if (strlen(m_name) == len && strncasecmp(m_name, name, len) == 0 && attempt_offered(s, m->mechanism))
			return m;
	}
	return NULL;
}

/* Tells whether the client may use the i-th mechanism of the table now. */
static bool usable(const struct session *s, size_t i)
{
	return login_allows(&s->login.policy, sasl_mechanisms[i].mechanism);
}

void sasl_write_capability(struct session *s)
{
	bool any = false;

	/* As Dovecot does: only what this client may use now, and no SASL
	 * line at all when that is nothing. */
	for (size_t i = 0; i < SASL_MECHANISMS; i++) {
		const char *name = mechanism_name(sasl_mechanisms[i].mechanism);

		if (!usable(s, i))
			continue;
		output_put(&s->out, any ? " " : "SASL ", any ? 1 : 5);
		output_put(&s->out, name, strlen(name));
		any = true;
	}
	if (any)
		output_put(&s->out, "\r\n", 2);
}

/* AUTH alone: the mechanisms the client may use now, one a line. */
static bool body_mechanisms(struct session *s)
{
	for (size_t i = 0; i < SASL_MECHANISMS; i++)
		if (usable(s, i))
			output_line(&s->out, "%s", mechanism_name(sasl_mechanisms[i].mechanism));
	return true;
}

void sasl_auth(struct session *s, const struct request *q, struct reply *r)
{
	const struct command *c = q->cmd;
	const struct sasl_mechanism *m;

	if (c->argc == 0) {
		/* Outlook asks "AUTH" alone for the list of mechanisms. */
		reply_ok(r, "Supported mechanisms follow");
		r->body = body_mechanisms;
		return;
	}
	if (c->argc > 2) {
		reply_bad(r, "Wrong number of arguments for AUTH");
		return;
	}
	m = find_mechanism(s, c->argv[0].text, c->argv[0].len);
	if (m == NULL) {
		reply_err(r, NULL, "Unsupported authentication mechanism");
		return;
	}
	if (!login_allows(&s->login.policy, m->mechanism)) {
		attempt_refuse(s, m->mechanism, r);
		return;
	}
	s->login.user_given = false;
	s->sasl.mechanism = m->mechanism;
	s->sasl.step = 0;
	if (c->argc == 1)
		send_challenge(s, 0, r);
	else
		sasl_respond(s, c->argv[1].text, c->argv[1].len, r);
}
