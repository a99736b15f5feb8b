/*
 * pam-accounts.c - users whose password PAM checks and whose account NSS
 * gives.
 */
#include "pam-accounts.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <shadow.h>
#include <string.h>
#include <time.h>

#include <security/pam_appl.h>

#include "log.h"
#include "params.h"
#include "password.h"
#include "system-accounts.h"
#include "util.h"

/* libpam is loaded only by sessions with passwd_file = pam (and, separated,
 * only by the root parent, which decides logins): a site without PAM, and
 * the network child, never map it. */
#define PAM_LIBRARY "libpam.so.0"

static struct libpam {
	bool loaded;
	__typeof__(pam_start) *start;
	__typeof__(pam_end) *end;
	__typeof__(pam_set_item) *set_item;
	__typeof__(pam_authenticate) *authenticate;
	__typeof__(pam_acct_mgmt) *acct_mgmt;
	__typeof__(pam_strerror) *strerror;
} pam;

#define PAM_SYMBOL(field) { "pam_" #field, offsetof(struct libpam, field) }

static const struct library_symbol pam_symbols[] = {
	PAM_SYMBOL(start), PAM_SYMBOL(end), PAM_SYMBOL(set_item), PAM_SYMBOL(authenticate),
	PAM_SYMBOL(acct_mgmt), PAM_SYMBOL(strerror),
};

/* Loads libpam into pam, once; false (logged) when it or a function is missing. */
static bool pam_load(void)
{
	return library_load_once(&pam.loaded, PAM_LIBRARY, pam_symbols, sizeof pam_symbols / sizeof *pam_symbols, &pam,
				 sizeof pam, LOG_ERR, "passwd_file = pam");
}

bool pam_ready(void)
{
	return pam_load();
}

/* What the conversation answers with. */
struct conversation {
	const char *user;
	const char *password;
};

/* Frees n answers, wiping each. */
static void free_answers(struct pam_response *answers, int n)
{
	for (int i = 0; i < n; i++) {
		if (answers[i].resp != NULL) {
			explicit_bzero(answers[i].resp, strlen(answers[i].resp));
			free(answers[i].resp);
		}
	}
	free(answers);
}

/* Answers one message of a module: the password to an echo-off prompt, the user name to an
 * echo-on one, nothing to a message for the user (logged); false for any other kind. */
static bool answer(const struct pam_message *m, const struct conversation *c, struct pam_response *out)
{
	switch (m->msg_style) {
	case PAM_PROMPT_ECHO_OFF:
		return (out->resp = strdup(c->password)) != NULL;
	case PAM_PROMPT_ECHO_ON:
		return (out->resp = strdup(c->user)) != NULL;
	case PAM_ERROR_MSG:
	case PAM_TEXT_INFO:
		log_msg(LOG_INFO, "PAM says to %s: %.200s", c->user, m->msg != NULL ? m->msg : "");
		return true;
	default:
		log_msg(LOG_WARNING, "PAM asked %s for a message of kind %d: refused", c->user, m->msg_style);
		return false;
	}
}

/* The conversation function (Linux-PAM passes an array of pointers to messages). */
static int converse(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_response *answers;

	*resp = NULL;
	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	answers = calloc((size_t)n, sizeof *answers);
	if (answers == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		if (!answer(msg[i], data, &answers[i])) {
			free_answers(answers, n);
			return PAM_CONV_ERR;
		}
	}
	*resp = answers;
	return PAM_SUCCESS;
}

/* PAM_FAIL_DELAY: the login decision sleeps its own delay after a failure, so PAM's is not
 * slept (pam_unix asks for two seconds). */
static void no_delay(int status, unsigned microseconds, void *data)
{
	(void)status, (void)microseconds, (void)data;
}

/* The PAM service q names, or the default when it names none. */
static const char *service_of(const struct account_query *q)
{
	return q->service != NULL ? q->service : PAM_SERVICE_DEFAULT;
}

/* Starts a PAM transaction for q's user with the conversation c and the items that name the
 * client; NULL (logged) when PAM cannot start. */
static pam_handle_t *pam_begin(const struct account_query *q, struct conversation *c, struct pam_conv *conv)
{
	pam_handle_t *h = NULL;
	int rc;

	if (!pam_load())
		return NULL;
	*conv = (struct pam_conv){ converse, c };
	rc = pam.start(service_of(q), q->user, conv, &h);
	if (rc != PAM_SUCCESS) {
		log_msg(LOG_ERR, "PAM service %s: pam_start: %s", service_of(q), h != NULL ? pam.strerror(h, rc) : "failed");
		if (h != NULL)
			pam.end(h, rc);
		return NULL;
	}
	if ((rc = pam.set_item(h, PAM_RHOST, q->client)) != PAM_SUCCESS ||
	    (rc = pam.set_item(h, PAM_RUSER, q->user)) != PAM_SUCCESS ||
	    (rc = pam.set_item(h, PAM_TTY, service_of(q))) != PAM_SUCCESS ||
	    (rc = pam.set_item(h, PAM_FAIL_DELAY, (const void *)(uintptr_t)no_delay)) != PAM_SUCCESS) {
		log_msg(LOG_ERR, "PAM service %s: pam_set_item: %s", service_of(q), pam.strerror(h, rc));
		pam.end(h, rc);
		return NULL;
	}
	return h;
}

/* What the shadow entry (through NSS: local or directory) says against the account, or NULL.
 * A PAM stack may answer an expired or locked account with the same code as a wrong password
 * (Debian's ends in pam_deny), and the log should say which. */
static const char *shadow_refusal(const char *user)
{
	char buf[PASSWD_ENTRY_BUFFER];
	struct spwd sp, *e = NULL;
	long today = (long)(time(NULL) / SECONDS_PER_DAY);
	const char *why = NULL;

	if (getspnam_r(user, &sp, buf, sizeof buf, &e) != 0 || e == NULL)
		e = NULL;
	else if (e->sp_pwdp != NULL && e->sp_pwdp[0] == '!')
		why = "account locked";
	else if (e->sp_expire >= 0 && today >= e->sp_expire)
		why = "account expired";
	else if (e->sp_lstchg == 0)
		why = "password must be changed";
	explicit_bzero(buf, sizeof buf);
	return why;
}

/* The reason a known account is refused, for the log, from PAM's answer to q's user at a step
 * (pam_authenticate or pam_acct_mgmt). */
static const char *refusal(const struct account_query *q, int rc, bool account_step)
{
	const char *shadow_why;

	switch (rc) {
	case PAM_ACCT_EXPIRED:
		return "account expired";
	case PAM_NEW_AUTHTOK_REQD:
		return "password must be changed";
	case PAM_AUTHTOK_EXPIRED:
		return "password expired";
	case PAM_PERM_DENIED:
		return "access denied";
	case PAM_MAXTRIES:
		return "too many tries";
	default:
		if ((shadow_why = shadow_refusal(q->user)) != NULL)
			return shadow_why;
		return account_step ? "refused by PAM's account checks" : "authentication failure";
	}
}

/* What PAM's answer means for a login, logging what is the server's fault. */
static enum verdict pam_verdict(pam_handle_t *h, const struct account_query *q, int rc, const char *step,
				const char **why)
{
	switch (rc) {
	case PAM_SUCCESS:
		return VERDICT_OK;
	case PAM_USER_UNKNOWN:
		return VERDICT_UNKNOWN;
	case PAM_AUTH_ERR:
	case PAM_CRED_INSUFFICIENT:
	case PAM_MAXTRIES:
	case PAM_ACCT_EXPIRED:
	case PAM_NEW_AUTHTOK_REQD:
	case PAM_AUTHTOK_EXPIRED:
	case PAM_PERM_DENIED:
		*why = refusal(q, rc, strcmp(step, "pam_acct_mgmt") == 0);
		return VERDICT_REFUSED;
	default:
		/* PAM_AUTHINFO_UNAVAIL (a directory down), a module missing
		 * or broken: the server's fault, not the client's password. */
		log_msg(LOG_ERR, "PAM service %s: %s for %s: %s", service_of(q), step, q->user, pam.strerror(h, rc));
		return VERDICT_UNAVAILABLE;
	}
}

/* Reads q's user's passwd entry through NSS (getpwnam_r) into out, with no hash: PAM holds
 * the password. */
static enum lookup_result nss_lookup(const struct account_query *q, struct account *out)
{
	size_t size = PASSWD_ENTRY_BUFFER;
	enum lookup_result found = LOOKUP_FAILED;
	struct passwd pw, *result = NULL;
	char *buf = NULL;
	int rc = ENOMEM;

	do {
		char *bigger = realloc(buf, size);

		if (bigger == NULL) {
			rc = ENOMEM;
			break;
		}
		buf = bigger;
		rc = getpwnam_r(q->user, &pw, buf, size, &result);
		size *= 2;
	} while (rc == ERANGE && size <= PASSWD_ENTRY_BUFFER_MAX);
	if (rc != 0 && rc != ENOENT && rc != ESRCH)
		log_msg(LOG_ERR, "cannot look up user %s: %s", q->user, strerror(rc));
	else if (result == NULL)
		found = LOOKUP_UNKNOWN;
	else
		found = account_from_passwd(result, "", "NSS", out);
	free(buf);
	return found;
}

/* Runs pam_authenticate, then (when it succeeded) pam_acct_mgmt, for q's user and password. */
static enum verdict authenticate(const struct account_query *q, const char *password, const char **why)
{
	struct conversation c = { q->user, password };
	struct pam_conv conv;
	pam_handle_t *h = pam_begin(q, &c, &conv);
	enum verdict v;
	int rc;

	if (h == NULL)
		return VERDICT_UNAVAILABLE;
	rc = pam.authenticate(h, PAM_DISALLOW_NULL_AUTHTOK);
	v = pam_verdict(h, q, rc, "pam_authenticate", why);
	if (v == VERDICT_OK) {
		rc = pam.acct_mgmt(h, PAM_DISALLOW_NULL_AUTHTOK);
		v = pam_verdict(h, q, rc, "pam_acct_mgmt", why);
	}
	pam.end(h, rc);
	return v;
}

static enum verdict pam_password_login(const struct account_query *q, const char *password, struct account *out,
				       const char **why)
{
	enum verdict v = authenticate(q, password, why);
	enum lookup_result found;

	if (v == VERDICT_UNAVAILABLE)
		return v;
	/* Every user is looked up, known or not, so the time an answer
	 * takes tells nothing; and a PAM stack answers an unknown user as
	 * a wrong password, which NSS tells apart for the log. */
	found = nss_lookup(q, out);
	if (found == LOOKUP_FAILED)
		return VERDICT_UNAVAILABLE;
	if (found == LOOKUP_UNKNOWN) {
		if (v == VERDICT_OK)
			log_msg(LOG_NOTICE, "PAM accepted %s, but NSS knows no such user", q->user);
		/* pam_unix answers an unknown user without hashing: the
		 * hashes a real user's check costs are done here, of the
		 * method the shadow entries it checks use.  Another stack
		 * (a directory, Kerberos) decides its own costs. */
		for (int i = 0; i < PAM_UNKNOWN_USER_HASHES; i++)
			(void)password_ok(NULL, password, system_dummy_setting());
		return VERDICT_UNKNOWN;
	}
	if (v == VERDICT_UNKNOWN) {
		*why = "unknown to PAM";
		return VERDICT_REFUSED;
	}
	return v;
}

static enum verdict pam_account_state(const struct account_query *q, const struct account *a, const char **why)
{
	struct conversation c = { q->user, "" };
	struct pam_conv conv;
	pam_handle_t *h = pam_begin(q, &c, &conv);
	enum verdict v;
	int rc;

	(void)a;	/* PAM knows the account by its name */
	if (h == NULL)
		return VERDICT_UNAVAILABLE;
	rc = pam.acct_mgmt(h, PAM_DISALLOW_NULL_AUTHTOK);
	v = pam_verdict(h, q, rc, "pam_acct_mgmt", why);
	pam.end(h, rc);
	if (v == VERDICT_UNKNOWN) {
		*why = "unknown to PAM";
		v = VERDICT_REFUSED;
	}
	return v;
}

const struct account_source pam_accounts = {
	.keyword = "pam",
	.description = "the accounts PAM checks",
	.nt_hashes = false,
	.lookup = nss_lookup,
	.password_login = pam_password_login,
	.account_state = pam_account_state,
};
