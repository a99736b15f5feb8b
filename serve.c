/*
 * serve.c - a session's life, in one process or separated.
 */
#include "serve.h"

#include <string.h>
#include <unistd.h>

#include "attempt.h"
#include "auth.h"
#include "authorization.h"
#include "mailbox.h"
#include "sasl.h"
#include "session.h"
#include "transaction.h"

static const struct command_def *const state_tables[STATES] = {
	[STATE_AUTHORIZATION] = authorization_commands,
	[STATE_TRANSACTION] = transaction_commands,
};

/* Static: large, and one of each serves the process's one session. */
static struct session session;
static struct login_guard guard;

/* Prepares the session on in_fd and out_fd, deciding its logins in this process. */
static void prepare(const struct config *cfg, int in_fd, int out_fd)
{
	session_init(&session, cfg, state_tables, in_fd, out_fd);
	attempt_policy(&session);
	sasl_init(&session);
	memset(&guard, 0, sizeof guard);
	guard.passwd_file = cfg->passwd_file;
	guard.client = session.client.address;
	guard.max_failures = cfg->max_auth_failures;
	guard.fail_delay = cfg->auth_fail_delay;
	guard.ntlm_domain = session.sasl.ntlm_domain;
	guard.service = cfg->pam_service;
	guard.decision_timeout = cfg->timeout_unauth;
	gssapi_helper_init(&guard.gssapi, cfg->keytab, cfg->krb5_realm);
	auth_door_open(&session.login.door, &guard);
}

/* Ends the session: the mailbox of one that left without QUIT, then the rest. */
static int finish(struct session *s)
{
	mailbox_abandon(s);
	return session_close(s);
}

int serve_one_process(const struct config *cfg, int in_fd, int out_fd)
{
	prepare(cfg, in_fd, out_fd);
	session_greet(&session);
	session_serve(&session);
	return finish(&session);
}

/* The parent of a separated session after the hand-over: takes the client and its unused
 * input, becomes the user and serves TRANSACTION. */
static int serve_handed_over(struct session *s, struct privsep_parent *p)
{
	struct reply r = { 0 };

	s->client.in_fd = p->client_in;
	line_reader_init(&s->in, s->cfg->max_command_length);
	line_feed(&s->in, p->input, p->input_len);
	explicit_bzero(p->input, p->input_len);
	output_init(&s->out, p->client_out);
	attempt_enter(s, &p->account, p->mechanism, &r);
	account_clear(&p->account);
	session_reply(s, &r);
	session_serve(s);
	return finish(s);
}

/* The jailed child: talks to the client until the hand-over, asking the parent to decide
 * each login. */
static void __attribute__((noreturn)) serve_child(int fd)
{
	static struct privsep_child child;

	child.fd = fd;
	child.out = &session.out;
	privsep_door_open(&session.login.door, &child);
	session_greet(&session);
	session_serve(&session);
	/* _exit: exit handlers inherited from the parent are not the
	 * child's to run (a leak checker's would look for /proc, which
	 * the jail lacks). */
	_exit(finish(&session));
}

int serve_separated(const struct config *cfg, struct privsep_jail *jail)
{
	static struct privsep_parent p;
	int fd, status;
	pid_t child;

	prepare(cfg, STDIN_FILENO, STDOUT_FILENO);
	guard.jailed = true;
	guard.jail_uid = jail->uid;
	guard.jail_gid = jail->gid;
	jail->confine = cfg->confine;
	/* Kerberos tokens are parsed as the jail's user, never as root. */
	gssapi_helper_run_as(&guard.gssapi, jail->uid, jail->gid);
	switch (privsep_fork(jail, cfg->log == LOG_TARGET_STDERR, &fd, &child)) {
	case PRIVSEP_FAILED:
		return 1;
	case PRIVSEP_CHILD:
		serve_child(fd);
	case PRIVSEP_PARENT:
		break;
	}
	privsep_parent_init(&p, fd, &session.login.door, &session.login.policy);
	if (!privsep_parent_serve(&p, child, &status))
		return status;
	return serve_handed_over(&session, &p);
}
