/*
 * gssapi-helper.h - SASL GSSAPI with MIT Kerberos kept out of the process
 * that decides logins.  The unauthenticated client's tokens are parsed by
 * gss_accept_sec_context, a large body of ASN.1 and crypto code: it runs
 * in a helper process forked for each exchange, which holds the keytab's
 * pop/ keys only (in a MEMORY: keytab), runs as an unprivileged user with
 * no-new-privileges and a seccomp allow-list, and answers token by token
 * over a socket pair with fixed-size messages.  This side checks every
 * octet of an answer as hostile.
 */
#ifndef POP3_GSSAPI_HELPER_H
#define POP3_GSSAPI_HELPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gssapi.h"
#include "params.h"

/* --- The messages on the socket pair (SOCK_SEQPACKET: one a datagram) --- */

enum gssapi_helper_kind {
	GSSAPI_HELPER_TOKEN = 0x47544f4b,	/* "GTOK": to the helper, a struct gssapi_helper_request */
	GSSAPI_HELPER_ANSWER = 0x4741534e,	/* "GASN": from it, a struct gssapi_helper_answer */
};

/* One decoded client response. */
struct gssapi_helper_request {
	uint32_t kind;
	uint32_t len;
	unsigned char token[GSSAPI_TOKEN_MAX];
};

/* The helper's answer: the step's result (enum gssapi_step), the token to send after
 * GSSAPI_CONTINUE, the mapped user after GSSAPI_DONE (NUL-terminated, else all zero). */
struct gssapi_helper_answer {
	uint32_t kind;
	uint32_t step;
	uint32_t len;
	unsigned char token[SASL_CHALLENGE_MAX];
	char user[USER_NAME_MAX + 1];
};

/* --- The helper --- */

/* Sets no-new-privileges, makes this process undumpable (no ptrace, no core) and installs the
 * helper's seccomp allow-list: what accepting a context with a MEMORY: keytab, the replay
 * cache and the channel need; any other call kills the process.  For a process that has
 * already read krb5.conf and got its credentials (gssapi_ready()).  False with errno set;
 * CONFINE_NO_SECCOMP in *missing when the kernel lacks seccomp filters. */
bool gssapi_helper_confine(unsigned *missing);

/* --- The side that decides logins --- */

struct gssapi_helper {
	const char *keytab;
	const char *realm;		/* whose principals map to users; "" for the default realm */
	bool change_user;		/* the helper runs as uid and gid, not as this process's user */
	uid_t uid;
	gid_t gid;
	pid_t pid;			/* the helper of the exchange under way, or -1 */
	int fd;				/* this side's end of its socket pair, or -1 */
	char user[USER_NAME_MAX + 1];	/* the mapped local user, after GSSAPI_DONE */
};

/* Prepares h for exchanges with the keytab at path, mapping principals of realm (as
 * gssapi_init()); the strings must outlive it.  The helper runs as this process's user. */
void gssapi_helper_init(struct gssapi_helper *h, const char *keytab, const char *realm);

/* Makes the helpers started from now on run as uid and gid (this process being root). */
void gssapi_helper_run_as(struct gssapi_helper *h, uid_t uid, gid_t gid);

/* Takes one decoded client response as gssapi_step() does, in the helper: first (or no helper
 * running) starts a new one for a new exchange, its pop/ keys read from the keytab here.  The
 * helper ends after GSSAPI_DONE (then h->user names the user) and GSSAPI_FAILED, or when its
 * answer is malformed (GSSAPI_FAILED, logged): a length past its buffer or out_size, an
 * unknown result, a token with a result that has none, a user name that is not
 * NUL-terminated or that user_name_ok() refuses. */
enum gssapi_step gssapi_helper_step(struct gssapi_helper *h, bool first, const unsigned char *in, size_t in_len,
				    unsigned char *out, size_t out_size, size_t *out_len);

/* Ends the helper under way, if any (killed and reaped); h stays usable. */
void gssapi_helper_stop(struct gssapi_helper *h);

#endif
