/*
 * login.h - the one seam between a session and whoever decides its logins:
 * the mechanisms, what a client offers as proof, what a decision can come
 * to, and the door the session knocks at.  auth.c opens a door in this
 * process; privsep-child.c one that carries each request across the privilege
 * boundary to a root parent, which answers it through auth.c's door.  The
 * session calls the door and never asks which side it is on.
 */
#ifndef POP3_LOGIN_H
#define POP3_LOGIN_H

#include <stdbool.h>
#include <stddef.h>

#include "ntlm.h"
#include "params.h"
#include "account.h"

/* The ways to log in.  The values travel between the processes of a separated session: new
 * ones go last, with their row in login.c's table. */
enum mechanism { MECHANISM_USER, MECHANISM_PLAIN, MECHANISM_NTLM, MECHANISM_GSSAPI, MECHANISMS };

/* A mechanism's bit in a set of them. */
#define MECHANISM_BIT(m) (1u << (m))

/* The name of a mechanism, as logs and AUTH give it ("?" for none). */
const char *mechanism_name(enum mechanism m);

/* Tells whether a mechanism sends the password in the clear (USER/PASS, SASL PLAIN): the
 * plaintext policy applies to it. */
bool mechanism_plaintext(enum mechanism m);

/* What a session allows, fixed at its start: the same in the network child and in the
 * root parent that checks the child's requests against it. */
struct login_policy {
	unsigned offered;		/* MECHANISM_BITs configured and ready */
	bool plaintext_ok;		/* USER/PASS and PLAIN allowed on this connection */
	bool ntlm_ok;			/* NTLM allowed on this connection */
	unsigned max_exchanges;		/* login exchanges a session may start */
};

/* Tells whether the client may use mechanism m now: offered, and allowed on this connection
 * (USER and PLAIN by plaintext_ok, NTLM by ntlm_ok). */
bool login_allows(const struct login_policy *p, enum mechanism m);

/* A login attempt: who, by which mechanism, with which proof. */
struct credential {
	enum mechanism mechanism;	/* USER, PLAIN or NTLM */
	const char *user;		/* "" for a name the session would not take: unknown */
	const char *password;		/* USER, PLAIN */
	const unsigned char *domain;	/* NTLM: UTF-16LE, as the client sent it */
	size_t domain_len;
	const unsigned char *response;	/* NTLM: NtChallengeResponse (NTProofStr and blob) */
	size_t response_len;
};

/* What a request at the door came to. */
enum login_result {
	LOGIN_OK,		/* the account is filled in (separated: the hand-over follows) */
	LOGIN_FAILED,		/* unknown user or wrong proof: logged, delayed, counted */
	LOGIN_FAILED_LAST,	/* the same, and the last one allowed: close the session */
	LOGIN_UNAVAILABLE,	/* the user database (or randomness) could not be had (logged) */
	LOGIN_REFUSED,		/* right proof, but this process may not serve the account (logged) */
	LOGIN_CONTINUE,		/* the exchange goes on: send the challenge given */
	LOGIN_LOST,		/* the decider could not be asked (logged): end without a word */
};

/* A challenge for the client, written by the door. */
struct challenge {
	unsigned char *data;
	size_t size;		/* room in data */
	size_t len;		/* octets written */
};

/* What becomes of a session after LOGIN_OK. */
enum admission {
	ADMIT_SERVE_HERE,	/* this process is now the account's user: serve TRANSACTION */
	ADMIT_HANDED_OVER,	/* the client went to the parent, which serves it (or failed: logged) */
	ADMIT_FAILED,		/* the change to the account's user failed (logged): close */
};

/* The client's side of a session that is handed over after a login. */
struct client_handle {
	int in_fd, out_fd;
	const char *pending;	/* input read but not yet used */
	size_t pending_len;
};

/* A door: the four requests a session makes, and the state they keep (self). */
struct login_door {
	/* Decides a login with a credential; on LOGIN_OK in this process *out holds the account,
	 * otherwise it is wiped. */
	enum login_result (*check)(void *self, const struct credential *c, struct account *out);
	/* Issues a fresh NTLM server challenge into challenge and keeps it for the one login that
	 * may answer it: LOGIN_CONTINUE, LOGIN_UNAVAILABLE (no randomness) or LOGIN_LOST. */
	enum login_result (*ntlm_challenge)(void *self,
					    unsigned char challenge[NTLM_CHALLENGE_SIZE]);
	/* Takes one client response of a SASL GSSAPI exchange (first: it starts a new one):
	 * LOGIN_CONTINUE with the next challenge in *out, or the login decided as check()
	 * decides it, for the user the principal maps to (a failed exchange is a failed login). */
	enum login_result (*gssapi_step)(void *self, bool first, const unsigned char *in,
					 size_t in_len, struct challenge *out, struct account *a);
	/* After LOGIN_OK: becomes the account's user, or hands the client over. */
	enum admission (*admit)(void *self, const struct account *a,
				const struct client_handle *client);
	void *self;
};

#endif
