/*
 * privsep-parent.c - the root parent's side of the channel: every message
 * from the child checked as hostile, each request answered through the
 * login door that decides (auth.c's), and the hand-over taken.
 */
#include "privsep.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "channel.h"
#include "log.h"
#include "parse.h"

void privsep_parent_init(struct privsep_parent *p, int fd, const struct login_door *decider,
			 const struct login_policy *policy)
{
	/* The input buffer is written by the hand-over, as far as it is
	 * used: its 64 KiB are not touched at every login. */
	memset(p, 0, offsetof(struct privsep_parent, input));
	p->fd = fd;
	p->decider = decider;
	p->policy = *policy;
	p->expect = AWAIT_REQUEST;
	p->client_in = p->client_out = -1;
}

/* Anything the child may send, with room for the largest. */
union message {
	uint32_t kind;
	struct privsep_login login;
	struct privsep_challenge challenge;
	struct privsep_gssapi_request gssapi;
	struct privsep_hand_over hand_over;
};

/* Counts a new login exchange: why it may not start, or NULL. */
static const char *exchange_problem(struct privsep_parent *p)
{
	if (p->exchanges >= p->policy.max_exchanges)
		return "too many login exchanges";
	p->exchanges++;
	return NULL;
}

/* Why the credential of an NTLM login request is unacceptable, or NULL. */
static const char *ntlm_problem(const struct privsep_parent *p, const struct privsep_login *rq)
{
	if (!login_allows(&p->policy, MECHANISM_NTLM))
		return "an NTLM login, which is not offered or not allowed on this connection";
	if (rq->secret_len != 0 || rq->domain_len > NTLM_DOMAIN_MAX || rq->domain_len % 2 != 0 ||
	    rq->response_len < NTLM_RESPONSE_MIN || rq->response_len > NTLM_RESPONSE_MAX)
		return "an NTLM credential of the wrong size";
	/* One answer per challenge: a login without one, or a second
	 * login on it, would let a response be tried again. */
	if (!p->ntlm_challenge_out)
		return "an NTLM login without a challenge";
	return NULL;
}

/* Why the credential of a USER or PLAIN login request is unacceptable, or NULL. */
static const char *password_problem(struct privsep_parent *p, const struct privsep_login *rq)
{
	/* Both send the password in the clear: where the policy forbids
	 * that, an honest child never asks. */
	if (!p->policy.plaintext_ok)
		return "a plaintext login the policy forbids";
	if (rq->secret_len > PRIVSEP_SECRET_MAX || strnlen(rq->secret, sizeof rq->secret) != rq->secret_len ||
	    rq->domain_len != 0 || rq->response_len != 0)
		return "a secret of the wrong length";
	/* A PASS argument is the non-empty rest of a command line, which
	 * holds no CR or LF. */
	if (rq->mechanism == MECHANISM_USER && (rq->secret_len == 0 || strpbrk(rq->secret, "\r\n") != NULL))
		return "a password no command line can carry";
	return exchange_problem(p);
}

/* Why a login request's fields are unacceptable, or NULL. */
static const char *login_problem(struct privsep_parent *p, const struct privsep_login *rq)
{
	if (rq->mechanism >= MECHANISMS)
		return "an unknown mechanism";
	if (rq->mechanism == MECHANISM_GSSAPI)
		return "a GSSAPI login outside its exchange";
	if (rq->user_len > USER_NAME_MAX || strnlen(rq->user, sizeof rq->user) != rq->user_len)
		return "a user name of the wrong length";
	if (rq->user_len > 0 && !user_name_ok(rq->user, rq->user_len))
		return "a user name with forbidden characters";
	return rq->mechanism == MECHANISM_NTLM ? ntlm_problem(p, rq) : password_problem(p, rq);
}

/* Why a GSSAPI token is unacceptable, or NULL. */
static const char *gssapi_problem(struct privsep_parent *p, const struct privsep_gssapi_request *rq)
{
	if (!login_allows(&p->policy, MECHANISM_GSSAPI))
		return "a GSSAPI token, which is not offered";
	if (rq->first > 1 || rq->len > sizeof rq->token)
		return "a malformed GSSAPI token";
	if (!rq->first)
		return p->gssapi_under_way ? NULL : "a GSSAPI token outside an exchange";
	return exchange_problem(p);
}

/* Why a request of the kind in in, received as r says, is unacceptable now, or NULL. */
static const char *request_problem(struct privsep_parent *p, const union message *in, const struct received *r,
				   size_t size)
{
	if (p->expect != AWAIT_REQUEST)
		return "a request out of order";
	if (r->len != size || r->nfds != 0)
		return "a request of the wrong size or with descriptors";
	if (in->kind == PRIVSEP_LOGIN)
		return login_problem(p, &in->login);
	if (in->kind == PRIVSEP_GSSAPI)
		return gssapi_problem(p, &in->gssapi);
	if (!login_allows(&p->policy, MECHANISM_NTLM))
		return "a challenge request, but NTLM is not offered or not allowed on this connection";
	if (in->challenge.ok != 0)
		return "a malformed challenge request";
	return exchange_problem(p);
}

/* Why a message is unacceptable now, or NULL. */
static const char *message_problem(struct privsep_parent *p, const union message *in, const struct received *r)
{
	if (r->truncated)
		return "an oversized message";
	if (r->len < sizeof in->kind)
		return "a message too short to have a kind";
	switch (in->kind) {
	case PRIVSEP_LOGIN:
		return request_problem(p, in, r, sizeof in->login);
	case PRIVSEP_CHALLENGE:
		return request_problem(p, in, r, sizeof in->challenge);
	case PRIVSEP_GSSAPI:
		return request_problem(p, in, r, sizeof in->gssapi);
	case PRIVSEP_HAND_OVER:
		if (p->expect != AWAIT_HAND_OVER)
			return "a hand-over without an accepted login";
		/* The header and the input_len octets of input it announces. */
		if (r->len < offsetof(struct privsep_hand_over, input) || r->nfds != CHANNEL_FDS_MAX ||
		    in->hand_over.input_len > sizeof in->hand_over.input ||
		    r->len != offsetof(struct privsep_hand_over, input) + in->hand_over.input_len)
			return "a malformed hand-over";
		return NULL;
	default:
		return "a message of unknown kind";
	}
}

/* In the parent: sends the child one message; false (logged) when that failed. */
static bool send_to_child(int fd, const void *msg, size_t len)
{
	ssize_t n = channel_send(fd, msg, len, NULL, 0);

	if (n != (ssize_t)len) {
		log_msg(LOG_ERR, "privilege separation: cannot write to the network process: %s",
			n < 0 ? strerror(errno) : "short send");
		return false;
	}
	return true;
}

/* Logs why the child is refused. */
static enum privsep_step refuse(const char *problem)
{
	log_msg(LOG_ERR, "privilege separation: %s from the network process; ending the session", problem);
	return STEP_REFUSED;
}

/* Sends a checked request's answer (len octets), once no other request is queued behind it, and
 * moves on: after LOGIN_OK (decided) to the hand-over, after the last failure to the end. */
static enum privsep_step send_answer(struct privsep_parent *p, const void *answer, size_t len, bool decided,
				     enum login_result result, enum mechanism mechanism)
{
	/* One request in flight: an honest child waits for each answer,
	 * failure delay included, before it asks again. */
	if (channel_message_waiting(p->fd)) {
		account_clear(&p->account);
		return refuse("a request before the answer to the previous one");
	}
	if (!send_to_child(p->fd, answer, len)) {
		account_clear(&p->account);
		return STEP_REFUSED;
	}
	if (decided && result == LOGIN_OK) {
		p->mechanism = mechanism;
		p->expect = AWAIT_HAND_OVER;
	} else if (decided && result == LOGIN_FAILED_LAST) {
		p->expect = AWAIT_END;
	}
	return STEP_ANSWERED;
}

/* Decides a checked login request and answers it. */
static enum privsep_step answer_login(struct privsep_parent *p, const struct privsep_login *rq)
{
	struct credential c = { .mechanism = (enum mechanism)rq->mechanism, .user = rq->user, .password = rq->secret,
				.domain = rq->domain, .domain_len = rq->domain_len,
				.response = rq->response, .response_len = rq->response_len };
	enum login_result result = p->decider->check(p->decider->self, &c, &p->account);
	struct privsep_answer a = { PRIVSEP_ANSWER, (uint32_t)result };

	if (c.mechanism == MECHANISM_NTLM)
		p->ntlm_challenge_out = false;
	return send_answer(p, &a, sizeof a, true, result, c.mechanism);
}

/* Issues an NTLM challenge for a checked request. */
static enum privsep_step answer_challenge(struct privsep_parent *p)
{
	struct privsep_challenge a = { PRIVSEP_CHALLENGE, 0, { 0 } };
	enum privsep_step step;

	p->ntlm_challenge_out = p->decider->ntlm_challenge(p->decider->self, a.challenge) == LOGIN_CONTINUE;
	a.ok = p->ntlm_challenge_out;
	step = send_answer(p, &a, sizeof a, false, LOGIN_FAILED, MECHANISM_NTLM);
	explicit_bzero(&a, sizeof a);
	return step;
}

/* Takes a checked GSSAPI token a step further and answers with a challenge or the login
 * decided. */
static enum privsep_step answer_gssapi(struct privsep_parent *p, const struct privsep_gssapi_request *rq)
{
	static struct privsep_gssapi_answer a;
	struct challenge out = { a.token, sizeof a.token, 0 };
	enum login_result result;

	memset(&a, 0, sizeof a);
	result = p->decider->gssapi_step(p->decider->self, rq->first == 1, rq->token, rq->len, &out, &p->account);
	p->gssapi_under_way = result == LOGIN_CONTINUE;
	a.kind = PRIVSEP_GSSAPI_ANSWER;
	a.decided = !p->gssapi_under_way;
	/* A challenge carries no result; the child reads it only once decided. */
	a.result = (uint32_t)(a.decided ? result : LOGIN_FAILED);
	a.len = (uint32_t)out.len;
	return send_answer(p, &a, sizeof a, a.decided, result, MECHANISM_GSSAPI);
}

/* Takes the client's descriptors and unused input from a checked hand-over. */
static enum privsep_step take_hand_over(struct privsep_parent *p, const struct privsep_hand_over *h,
					const struct received *r)
{
	p->client_in = r->fds[0];
	p->client_out = r->fds[1];
	p->input_len = h->input_len;
	memcpy(p->input, h->input, h->input_len);
	p->expect = AWAIT_END;
	return STEP_HANDED_OVER;
}

enum privsep_step privsep_parent_step(struct privsep_parent *p)
{
	/* Static: large, and it holds secrets until wiped below. */
	static union message in;
	struct received r;
	const char *problem;
	enum privsep_step step;

	if (channel_receive(p->fd, &in, sizeof in, &r) < 0) {
		log_msg(LOG_ERR, "privilege separation: receiving from the network process: %s", strerror(errno));
		return STEP_REFUSED;
	}
	if (r.len == 0 && r.nfds == 0 && channel_hung_up(p->fd))
		return STEP_ENDED;
	problem = r.len == 0 ? "an empty message" : message_problem(p, &in, &r);
	if (problem != NULL) {
		for (size_t i = 0; i < r.nfds; i++)
			close(r.fds[i]);
		step = refuse(problem);
	} else if (in.kind == PRIVSEP_LOGIN) {
		step = answer_login(p, &in.login);
	} else if (in.kind == PRIVSEP_CHALLENGE) {
		step = answer_challenge(p);
	} else if (in.kind == PRIVSEP_GSSAPI) {
		step = answer_gssapi(p, &in.gssapi);
	} else {
		step = take_hand_over(p, &in.hand_over, &r);
	}
	/* What came is wiped, and no more: the buffer is 64 KiB, and a page
	 * never touched costs memory for nothing. */
	explicit_bzero(&in, r.len < sizeof in ? r.len : sizeof in);
	return step;
}

