/*
 * account.h - a user's account as a login needs it, and the interface every
 * account source fills (passwd-file.c, system-accounts.c; userdb.c picks
 * the one passwd_file names).
 */
#ifndef POP3_ACCOUNT_H
#define POP3_ACCOUNT_H

#include <pwd.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ntlm.h"
#include "params.h"

/* One user's entry, as much of it as a session needs. */
struct account {
	char name[USER_NAME_MAX + 1];
	char hash[CONFIG_LINE_MAX];	/* crypt(3) hash; wiped by account_clear() */
	bool has_nt_hash;		/* the database gave an NT hash (NTLM) */
	unsigned char nt_hash[NTLM_HASH_SIZE];	/* wiped by account_clear() */
	uid_t uid;
	gid_t gid;
	char home[CONFIG_LINE_MAX];
};

enum lookup_result {
	LOOKUP_FOUND,
	LOOKUP_UNKNOWN,		/* no such user */
	LOOKUP_FAILED,		/* the database could not be read or is unsafe; logged */
};

/* What a source is asked about: the user, and what it may need to know of the session. */
struct account_query {
	const char *setting;	/* the passwd_file setting: the passwd file's path, or the keyword */
	const char *user;	/* the name the client gave (one user_name_ok() accepts) */
	const char *client;	/* the client's address, for the source's own checks and logs */
	const char *service;	/* the service name we serve as (pam_service); NULL: the default */
};

/* What a source's check of a password came to. */
enum verdict {
	VERDICT_OK,		/* the password holds and the account may log in: *out is filled */
	VERDICT_UNKNOWN,	/* no such user, found after the work a real check costs */
	VERDICT_REFUSED,	/* a known user: a wrong password, or an account that may not log in */
	VERDICT_UNAVAILABLE,	/* the source could not answer (logged): our fault, not the client's */
};

/* An account source: what it is called, and what it can do. */
struct account_source {
	/* The word passwd_file names it by; NULL for the passwd file, named by its path. */
	const char *keyword;
	/* What it is, for messages ("the host's accounts"). */
	const char *description;
	/* It can hold NT hashes, which NTLM needs. */
	bool nt_hashes;
	/* Finds q's user, for the mechanisms that prove the identity themselves (NTLM, GSSAPI);
	 * fills *out on LOOKUP_FOUND. */
	enum lookup_result (*lookup)(const struct account_query *q, struct account *out);
	/* Checks q's user's password and finds the account, in the order the source needs (PAM
	 * asks before it looks the account up); an unknown user costs what a known one costs.
	 * On VERDICT_REFUSED *why may name the reason for the log ("account expired"). */
	enum verdict (*password_login)(const struct account_query *q, const char *password, struct account *out,
				       const char **why);
	/* Tells whether the account found may log in at all, for a mechanism that proves the
	 * identity itself: VERDICT_OK, VERDICT_REFUSED with *why naming the reason for the log,
	 * or VERDICT_UNAVAILABLE (logged). */
	enum verdict (*account_state)(const struct account_query *q, const struct account *a, const char **why);
};

/* Tells whether an account is locked: its hash starts with '!' (passwd -l, usermod -L, an
 * expired shadow entry), so it logs in with no mechanism.  An empty hash or '*' only means
 * no password, as for OpenSSH: a Kerberos principal or an NT hash may still log in. */
bool account_locked(const struct account *a);

/* The account_state of the sources that keep a crypt(3) hash: refused when locked. */
enum verdict account_lock_state(const struct account_query *q, const struct account *a, const char **why);

/* Fills out from an NSS passwd entry (its name, uid, gid and home) with hash; LOOKUP_UNKNOWN
 * (logged, naming the source) when its name or home cannot serve a session. */
enum lookup_result account_from_passwd(const struct passwd *pw, const char *hash, const char *source,
				       struct account *out);

/* Wipes the secrets an account holds, and the rest of it. */
void account_clear(struct account *a);

#endif
