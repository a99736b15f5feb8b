/*
 * privsep.h - privilege separation before login.  Started as root, the
 * handler forks at once.  The child talks to the client for the whole
 * AUTHORIZATION state as privsep_user, chrooted to the empty privsep_dir,
 * with supplementary groups cleared and no-new-privileges set; for each
 * login attempt it sends the root parent one fixed-size request over a
 * socket pair (for NTLM it also asks for the challenge; a GSSAPI token it
 * relays as it came, decoded from base64, and relays the answer).  The
 * parent holds no descriptor of the client meanwhile,
 * treats every message as hostile, decides each login with the session's
 * login guard (so the failure delay and count are out of the child's
 * reach) and answers.  After an accepted login the child hands over the
 * client's descriptors with the input it read but did not use, and exits;
 * the parent becomes the mail user and serves the TRANSACTION state.
 */
#ifndef POP3_PRIVSEP_H
#define POP3_PRIVSEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "io.h"
#include "login.h"
#include "params.h"

/* --- The messages on the socket pair (SOCK_SEQPACKET: one a datagram) --- */

enum privsep_kind {
	PRIVSEP_LOGIN = 0x4c4f474e,	/* "LOGN": child to parent, a struct privsep_login */
	PRIVSEP_HAND_OVER = 0x48414e44,	/* "HAND": child to parent, a struct privsep_hand_over */
	PRIVSEP_ANSWER = 0x414e5357,	/* "ANSW": parent to child, a struct privsep_answer */
	/* "STRT": parent to child, a struct privsep_answer (result 0): the parent holds nothing of
	 * the client, the child may start */
	PRIVSEP_START = 0x53545254,
	PRIVSEP_CHALLENGE = 0x4348414c,	/* "CHAL": either way, a struct privsep_challenge */
	PRIVSEP_GSSAPI = 0x47535350,	/* "GSSP": child to parent, a struct privsep_gssapi_request */
	/* "GSSA": parent to child, a struct privsep_gssapi_answer */
	PRIVSEP_GSSAPI_ANSWER = 0x47535341,
};

/* One login attempt.  Strings are NUL-terminated at their length. */
struct privsep_login {
	uint32_t kind;
	uint32_t mechanism;		/* enum mechanism: USER, PLAIN or NTLM */
	uint32_t user_len;		/* 0: a name the child would not accept */
	uint32_t secret_len;		/* USER, PLAIN: the password */
	uint32_t domain_len;		/* NTLM: the client's domain, UTF-16LE */
	uint32_t response_len;		/* NTLM: its NtChallengeResponse */
	char user[USER_NAME_MAX + 1];
	char secret[PRIVSEP_SECRET_MAX + 1];
	unsigned char domain[NTLM_DOMAIN_MAX];
	unsigned char response[NTLM_RESPONSE_MAX];
};

/* A request for an NTLM server challenge (ok and challenge zero), and the answer. */
struct privsep_challenge {
	uint32_t kind;
	uint32_t ok;
	unsigned char challenge[NTLM_CHALLENGE_SIZE];
};

/* One client response of a SASL GSSAPI exchange, decoded. */
struct privsep_gssapi_request {
	uint32_t kind;
	uint32_t first;			/* 1: it starts a new exchange */
	uint32_t len;
	unsigned char token[GSSAPI_TOKEN_MAX];
};

/* The parent's answer: a challenge to send, or the login decided. */
struct privsep_gssapi_answer {
	uint32_t kind;
	uint32_t decided;		/* 0: send token as the next challenge; 1: see result */
	uint32_t result;		/* enum login_result */
	uint32_t len;
	unsigned char token[SASL_CHALLENGE_MAX];
};

/* After LOGIN_OK, with the client's input and output descriptors attached (SCM_RIGHTS); sent
 * as its header and the input_len octets of input in use, no more. */
struct privsep_hand_over {
	uint32_t kind;
	uint32_t input_len;
	char input[INPUT_BUFFER_SIZE];	/* client input read but not yet used */
};

struct privsep_answer {
	uint32_t kind;
	uint32_t result;		/* enum login_result */
};

/* --- Start --- */

/* Where the child is locked in: looked up and checked before the fork. */
struct privsep_jail {
	uid_t uid;
	gid_t gid;
	int dirfd;			/* privsep_dir, open */
	bool confine;			/* confine the child (confine.h) once it is in */
};

/* Looks up user (not root) and opens dir, which must be an empty directory, not a symbolic
 * link, owned by root and not writable by group or others; false with the reason in err.
 * The jail confines its child (confine set true). */
bool privsep_jail_open(const char *user, const char *dir, struct privsep_jail *jail, char *err,
		       size_t errlen);

enum privsep_role { PRIVSEP_CHILD, PRIVSEP_PARENT, PRIVSEP_FAILED };

/* Forks: the parent gets its end of the socket pair in *fd and the child in *child, and puts
 * /dev/null on descriptors 0 and 1 (and 2 unless keep_stderr) so that it holds nothing of the
 * client; the child enters the jail, waits until the parent is done, and gets its end in *fd
 * (or exits with status 1, logged).  PRIVSEP_FAILED (logged) is the parent's, which must then
 * exit; the child must end with _exit(). */
enum privsep_role privsep_fork(struct privsep_jail *jail, bool keep_stderr, int *fd, pid_t *child);

/* --- The child --- */

/* The child's side of the channel. */
struct privsep_child {
	int fd;				/* the child's end of the socket pair */
	struct output *out;		/* the client's output, flushed before the parent may reply */
};

/* Makes door carry each request across the channel to the parent and bring back its answer
 * (LOGIN_LOST, logged, when the parent could not be asked or did not answer properly); a
 * credential is wiped from the request once sent.  check() and gssapi_step() write out
 * every earlier reply first, since after a login the parent replies next; they fill no
 * account.  admit() hands the parent the client's descriptors and the input read but not
 * used (ADMIT_HANDED_OVER, a failure logged): from then on the parent serves the client. */
void privsep_door_open(struct login_door *door, struct privsep_child *child);

/* --- The parent --- */

/* The parent's side: the channel, what it expects next, and the login. */
struct privsep_parent {
	int fd;				/* the parent's end of the socket pair */
	const struct login_door *decider;	/* decides each login (auth.c's door) */
	struct login_policy policy;	/* what the child must have applied */
	unsigned exchanges;		/* login exchanges the child started */
	bool ntlm_challenge_out;	/* an NTLM challenge awaits its one answer */
	bool gssapi_under_way;		/* a GSSAPI exchange awaits its next token */
	enum { AWAIT_REQUEST, AWAIT_HAND_OVER, AWAIT_END } expect;
	/* After LOGIN_OK, and from the hand-over: */
	struct account account;
	enum mechanism mechanism;
	int client_in, client_out;
	size_t input_len;
	char input[INPUT_BUFFER_SIZE];
};

/* Prepares the parent's side on fd, deciding with decider under the session's policy. */
void privsep_parent_init(struct privsep_parent *p, int fd, const struct login_door *decider,
			 const struct login_policy *policy);

enum privsep_step {
	STEP_ANSWERED,		/* a request was checked and answered */
	STEP_HANDED_OVER,	/* the hand-over arrived: p holds the login */
	STEP_ENDED,		/* the child closed its end */
	STEP_REFUSED,		/* malformed, oversized, surplus, out of order, or the channel failed */
};

/* Receives one message from the child and acts on it: checks and answers a login, challenge or
 * GSSAPI request, or takes the hand-over after LOGIN_OK. */
enum privsep_step privsep_parent_step(struct privsep_parent *p);

/* Serves the child until the hand-over (true), or until it ends or is refused and killed
 * (false, with *status the exit status for this process); the child is reaped either way. */
bool privsep_parent_serve(struct privsep_parent *p, pid_t child, int *status);

#endif
