/*
 * privsep.h - privilege separation before login.  Started as root, the
 * handler forks at once.  The child talks to the client for the whole
 * AUTHORIZATION state as privsep_user, chrooted to the empty privsep_dir,
 * with supplementary groups cleared and no-new-privileges set; for each
 * login attempt it sends the root parent one fixed-size request over a
 * socket pair.  The parent holds no descriptor of the client meanwhile,
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

#include "auth.h"
#include "params.h"

/* --- The messages on the socket pair (SOCK_SEQPACKET: one a datagram) --- */

enum privsep_kind {
	PRIVSEP_LOGIN = 0x4c4f474e,	/* "LOGN": child to parent, a struct privsep_login */
	PRIVSEP_HAND_OVER = 0x48414e44,	/* "HAND": child to parent, a struct privsep_hand_over */
	PRIVSEP_ANSWER = 0x414e5357,	/* "ANSW": parent to child, a struct privsep_answer */
	PRIVSEP_START = 0x53545254,	/* "STRT": parent to child, a struct privsep_answer (result 0):
					 * the parent holds nothing of the client, the child may start */
};

/* The mechanisms a login request may name; both send a password in the clear. */
enum privsep_mechanism { PRIVSEP_USER, PRIVSEP_PLAIN, PRIVSEP_MECHANISM_COUNT };

/* One login attempt.  Strings are NUL-terminated at their length. */
struct privsep_login {
	uint32_t kind;
	uint32_t mechanism;		/* enum privsep_mechanism */
	uint32_t user_len;		/* 0: a name the child would not accept */
	uint32_t secret_len;
	char user[USER_NAME_MAX + 1];
	char secret[PRIVSEP_SECRET_MAX + 1];
};

/* After LOGIN_OK, with the client's input and output descriptors attached (SCM_RIGHTS). */
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
};

/* Looks up user (not root) and opens dir, which must be an empty directory, not a symbolic link, owned by root and not writable by group or others; false with the reason in err. */
bool privsep_jail_open(const char *user, const char *dir, struct privsep_jail *jail, char *err, size_t errlen);

enum privsep_role { PRIVSEP_CHILD, PRIVSEP_PARENT, PRIVSEP_FAILED };

/* Forks: the parent gets its end of the socket pair in *fd and the child in *child, and puts /dev/null on descriptors 0 and 1 (and 2 unless keep_stderr) so that it holds nothing of the client; the child enters the jail, waits until the parent is done, and gets its end in *fd (or exits with status 1, logged).  PRIVSEP_FAILED (logged) is the parent's, which must then exit; the child must end with _exit(). */
enum privsep_role privsep_fork(struct privsep_jail *jail, bool keep_stderr, int *fd, pid_t *child);

/* --- The child --- */

/* Asks the parent to decide a login with mechanism ("USER" or "PLAIN"), user ("" for a name not accepted) and secret, which is wiped from the request once sent; false (logged) when the parent could not be asked or did not answer properly. */
bool privsep_ask(int fd, const char *mechanism, const char *user, const char *secret, enum login_result *result);

/* After LOGIN_OK, hands the parent the client's descriptors in_fd and out_fd with the len octets of input read but not used; false (logged) when that failed. */
bool privsep_hand_over(int fd, int in_fd, int out_fd, const char *input, size_t len);

/* --- The parent --- */

/* The parent's side: the channel, what it expects next, and the login. */
struct privsep_parent {
	int fd;				/* the parent's end of the socket pair */
	struct login_guard *guard;	/* decides each login, keeps the failures */
	bool plaintext_ok;		/* the policy the child must have applied */
	unsigned requests;		/* login requests received */
	enum { AWAIT_REQUEST, AWAIT_HAND_OVER, AWAIT_END } expect;
	/* After LOGIN_OK, and from the hand-over: */
	struct account account;
	const char *mechanism;
	int client_in, client_out;
	size_t input_len;
	char input[INPUT_BUFFER_SIZE];
};

/* Prepares the parent's side on fd, with the session's login guard and plaintext policy. */
void privsep_parent_init(struct privsep_parent *p, int fd, struct login_guard *guard, bool plaintext_ok);

enum privsep_step {
	STEP_ANSWERED,		/* a login request was checked and answered */
	STEP_HANDED_OVER,	/* the hand-over arrived: p holds the login */
	STEP_ENDED,		/* the child closed its end */
	STEP_REFUSED,		/* malformed, oversized, surplus or out of order, or the channel failed (logged) */
};

/* Receives one message from the child and acts on it: checks and answers a login request, or takes the hand-over after LOGIN_OK. */
enum privsep_step privsep_parent_step(struct privsep_parent *p);

/* Serves the child until the hand-over (true), or until it ends or is refused and killed (false, with *status the exit status for this process); the child is reaped either way. */
bool privsep_parent_serve(struct privsep_parent *p, pid_t child, int *status);

#endif
