/*
 * privsep.h - privilege separation before login.  Started as root, the
 * handler forks at once: the child talks to the client during the whole
 * AUTHORIZATION state as an unprivileged user, chrooted to an empty
 * directory, with no-new-privileges set; for each login attempt it sends the
 * privileged parent one fixed-size request over a socket pair.  The parent
 * checks every request as hostile, verifies the password, keeps the failure
 * delay and counter, and answers.  On success the child hands over the
 * client input it has read but not used, and exits; the parent changes to
 * the mail user and serves the TRANSACTION state.
 */
#ifndef POP3_PRIVSEP_H
#define POP3_PRIVSEP_H

#include <stdbool.h>
#include <stddef.h>

#include "auth.h"
#include "params.h"

/* Mechanisms a request may name. */
enum privsep_mechanism { MECH_USER = 1, MECH_PLAIN = 2 };

/* What the parent answers to a login request. */
enum privsep_answer {
	ANSWER_OK = 1,		/* logged in: hand over the unread input and exit */
	ANSWER_FAILED,		/* wrong user or password */
	ANSWER_FAILED_CLOSE,	/* wrong, and the last failure allowed */
	ANSWER_TEMPORARY,	/* the user database could not be read */
	ANSWER_REFUSED,		/* this account may not log in here */
};

/* The child's end: the socket to the parent. */
struct privsep_child {
	int fd;
};

/* What the parent learns from a successful login. */
struct privsep_login {
	struct account account;
	enum privsep_mechanism mechanism;
	unsigned failures;		/* failed attempts before it */
	size_t input_len;		/* client input the child read but did not use */
	char input[INPUT_BUFFER_SIZE];
};

enum privsep_role { PRIVSEP_CHILD, PRIVSEP_PARENT, PRIVSEP_FAILED };

/* Forks; the child drops to user (supplementary groups cleared), chroots to dir (which must be root-owned and not writable by others) and sets no-new-privileges.  Returns PRIVSEP_CHILD in the child (with *child set) and PRIVSEP_PARENT in the parent; PRIVSEP_FAILED (logged) when any step failed. */
enum privsep_role privsep_start(const char *user, const char *dir, struct privsep_child *child, int *parent_fd);

/* Child: asks the parent to verify a login; the password is wiped from the request after sending. */
enum privsep_answer privsep_request(struct privsep_child *c, enum privsep_mechanism mech, const char *user,
				    const char *password);

/* Child, after ANSWER_OK: sends the parent the client input not yet used. */
bool privsep_hand_over(struct privsep_child *c, const char *input, size_t len);

/* Parent policy for serving requests. */
struct privsep_policy {
	const char *passwd_file;
	unsigned max_failures;
	unsigned fail_delay;
};

/* Parent: serves the child's requests until one succeeds (true, with *login filled) or the child ends or misbehaves (false). */
bool privsep_serve(int fd, const struct privsep_policy *policy, struct privsep_login *login);

/* Parent side, exposed for tests: checks one raw request and, when it is well formed, verifies it.  Returns the answer, or 0 for a malformed request. */
int privsep_handle_request(const void *request, size_t len, const struct privsep_policy *policy,
			   unsigned *failures, struct privsep_login *login);

#endif
