/*
 * auth.h - the login decision, made in this process: the user database
 * read, the proof checked (a password, an NTLMv2 answer to the challenge
 * issued, a GSSAPI exchange), each failure logged, delayed and counted,
 * and after a login the change to the account's user.  auth_door_open()
 * gives it to a session as its login door (login.h); a separated session's
 * root parent answers its child through the same door.
 */
#ifndef POP3_AUTH_H
#define POP3_AUTH_H

#include <stdbool.h>
#include <sys/types.h>

#include "gssapi-helper.h"
#include "login.h"
#include "ntlm.h"

/* One session's login decisions: where accounts come from, the failures so far, and the
 * state of the multi-step mechanisms.  The caller fills in the settings (the first seven
 * fields), zeroes the rest and prepares gssapi with gssapi_helper_init(). */
struct login_guard {
	const char *passwd_file;	/* names the account source (userdb_named) */
	const char *client;		/* the client's address, for the logs */
	unsigned max_failures;		/* the failure that closes the session */
	unsigned fail_delay;		/* seconds slept after each failure */
	const char *ntlm_domain;	/* the NetBIOS domain an NTLM client may name */
	const char *service;		/* the service name account sources know us by (pam_service) */
	unsigned decision_timeout;	/* seconds a source may take to answer (0: no bound) */
	bool jailed;			/* a pre-login child runs as jail_uid and jail_gid (privsep_user) */
	uid_t jail_uid;
	gid_t jail_gid;
	unsigned failures;
	bool ntlm_challenge_issued;	/* ntlm_challenge awaits its one answer */
	unsigned char ntlm_challenge[NTLM_CHALLENGE_SIZE];
	struct gssapi_helper gssapi;
};

/* Makes door decide logins with guard, in this process:
 * - check(): the account is looked up ("" fails as an unknown user) and the credential
 *   checked; a locked account never logs in, one without a password fails passwords only;
 *   an NTLMv2 answer uses up the challenge issued last, whatever comes of it.  Unknown users
 *   cost what known ones cost.  An account this process may not serve (root's ids, or
 *   when jailed the pre-login child's uid or gid; as another user, any uid but its own) gets
 *   LOGIN_REFUSED.
 * - ntlm_challenge(): a fresh random challenge (getrandom).
 * - gssapi_step(): gssapi_helper_step() (the Kerberos token parsed in a confined helper,
 *   bounded by decision_timeout), then the principal's user decided as check() decides, its
 *   account needing no password.
 * - admit(): becomes the account's uid and gid (as root, for good; as another user only its
 *   own uid is allowed): ADMIT_SERVE_HERE, or ADMIT_FAILED (logged). */
void auth_door_open(struct login_door *door, struct login_guard *guard);

#endif
