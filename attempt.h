/*
 * attempt.h - a login attempt as the session makes it: the policy fixed at
 * the start, the user named, the exchange counted, the credential taken to
 * the login door, and the reply to what the door decided (after a login,
 * the mailbox opens here or the client is handed over).
 */
#ifndef POP3_ATTEMPT_H
#define POP3_ATTEMPT_H

#include <stdbool.h>
#include <stddef.h>

#include "login.h"
#include "session.h"

/* Fixes the session's login policy: USER/PASS and PLAIN allowed when plaintext_auth says so
 * (secure: with tls = yes or a local client), NTLM offered when ntlm = yes and nettle loads
 * and allowed when the connection is secure, plaintext_auth = yes or ntlm_plaintext = yes,
 * GSSAPI when the keytab is usable; at most max_auth_failures + AUTH_EXTRA_EXCHANGES
 * exchanges. */
void attempt_policy(struct session *s);

/* Tells whether the session offers a mechanism. */
bool attempt_offered(const struct session *s, enum mechanism m);

/* Takes the name a client sent as the user to log in: "" when it is not one we accept, so
 * that it fails as an unknown user. */
void attempt_set_user(struct session *s, const char *name, size_t len);

/* Counts the start of a login exchange; false, with the reply closing the session, once too
 * many have started. */
bool attempt_begin(struct session *s, struct reply *r);

/* Refuses a login by mechanism m, which the policy does not allow on this connection
 * (plaintext, or NTLM, without TLS), logging the first refusal of the session with the
 * client's address. */
void attempt_refuse(struct session *s, enum mechanism m, struct reply *r);

/* Takes a credential for the user named to the door and replies with its decision. */
void attempt_login(struct session *s, const struct credential *c, struct reply *r);

/* Replies to a decided login (result not LOGIN_CONTINUE): on LOGIN_OK the account a is
 * admitted (attempt_enter); a failure says so; LOGIN_LOST ends the session without a word. */
void attempt_decided(struct session *s, enum login_result result, const struct account *a,
		     enum mechanism mechanism, struct reply *r);

/* Admits a logged-in account through the door: this process becomes its user and opens its
 * mailbox, or the client is handed over (no reply: the session ends here). */
void attempt_enter(struct session *s, const struct account *a, enum mechanism mechanism,
		   struct reply *r);

#endif
