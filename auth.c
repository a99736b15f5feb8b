/*
 * auth.c - passwd-file lookup, crypt(3) checks and the privilege change.
 */

#include "auth.h"

#include <arpa/inet.h>
#include <crypt.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "parse.h"

/* Fields of a passwd-format line: name:hash:uid:gid:gecos:home:shell. */
enum { F_NAME, F_HASH, F_UID, F_GID, F_GECOS, F_HOME, F_SHELL, FIELDS };

bool auth_user_name_ok(const char *name, size_t len)
{
	if (len < 1 || len > USER_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c <= 0x20 || c == 0x7f || c == '/' || c == ':')
			return false;
	}
	return true;
}

/* Refuses a user database that someone other than its owner could change, or that belongs to neither root nor us. */
static bool database_safe(FILE *f, const char *path)
{
	struct stat st;

	if (fstat(fileno(f), &st) != 0) {
		log_msg(LOG_ERR, "cannot stat %s: %s", path, strerror(errno));
		return false;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 || (st.st_uid != 0 && st.st_uid != geteuid())) {
		log_msg(LOG_ERR, "refusing %s: writable by group or others, or owned by another user", path);
		return false;
	}
	return true;
}

/* Splits a passwd line into its seven fields in place; false unless there are exactly seven. */
static bool split_fields(char *line, char *field[FIELDS])
{
	char *p = line;
	int n = 0;

	while (n < FIELDS && p != NULL)
		field[n++] = strsep(&p, ":");
	return n == FIELDS && p == NULL;
}

/* Checks one passwd line and, when it is well formed and names user, fills out; a malformed line is logged. */
static enum lookup_result parse_entry(char *line, const char *path, unsigned lineno,
				      const char *user, struct account *out)
{
	char *field[FIELDS];
	unsigned uid, gid;

	if (!split_fields(line, field) ||
	    !auth_user_name_ok(field[F_NAME], strlen(field[F_NAME])) ||
	    !parse_uint_setting(field[F_UID], 0, UINT32_MAX - 1, &uid) ||
	    !parse_uint_setting(field[F_GID], 0, UINT32_MAX - 1, &gid) ||
	    field[F_HOME][0] != '/') {
		log_msg(LOG_WARNING, "%s line %u: malformed entry skipped", path, lineno);
		return LOOKUP_UNKNOWN;
	}
	if (strcmp(field[F_NAME], user) != 0)
		return LOOKUP_UNKNOWN;
	/* The fields fit: each is shorter than the line they came from. */
	strcpy(out->name, field[F_NAME]);
	strcpy(out->hash, field[F_HASH]);
	strcpy(out->home, field[F_HOME]);
	out->uid = (uid_t)uid;
	out->gid = (gid_t)gid;
	return LOOKUP_FOUND;
}

enum lookup_result auth_lookup(const char *path, const char *user, struct account *out)
{
	enum lookup_result result = LOOKUP_UNKNOWN;
	enum file_line_status st;
	char line[CONFIG_LINE_MAX];
	unsigned lineno = 0;
	FILE *f = fopen(path, "re");

	if (f == NULL) {
		log_msg(LOG_ERR, "cannot open user database %s: %s", path, strerror(errno));
		return LOOKUP_FAILED;
	}
	if (!database_safe(f, path)) {
		fclose(f);
		return LOOKUP_FAILED;
	}
	while (result == LOOKUP_UNKNOWN && (st = file_line_read(f, line, sizeof line)) != FILE_LINE_EOF) {
		const char *start;

		lineno++;
		if (st == FILE_LINE_ERROR) {
			log_msg(LOG_ERR, "reading %s: %s", path, strerror(errno));
			result = LOOKUP_FAILED;
		} else if (st == FILE_LINE_TOO_LONG) {
			log_msg(LOG_WARNING, "%s line %u: too long, skipped", path, lineno);
		} else {
			start = line + strspn(line, " \t");
			if (*start != '\0' && *start != '#')
				result = parse_entry(line, path, lineno, user, out);
		}
	}
	explicit_bzero(line, sizeof line);
	fclose(f);
	return result;
}

/* Compares a crypt result with the stored hash without stopping at the first difference. */
static bool same_string(const char *computed, const char *stored)
{
	size_t lc = strlen(computed), ls = strlen(stored);
	unsigned char diff = lc != ls;

	for (size_t i = 0; i < lc; i++)
		diff |= (unsigned char)(computed[i] ^ (i < ls ? stored[i] : 0));
	return diff == 0;
}

bool auth_password_ok(const char *hash, const char *password)
{
	/* Some 32 KiB: static rather than on the stack. */
	static struct crypt_data data;
	const char *out;
	bool ok;

	if (hash[0] == '\0' || hash[0] == '!' || hash[0] == '*')
		return false;
	memset(&data, 0, sizeof data);
	out = crypt_rn(password, hash, &data, (int)sizeof data);
	/* crypt_rn fails with NULL, or with a string starting '*' for a
	 * setting it does not know. */
	ok = out != NULL && out[0] != '*' && same_string(out, hash);
	explicit_bzero(&data, sizeof data);
	return ok;
}

void account_clear(struct account *a)
{
	explicit_bzero(a, sizeof *a);
}

enum switch_result auth_switch_user(const struct account *a)
{
	if (geteuid() != 0)
		return a->uid == getuid() && a->uid == geteuid() ? SWITCH_OK : SWITCH_REFUSED;
	if (a->uid == 0 || a->gid == 0)
		return SWITCH_REFUSED;
	if (setgroups(1, &a->gid) != 0 || setgid(a->gid) != 0 || setuid(a->uid) != 0) {
		log_msg(LOG_ERR, "cannot become uid %u gid %u: %s", (unsigned)a->uid,
			(unsigned)a->gid, strerror(errno));
		return SWITCH_FAILED;
	}
	/* Trust but verify: every id changed, and root cannot come back. */
	if (getuid() != a->uid || geteuid() != a->uid || getgid() != a->gid ||
	    getegid() != a->gid || setuid(0) == 0) {
		log_msg(LOG_ERR, "privilege change to uid %u did not take effect", (unsigned)a->uid);
		return SWITCH_FAILED;
	}
	return SWITCH_OK;
}

bool auth_client_is_local(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
		return errno == ENOTSOCK;	/* a pipe or a file: no network peer */
	switch (ss.ss_family) {
	case AF_UNIX:
		return true;
	case AF_INET: {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
		const uint8_t *b = in6->sin6_addr.s6_addr;

		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
		       (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && b[12] == 127);
	}
	default:
		return false;
	}
}
