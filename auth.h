/*
 * auth.h - the user database (a passwd-style file), password checks with
 * libxcrypt, the login decision with its failure delay and count, and the
 * change from root to the mail user.
 */
#ifndef POP3_AUTH_H
#define POP3_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "gssapi.h"
#include "ntlm.h"
#include "params.h"

/* One user database entry, as much of it as a session needs. */
struct account {
	char name[USER_NAME_MAX + 1];
	char hash[CONFIG_LINE_MAX];	/* crypt(3) hash; wiped by account_clear() */
	bool has_nt_hash;		/* the optional eighth field gave an NT hash (NTLM) */
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

/* Tells whether a user name is one we accept: 1..USER_NAME_MAX octets, no '/', ':', control characters, space or DEL, no leading '.'. */
bool auth_user_name_ok(const char *name, size_t len);

/* The user database that is the host's own accounts (getpwnam, getspnam). */
#define AUTH_SYSTEM_DATABASE "system"

/* Finds user in the passwd-format file at path (name:hash:uid:gid:gecos:home:shell, and an optional eighth field with the NT hash as 32 hexadecimal digits; malformed lines are logged and skipped), or in the host's accounts when path is AUTH_SYSTEM_DATABASE (locked or expired accounts get a hash that never matches). */
enum lookup_result auth_lookup(const char *path, const char *user, struct account *out);

/* Checks password against the account's crypt(3) hash in constant time; with no account (unknown user), a locked one ('!') or one without a password (an empty hash or '*') it spends the same as a real check against a hash of libxcrypt's default method, and fails. */
bool auth_password_ok(const struct account *a, const char *password);

/* Reads a password from standard input (twice and without echo on a terminal) and prints its hash with libxcrypt's default method, and with nt_hash its NT hash on a second line; returns the exit status. */
int auth_hash_tool(bool nt_hash);

/* Wipes the secrets an account holds. */
void account_clear(struct account *a);

/* As root, drops root for good: supplementary groups cleared, then gid and uid changed, each change checked and the way back closed; false (logged) when any step failed. */
bool auth_become(uid_t uid, gid_t gid);

/* Becomes the account's uid and gid (as root through auth_become(); as another user only its own uid is allowed); false (logged) when this process may not serve the account or the change failed: the process must then end. */
bool auth_switch_user(const struct account *a);

/* One session's login attempts: what decides them, the failures so far,
 * and the state of the multi-step mechanisms. */
struct login_guard {
	const char *passwd_file;
	const char *client;		/* the client's address, for the logs */
	unsigned max_failures;		/* the failure that closes the session */
	unsigned fail_delay;		/* seconds slept after each failure */
	unsigned failures;
	unsigned exchanges;		/* login exchanges started */
	bool ntlm_offered;		/* ntlm = yes */
	const char *ntlm_domain;	/* the NetBIOS domain an NTLM client may name */
	bool ntlm_challenge_issued;	/* ntlm_challenge awaits its one answer */
	unsigned char ntlm_challenge[NTLM_CHALLENGE_SIZE];
	bool gssapi_offered;		/* the keytab was usable at the start */
	struct gssapi_exchange gssapi;
};

/* What a client offers as proof of its identity. */
struct credential {
	enum { CREDENTIAL_PASSWORD, CREDENTIAL_NTLMV2 } kind;
	const char *password;			/* PASSWORD (USER/PASS, PLAIN) */
	const unsigned char *domain;		/* NTLMV2: UTF-16LE, as the client sent it */
	size_t domain_len;
	const unsigned char *response;		/* NTLMV2: NtChallengeResponse */
	size_t response_len;
};

enum login_result {
	LOGIN_OK,		/* the account is filled in: change to it */
	LOGIN_FAILED,		/* unknown user or wrong password: logged, delayed, counted */
	LOGIN_FAILED_LAST,	/* the same, and the last one allowed: close the session */
	LOGIN_UNAVAILABLE,	/* the user database could not be read or is unsafe (logged) */
	LOGIN_REFUSED,		/* right password, but this process may not serve the account (logged) */
};

/* Decides one login of user ("" for a name the session would not accept: it fails as an unknown user) with a credential: the user database is read, the credential checked, a failure logged, delayed and counted (as for GSSAPI below, with which it shares the one decision).  A locked account (its hash starting with '!') never logs in; one without a password (an empty hash or '*') fails passwords only.  An NTLMv2 credential answers the challenge issued last, which it uses up whatever comes of it.  Fills *out on LOGIN_OK and leaves it wiped otherwise. */
enum login_result auth_login(struct login_guard *g, const char *user, const struct credential *c,
			     const char *mechanism, struct account *out);

/* Counts the start of a login exchange (a USER/PASS or PLAIN login, an NTLM challenge, a GSSAPI exchange); false, counting nothing, once max_failures plus AUTH_EXTRA_EXCHANGES have started. */
bool auth_exchange_begin(struct login_guard *g);

/* Issues a fresh random NTLM server challenge into challenge and keeps it for the one login that may answer it; false (logged) when no randomness could be had. */
bool auth_ntlm_challenge(struct login_guard *g, unsigned char challenge[NTLM_CHALLENGE_SIZE]);

/* What one step of a SASL GSSAPI exchange came to. */
enum sasl_step { SASL_CHALLENGE, SASL_DECIDED };

/* Takes one client response of a SASL GSSAPI exchange (first: it starts a new one, dropping any earlier one): SASL_CHALLENGE with *out_len octets of out to send, or SASL_DECIDED with *result the login's outcome as auth_login() gives it for the user the principal maps to (a failed exchange is a failed login: logged, delayed, counted) and *a filled on LOGIN_OK. */
enum sasl_step auth_gssapi_step(struct login_guard *g, bool first, const unsigned char *in, size_t in_len,
				unsigned char *out, size_t out_size, size_t *out_len, enum login_result *result,
				struct account *a);

/* Longest client address text: an IPv6 address, or "local". */
#define CLIENT_ADDRESS_MAX 46

/* Writes the client's address as the launcher gives it (REMOTE_ADDR, REMOTE_HOST, TCPREMOTEIP, in that order) or else as getpeername(fd) finds it; "local" when there is no network peer (a pipe, a Unix socket). */
void auth_client_address(int fd, char *buf, size_t size);

/* Tells whether an address from auth_client_address is this host: "local", or a loopback address. */
bool auth_address_is_local(const char *address);

#endif
