/*
 * gssapi.h - the server side of SASL GSSAPI (RFC 4752) with Kerberos 5
 * (RFC 4121) through MIT Kerberos: the security context is accepted with
 * a key for the service "pop" (pop/<host>@REALM) from a keytab, then the
 * security layer is negotiated (we offer none: TLS protects the session),
 * then the client principal is mapped to a local user name.  Runs in the
 * confined helper of gssapi-helper.h, which the side that decides logins
 * gives the service keys (read here from the keytab).  Failures are logged
 * with the GSS major and minor status text, never with tokens.
 */
#ifndef POP3_GSSAPI_H
#define POP3_GSSAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gssapi/gssapi.h>

#include "params.h"

/* Tells whether GSSAPI can be offered: acceptor credentials for the service "pop" (any host
 * name) can be had from the keytab at path, MIT Kerberos loaded to get them.  Cheap when the
 * keytab does not exist; why a keytab is unusable is logged at LOG_DEBUG, a library missing at
 * LOG_WARNING. */
bool gssapi_available(const char *keytab);

/* The realm of libkrb5's configuration (krb5.conf's default_realm) in realm; false (logged)
 * when there is none. */
bool gssapi_default_realm(char *realm, size_t size);

/* One service key from a keytab, of a fixed size to travel whole. */
struct gssapi_key {
	char principal[GSSAPI_PRINCIPAL_MAX + 1];	/* pop/<host>@REALM, NUL-terminated */
	uint32_t kvno;
	int32_t enctype;
	uint32_t len;
	unsigned char contents[GSSAPI_KEY_MAX];
};

/* Reads the keys of the service "pop" (pop/<host>@REALM, any host) from the keytab at path into
 * keys (room for max) and their number into *count; false (logged) when the keytab cannot be
 * read, holds none, or more than max.  The keys are secrets: the caller wipes them. */
bool gssapi_service_keys(const char *keytab, struct gssapi_key *keys, size_t max, size_t *count);

/* Makes the MIT memory keytab name ("MEMORY:..."), which gssapi_init() may then be given, hold
 * the count keys; it lasts as long as this process.  False (logged) when libkrb5 refuses. */
bool gssapi_memory_keytab(const char *name, const struct gssapi_key *keys, size_t count);

/* One SASL GSSAPI exchange. */
struct gssapi_exchange {
	const char *keytab;
	const char *realm;		/* whose principals map to users; "" for the default realm */
	enum { GSSAPI_IDLE, GSSAPI_ACCEPTING, GSSAPI_FINAL_TOKEN_SENT, GSSAPI_LAYER_OFFERED } state;
	unsigned steps;			/* tokens taken so far */
	gss_cred_id_t cred;
	gss_ctx_id_t ctx;
	char user[USER_NAME_MAX + 1];	/* the mapped local user, once the context is complete */
};

enum gssapi_step {
	GSSAPI_CONTINUE,	/* send the output token as the next challenge ("+ base64") */
	GSSAPI_DONE,		/* authenticated: x->user is the local user name */
	GSSAPI_FAILED,		/* the exchange is over (logged); x is back to idle */
};

/* Prepares an idle exchange using the keytab at path and mapping principals of realm ("" for
 * libkrb5's default realm); the strings must outlive it. */
void gssapi_init(struct gssapi_exchange *x, const char *keytab, const char *realm);

/* Gets the acceptor credentials of the exchange ahead of its first response, which otherwise
 * gets them: importing the service name asks for the host's name (and the resolver's
 * configuration), which a confined process may not.  False (logged) when it cannot; x is idle
 * then. */
bool gssapi_ready(struct gssapi_exchange *x);

/* Takes one decoded client response (in the idle state it starts an exchange; gssapi_reset()
 * drops one under way): accepts the context token by token, offers no security layer once it is
 * complete, and checks the client's choice (no layer; an authorization identity that is empty,
 * the mapped user, or the principal user@realm itself).  CONTINUE with *out_len octets in out
 * to send; DONE once the principal user@realm mapped to a user name auth_user_name_ok()
 * accepts; FAILED (logged) for a bad token, a principal of another realm or with an instance, a
 * wrong choice, more than GSSAPI_STEPS_MAX tokens, or an output token larger than out_size. */
enum gssapi_step gssapi_step(struct gssapi_exchange *x, const unsigned char *in, size_t in_len,
			     unsigned char *out, size_t out_size, size_t *out_len);

/* Ends the exchange, freeing its GSS objects; x stays usable (idle). */
void gssapi_reset(struct gssapi_exchange *x);

#endif
