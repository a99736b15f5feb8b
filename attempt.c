/*
 * attempt.c - login attempts from the session's side of the login door.
 */
#include "attempt.h"

#include <string.h>

#include "gssapi.h"
#include "log.h"
#include "mailbox.h"
#include "ntlm.h"
#include "util.h"

void attempt_policy(struct session *s)
{
	const struct config *cfg = s->cfg;
	struct login_policy *p = &s->login.policy;
	/* "secure": the launcher protects the connection, or it never leaves the host. */
	bool secure = cfg->tls || io_address_is_local(s->client.address);

	p->plaintext_ok = cfg->plaintext_auth == PLAINTEXT_YES || (cfg->plaintext_auth == PLAINTEXT_SECURE && secure);
	/* NTLM sends no password, but whoever records an exchange can guess
	 * at it offline: only where the connection is protected, or where
	 * passwords may travel in the clear anyway, unless the site says. */
	p->ntlm_ok = secure || cfg->plaintext_auth == PLAINTEXT_YES || cfg->ntlm_plaintext;
	p->offered = MECHANISM_BIT(MECHANISM_USER) | MECHANISM_BIT(MECHANISM_PLAIN);
	if (cfg->ntlm && ntlm_ready())
		p->offered |= MECHANISM_BIT(MECHANISM_NTLM);
	if (gssapi_available(cfg->keytab))
		p->offered |= MECHANISM_BIT(MECHANISM_GSSAPI);
	p->max_exchanges = cfg->max_auth_failures + AUTH_EXTRA_EXCHANGES;
}

bool attempt_offered(const struct session *s, enum mechanism m)
{
	return (s->login.policy.offered & MECHANISM_BIT(m)) != 0;
}

void attempt_set_user(struct session *s, const char *name, size_t len)
{
	s->login.user[0] = '\0';
	if (user_name_ok(name, len)) {
		memcpy(s->login.user, name, len);
		s->login.user[len] = '\0';
	}
}

bool attempt_begin(struct session *s, struct reply *r)
{
	if (s->login.exchanges < s->login.policy.max_exchanges) {
		s->login.exchanges++;
		return true;
	}
	log_msg(LOG_NOTICE, "failed login: too many login exchanges (%u), closing the session, client=%s",
		s->login.exchanges, s->client.address);
	reply_err(r, "AUTH", "Too many authentication attempts, closing connection");
	r->close = true;
	return false;
}

void attempt_refuse(struct session *s, enum mechanism m, struct reply *r)
{
	/* One line a session: a client that sends USER and PASS, or
	 * retries, made one attempt on a connection it should not use, and
	 * no password was checked. */
	if (!s->login.refusal_logged)
		log_msg(LOG_NOTICE, "failed login: not allowed on this connection, mechanism=%s client=%s",
			mechanism_name(m), s->client.address);
	s->login.refusal_logged = true;
	reply_err(r, "AUTH", "%s is not allowed without TLS",
		  mechanism_plaintext(m) ? "Plaintext authentication" : "NTLM");
}

void attempt_login(struct session *s, const struct credential *c, struct reply *r)
{
	struct login_door *door = &s->login.door;
	struct account a;
	enum login_result result = door->check(door->self, c, &a);

	attempt_decided(s, result, &a, c->mechanism, r);
	account_clear(&a);
}

void attempt_enter(struct session *s, const struct account *a, enum mechanism mechanism, struct reply *r)
{
	struct login_door *door = &s->login.door;
	struct client_handle client = { s->client.in_fd, s->out.fd, NULL, 0 };

	client.pending_len = line_pending(&s->in, &client.pending);
	switch (door->admit(door->self, a, &client)) {
	case ADMIT_SERVE_HERE:
		/* The parent of a separated session never saw USER. */
		str_copy(s->login.user, sizeof s->login.user, a->name);
		mailbox_open(s, a, mechanism, r);
		break;
	case ADMIT_HANDED_OVER:
		reply_none(r);
		break;
	case ADMIT_FAILED:
		reply_err(r, "SYS/PERM", "Cannot change to the user");
		r->close = true;
		break;
	}
}

void attempt_decided(struct session *s, enum login_result result, const struct account *a,
		     enum mechanism mechanism, struct reply *r)
{
	switch (result) {
	case LOGIN_OK:
		attempt_enter(s, a, mechanism, r);
		break;
	case LOGIN_FAILED:
		reply_err(r, "AUTH", "Authentication failed");
		break;
	case LOGIN_FAILED_LAST:
		reply_err(r, "AUTH", "Authentication failed; too many failures, closing connection");
		r->close = true;
		break;
	case LOGIN_UNAVAILABLE:
	case LOGIN_CONTINUE:	/* not a decision: the caller's error */
		reply_err(r, "SYS/TEMP", "Authentication is temporarily unavailable");
		break;
	case LOGIN_REFUSED:
		reply_err(r, "SYS/PERM", "This account cannot log in here");
		break;
	case LOGIN_LOST:
		reply_none(r);
		break;
	}
}
