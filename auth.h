/*
 * auth.h - the user database (a passwd-style file), password checks with
 * libxcrypt, and the change from root to the mail user.
 */
#ifndef POP3_AUTH_H
#define POP3_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "params.h"

/* One user database entry, as much of it as a session needs. */
struct account {
	char name[USER_NAME_MAX + 1];
	char hash[CONFIG_LINE_MAX];	/* crypt(3) hash; wiped by account_clear() */
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

/* Finds user in the passwd-format file at path (name:hash:uid:gid:gecos:home:shell); malformed lines are logged and skipped. */
enum lookup_result auth_lookup(const char *path, const char *user, struct account *out);

/* Checks password against a crypt(3) hash in constant time; locked (empty, '!' or '*') hashes never match. */
bool auth_password_ok(const char *hash, const char *password);

/* Wipes the secrets an account holds. */
void account_clear(struct account *a);

enum switch_result {
	SWITCH_OK,
	SWITCH_REFUSED,		/* this process may not serve that account (uid 0, or another uid when not root) */
	SWITCH_FAILED,		/* a system call failed: the process must end */
};

/* Becomes the account's uid and gid (root: groups cleared, setgid, setuid, checked); not root: allows only the process's own uid. */
enum switch_result auth_switch_user(const struct account *a);

/* Tells whether the client is on this host: no network peer on fd (a pipe), a Unix socket, or a loopback address. */
bool auth_client_is_local(int fd);

#endif
