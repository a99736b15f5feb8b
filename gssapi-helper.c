/*
 * gssapi-helper.c - the GSSAPI acceptor's process: started, confined and
 * served from the side that decides logins, whose every answer is checked.
 */
#include "gssapi-helper.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "become.h"
#include "channel.h"
#include "confine.h"
#include "log.h"
#include "parse.h"

/* The helper's keytab: MIT keeps MEMORY: keytabs in the process, by name. */
#define HELPER_KEYTAB "MEMORY:pop3-handler"

/* The largest message on the helper's socket pair. */
#define HELPER_MESSAGE_MAX sizeof(struct gssapi_helper_request)

void gssapi_helper_init(struct gssapi_helper *h, const char *keytab, const char *realm)
{
	memset(h, 0, sizeof *h);
	h->keytab = keytab;
	h->realm = realm;
	h->pid = -1;
	h->fd = -1;
}

void gssapi_helper_run_as(struct gssapi_helper *h, uid_t uid, gid_t gid)
{
	h->change_user = true;
	h->uid = uid;
	h->gid = gid;
}

/* --- The helper --- */

bool gssapi_helper_confine(unsigned *missing)
{
	*missing = 0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return false;
	return confine_system_calls(&seccomp_gssapi_helper_program, missing);
}

/* In the helper: closes every descriptor it inherited but fd and 0 to 2 (/dev/null, or the
 * log in tests): the channel to the pre-login child, a user database's connection and the like
 * are not the helper's.  Makes logging work again; false (logged) on failure. */
static bool keep_only(int fd)
{
	bool ok = (fd <= 3 || close_range(3, (unsigned)fd - 1, 0) == 0) && close_range((unsigned)fd + 1, ~0U, 0) == 0;

	log_reconnect();
	if (!ok)
		log_msg(LOG_ERR, "GSSAPI helper: close_range: %s", strerror(errno));
	return ok;
}

/* In the helper, still with this process's privileges: builds the MEMORY: keytab (reading
 * krb5.conf), finds the realm, gets the exchange x its credentials, drops to the helper's user,
 * forbids new privileges and dumping, dies with its parent and confines its system calls; false
 * (logged) on failure. */
static bool helper_enter(const struct gssapi_helper *h, const struct gssapi_key *keys, size_t count,
			 struct gssapi_exchange *x, char *realm, size_t realm_size)
{
	unsigned missing = 0;

	if (!gssapi_memory_keytab(HELPER_KEYTAB, keys, count))
		return false;
	if (h->realm[0] != '\0')
		snprintf(realm, realm_size, "%s", h->realm);
	else if (!gssapi_default_realm(realm, realm_size))
		return false;
	gssapi_init(x, HELPER_KEYTAB, realm);
	if (!gssapi_ready(x))
		return false;
	if (h->change_user && !become_user(h->uid, h->gid))
		return false;
	/* The death signal is set after the change of ids, which clears it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) {
		log_msg(LOG_ERR, "GSSAPI helper: prctl: %s", strerror(errno));
		return false;
	}
	log_prepare_confinement();
	if (!gssapi_helper_confine(&missing)) {
		log_msg(LOG_ERR, "GSSAPI helper: cannot confine itself: %s", strerror(errno));
		return false;
	}
	if (missing & CONFINE_NO_SECCOMP)
		log_msg(LOG_WARNING, "the kernel lacks seccomp filters: the GSSAPI helper is not confined");
	return true;
}

/* In the helper: answers requests for the exchange x until it is over or the channel ends. */
static void helper_serve(int fd, struct gssapi_exchange *x)
{
	static struct gssapi_helper_request rq;
	static struct gssapi_helper_answer a;
	size_t len;

	do {
		if (!channel_receive_exact(fd, GSSAPI_HELPER_TOKEN, &rq, sizeof rq) || rq.len > sizeof rq.token)
			return;
		memset(&a, 0, sizeof a);
		a.kind = GSSAPI_HELPER_ANSWER;
		a.step = gssapi_step(x, rq.token, rq.len, a.token, sizeof a.token, &len);
		a.len = (uint32_t)len;
		if (a.step == GSSAPI_DONE)
			snprintf(a.user, sizeof a.user, "%s", x->user);
		explicit_bzero(&rq, sizeof rq);
	} while (channel_send(fd, &a, sizeof a, NULL, 0) == (ssize_t)sizeof a && a.step == GSSAPI_CONTINUE);
}

/* The helper process: never returns. */
static void __attribute__((noreturn)) helper_main(const struct gssapi_helper *h, int fd, struct gssapi_key *keys,
						  size_t count)
{
	/* Static: the exchange keeps pointing at the realm. */
	static char realm[CONFIG_LINE_MAX];
	static struct gssapi_exchange x;
	bool ok = keep_only(fd) && helper_enter(h, keys, count, &x, realm, sizeof realm);

	explicit_bzero(keys, count * sizeof *keys);
	if (ok)
		helper_serve(fd, &x);
	_exit(ok ? 0 : 1);
}

/* --- This side --- */

/* Starts the helper of a new exchange with the keytab's pop/ keys; false (logged) when they
 * cannot be read or the helper cannot be started. */
static bool helper_start(struct gssapi_helper *h)
{
	/* Static: a few KiB of secrets, wiped below. */
	static struct gssapi_key keys[GSSAPI_KEYS_MAX];
	size_t count = 0;
	int sv[2] = { -1, -1 };
	const char *failed = NULL;

	if (!gssapi_service_keys(h->keytab, keys, GSSAPI_KEYS_MAX, &count))
		failed = "";
	else if (!channel_pair(sv, HELPER_MESSAGE_MAX))
		failed = "socket pair";
	else if ((h->pid = fork()) < 0)
		failed = "fork";
	else if (h->pid == 0)
		helper_main(h, sv[1], keys, count);
	explicit_bzero(keys, count * sizeof *keys);
	if (failed != NULL && failed[0] != '\0')
		log_msg(LOG_ERR, "GSSAPI: cannot start the helper: %s: %s", failed, strerror(errno));
	if (sv[1] >= 0)
		close(sv[1]);
	if (failed != NULL && sv[0] >= 0)
		close(sv[0]);
	h->fd = failed == NULL ? sv[0] : -1;
	return failed == NULL;
}

void gssapi_helper_stop(struct gssapi_helper *h)
{
	int status;

	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	if (h->pid > 0) {
		if (kill(h->pid, SIGKILL) != 0)
			log_msg(LOG_ERR, "GSSAPI: cannot stop the helper: %s", strerror(errno));
		while (waitpid(h->pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	h->pid = -1;
}

/* Why the helper's answer is malformed for a response whose challenge may hold out_size
 * octets, or NULL. */
static const char *answer_problem(const struct gssapi_helper_answer *a, size_t out_size)
{
	size_t user_len = strnlen(a->user, sizeof a->user);

	if (a->kind != GSSAPI_HELPER_ANSWER)
		return "an answer of unknown kind";
	if (a->step != GSSAPI_CONTINUE && a->step != GSSAPI_DONE && a->step != GSSAPI_FAILED)
		return "an unknown result";
	if (a->len > sizeof a->token || a->len > out_size)
		return "a token longer than its room";
	if (a->step != GSSAPI_CONTINUE && a->len != 0)
		return "a token with a result that has none";
	if (user_len == sizeof a->user)
		return "a user name without its end";
	if (a->step == GSSAPI_DONE ? !user_name_ok(a->user, user_len) : user_len != 0)
		return "a user name that is not one";
	return NULL;
}

/* Sends the helper one response and takes its checked answer. */
static enum gssapi_step helper_ask(struct gssapi_helper *h, const unsigned char *in, size_t in_len, unsigned char *out,
				   size_t out_size, size_t *out_len)
{
	static struct gssapi_helper_request rq;
	static struct gssapi_helper_answer a;
	const char *problem = NULL;

	memset(&rq, 0, sizeof rq);
	rq.kind = GSSAPI_HELPER_TOKEN;
	rq.len = (uint32_t)in_len;
	memcpy(rq.token, in, in_len);
	if (channel_send(h->fd, &rq, sizeof rq, NULL, 0) != (ssize_t)sizeof rq ||
	    !channel_receive_exact(h->fd, GSSAPI_HELPER_ANSWER, &a, sizeof a))
		problem = "no answer";
	else
		problem = answer_problem(&a, out_size);
	explicit_bzero(&rq, sizeof rq);
	if (problem != NULL) {
		log_msg(LOG_ERR, "GSSAPI: the helper sent %s; ending it", problem);
		return GSSAPI_FAILED;
	}
	memcpy(out, a.token, a.len);
	*out_len = a.len;
	snprintf(h->user, sizeof h->user, "%s", a.user);
	return (enum gssapi_step)a.step;
}

enum gssapi_step gssapi_helper_step(struct gssapi_helper *h, bool first, const unsigned char *in, size_t in_len,
				    unsigned char *out, size_t out_size, size_t *out_len)
{
	enum gssapi_step step = GSSAPI_FAILED;

	*out_len = 0;
	h->user[0] = '\0';
	if (in_len > (size_t)GSSAPI_TOKEN_MAX) {
		log_msg(LOG_NOTICE, "GSSAPI: a response of %zu octets exceeds %d", in_len, GSSAPI_TOKEN_MAX);
	} else {
		if (first || h->pid < 0)
			gssapi_helper_stop(h);
		if (h->pid > 0 || helper_start(h))
			step = helper_ask(h, in, in_len, out, out_size, out_len);
	}
	if (step != GSSAPI_CONTINUE)
		gssapi_helper_stop(h);
	return step;
}
