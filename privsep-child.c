/*
 * privsep-child.c - the login door of the jailed child: each request
 * carried to the root parent over the channel, and the hand-over.
 */
#include "privsep.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "channel.h"
#include "log.h"
#include "util.h"

/* In the child: fills a login request with the credential; false when it does not fit. */
static bool login_request(struct privsep_login *rq, const struct credential *c)
{
	bool fits = str_copy(rq->user, sizeof rq->user, c->user);

	rq->kind = PRIVSEP_LOGIN;
	rq->mechanism = c->mechanism;
	rq->user_len = (uint32_t)strlen(rq->user);
	if (c->mechanism != MECHANISM_NTLM) {
		fits = fits && str_copy(rq->secret, sizeof rq->secret, c->password);
		rq->secret_len = (uint32_t)strlen(rq->secret);
		return fits;
	}
	fits = fits && c->domain_len <= sizeof rq->domain && c->response_len <= sizeof rq->response;
	if (fits) {
		memcpy(rq->domain, c->domain, c->domain_len);
		memcpy(rq->response, c->response, c->response_len);
		rq->domain_len = (uint32_t)c->domain_len;
		rq->response_len = (uint32_t)c->response_len;
	}
	return fits;
}

/* In the child: sends a request of len octets and receives the answer of its kind and
 * size; false (logged, naming what) when either failed. */
static bool ask_parent(int fd, const void *rq, size_t len, bool fits, uint32_t kind, void *answer, size_t answer_len,
		       const char *what)
{
	ssize_t n = fits ? channel_send(fd, rq, len, NULL, 0) : 0;

	if (n != (ssize_t)len) {
		log_msg(LOG_ERR, "privilege separation: cannot send the %s: %s", what,
			!fits ? "it does not fit" : n < 0 ? strerror(errno) : "short send");
		return false;
	}
	/* The parent sleeps the failure delay before it answers: the
	 * inactivity timer may fire meanwhile, and the wait goes on. */
	if (!channel_receive_exact(fd, kind, answer, answer_len)) {
		log_msg(LOG_ERR, "privilege separation: no valid answer to the %s", what);
		return false;
	}
	return true;
}

/* The child door's check(): the login request and its answer. */
static enum login_result child_check(void *self, const struct credential *c, struct account *out)
{
	struct privsep_child *child = self;
	static struct privsep_login rq;
	struct privsep_answer a;
	bool ok;

	memset(out, 0, sizeof *out);
	/* Every earlier reply goes out first: after a login the parent
	 * replies next. */
	if (!output_flush(child->out))
		return LOGIN_LOST;
	memset(&rq, 0, sizeof rq);
	ok = ask_parent(child->fd, &rq, sizeof rq, login_request(&rq, c), PRIVSEP_ANSWER, &a, sizeof a,
			"login request");
	explicit_bzero(&rq, sizeof rq);
	if (ok && a.result > LOGIN_REFUSED) {
		log_msg(LOG_ERR, "privilege separation: no valid answer to the login request");
		ok = false;
	}
	return ok ? (enum login_result)a.result : LOGIN_LOST;
}

static enum login_result child_ntlm_challenge(void *self, unsigned char challenge[NTLM_CHALLENGE_SIZE])
{
	struct privsep_child *child = self;
	struct privsep_challenge rq = { PRIVSEP_CHALLENGE, 0, { 0 } }, a;

	if (!ask_parent(child->fd, &rq, sizeof rq, true, PRIVSEP_CHALLENGE, &a, sizeof a, "challenge request"))
		return LOGIN_LOST;
	if (a.ok > 1) {
		log_msg(LOG_ERR, "privilege separation: a malformed answer to the challenge request");
		return LOGIN_LOST;
	}
	memcpy(challenge, a.challenge, sizeof a.challenge);
	return a.ok == 1 ? LOGIN_CONTINUE : LOGIN_UNAVAILABLE;
}

static enum login_result child_gssapi_step(void *self, bool first, const unsigned char *in, size_t in_len,
					   struct challenge *out, struct account *account)
{
	struct privsep_child *child = self;
	static struct privsep_gssapi_request rq;
	static struct privsep_gssapi_answer a;
	bool fits = in_len <= sizeof rq.token;

	memset(account, 0, sizeof *account);
	out->len = 0;
	if (!output_flush(child->out))
		return LOGIN_LOST;
	memset(&rq, 0, sizeof rq);
	rq.kind = PRIVSEP_GSSAPI;
	rq.first = first;
	rq.len = (uint32_t)(fits ? in_len : 0);
	memcpy(rq.token, in, rq.len);
	if (!ask_parent(child->fd, &rq, sizeof rq, fits, PRIVSEP_GSSAPI_ANSWER, &a, sizeof a, "GSSAPI token"))
		return LOGIN_LOST;
	if (a.decided > 1 || a.result > LOGIN_REFUSED || a.len > sizeof a.token || a.len > out->size) {
		log_msg(LOG_ERR, "privilege separation: a malformed answer to the GSSAPI token");
		return LOGIN_LOST;
	}
	out->len = a.len;
	memcpy(out->data, a.token, a.len);
	return a.decided ? (enum login_result)a.result : LOGIN_CONTINUE;
}

/* In the child: hands the parent the client's descriptors with the len octets of input
 * read but not used; false (logged) when that failed. */
static bool hand_over(int fd, int in_fd, int out_fd, const char *input, size_t len)
{
	static struct privsep_hand_over h;
	const int fds[CHANNEL_FDS_MAX] = { in_fd, out_fd };
	size_t size;
	ssize_t n;

	if (len > sizeof h.input) {
		log_msg(LOG_ERR, "privilege separation: %zu octets of input do not fit the hand-over", len);
		return false;
	}
	/* Only the octets in use travel: the parent receives into a buffer
	 * of 64 KiB, whose pages a datagram of its full size would touch, a
	 * cost every logged-in session would keep. */
	h.kind = PRIVSEP_HAND_OVER;
	h.input_len = (uint32_t)len;
	memcpy(h.input, input, len);
	size = offsetof(struct privsep_hand_over, input) + len;
	n = channel_send(fd, &h, size, fds, CHANNEL_FDS_MAX);
	/* Pipelined input may hold a password too. */
	explicit_bzero(&h, size);
	if (n != (ssize_t)size) {
		log_msg(LOG_ERR, "privilege separation: cannot hand the session over: %s",
			n < 0 ? strerror(errno) : "short send");
		return false;
	}
	return true;
}

static enum admission child_admit(void *self, const struct account *a, const struct client_handle *client)
{
	struct privsep_child *child = self;

	(void)a;	/* the parent decided the login and holds the account */
	hand_over(child->fd, client->in_fd, client->out_fd, client->pending, client->pending_len);
	return ADMIT_HANDED_OVER;
}

void privsep_door_open(struct login_door *door, struct privsep_child *child)
{
	*door = (struct login_door){ child_check, child_ntlm_challenge, child_gssapi_step, child_admit, child };
}

