/*
 * auth.c - passwd-file lookup, crypt(3) checks and the privilege change.
 */

#include "auth.h"

#include <arpa/inet.h>
#include <crypt.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <shadow.h>
#include <stdlib.h>
#include <sys/random.h>
#include <termios.h>
#include <time.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "parse.h"
#include "util.h"

/* Fields of a passwd-format line: name:hash:uid:gid:gecos:home:shell, and
 * optionally the NT hash for NTLM. */
enum { F_NAME, F_HASH, F_UID, F_GID, F_GECOS, F_HOME, F_SHELL, F_NT_HASH, FIELDS };

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

/* Splits a passwd line into its fields in place, the eighth ("" when absent) included; false unless there are seven or eight. */
static bool split_fields(char *line, char *field[FIELDS])
{
	char *p = line;
	int n = 0;

	while (n < FIELDS && p != NULL)
		field[n++] = strsep(&p, ":");
	if (n == F_NT_HASH)
		field[n++] = "";
	return n == FIELDS && p == NULL;
}

/* Checks one passwd line and, when it is well formed and names user, fills out; a malformed line is logged. */
static enum lookup_result parse_entry(char *line, const char *path, unsigned lineno,
				      const char *user, struct account *out)
{
	unsigned char nt_hash[NTLM_HASH_SIZE];
	enum lookup_result result = LOOKUP_UNKNOWN;
	char *field[FIELDS];
	unsigned uid, gid;
	bool has_nt_hash;

	if (!split_fields(line, field) ||
	    !auth_user_name_ok(field[F_NAME], strlen(field[F_NAME])) ||
	    !parse_uint_setting(field[F_UID], 0, UINT32_MAX - 1, &uid) ||
	    !parse_uint_setting(field[F_GID], 0, UINT32_MAX - 1, &gid) ||
	    field[F_HOME][0] != '/' ||
	    ((has_nt_hash = field[F_NT_HASH][0] != '\0') && !ntlm_hash_parse(field[F_NT_HASH], nt_hash))) {
		log_msg(LOG_WARNING, "%s line %u: malformed entry skipped", path, lineno);
	} else if (strcmp(field[F_NAME], user) == 0) {
		/* The fields fit (each is shorter than the line it came
		 * from), so the copies cannot fail. */
		str_copy(out->name, sizeof out->name, field[F_NAME]);
		str_copy(out->hash, sizeof out->hash, field[F_HASH]);
		str_copy(out->home, sizeof out->home, field[F_HOME]);
		out->uid = (uid_t)uid;
		out->gid = (gid_t)gid;
		out->has_nt_hash = has_nt_hash;
		if (has_nt_hash)
			memcpy(out->nt_hash, nt_hash, sizeof nt_hash);
		result = LOOKUP_FOUND;
	}
	explicit_bzero(nt_hash, sizeof nt_hash);
	return result;
}

/* Copies a host account; an account whose hash is in /etc/shadow gets it from there, and one that is expired gets a locked hash. */
static enum lookup_result system_entry(const struct passwd *pw, struct account *out)
{
	const char *hash = pw->pw_passwd;
	struct spwd *sp = NULL;

	if (strlen(pw->pw_name) > USER_NAME_MAX || strlen(pw->pw_dir) >= sizeof out->home ||
	    pw->pw_dir[0] != '/') {
		log_msg(LOG_WARNING, "system account %.64s: unusable name or home", pw->pw_name);
		return LOOKUP_UNKNOWN;
	}
	if (strcmp(hash, "x") == 0) {
		errno = 0;
		sp = getspnam(pw->pw_name);
		if (sp == NULL && errno != 0 && errno != ENOENT) {
			log_msg(LOG_ERR, "cannot read the shadow entry of %s: %s", pw->pw_name, strerror(errno));
			return LOOKUP_FAILED;
		}
		hash = sp != NULL ? sp->sp_pwdp : "*";
	}
	/* sp_expire counts days since 1970; -1 means never. */
	if (sp != NULL && sp->sp_expire >= 0 && time(NULL) / 86400 >= sp->sp_expire)
		hash = "!expired";
	str_copy(out->name, sizeof out->name, pw->pw_name);
	str_copy(out->home, sizeof out->home, pw->pw_dir);
	if (!str_copy(out->hash, sizeof out->hash, hash))
		str_copy(out->hash, sizeof out->hash, "!");	/* too long to be a hash: locked */
	out->uid = pw->pw_uid;
	out->gid = pw->pw_gid;
	if (sp != NULL)
		explicit_bzero(sp->sp_pwdp, strlen(sp->sp_pwdp));
	return LOOKUP_FOUND;
}

/* Finds user among the host's accounts. */
static enum lookup_result system_lookup(const char *user, struct account *out)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		if (errno != 0 && errno != ENOENT && errno != ESRCH) {
			log_msg(LOG_ERR, "cannot look up user %s: %s", user, strerror(errno));
			return LOOKUP_FAILED;
		}
		return LOOKUP_UNKNOWN;
	}
	return system_entry(pw, out);
}

enum lookup_result auth_lookup(const char *path, const char *user, struct account *out)
{
	enum lookup_result result = LOOKUP_UNKNOWN;
	enum file_line_status st;
	char line[CONFIG_LINE_MAX];
	unsigned lineno = 0;
	FILE *f;

	if (strcmp(path, AUTH_SYSTEM_DATABASE) == 0)
		return system_lookup(user, out);
	f = fopen_regular(path);
	if (f == NULL) {
		log_msg(LOG_ERR, "cannot open user database %s: %s", path,
			errno == EINVAL ? "not a regular file" : strerror(errno));
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
		} else if (st == FILE_LINE_TOO_LONG || st == FILE_LINE_NUL) {
			log_msg(LOG_WARNING, "%s line %u: %s, skipped", path, lineno,
				st == FILE_LINE_NUL ? "NUL octet" : "too long");
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

/* A setting (method and salt) of libxcrypt's default method, made once: unknown users and locked accounts are checked against it, so they cost what a real user costs. */
static const char *dummy_setting(void)
{
	static char setting[CRYPT_GENSALT_OUTPUT_SIZE];

	if (setting[0] == '\0' && crypt_gensalt_rn(NULL, 0, NULL, 0, setting, sizeof setting) == NULL)
		str_copy(setting, sizeof setting, "*");
	return setting;
}

/* Tells whether an account is locked: its hash starts with '!' (passwd -l, usermod -L, an expired shadow entry), so it logs in with no mechanism.  An empty hash or '*' only means no password, as for OpenSSH: a Kerberos principal or an NT hash may still log in. */
static bool account_locked(const struct account *a)
{
	return a->hash[0] == '!';
}

bool auth_password_ok(const struct account *a, const char *password)
{
	/* Some 32 KiB: static rather than on the stack. */
	static struct crypt_data data;
	/* An empty password never logs in, whatever the hash says; nor does
	 * an account without one (an empty hash or '*'). */
	bool usable = a != NULL && !account_locked(a) && a->hash[0] != '\0' && a->hash[0] != '*' &&
		      password[0] != '\0';
	const char *hash = usable ? a->hash : dummy_setting();
	const char *out;
	bool ok;

	memset(&data, 0, sizeof data);
	out = crypt_rn(password, hash, &data, (int)sizeof data);
	/* crypt_rn fails with NULL, or with a string starting '*' for a
	 * setting it does not know. */
	ok = usable && out != NULL && out[0] != '*' && same_string(out, hash);
	explicit_bzero(&data, sizeof data);
	return ok;
}

/* Reads one line of at most size - 1 octets from stdin into buf without its newline, echo off on a terminal; false at end of input or when too long. */
static bool read_secret(const char *prompt, char *buf, size_t size)
{
	struct termios saved, quiet;
	bool tty = tcgetattr(STDIN_FILENO, &saved) == 0;
	bool ok;
	size_t len;

	if (tty) {
		/* Echo goes off before the prompt, and nothing typed ahead
		 * is thrown away. */
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
		fputs(prompt, stderr);
	}
	ok = fgets(buf, (int)size, stdin) != NULL;
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
		fputc('\n', stderr);
	}
	len = ok ? strlen(buf) : 0;
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	else if (ok && !feof(stdin))
		ok = false;	/* longer than the buffer */
	return ok;
}

int auth_hash_tool(bool nt_hash)
{
	static struct crypt_data data;
	/* libxcrypt hashes passphrases of up to CRYPT_MAX_PASSPHRASE_SIZE - 1
	 * octets; one more octet holds the newline fgets keeps. */
	char password[CRYPT_MAX_PASSPHRASE_SIZE + 1], again[CRYPT_MAX_PASSPHRASE_SIZE + 1];
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	unsigned char nt[NTLM_HASH_SIZE];
	char nt_text[2 * NTLM_HASH_SIZE + 1];
	const char *hash = NULL;
	bool tty = isatty(STDIN_FILENO);
	int status = 1;

	if (!read_secret("Password: ", password, sizeof password) || password[0] == '\0') {
		fprintf(stderr, "pop3-handler: no password read (one line of 1 to %d octets)\n",
			CRYPT_MAX_PASSPHRASE_SIZE - 1);
	} else if (tty && (!read_secret("Again: ", again, sizeof again) || strcmp(password, again) != 0)) {
		fprintf(stderr, "pop3-handler: the passwords differ\n");
	} else if (crypt_gensalt_rn(NULL, 0, NULL, 0, setting, sizeof setting) == NULL ||
		   (hash = crypt_rn(password, setting, &data, (int)sizeof data)) == NULL || hash[0] == '*') {
		fprintf(stderr, "pop3-handler: libxcrypt could not hash: %s\n", strerror(errno));
	} else if (nt_hash && !ntlm_ready()) {
		fprintf(stderr, "pop3-handler: no NT hash without nettle (libnettle8)\n");
	} else if (nt_hash && !ntlm_nt_hash(password, nt)) {
		fprintf(stderr, "pop3-handler: an NT hash needs a password in UTF-8 of at most %d octets\n",
			NTLM_PASSWORD_MAX);
	} else {
		printf("%s\n", hash);
		if (nt_hash) {
			ntlm_hash_format(nt, nt_text);
			printf("%s\n", nt_text);
		}
		status = 0;
	}
	explicit_bzero(password, sizeof password);
	explicit_bzero(again, sizeof again);
	explicit_bzero(&data, sizeof data);
	explicit_bzero(nt, sizeof nt);
	explicit_bzero(nt_text, sizeof nt_text);
	return status;
}

void account_clear(struct account *a)
{
	explicit_bzero(a, sizeof *a);
}

/* Tells whether this process may serve the account (root: any uid and gid but 0; another user: only its own uid), logging a refusal. */
static bool may_serve(const struct account *a)
{
	bool ok = geteuid() == 0 ? a->uid != 0 && a->gid != 0 : a->uid == getuid() && a->uid == geteuid();

	if (!ok)
		log_msg(LOG_ERR, "user %s: uid %u may not be served by this process", a->name, (unsigned)a->uid);
	return ok;
}

bool auth_become(uid_t uid, gid_t gid)
{
	if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
		log_msg(LOG_ERR, "cannot become uid %u gid %u: %s", (unsigned)uid, (unsigned)gid, strerror(errno));
		return false;
	}
	/* Trust but verify: every id changed, and root cannot come back. */
	if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid ||
	    getgroups(0, NULL) != 0 || setuid(0) == 0) {
		log_msg(LOG_ERR, "privilege change to uid %u did not take effect", (unsigned)uid);
		return false;
	}
	return true;
}

bool auth_switch_user(const struct account *a)
{
	if (!may_serve(a))
		return false;
	return geteuid() != 0 || auth_become(a->uid, a->gid);
}

/* Sleeps whole seconds, resuming after signals. */
static void sleep_seconds(unsigned seconds)
{
	struct timespec t = { (time_t)seconds, 0 };

	while (nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

/* Logs a failed login (user NULL: the mechanism's exchange failed before it named one), sleeps the failure delay and counts it. */
static enum login_result login_failed(struct login_guard *g, const char *user, bool known, const char *mechanism)
{
	if (user == NULL)
		log_msg(LOG_NOTICE, "failed login: %s exchange failed, client=%s", mechanism, g->client);
	else if (known)
		log_msg(LOG_NOTICE, "failed login user=%s mechanism=%s client=%s", user, mechanism, g->client);
	else
		log_msg(LOG_NOTICE, "failed login: unknown user, mechanism=%s client=%s", mechanism, g->client);
	sleep_seconds(g->fail_delay);
	return ++g->failures >= g->max_failures ? LOGIN_FAILED_LAST : LOGIN_FAILED;
}

/* Logs why a known account fails a mechanism that needs no password (GSSAPI, or NTLM: needs_nt_hash) whatever the client sends. */
static void log_account_problem(const struct account *a, const char *user, bool needs_nt_hash)
{
	if (account_locked(a))
		log_msg(LOG_NOTICE, "user %s: the account is locked", user);
	else if (needs_nt_hash && !a->has_nt_hash)
		log_msg(LOG_NOTICE, "user %s has no NT hash in the user database: NTLM cannot log in", user);
}

/* Checks an NTLMv2 answer to the challenge in the guard (answerable: it was issued and not answered before); an unknown user, a locked account or one without an NT hash costs the same HMACs and fails. */
static bool ntlm_answer_ok(struct login_guard *g, const struct account *a, const char *user,
			   const struct credential *c, bool answerable)
{
	static const unsigned char no_hash[NTLM_HASH_SIZE];
	bool usable = a != NULL && !account_locked(a) && a->has_nt_hash && answerable;
	bool ok = ntlm_v2_ok(usable ? a->nt_hash : no_hash, user, c->domain, c->domain_len, g->ntlm_challenge,
			     c->response, c->response_len);

	if (a != NULL)
		log_account_problem(a, user, true);
	if (ok && usable && !ntlm_domain_ok(c->domain, c->domain_len, g->ntlm_domain)) {
		log_msg(LOG_NOTICE, "user %s: NTLM login names a domain other than %s", user, g->ntlm_domain);
		ok = false;
	}
	return ok && usable;
}

/* Checks what proves the identity of the account (NULL: unknown user, who always fails): a credential, or (c NULL) the mechanism itself, GSSAPI, which a locked account fails. */
static bool identity_ok(struct login_guard *g, const struct account *a, const char *user, const struct credential *c,
			bool answerable)
{
	if (c == NULL) {
		if (a != NULL)
			log_account_problem(a, user, false);
		return a != NULL && !account_locked(a);
	}
	if (c->kind == CREDENTIAL_PASSWORD)
		return auth_password_ok(a, c->password);
	return ntlm_answer_ok(g, a, user, c, answerable);
}

/* Decides a login of user with a credential, or (c NULL) of a user whose identity a mechanism proved: auth_login() for the first, GSSAPI for the second. */
static enum login_result decide_login(struct login_guard *g, const char *user, const struct credential *c,
				      const char *mechanism, struct account *out)
{
	bool ntlm = c != NULL && c->kind == CREDENTIAL_NTLMV2;
	/* An NTLM answer uses its challenge up, whatever comes of it (the
	 * user database unreadable included): no response is tried twice. */
	bool answerable = ntlm && g->ntlm_challenge_issued;
	enum lookup_result found = LOOKUP_UNKNOWN;
	enum login_result result = LOGIN_OK;

	g->ntlm_challenge_issued = g->ntlm_challenge_issued && !ntlm;
	memset(out, 0, sizeof *out);
	if (user[0] != '\0')
		found = auth_lookup(g->passwd_file, user, out);
	if (found == LOOKUP_FAILED)
		result = LOGIN_UNAVAILABLE;
	else if (!identity_ok(g, found == LOOKUP_FOUND ? out : NULL, user, c, answerable))
		result = login_failed(g, user, found == LOOKUP_FOUND, mechanism);
	else if (!may_serve(out))
		result = LOGIN_REFUSED;
	if (ntlm)
		explicit_bzero(g->ntlm_challenge, sizeof g->ntlm_challenge);
	if (result != LOGIN_OK)
		account_clear(out);
	return result;
}

/* The public door takes a credential always: only GSSAPI, below, decides a login on the mechanism's word. */
enum login_result auth_login(struct login_guard *g, const char *user, const struct credential *c,
			     const char *mechanism, struct account *out)
{
	return decide_login(g, user, c, mechanism, out);
}

bool auth_exchange_begin(struct login_guard *g)
{
	if (g->exchanges >= g->max_failures + AUTH_EXTRA_EXCHANGES)
		return false;
	g->exchanges++;
	return true;
}

bool auth_ntlm_challenge(struct login_guard *g, unsigned char challenge[NTLM_CHALLENGE_SIZE])
{
	ssize_t n;

	do
		n = getrandom(g->ntlm_challenge, sizeof g->ntlm_challenge, 0);
	while (n < 0 && errno == EINTR);
	g->ntlm_challenge_issued = n == (ssize_t)sizeof g->ntlm_challenge;
	if (!g->ntlm_challenge_issued) {
		log_msg(LOG_ERR, "cannot make an NTLM challenge: getrandom: %s", n < 0 ? strerror(errno) : "short read");
		return false;
	}
	memcpy(challenge, g->ntlm_challenge, sizeof g->ntlm_challenge);
	return true;
}

enum sasl_step auth_gssapi_step(struct login_guard *g, bool first, const unsigned char *in, size_t in_len,
				unsigned char *out, size_t out_size, size_t *out_len, enum login_result *result,
				struct account *a)
{
	enum gssapi_step step;

	memset(a, 0, sizeof *a);
	if (first)
		gssapi_reset(&g->gssapi);
	step = gssapi_step(&g->gssapi, in, in_len, out, out_size, out_len);
	if (step == GSSAPI_CONTINUE)
		return SASL_CHALLENGE;
	if (step == GSSAPI_FAILED)
		*result = login_failed(g, NULL, false, "GSSAPI");
	else
		*result = decide_login(g, g->gssapi.user, NULL, "GSSAPI", a);
	return SASL_DECIDED;
}

/* Copies an address the launcher put in the environment, if it is one (it goes into logs). */
static bool address_from_env(const char *name, char *buf, size_t size)
{
	const char *v = getenv(name);
	struct in6_addr a6;
	struct in_addr a4;

	if (v == NULL || (inet_pton(AF_INET, v, &a4) != 1 && inet_pton(AF_INET6, v, &a6) != 1))
		return false;
	return str_copy(buf, size, v);
}

void auth_client_address(int fd, char *buf, size_t size)
{
	/* systemd (Accept=yes), stunnel and xinetd, ucspi-tcp.  Under
	 * stunnel fd 0 is a socket pair to stunnel itself: the environment
	 * must win over getpeername(). */
	static const char *const vars[] = { "REMOTE_ADDR", "REMOTE_HOST", "TCPREMOTEIP" };
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	memset(&ss, 0, sizeof ss);
	for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
		if (address_from_env(vars[i], buf, size))
			return;
	snprintf(buf, size, "local");	/* a pipe, a file, a Unix socket */
	if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0) {
		if (errno != ENOTSOCK)
			snprintf(buf, size, "unknown");
		return;
	}
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&ss)->sin_addr, buf, (socklen_t)size);
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&ss)->sin6_addr, buf, (socklen_t)size);
	else if (ss.ss_family != AF_UNIX)
		snprintf(buf, size, "unknown");
}

bool auth_address_is_local(const char *address)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (strcmp(address, "local") == 0)
		return true;
	if (inet_pton(AF_INET, address, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, address, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return false;
}
