/*
 * auth.c - the login decision: who the user is, whether the proof holds,
 * what a failure costs, and the change to the account's user.
 */
#include "auth.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "become.h"
#include "io.h"
#include "log.h"
#include "password.h"
#include "userdb.h"

/* Sleeps whole seconds, resuming after signals. */
static void sleep_seconds(unsigned seconds)
{
	struct timespec t = { (time_t)seconds, 0 };

	while (nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

/* Logs a failed login (user NULL: the mechanism's exchange failed before it named one; why:
 * the account source's reason, or NULL), and the failure that closes the session, each on one
 * line with the client's address (what fail2ban's filter reads); sleeps the failure delay and
 * counts it. */
static enum login_result login_failed(struct login_guard *g, const char *user, bool known, enum mechanism mechanism,
				      const char *why)
{
	const char *name = mechanism_name(mechanism);

	if (user == NULL)
		log_msg(LOG_NOTICE, "failed login: %s exchange failed, client=%s", name, g->client);
	else if (known)
		log_msg(LOG_NOTICE, "failed login user=%s mechanism=%s client=%s%s%s", user, name, g->client,
			why != NULL ? " reason=" : "", why != NULL ? why : "");
	else
		log_msg(LOG_NOTICE, "failed login: unknown user, mechanism=%s client=%s", name, g->client);
	if (++g->failures >= g->max_failures)
		log_msg(LOG_NOTICE, "failed login: too many failures (%u), closing the session, client=%s",
			g->failures, g->client);
	sleep_seconds(g->fail_delay);
	return g->failures >= g->max_failures ? LOGIN_FAILED_LAST : LOGIN_FAILED;
}

/* The account source a login asks, and what it asks. */
struct source {
	const struct account_source *db;	/* NULL when passwd_file names none */
	struct account_query query;
};

/* Tells whether an account may log in whatever proves its identity (a mechanism that needs
 * no password: GSSAPI, or NTLM with needs_nt_hash), logging why not. */
static enum verdict account_state(const struct source *src, const struct account *a, bool needs_nt_hash)
{
	const char *why = "refused by the user database";
	enum verdict v = src->db->account_state(&src->query, a, &why);

	if (v == VERDICT_REFUSED) {
		log_msg(LOG_NOTICE, "user %s: %s", a->name, why);
	} else if (v == VERDICT_OK && needs_nt_hash && !a->has_nt_hash) {
		log_msg(LOG_NOTICE, "user %s has no NT hash in the user database: NTLM cannot log in", a->name);
		v = VERDICT_REFUSED;
	}
	return v;
}

/* Checks an NTLMv2 answer to the challenge in the guard (answerable: it was issued and not
 * answered before); an unknown user, a locked account or one without an NT hash costs the
 * same HMACs and fails. */
static bool ntlm_answer_ok(struct login_guard *g, const struct source *src, const struct account *a,
			   const struct credential *c, bool answerable)
{
	static const unsigned char no_hash[NTLM_HASH_SIZE];
	bool usable = a != NULL && account_state(src, a, true) == VERDICT_OK && answerable;
	bool ok = ntlm_v2_ok(usable ? a->nt_hash : no_hash, c->user, c->domain, c->domain_len, g->ntlm_challenge,
			     c->response, c->response_len);

	if (ok && usable && !ntlm_domain_ok(c->domain, c->domain_len, g->ntlm_domain)) {
		log_msg(LOG_NOTICE, "user %s: NTLM login names a domain other than %s", c->user, g->ntlm_domain);
		ok = false;
	}
	return ok && usable;
}

/* Tells whether this process may serve the account (root: any uid and gid but 0 and, when
 * jailed, but the pre-login child's, which every client's child shares; another user: only its
 * own uid), logging a refusal. */
static bool may_serve(const struct login_guard *g, const struct account *a)
{
	bool ok = geteuid() == 0 ? a->uid != 0 && a->gid != 0 : a->uid == getuid() && a->uid == geteuid();

	if (!ok) {
		log_msg(LOG_ERR, "user %s: uid %u may not be served by this process", a->name, (unsigned)a->uid);
	} else if (g->jailed && (a->uid == g->jail_uid || a->gid == g->jail_gid)) {
		log_msg(LOG_ERR, "user %s: uid %u or gid %u is privsep_user's, which every client's pre-login "
			"process runs as: refused", a->name, (unsigned)a->uid, (unsigned)a->gid);
		ok = false;
	}
	return ok;
}

/* Tells whether the query names a source to ask, logging when it does not. */
static bool source_known(const struct source *src)
{
	if (src->db == NULL)
		log_msg(LOG_ERR, "passwd_file %s names no user database", src->query.setting);
	return src->db != NULL;
}

/* A password login: the source checks the password and finds the account. */
static enum verdict password_verdict(const struct source *src, const char *password, struct account *out,
				     const char **why)
{
	/* A name the session would not accept reaches no source, and costs
	 * what a real check costs (of the default method: such a name is
	 * unknown to every database, and the client knows it). */
	if (src->query.user[0] == '\0') {
		(void)password_ok(NULL, password, NULL);
		return VERDICT_UNKNOWN;
	}
	if (!source_known(src))
		return VERDICT_UNAVAILABLE;
	return src->db->password_login(&src->query, password, out, why);
}

/* A login whose mechanism proves the identity itself: the account looked up, then the NTLMv2
 * answer (c, answerable) or, for GSSAPI (c NULL), the account's state checked. */
static enum verdict identity_verdict(struct login_guard *g, const struct source *src, const struct credential *c,
				     bool answerable, struct account *out)
{
	enum lookup_result found;

	if (src->query.user[0] == '\0')
		found = LOOKUP_UNKNOWN;
	else if (!source_known(src))
		found = LOOKUP_FAILED;
	else
		found = src->db->lookup(&src->query, out);
	if (found == LOOKUP_FAILED)
		return VERDICT_UNAVAILABLE;
	if (c != NULL && ntlm_answer_ok(g, src, found == LOOKUP_FOUND ? out : NULL, c, answerable))
		return VERDICT_OK;
	if (c != NULL || found == LOOKUP_UNKNOWN)
		return found == LOOKUP_FOUND ? VERDICT_REFUSED : VERDICT_UNKNOWN;
	return account_state(src, out, false);
}

/* Decides a login of user by mechanism with a credential, or (c NULL) of a user whose
 * identity the mechanism proved (GSSAPI). */
static enum login_result decide_login(struct login_guard *g, const char *user, enum mechanism mechanism,
				      const struct credential *c, struct account *out)
{
	struct source src = { userdb_named(g->passwd_file), { g->passwd_file, user, g->client, g->service } };
	bool ntlm = mechanism == MECHANISM_NTLM;
	/* An NTLM answer uses its challenge up, whatever comes of it (the
	 * user database unreadable included): no response is tried twice. */
	bool answerable = ntlm && g->ntlm_challenge_issued;
	const char *why = NULL;
	enum login_result result;
	enum verdict v;

	struct io_deadline deadline;

	g->ntlm_challenge_issued = g->ntlm_challenge_issued && !ntlm;
	memset(out, 0, sizeof *out);
	/* A source that hangs (a PAM module, a directory) ends the session
	 * when its authorization timer would. */
	io_deadline_begin(&deadline, g->decision_timeout);
	if (c != NULL && mechanism_plaintext(mechanism))
		v = password_verdict(&src, c->password, out, &why);
	else
		v = identity_verdict(g, &src, c, answerable, out);
	io_deadline_end(&deadline);
	if (v == VERDICT_OK)
		result = may_serve(g, out) ? LOGIN_OK : LOGIN_REFUSED;
	else if (v == VERDICT_UNAVAILABLE)
		result = LOGIN_UNAVAILABLE;
	else
		result = login_failed(g, user, v == VERDICT_REFUSED, mechanism, why);
	if (ntlm)
		explicit_bzero(g->ntlm_challenge, sizeof g->ntlm_challenge);
	if (result != LOGIN_OK)
		account_clear(out);
	return result;
}

/* The door's check(): every credential names its user. */
static enum login_result auth_check(void *self, const struct credential *c, struct account *out)
{
	return decide_login(self, c->user, c->mechanism, c, out);
}

static enum login_result auth_ntlm_challenge(void *self, unsigned char challenge[NTLM_CHALLENGE_SIZE])
{
	struct login_guard *g = self;
	ssize_t n;

	do
		n = getrandom(g->ntlm_challenge, sizeof g->ntlm_challenge, 0);
	while (n < 0 && errno == EINTR);
	g->ntlm_challenge_issued = n == (ssize_t)sizeof g->ntlm_challenge;
	if (!g->ntlm_challenge_issued) {
		log_msg(LOG_ERR, "cannot make an NTLM challenge: getrandom: %s",
			n < 0 ? strerror(errno) : "short read");
		return LOGIN_UNAVAILABLE;
	}
	memcpy(challenge, g->ntlm_challenge, sizeof g->ntlm_challenge);
	return LOGIN_CONTINUE;
}

static enum login_result auth_gssapi_step(void *self, bool first, const unsigned char *in, size_t in_len,
					  struct challenge *out, struct account *a)
{
	struct login_guard *g = self;
	enum gssapi_step step;
	struct io_deadline deadline;

	memset(a, 0, sizeof *a);
	/* A helper that hangs ends the session when its authorization
	 * timer would. */
	io_deadline_begin(&deadline, g->decision_timeout);
	step = gssapi_helper_step(&g->gssapi, first, in, in_len, out->data, out->size, &out->len);
	io_deadline_end(&deadline);
	if (step == GSSAPI_CONTINUE)
		return LOGIN_CONTINUE;
	if (step == GSSAPI_FAILED)
		return login_failed(g, NULL, false, MECHANISM_GSSAPI, NULL);
	return decide_login(g, g->gssapi.user, MECHANISM_GSSAPI, NULL, a);
}

static enum admission auth_admit(void *self, const struct account *a, const struct client_handle *client)
{
	(void)client;	/* the client stays where it is: here */
	if (!may_serve(self, a))
		return ADMIT_FAILED;
	return geteuid() != 0 || become_user(a->uid, a->gid) ? ADMIT_SERVE_HERE : ADMIT_FAILED;
}

void auth_door_open(struct login_door *door, struct login_guard *guard)
{
	*door = (struct login_door){ auth_check, auth_ntlm_challenge, auth_gssapi_step, auth_admit, guard };
}
