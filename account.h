/*
 * account.h - a user's account as a login needs it, and the interface every
 * account source fills (passwd-file.c, system-accounts.c; userdb.c picks
 * the one passwd_file names).
 */
#ifndef POP3_ACCOUNT_H
#define POP3_ACCOUNT_H

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
};

/* An account source: what it is called, and what it can do. */
struct account_source {
	/* The word passwd_file names it by; NULL for the passwd file, named by its path. */
	const char *keyword;
	/* What it is, for messages ("the host's accounts"). */
	const char *description;
	/* It can hold NT hashes, which NTLM needs. */
	bool nt_hashes;
	/* Finds q's user; fills *out on LOOKUP_FOUND. */
	enum lookup_result (*lookup)(const struct account_query *q, struct account *out);
	/* Checks a password for the account found (NULL: an unknown user, who fails after the
	 * same work as a real check). */
	bool (*password_ok)(const struct account_query *q, const struct account *a, const char *password);
	/* Tells whether the account found may log in at all, whatever proves its identity (a
	 * refusal is the source's to log). */
	bool (*account_usable)(const struct account_query *q, const struct account *a);
};

/* Tells whether an account is locked: its hash starts with '!' (passwd -l, usermod -L, an
 * expired shadow entry), so it logs in with no mechanism.  An empty hash or '*' only means
 * no password, as for OpenSSH: a Kerberos principal or an NT hash may still log in. */
bool account_locked(const struct account *a);

/* The account_usable of the sources that keep a crypt(3) hash: not locked. */
bool account_not_locked(const struct account_query *q, const struct account *a);

/* Wipes the secrets an account holds, and the rest of it. */
void account_clear(struct account *a);

#endif
