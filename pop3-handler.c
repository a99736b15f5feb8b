/*
 * pop3-handler.c - a POP3 server for one session on stdin/stdout, started
 * per connection by inetd, xinetd, a systemd socket or stunnel.  This file
 * holds main(), the configuration and the session loop; parse.c, io.c,
 * maildir.c and auth.c do the rest.
 */

#include "pop3-handler.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "confine.h"
#include "gssapi.h"
#include "io.h"
#include "log.h"
#include "maildir.h"
#include "maildir-snapshot.h"
#include "maildir-update.h"
#include "ntlm.h"
#include "params.h"
#include "parse.h"
#include "privsep.h"
#include "util.h"

/* ---------------------------------------------------------------------
 * Configuration
 */

enum setting_kind {
	SET_PATH,		/* an absolute path */
	SET_TEMPLATE,		/* the Maildir template */
	SET_NAME,		/* a user name */
	SET_DOMAIN,		/* a domain or realm name */
	SET_NUMBER,		/* a decimal number in [min, max] */
	SET_CHOICE,		/* one word of a list, stored as its index */
};

struct setting {
	const char *key;
	enum setting_kind kind;
	size_t offset;
	unsigned min, max;
	const char *const *choices;
};

static const char *const yes_no[] = { "no", "yes", NULL };
static const char *const plaintext_choices[] = { "no", "yes", "secure", NULL };
static const char *const log_choices[] = { "syslog", "stderr", NULL };
/* passwd_file may name the host's accounts instead of a file. */
static const char *const system_word[] = { AUTH_SYSTEM_DATABASE, NULL };
/* A number setting may also take this word, stored as EXPIRE_NEVER. */
static const char *const never_word[] = { "never", NULL };

#define AT(field) offsetof(struct config, field)

static const struct setting settings[] = {
	{ "passwd_file", SET_PATH, AT(passwd_file), 0, 0, system_word },
	{ "maildir", SET_TEMPLATE, AT(maildir), 0, 0, NULL },
	{ "max_command_length", SET_NUMBER, AT(max_command_length), COMMAND_LENGTH_MIN, COMMAND_LENGTH_MAX, NULL },
	{ "timeout_unauth", SET_NUMBER, AT(timeout_unauth), 1, TIMEOUT_MAX, NULL },
	{ "timeout_auth", SET_NUMBER, AT(timeout_auth), 1, TIMEOUT_MAX, NULL },
	{ "max_auth_failures", SET_NUMBER, AT(max_auth_failures), 1, AUTH_FAILURES_MAX, NULL },
	{ "auth_fail_delay", SET_NUMBER, AT(auth_fail_delay), 0, AUTH_FAIL_DELAY_MAX, NULL },
	{ "exact_size", SET_CHOICE, AT(exact_size), 0, 0, yes_no },
	{ "plaintext_auth", SET_CHOICE, AT(plaintext_auth), 0, 0, plaintext_choices },
	{ "tls", SET_CHOICE, AT(tls), 0, 0, yes_no },
	{ "log", SET_CHOICE, AT(log), 0, 0, log_choices },
	{ "expire_days", SET_NUMBER, AT(expire_days), 0, EXPIRE_DAYS_MAX, never_word },
	{ "expire_days_unread", SET_CHOICE, AT(expire_days_unread), 0, 0, yes_no },
	{ "confine", SET_CHOICE, AT(confine), 0, 0, yes_no },
	{ "privsep_user", SET_NAME, AT(privsep_user), 0, 0, NULL },
	{ "privsep_dir", SET_PATH, AT(privsep_dir), 0, 0, NULL },
	{ "ntlm", SET_CHOICE, AT(ntlm), 0, 0, yes_no },
	{ "ntlm_domain", SET_DOMAIN, AT(ntlm_domain), 0, 0, NULL },
	{ "keytab", SET_PATH, AT(keytab), 0, 0, NULL },
	{ "krb5_realm", SET_DOMAIN, AT(krb5_realm), 0, 0, NULL },
};

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	str_copy(cfg->passwd_file, sizeof cfg->passwd_file, "/etc/pop3-handler/passwd");
	str_copy(cfg->maildir, sizeof cfg->maildir, "%h/Maildir");
	cfg->max_command_length = COMMAND_LENGTH_DEFAULT;
	cfg->timeout_unauth = 60;
	cfg->timeout_auth = 1800;
	cfg->max_auth_failures = 3;
	cfg->auth_fail_delay = 2;
	cfg->exact_size = 1;
	cfg->plaintext_auth = PLAINTEXT_SECURE;
	cfg->tls = 0;
	cfg->log = LOG_TARGET_SYSLOG;
	cfg->expire_days = EXPIRE_NEVER;
	cfg->expire_days_unread = 0;
	cfg->confine = 1;
	str_copy(cfg->privsep_user, sizeof cfg->privsep_user, "nobody");
	str_copy(cfg->privsep_dir, sizeof cfg->privsep_dir, "/var/empty");
	cfg->ntlm = 0;
	str_copy(cfg->keytab, sizeof cfg->keytab, "/etc/krb5.keytab");
}

/* Tells whether a domain or realm name is one we accept: 1..DOMAIN_NAME_MAX letters, digits, '.', '-' and '_'. */
static bool domain_name_ok(const char *name)
{
	size_t len = strlen(name);

	return len >= 1 && len <= DOMAIN_NAME_MAX &&
	       strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_") == len;
}

/* Checks that a Maildir template uses only %u, %h and %%, and yields an absolute path. */
static bool template_ok(const char *t)
{
	if (t[0] != '/' && strncmp(t, "%h", 2) != 0)
		return false;
	for (const char *p = strchr(t, '%'); p != NULL; p = strchr(p + 2, '%'))
		if (p[1] != 'u' && p[1] != 'h' && p[1] != '%')
			return false;
	return true;
}

/* Stores a string setting; false when it is empty, too long or of the wrong form. */
static bool set_string(const struct setting *s, char *dst, const char *value, char *err, size_t errlen)
{
	if (strlen(value) >= PATH_MAX) {
		snprintf(err, errlen, "%s: value too long", s->key);
		return false;
	}
	if (s->kind == SET_PATH && value[0] != '/' && (s->choices == NULL || strcmp(value, s->choices[0]) != 0)) {
		snprintf(err, errlen, "%s: must be an absolute path%s%s", s->key,
			 s->choices ? " or " : "", s->choices ? s->choices[0] : "");
		return false;
	}
	if (s->kind == SET_TEMPLATE && !template_ok(value)) {
		snprintf(err, errlen, "%s: must start with / or %%h and use only %%u, %%h and %%%%", s->key);
		return false;
	}
	if (s->kind == SET_NAME && !auth_user_name_ok(value, strlen(value))) {
		snprintf(err, errlen, "%s: not a valid user name", s->key);
		return false;
	}
	if (s->kind == SET_DOMAIN && !domain_name_ok(value)) {
		snprintf(err, errlen, "%s: expected 1 to %d letters, digits, '.', '-' or '_'", s->key, DOMAIN_NAME_MAX);
		return false;
	}
	return str_copy(dst, PATH_MAX, value);	/* fits: checked above */
}

/* Stores the index of value in the setting's word list; false when it is not one of them. */
static bool set_choice(const struct setting *s, unsigned *dst, const char *value, char *err, size_t errlen)
{
	for (unsigned i = 0; s->choices[i] != NULL; i++) {
		if (strcmp(value, s->choices[i]) == 0) {
			*dst = i;
			return true;
		}
	}
	snprintf(err, errlen, "%s: expected %s%s%s%s%s", s->key, s->choices[0],
		 s->choices[2] ? ", " : " or ", s->choices[1],
		 s->choices[2] ? " or " : "", s->choices[2] ? s->choices[2] : "");
	return false;
}

bool config_set(struct config *cfg, const char *key, const char *value, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof settings / sizeof *settings; i++) {
		const struct setting *s = &settings[i];
		char *field = (char *)cfg + s->offset;

		if (strcmp(key, s->key) != 0)
			continue;
		switch (s->kind) {
		case SET_PATH:
		case SET_TEMPLATE:
		case SET_NAME:
		case SET_DOMAIN:
			return set_string(s, field, value, err, errlen);
		case SET_CHOICE:
			return set_choice(s, (unsigned *)(void *)field, value, err, errlen);
		case SET_NUMBER:
			if (s->choices != NULL && strcmp(value, s->choices[0]) == 0) {
				*(unsigned *)(void *)field = EXPIRE_NEVER;
				return true;
			}
			if (parse_uint_setting(value, s->min, s->max, (unsigned *)(void *)field))
				return true;
			snprintf(err, errlen, "%s: expected a number from %u to %u%s%s", s->key, s->min, s->max,
				 s->choices ? " or " : "", s->choices ? s->choices[0] : "");
			return false;
		}
	}
	snprintf(err, errlen, "unknown key '%.64s'", key);
	return false;
}

bool config_assign(struct config *cfg, const char *assignment, char *err, size_t errlen)
{
	char copy[CONFIG_LINE_MAX];
	char *eq;

	if (!str_copy(copy, sizeof copy, assignment)) {
		snprintf(err, errlen, "line too long");
		return false;
	}
	eq = strchr(copy, '=');
	if (eq == NULL) {
		snprintf(err, errlen, "expected key = value");
		return false;
	}
	*eq = '\0';
	return config_set(cfg, trim_blanks(copy), trim_blanks(eq + 1), err, errlen);
}

bool config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	char line[CONFIG_LINE_MAX], why[RESPONSE_MAX];
	enum file_line_status st;
	unsigned lineno = 0;
	bool ok = true;
	FILE *f;

	/* "-c /dev/null": no file, only the defaults and -o. */
	if (strcmp(path, "/dev/null") == 0)
		return true;
	f = fopen_regular(path);
	if (f == NULL) {
		snprintf(err, errlen, "cannot read %s: %s", path,
			 errno == EINVAL ? "not a regular file" : strerror(errno));
		return false;
	}
	while (ok && (st = file_line_read(f, line, sizeof line)) != FILE_LINE_EOF) {
		char *start = trim_blanks(line);

		lineno++;
		if (st == FILE_LINE_ERROR) {
			snprintf(why, sizeof why, "%s", strerror(errno));
			ok = false;
		} else if (st == FILE_LINE_TOO_LONG || st == FILE_LINE_NUL) {
			snprintf(why, sizeof why, st == FILE_LINE_NUL ? "NUL octet in the line" : "line too long");
			ok = false;
		} else if (*start != '\0' && *start != '#') {
			ok = config_assign(cfg, start, why, sizeof why);
		}
		if (!ok)
			snprintf(err, errlen, "%s line %u: %s", path, lineno, why);
	}
	fclose(f);
	return ok;
}

bool maildir_expand(const char *template, const char *user, const char *home, char *out, size_t size)
{
	size_t len = 0;

	for (const char *p = template; *p != '\0'; p++) {
		const char *piece = p;
		size_t n = 1;

		if (*p == '%') {
			p++;
			piece = *p == 'u' ? user : *p == 'h' ? home : p;
			n = *p == '%' ? 1 : strlen(piece);
			if (*p != 'u' && *p != 'h' && *p != '%')
				return false;
		}
		if (len + n >= size)
			return false;
		memcpy(out + len, piece, n);
		len += n;
	}
	out[len] = '\0';
	return out[0] == '/';
}

/* ---------------------------------------------------------------------
 * The session
 */

enum state { STATE_AUTHORIZATION, STATE_TRANSACTION, STATE_END };

/* The SASL response a session awaits after a "+ " challenge. */
enum sasl_wait { SASL_NONE, SASL_PLAIN, SASL_NTLM_NEGOTIATE, SASL_NTLM_AUTHENTICATE, SASL_GSSAPI };

struct session {
	const struct config *cfg;
	enum state state;
	bool logged_in;			/* the snapshot was taken */
	bool mailbox_done;		/* QUIT finished the mailbox (UPDATE, flags) */
	bool plaintext_ok;		/* USER/PASS allowed on this connection */
	char client[CLIENT_ADDRESS_MAX];	/* the client's address, or "local" */
	enum sasl_wait sasl;		/* what the line after a "+ " challenge answers */
	bool gssapi_first;		/* the next GSSAPI response starts the exchange */
	uint32_t ntlm_flags;		/* chosen in our NTLM CHALLENGE */
	char host[DOMAIN_NAME_MAX + 1];	/* NTLM: this computer's NetBIOS name */
	char ntlm_domain[DOMAIN_NAME_MAX + 1];	/* NTLM: the domain, in capitals */
	bool user_given;		/* USER was accepted and PASS may follow */
	char user[USER_NAME_MAX + 1];	/* "" when the name given is not one we accept */
	struct login_guard guard;	/* decides logins here (or, separated, in the parent) */
	int parent_fd;			/* separated child: the socket to the parent; else -1 */
	unsigned bad_commands;
	struct maildir md;
	size_t live_count;		/* messages not marked deleted */
	uint64_t live_octets;
	uint64_t total_octets;		/* of the whole snapshot */
	size_t retrieved;		/* RETR and TOP answered */
	uint64_t retrieved_octets;
	int message_fd;			/* the message RETR or TOP is about to send */
	size_t message;			/* its number, 0-based */
	bool top;
	uint64_t top_lines;
	/* The buffers come last: session_init() clears what is before them
	 * and leaves their pages untouched until they are used. */
	unsigned char challenge[SASL_CHALLENGE_MAX];	/* the "+ " challenge being sent */
	struct line_reader in;
	struct output out;
};

/* What a command asks of its arguments; checked before its handler runs. */
enum arg_rule {
	ARGS_NONE,
	ARGS_ONE,			/* one word */
	ARGS_REST,			/* the rest of the line, spaces included (PASS) */
	ARGS_ANY,			/* whatever: the handler refuses it */
	ARGS_OPTIONAL_MESSAGE,		/* LIST, UIDL */
	ARGS_MESSAGE,			/* RETR, DELE */
	ARGS_MESSAGE_COUNT,		/* TOP msg n */
};

/* A parsed command with its message number (0-based) and line count resolved. */
struct request {
	const struct command *cmd;
	bool has_message;
	size_t message;
	uint64_t count;
};

/* The reply a handler chooses; the session loop writes it. */
struct reply {
	bool ok;
	bool bad;			/* a protocol error: counts towards BAD_COMMANDS_MAX */
	bool close;			/* end the session after this reply */
	bool continuation;		/* a SASL "+ " line instead of +OK/-ERR */
	size_t challenge_len;		/* with the continuation: octets of s->challenge */
	bool silent;			/* no reply, and the session ends (separated child: the parent replies) */
	const char *code;		/* RFC 2449/3206 response code, or NULL */
	char text[RESPONSE_MAX];
	bool (*body)(struct session *);	/* multi-line body writer, or NULL */
};

typedef void handler(struct session *, const struct request *, struct reply *);

struct command_def {
	const char *keyword;
	enum arg_rule args;
	bool secret;			/* the line holds a password: wipe it after use */
	handler *run;
};

static void __attribute__((format(printf, 4, 0)))
reply_vset(struct reply *r, bool ok, const char *code, const char *format, va_list ap)
{
	r->ok = ok;
	r->code = code;
	vsnprintf(r->text, sizeof r->text, format, ap);
}

static void __attribute__((format(printf, 2, 3))) reply_ok(struct reply *r, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	reply_vset(r, true, NULL, format, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 3, 4)))
reply_err(struct reply *r, const char *code, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	reply_vset(r, false, code, format, ap);
	va_end(ap);
}

/* A negative reply to a malformed or misplaced command. */
static void __attribute__((format(printf, 2, 3))) reply_bad(struct reply *r, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	reply_vset(r, false, NULL, format, ap);
	va_end(ap);
	r->bad = true;
}

/* "s" unless n is 1, for replies that count things. */
static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

static uint64_t message_size(const struct session *s, size_t i)
{
	return s->cfg->exact_size ? s->md.msgs[i].exact_size : s->md.msgs[i].stored_size;
}

/* --- AUTHORIZATION state --- */

/* Takes s->user from a name a client sent: "" when it is not one we accept, so that it fails as an unknown user. */
static void set_user(struct session *s, const char *name, size_t len)
{
	s->user[0] = '\0';
	if (auth_user_name_ok(name, len)) {
		memcpy(s->user, name, len);
		s->user[len] = '\0';
	}
}

static void cmd_user(struct session *s, const struct request *q, struct reply *r)
{
	if (!s->plaintext_ok) {
		reply_err(r, "AUTH", "Plaintext authentication is not allowed without TLS");
		return;
	}
	/* Profile V0008/V0009: always +OK, whether or not the user exists.
	 * A name we would never accept is remembered as "" and fails at PASS. */
	set_user(s, q->cmd->argv[0].text, q->cmd->argv[0].len);
	s->user_given = true;
	reply_ok(r, "Send your password");
}

/* Confines the session to the Maildir at path unless the configuration says confine = no; false (logged) when a step the kernel supports failed.  Steps the kernel lacks are logged and skipped. */
static bool confine_to_maildir(const struct session *s, const char *path)
{
	unsigned missing;

	if (!s->cfg->confine)
		return true;
	log_prepare_confinement();
	if (!confine_session(path, &missing)) {
		log_msg(LOG_ERR, "user %s: cannot confine the session to %s: %s", s->user, path, strerror(errno));
		return false;
	}
	if (missing & CONFINE_NO_LANDLOCK)
		log_msg(LOG_WARNING, "the kernel lacks Landlock ABI 2 (Linux 5.19): file access is not confined");
	if (missing & CONFINE_NO_SECCOMP)
		log_msg(LOG_WARNING, "the kernel lacks seccomp filters: system calls are not confined");
	return true;
}

/* Confines the session to the logged-in user's Maildir, takes its snapshot and enters TRANSACTION. */
static void enter_transaction(struct session *s, const struct account *a, const char *mechanism,
			      struct reply *r)
{
	char path[PATH_MAX];

	if (!maildir_expand(s->cfg->maildir, a->name, a->home, path, sizeof path)) {
		log_msg(LOG_ERR, "user %s: the maildir template does not give an absolute path", a->name);
		reply_err(r, "SYS/PERM", "Mailbox unavailable");
		r->close = true;
		return;
	}
	if (!confine_to_maildir(s, path)) {
		reply_err(r, "SYS/TEMP", "Mailbox temporarily unavailable");
		r->close = true;
		return;
	}
	if (!maildir_snapshot(&s->md, path)) {
		reply_err(r, "SYS/TEMP", "Cannot open the mailbox");
		r->close = true;
		return;
	}
	s->live_count = s->md.count;
	for (size_t i = 0; i < s->md.count; i++)
		s->live_octets += message_size(s, i);
	s->total_octets = s->live_octets;
	s->state = STATE_TRANSACTION;
	s->logged_in = true;
	io_timer_start(s->cfg->timeout_auth);
	log_msg(LOG_INFO, "login user=%s mechanism=%s client=%s messages=%zu octets=%llu", a->name,
		mechanism, s->client, s->live_count, (unsigned long long)s->live_octets);
	reply_ok(r, "Logged in, %zu message%s (%llu octets)", s->live_count,
		 plural(s->live_count), (unsigned long long)s->live_octets);
}

/* Changes to the account and enters TRANSACTION, for a login decided here or by the privileged parent. */
static void start_transaction(struct session *s, const struct account *a, const char *mechanism, struct reply *r)
{
	if (!auth_switch_user(a)) {
		reply_err(r, "SYS/PERM", "Cannot change to the user");
		r->close = true;
		return;
	}
	/* The parent of a separated session never saw USER. */
	str_copy(s->user, sizeof s->user, a->name);
	enter_transaction(s, a, mechanism, r);
}

/* Separated child, after the parent accepted the login: hands it the client and the input not yet used; from then on the parent replies (or nobody, if that failed: logged). */
static void hand_over(struct session *s, struct reply *r)
{
	const char *unused;
	size_t len = line_pending(&s->in, &unused);

	privsep_hand_over(s->parent_fd, s->in.fd, s->out.fd, unused, len);
	r->silent = true;
}

/* Replies to a decided login: on success the session enters TRANSACTION (a separated child hands it over), a failure says so. */
static void login_decided(struct session *s, enum login_result result, const struct account *a,
			  const char *mechanism, struct reply *r)
{
	switch (result) {
	case LOGIN_OK:
		if (s->parent_fd < 0)
			start_transaction(s, a, mechanism, r);
		else
			hand_over(s, r);
		break;
	case LOGIN_FAILED:
		reply_err(r, "AUTH", "Authentication failed");
		break;
	case LOGIN_FAILED_LAST:
		reply_err(r, "AUTH", "Authentication failed; too many failures, closing connection");
		r->close = true;
		break;
	case LOGIN_UNAVAILABLE:
		reply_err(r, "SYS/TEMP", "Authentication is temporarily unavailable");
		break;
	case LOGIN_REFUSED:
		reply_err(r, "SYS/PERM", "This account cannot log in here");
		break;
	}
}

/* Verifies s->user and a credential, for every mechanism but GSSAPI, here or (separated) in the parent, and replies. */
static void try_login(struct session *s, const struct credential *c, const char *mechanism, struct reply *r)
{
	struct account a = { .uid = 0 };
	enum login_result result;

	if (s->parent_fd < 0) {
		result = auth_login(&s->guard, s->user, c, mechanism, &a);
	} else if (!output_flush(&s->out) || !privsep_ask(s->parent_fd, mechanism, s->user, c, &result)) {
		/* Every earlier reply goes out first: after a login the parent
		 * replies next.  Failing, the parent is gone (killed, and this
		 * process with it any moment) or the client is: end without a
		 * word. */
		r->silent = true;
		return;
	}
	login_decided(s, result, &a, mechanism, r);
	account_clear(&a);
}

/* Counts the start of a login exchange; false, with the reply closing the session, once too many have started. */
static bool begin_exchange(struct session *s, struct reply *r)
{
	if (auth_exchange_begin(&s->guard))
		return true;
	reply_err(r, "AUTH", "Too many authentication attempts, closing connection");
	r->close = true;
	return false;
}

static void cmd_pass(struct session *s, const struct request *q, struct reply *r)
{
	struct credential c = { .kind = CREDENTIAL_PASSWORD, .password = q->cmd->rest };

	if (!s->plaintext_ok) {
		reply_err(r, "AUTH", "Plaintext authentication is not allowed without TLS");
		return;
	}
	if (!s->user_given) {
		reply_bad(r, "Send USER first");
		return;
	}
	if (q->cmd->rest_len == 0) {
		reply_bad(r, "Missing password");
		return;
	}
	/* Profile V0011: the password is the rest of the line, spaces and
	 * all.  The line is NUL-terminated where the password ends. */
	s->user_given = false;
	if (begin_exchange(s, r))
		try_login(s, &c, "USER", r);
}

static void cmd_apop(struct session *s, const struct request *q, struct reply *r)
{
	(void)s, (void)q;
	reply_err(r, NULL, "APOP is not supported");
}

/* Sends a challenge of len octets in s->challenge and awaits the response as next. */
static void send_challenge(struct session *s, size_t len, enum sasl_wait next, struct reply *r)
{
	s->sasl = next;
	r->continuation = true;
	r->challenge_len = len;
}

/* Checks a SASL PLAIN message (RFC 4616), decoded in buf (buf[len] writable), and logs in with it. */
static void sasl_plain(struct session *s, unsigned char *buf, size_t len, struct reply *r)
{
	struct sasl_plain plain;
	struct credential c = { .kind = CREDENTIAL_PASSWORD };

	switch (sasl_plain_parse((char *)buf, len, &plain)) {
	case PLAIN_MALFORMED:
		reply_bad(r, "Malformed SASL PLAIN response");
		break;
	case PLAIN_BAD_AUTHCID:
		reply_bad(r, "Invalid authentication identity");
		break;
	case PLAIN_BAD_AUTHZID:
		reply_err(r, "AUTH", "Authorization identity must be empty or the user name");
		break;
	case PLAIN_OK:
		if (!begin_exchange(s, r))
			break;
		set_user(s, plain.authcid, plain.authcid_len);
		c.password = plain.password;
		try_login(s, &c, "PLAIN", r);
		break;
	}
}

/* Answers an NTLM NEGOTIATE message with a CHALLENGE whose server challenge comes from where logins are decided. */
static void ntlm_negotiate(struct session *s, unsigned char *msg, size_t len, struct reply *r)
{
	struct ntlm_target t = { .domain = s->guard.ntlm_domain, .computer = s->host };
	bool issued = false;
	uint32_t flags;
	size_t n = 0;

	if (!ntlm_parse_negotiate(msg, len, &flags)) {
		reply_bad(r, "Malformed NTLM message");
		return;
	}
	if (!begin_exchange(s, r))
		return;
	if (s->parent_fd < 0) {
		issued = auth_ntlm_challenge(&s->guard, t.challenge);
	} else if (!privsep_challenge(s->parent_fd, t.challenge, &issued)) {
		r->silent = true;
		return;
	}
	if (issued)
		n = ntlm_build_challenge(flags, &t, s->challenge, sizeof s->challenge, &s->ntlm_flags);
	explicit_bzero(t.challenge, sizeof t.challenge);
	if (n == 0) {
		reply_err(r, "SYS/TEMP", "Authentication is temporarily unavailable");
		return;
	}
	send_challenge(s, n, SASL_NTLM_AUTHENTICATE, r);
}

/* Logs in with an NTLM AUTHENTICATE message answering our CHALLENGE. */
static void ntlm_authenticate(struct session *s, unsigned char *msg, size_t len, struct reply *r)
{
	static struct ntlm_authenticate a;
	struct credential c = { .kind = CREDENTIAL_NTLMV2, .domain = a.domain, .response = a.response };

	switch (ntlm_parse_authenticate(msg, len, s->ntlm_flags, &a)) {
	case NTLM_MALFORMED:
	case NTLM_TOO_LONG:
		reply_bad(r, "Malformed NTLM message");
		return;
	case NTLM_NOT_V2:
		reply_err(r, "AUTH", "Only NTLMv2 responses are accepted");
		return;
	case NTLM_BAD_USER:
		reply_bad(r, "Invalid authentication identity");
		return;
	case NTLM_OK:
		set_user(s, a.user, a.user_len);
		break;
	}
	c.domain_len = a.domain_len;
	c.response_len = a.response_len;
	try_login(s, &c, "NTLM", r);
	explicit_bzero(&a, sizeof a);
}

/* Takes a GSSAPI response a step further where logins are decided: the next challenge, or the login decided. */
static void gssapi_respond(struct session *s, unsigned char *in, size_t len, struct reply *r)
{
	struct account a = { .uid = 0 };
	enum login_result result = LOGIN_FAILED;
	bool first = s->gssapi_first;
	enum sasl_step step;
	size_t n = 0;

	if (first && !begin_exchange(s, r))
		return;
	s->gssapi_first = false;
	if (s->parent_fd < 0) {
		step = auth_gssapi_step(&s->guard, first, in, len, s->challenge, sizeof s->challenge, &n, &result, &a);
	} else if (!output_flush(&s->out) || !privsep_gssapi(s->parent_fd, first, in, len, s->challenge,
							       sizeof s->challenge, &n, &step, &result)) {
		r->silent = true;
		return;
	}
	if (step == SASL_CHALLENGE)
		send_challenge(s, n, SASL_GSSAPI, r);
	else
		login_decided(s, result, &a, "GSSAPI", r);
	account_clear(&a);
}

/* What takes each kind of decoded SASL response (a buffer with room for a NUL after len octets). */
typedef void sasl_responder(struct session *, unsigned char *, size_t, struct reply *);

static sasl_responder *const sasl_responders[] = {
	[SASL_PLAIN] = sasl_plain,
	[SASL_NTLM_NEGOTIATE] = ntlm_negotiate,
	[SASL_NTLM_AUTHENTICATE] = ntlm_authenticate,
	[SASL_GSSAPI] = gssapi_respond,
};

/* Takes one base64 SASL response (initial or after a challenge) for what the session awaits (not SASL_NONE). */
static void sasl_respond(struct session *s, enum sasl_wait what, const char *text, size_t len, struct reply *r)
{
	/* Static: a whole Kerberos ticket, and a password, pass through. */
	static unsigned char decoded[SASL_TOKEN_MAX + 1];
	size_t n, written;

	/* RFC 5034: "=" is an empty response. */
	if (len == 1 && text[0] == '=')
		len = 0;
	written = (len + 3) / 4 * 3;
	if (base64_decode(text, len, decoded, sizeof decoded - 1, &n))
		sasl_responders[what](s, decoded, n, r);
	else
		reply_bad(r, "Invalid base64 in the SASL response");
	/* A decoder that fails has written part of the response already:
	 * what it may have written is wiped, not the whole 12 KiB. */
	explicit_bzero(decoded, written < sizeof decoded ? written : sizeof decoded);
}

/* The SASL mechanisms (RFC 5034), in the order CAPA and AUTH list them. */
static const struct sasl_mechanism {
	const char *name;
	enum sasl_wait first;		/* what its first response is */
	bool plaintext;			/* it sends the password in the clear */
} sasl_mechanisms[] = {
	{ "GSSAPI", SASL_GSSAPI, false },
	{ "NTLM", SASL_NTLM_NEGOTIATE, false },
	{ "PLAIN", SASL_PLAIN, true },
};

#define SASL_MECHANISM_COUNT (sizeof sasl_mechanisms / sizeof *sasl_mechanisms)

/* Tells whether this session offers a mechanism: PLAIN always (the policy may still refuse it, with a reason), the others when configured and usable. */
static bool mechanism_offered(const struct session *s, const struct sasl_mechanism *m)
{
	return m->first == SASL_PLAIN || (m->first == SASL_NTLM_NEGOTIATE && s->guard.ntlm_offered) ||
	       (m->first == SASL_GSSAPI && s->guard.gssapi_offered);
}

/* Puts the mechanisms this session offers into list, in order; returns how many. */
static size_t offered_mechanisms(const struct session *s, const char *list[SASL_MECHANISM_COUNT])
{
	size_t n = 0;

	for (size_t i = 0; i < SASL_MECHANISM_COUNT; i++)
		if (mechanism_offered(s, &sasl_mechanisms[i]))
			list[n++] = sasl_mechanisms[i].name;
	return n;
}

/* Writes CAPA's SASL line: "SASL" and the offered mechanisms. */
static void output_sasl_capability(struct session *s)
{
	const char *list[SASL_MECHANISM_COUNT];
	size_t n = offered_mechanisms(s, list);

	output_put(&s->out, "SASL", 4);
	for (size_t i = 0; i < n; i++) {
		output_put(&s->out, " ", 1);
		output_put(&s->out, list[i], strlen(list[i]));
	}
	output_put(&s->out, "\r\n", 2);
}

/* AUTH alone: the offered mechanisms, one a line. */
static bool body_mechanisms(struct session *s)
{
	const char *list[SASL_MECHANISM_COUNT];
	size_t n = offered_mechanisms(s, list);

	for (size_t i = 0; i < n; i++)
		output_line(&s->out, "%s", list[i]);
	return true;
}

/* The offered mechanism named name (any case), or NULL. */
static const struct sasl_mechanism *find_mechanism(const struct session *s, const char *name, size_t len)
{
	for (size_t i = 0; i < SASL_MECHANISM_COUNT; i++) {
		const struct sasl_mechanism *m = &sasl_mechanisms[i];

		if (strlen(m->name) == len && strncasecmp(m->name, name, len) == 0 && mechanism_offered(s, m))
			return m;
	}
	return NULL;
}

static void cmd_auth(struct session *s, const struct request *q, struct reply *r)
{
	const struct command *c = q->cmd;
	const struct sasl_mechanism *m;

	if (c->argc == 0) {
		/* Outlook asks "AUTH" alone for the list of mechanisms. */
		reply_ok(r, "Supported mechanisms follow");
		r->body = body_mechanisms;
		return;
	}
	if (c->argc > 2) {
		reply_bad(r, "Wrong number of arguments for AUTH");
		return;
	}
	m = find_mechanism(s, c->argv[0].text, c->argv[0].len);
	if (m == NULL) {
		reply_err(r, NULL, "Unsupported authentication mechanism");
		return;
	}
	if (m->plaintext && !s->plaintext_ok) {
		reply_err(r, "AUTH", "Plaintext authentication is not allowed without TLS");
		return;
	}
	s->user_given = false;
	s->gssapi_first = true;
	if (c->argc == 1)
		send_challenge(s, 0, m->first, r);
	else
		sasl_respond(s, m->first, c->argv[1].text, c->argv[1].len, r);
}

/* Handles the line answering an AUTH continuation: "*" cancels, anything else is the base64 response. */
static void sasl_continue(struct session *s, struct line *line, struct reply *r)
{
	enum sasl_wait what = s->sasl;

	s->sasl = SASL_NONE;
	if (line->len == 1 && line->text[0] == '*')
		reply_err(r, NULL, "Authentication cancelled");
	else
		sasl_respond(s, what, line->text, line->len, r);
	explicit_bzero(line->text, line->len);
}

static bool body_capabilities(struct session *s)
{
	static const char *const common[] = {
		"TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING",
		"IMPLEMENTATION pop3-handler",
	};

	for (size_t i = 0; i < sizeof common / sizeof *common; i++)
		output_line(&s->out, "%s", common[i]);
	if (s->cfg->expire_days == EXPIRE_NEVER)
		output_line(&s->out, "EXPIRE NEVER");
	else
		output_line(&s->out, "EXPIRE %u", s->cfg->expire_days);
	if (s->state == STATE_AUTHORIZATION) {
		if (s->plaintext_ok)
			output_line(&s->out, "USER");
		output_sasl_capability(s);
	}
	return true;
}

static void cmd_capa(struct session *s, const struct request *q, struct reply *r)
{
	(void)s, (void)q;
	reply_ok(r, "Capability list follows");
	r->body = body_capabilities;
}

static void cmd_quit_authorization(struct session *s, const struct request *q, struct reply *r)
{
	(void)s, (void)q;
	reply_ok(r, "Bye");
	r->close = true;
}

/* --- TRANSACTION state --- */

static void cmd_stat(struct session *s, const struct request *q, struct reply *r)
{
	(void)q;
	reply_ok(r, "%zu %llu", s->live_count, (unsigned long long)s->live_octets);
}

static bool body_list(struct session *s)
{
	for (size_t i = 0; i < s->md.count; i++)
		if (!s->md.msgs[i].deleted)
			output_number_pair(&s->out, i + 1, message_size(s, i));
	return true;
}

static void cmd_list(struct session *s, const struct request *q, struct reply *r)
{
	if (q->has_message) {
		reply_ok(r, "%zu %llu", q->message + 1, (unsigned long long)message_size(s, q->message));
		return;
	}
	reply_ok(r, "%zu message%s (%llu octets)", s->live_count, plural(s->live_count),
		 (unsigned long long)s->live_octets);
	r->body = body_list;
}

static bool body_uidl(struct session *s)
{
	for (size_t i = 0; i < s->md.count; i++)
		if (!s->md.msgs[i].deleted)
			output_number_pair(&s->out, i + 1, s->md.msgs[i].uid);
	return true;
}

static void cmd_uidl(struct session *s, const struct request *q, struct reply *r)
{
	if (q->has_message) {
		reply_ok(r, "%zu %llu", q->message + 1, (unsigned long long)s->md.msgs[q->message].uid);
		return;
	}
	reply_ok(r, "Unique-id listing follows");
	r->body = body_uidl;
}

/* Streams the message opened by RETR or TOP; false when it could not be read to its end. */
static bool body_message(struct session *s)
{
	uint64_t before = s->out.sent + s->out.len;
	bool ok = maildir_send_message(s->message_fd, s->top, s->top_lines, &s->out);

	/* RETR (not TOP) makes a message seen: the Seen flag follows at the
	 * end of the session. */
	if (ok && !s->top && s->out.state == OUTPUT_OK)
		s->md.msgs[s->message].retrieved = true;
	if (close(s->message_fd) != 0)
		log_msg(LOG_WARNING, "close message: %s", strerror(errno));
	s->message_fd = -1;
	s->retrieved++;
	s->retrieved_octets += s->out.sent + s->out.len - before;
	return ok;
}

/* Opens the requested message for RETR or TOP and sets the reply. */
static void send_message(struct session *s, const struct request *q, bool top, struct reply *r)
{
	switch (maildir_open_message(&s->md, q->message, &s->message_fd)) {
	case OPEN_OK:
		s->message = q->message;
		s->top = top;
		s->top_lines = q->count;
		reply_ok(r, "%llu octets", (unsigned long long)message_size(s, q->message));
		r->body = body_message;
		break;
	case OPEN_GONE:
		reply_err(r, NULL, "Message %zu was removed from the mailbox by another program", q->message + 1);
		break;
	case OPEN_FAILED:
		reply_err(r, "SYS/TEMP", "Cannot read message %zu", q->message + 1);
		break;
	}
}

static void cmd_retr(struct session *s, const struct request *q, struct reply *r)
{
	send_message(s, q, false, r);
}

static void cmd_top(struct session *s, const struct request *q, struct reply *r)
{
	send_message(s, q, true, r);
}

static void cmd_dele(struct session *s, const struct request *q, struct reply *r)
{
	s->md.msgs[q->message].deleted = true;
	s->live_count--;
	s->live_octets -= message_size(s, q->message);
	reply_ok(r, "Message %zu deleted", q->message + 1);
}

static void cmd_noop(struct session *s, const struct request *q, struct reply *r)
{
	(void)s, (void)q;
	reply_ok(r, "%s", "");
}

static void cmd_rset(struct session *s, const struct request *q, struct reply *r)
{
	(void)q;
	s->live_count = 0;
	s->live_octets = 0;
	for (size_t i = 0; i < s->md.count; i++) {
		s->md.msgs[i].deleted = false;
		s->live_count++;
		s->live_octets += message_size(s, i);
	}
	reply_ok(r, "%zu message%s (%llu octets)", s->live_count, plural(s->live_count),
		 (unsigned long long)s->live_octets);
}

static bool expire_enabled(const struct session *s)
{
	return s->cfg->expire_days != EXPIRE_NEVER;
}

/* Ends the session's Maildir changes other than removals: the Seen flags and, with retention, the retrieval times. */
static void finish_mailbox(struct session *s)
{
	maildir_finish(&s->md, expire_enabled(s), time(NULL));
}

static void cmd_quit_transaction(struct session *s, const struct request *q, struct reply *r)
{
	size_t marked = s->md.count - s->live_count;
	size_t expired = 0, failed;

	(void)q;
	if (expire_enabled(s))
		expired = maildir_expire(&s->md, s->cfg->expire_days, s->cfg->expire_days_unread, time(NULL));
	failed = maildir_update(&s->md);
	finish_mailbox(s);
	s->mailbox_done = true;
	log_msg(LOG_INFO, "logout user=%s retrieved=%zu octets=%llu deleted=%zu octets=%llu expired=%zu failed=%zu",
		s->user, s->retrieved, (unsigned long long)s->retrieved_octets, marked,
		(unsigned long long)(s->total_octets - s->live_octets), expired, failed);
	if (failed > 0)
		reply_err(r, "SYS/TEMP", "Some deleted messages were not removed (%zu of %zu)", failed,
			  marked + expired);
	else
		reply_ok(r, "Bye, %zu message%s deleted", marked, plural(marked));
	r->close = true;
}

static const struct command_def authorization_commands[] = {
	{ "USER", ARGS_ONE, false, cmd_user },
	{ "PASS", ARGS_REST, true, cmd_pass },
	{ "APOP", ARGS_ANY, true, cmd_apop },
	{ "AUTH", ARGS_ANY, true, cmd_auth },
	{ "CAPA", ARGS_NONE, false, cmd_capa },
	{ "QUIT", ARGS_NONE, false, cmd_quit_authorization },
	{ NULL, ARGS_NONE, false, NULL },
};

static const struct command_def transaction_commands[] = {
	{ "STAT", ARGS_NONE, false, cmd_stat },
	{ "LIST", ARGS_OPTIONAL_MESSAGE, false, cmd_list },
	{ "RETR", ARGS_MESSAGE, false, cmd_retr },
	{ "DELE", ARGS_MESSAGE, false, cmd_dele },
	{ "NOOP", ARGS_NONE, false, cmd_noop },
	{ "RSET", ARGS_NONE, false, cmd_rset },
	{ "QUIT", ARGS_NONE, false, cmd_quit_transaction },
	{ "TOP", ARGS_MESSAGE_COUNT, false, cmd_top },
	{ "UIDL", ARGS_OPTIONAL_MESSAGE, false, cmd_uidl },
	{ "CAPA", ARGS_NONE, false, cmd_capa },
	{ NULL, ARGS_NONE, false, NULL },
};

static const struct command_def *find_command(const struct command_def *table, const char *keyword)
{
	for (; table->keyword != NULL; table++)
		if (strcmp(table->keyword, keyword) == 0)
			return table;
	return NULL;
}

/* Resolves a message number argument: false with the reply set when it names no live message. */
static bool resolve_message(const struct session *s, const struct command *c, struct request *q, struct reply *r)
{
	uint64_t digits_only;

	if (!parse_message_number(c->argv[0].text, c->argv[0].len, s->md.count, &q->message)) {
		/* Digits out of range name no message; anything else is a syntax error. */
		if (parse_line_count(c->argv[0].text, c->argv[0].len, &digits_only))
			reply_err(r, NULL, "No such message");
		else
			reply_bad(r, "Invalid message number");
		return false;
	}
	q->message--;
	q->has_message = true;
	if (s->md.msgs[q->message].deleted) {
		reply_err(r, NULL, "Message %zu is deleted", q->message + 1);
		return false;
	}
	return true;
}

/* Checks a command's arguments against its rule and resolves them into q; false with the reply set when they do not fit. */
static bool check_arguments(const struct session *s, const struct command_def *def,
			    const struct command *c, struct request *q, struct reply *r)
{
	static const unsigned min_args[] = { 0, 1, 0, 0, 0, 1, 2 };
	static const unsigned max_args[] = { 0, 1, COMMAND_ARGS_MAX + 1, COMMAND_ARGS_MAX + 1, 1, 1, 2 };

	if (c->argc < min_args[def->args] || c->argc > max_args[def->args]) {
		reply_bad(r, "Wrong number of arguments for %s", def->keyword);
		return false;
	}
	if ((def->args == ARGS_MESSAGE || def->args == ARGS_MESSAGE_COUNT ||
	     (def->args == ARGS_OPTIONAL_MESSAGE && c->argc == 1)) && !resolve_message(s, c, q, r))
		return false;
	if (def->args == ARGS_MESSAGE_COUNT &&
	    !parse_line_count(c->argv[1].text, c->argv[1].len, &q->count)) {
		reply_bad(r, "Invalid line count");
		return false;
	}
	return true;
}

/* Turns one command line into a reply. */
static void dispatch(struct session *s, struct line *line, struct reply *r)
{
	const struct command_def *table = s->state == STATE_AUTHORIZATION ? authorization_commands
									   : transaction_commands;
	const struct command_def *other = s->state == STATE_AUTHORIZATION ? transaction_commands
									   : authorization_commands;
	const struct command_def *def;
	struct command c;
	struct request q = { &c, false, 0, 0 };

	switch (command_parse(line->text, line->len, &c)) {
	case PARSE_EMPTY:
		reply_bad(r, "Empty command");
		return;
	case PARSE_BAD_BYTE:
		reply_bad(r, "Invalid octet (NUL or CR) in command");
		return;
	case PARSE_OK:
		break;
	}
	def = find_command(table, c.keyword);
	if (def == NULL) {
		if (c.keyword[0] != '\0' && find_command(other, c.keyword) != NULL)
			reply_bad(r, "Command not valid in this state");
		else
			reply_bad(r, "Unknown command");
	} else if (check_arguments(s, def, &c, &q, r)) {
		def->run(s, &q, r);
	}
	if (def != NULL && def->secret)
		explicit_bzero(line->text, line->len);
}

/* Writes a reply and its body; counts bad commands and ends the session when it must. */
static void send_reply(struct session *s, struct reply *r)
{
	if (r->silent) {
		s->state = STATE_END;
		return;
	}
	if (r->bad && ++s->bad_commands >= BAD_COMMANDS_MAX) {
		reply_err(r, NULL, "Too many bad commands, closing connection");
		r->body = NULL;
		r->close = true;
	}
	if (r->continuation)
		output_continuation(&s->out, s->challenge, r->challenge_len);
	else
		output_response(&s->out, r->ok, r->code, r->text);
	if (r->body != NULL) {
		if (!r->body(s)) {
			/* The body could not be finished: a "." now would pass
			 * a truncated message off as whole.  Hang up instead. */
			s->state = STATE_END;
			return;
		}
		output_put(&s->out, ".\r\n", 3);
	}
	if (r->close)
		s->state = STATE_END;
}

/* Waits for more input; false when the session must end (end of input, error, or autologout). */
static bool wait_for_input(struct session *s)
{
	for (;;) {
		ssize_t n;

		/* Pipelining: replies go out when the client has nothing more
		 * queued, not after every line. */
		if (!output_flush(&s->out))
			return false;
		n = line_fill(&s->in);
		if (n > 0)
			return true;
		if (n < 0 && errno == EINTR) {
			if (!io_timed_out())
				continue;
			log_msg(LOG_INFO, "autologout user=%s client=%s after %u s idle",
				s->state == STATE_TRANSACTION ? s->user : "-", s->client,
				s->state == STATE_TRANSACTION ? s->cfg->timeout_auth : s->cfg->timeout_unauth);
			output_response(&s->out, false, NULL, "Autologout: idle for too long, closing connection");
			output_flush(&s->out);
			return false;
		}
		if (n < 0)
			log_msg(LOG_INFO, "reading from the client: %s", strerror(errno));
		return false;
	}
}

/* The longest line the session takes next: a command, or a SASL response.  RFC 5034 bounds a response by what its mechanism needs: a Kerberos ticket or an NTLM message may be long, a PLAIN response (a name and a password) fits a command line, and a password never gets longer than the privileged parent takes. */
static size_t line_limit(const struct session *s)
{
	return s->sasl == SASL_NONE || s->sasl == SASL_PLAIN ? s->cfg->max_command_length : SASL_LINE_MAX;
}

static void session_loop(struct session *s)
{
	while (s->state != STATE_END && s->out.state == OUTPUT_OK) {
		struct reply r = { 0 };
		struct line line;

		line_reader_limit(&s->in, line_limit(s));
		switch (line_take(&s->in, &line)) {
		case LINE_NEED_MORE:
			if (!wait_for_input(s))
				return;
			continue;
		case LINE_TOO_LONG:
			s->sasl = SASL_NONE;
			reply_bad(&r, "Command line too long");
			break;
		case LINE_OK:
			if (s->sasl != SASL_NONE)
				sasl_continue(s, &line, &r);
			else
				dispatch(s, &line, &r);
			break;
		}
		io_timer_restart();	/* profile V0002: any command resets the timer */
		send_reply(s, &r);
	}
	output_flush(&s->out);
}

/* Writes name (at most DOMAIN_NAME_MAX octets) into out in capitals, as NTLM names domains and computers. */
static void netbios_name(char out[DOMAIN_NAME_MAX + 1], const char *name)
{
	size_t i;

	for (i = 0; i < DOMAIN_NAME_MAX && name[i] != '\0'; i++)
		out[i] = (char)toupper((unsigned char)name[i]);
	out[i] = '\0';
}

/* Writes this host's NTLM computer name: its name up to the first dot, in capitals; "POP3" when it has none we can use. */
static void netbios_host_name(char out[DOMAIN_NAME_MAX + 1])
{
	char name[DOMAIN_NAME_MAX + 1] = "";

	if (gethostname(name, sizeof name - 1) != 0)
		name[0] = '\0';
	name[strcspn(name, ".")] = '\0';
	netbios_name(out, domain_name_ok(name) ? name : "POP3");
}

/* Prepares a session on in_fd and out_fd: the client's address, the plaintext policy, the login guard, the buffers and the signals. */
static void session_init(struct session *s, const struct config *cfg, int in_fd, int out_fd)
{
	memset(s, 0, offsetof(struct session, challenge));
	s->cfg = cfg;
	s->state = STATE_AUTHORIZATION;
	s->message_fd = -1;
	maildir_init(&s->md);
	s->parent_fd = -1;
	auth_client_address(in_fd, s->client, sizeof s->client);
	s->plaintext_ok = cfg->plaintext_auth == PLAINTEXT_YES ||
			  (cfg->plaintext_auth == PLAINTEXT_SECURE && (cfg->tls || auth_address_is_local(s->client)));
	s->guard.passwd_file = cfg->passwd_file;
	s->guard.client = s->client;
	s->guard.max_failures = cfg->max_auth_failures;
	s->guard.fail_delay = cfg->auth_fail_delay;
	netbios_host_name(s->host);
	netbios_name(s->ntlm_domain, cfg->ntlm_domain[0] != '\0' ? cfg->ntlm_domain : s->host);
	s->guard.ntlm_offered = cfg->ntlm && ntlm_ready();
	s->guard.ntlm_domain = s->ntlm_domain;
	s->guard.gssapi_offered = gssapi_available(cfg->keytab);
	gssapi_init(&s->guard.gssapi, cfg->keytab, cfg->krb5_realm);
	line_reader_init(&s->in, in_fd, cfg->max_command_length);
	output_init(&s->out, out_fd);
	io_signals_init();
}

/* Greets the client and serves commands until the session ends (a separated child: until the hand-over). */
static void session_greet_and_serve(struct session *s)
{
	io_timer_start(s->cfg->timeout_unauth);
	output_response(&s->out, true, NULL, "POP3 server ready");
	session_loop(s);
}

/* Finishes the mailbox of a session that ended without QUIT, logs how the client left, and wipes the input; returns the exit status. */
static int session_finish(struct session *s)
{
	if (s->logged_in && !s->mailbox_done) {
		/* Client gone, autologout, too many bad commands: no UPDATE,
		 * but what was retrieved is seen. */
		log_msg(LOG_INFO, "user=%s session ended without QUIT: nothing removed", s->user);
		finish_mailbox(s);
	}
	if (s->out.state != OUTPUT_OK)
		log_msg(LOG_INFO, "client %s", s->out.state == OUTPUT_TIMED_OUT ? "stopped reading: autologout" : "went away");
	maildir_close(&s->md);
	explicit_bzero(&s->in, sizeof s->in);
	return 0;
}

int session_run(const struct config *cfg, int in_fd, int out_fd)
{
	static struct session s;

	session_init(&s, cfg, in_fd, out_fd);
	session_greet_and_serve(&s);
	return session_finish(&s);
}

/* The parent of a separated session after the hand-over: takes the client and its unused input, changes to the user and serves TRANSACTION. */
static int serve_handed_over(struct session *s, struct privsep_parent *p)
{
	struct reply r = { 0 };

	line_reader_init(&s->in, p->client_in, s->cfg->max_command_length);
	line_feed(&s->in, p->input, p->input_len);
	explicit_bzero(p->input, p->input_len);
	output_init(&s->out, p->client_out);
	start_transaction(s, &p->account, p->mechanism, &r);
	account_clear(&p->account);
	send_reply(s, &r);
	session_loop(s);
	return session_finish(s);
}

/* Serves a session started as root in two processes (privsep.h): a jailed child talks to the client until login while this process decides the logins, then becomes the user and serves TRANSACTION. */
static int session_run_separated(const struct config *cfg, struct privsep_jail *jail)
{
	static struct session s;
	static struct privsep_parent p;
	int fd, status;
	pid_t child;

	session_init(&s, cfg, STDIN_FILENO, STDOUT_FILENO);
	switch (privsep_fork(jail, cfg->log == LOG_TARGET_STDERR, &fd, &child)) {
	case PRIVSEP_FAILED:
		return 1;
	case PRIVSEP_CHILD:
		/* _exit: exit handlers inherited from the parent are not the
		 * child's to run (a leak checker's would look for /proc, which
		 * the jail lacks). */
		s.parent_fd = fd;
		session_greet_and_serve(&s);
		_exit(session_finish(&s));
	case PRIVSEP_PARENT:
		break;
	}
	privsep_parent_init(&p, fd, &s.guard, s.plaintext_ok);
	if (!privsep_parent_serve(&p, child, &status))
		return status;
	return serve_handed_over(&s, &p);
}

/* ---------------------------------------------------------------------
 * Start-up
 */

static void usage(void)
{
	printf("usage: pop3-handler [-c FILE] [-o key=value]...\n"
	       "       pop3-handler -H [-N] | -V | -h\n"
	       "Serves one POP3 session on standard input and output.\n"
	       "  -c FILE       configuration file (default %s)\n"
	       "  -o key=value  override one configuration key (may repeat)\n"
	       "  -H            read a password on standard input, print its hash\n"
	       "                for the passwd file (libxcrypt's default method)\n"
	       "  -N            with -H: also print the password's NT hash, for\n"
	       "                the passwd file's eighth field (NTLM)\n"
	       "  -V            print the version\n"
	       "  -h            print this help\n", DEFAULT_CONFIG_FILE);
}

/* Reports a start-up error: to the log, and to the client as the only line it gets. */
static int startup_error(const struct config *cfg, const char *why)
{
	char text[RESPONSE_MAX];

	if (cfg->log == LOG_TARGET_STDERR)
		log_to_stderr();
	log_msg(LOG_ERR, "configuration error: %s", why);
	snprintf(text, sizeof text, "Server configuration error: %s", why);
	for (char *p = text; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '?';
	printf("-ERR [SYS/PERM] %.490s\r\n", text);
	return 1;
}

/* Reads the command line and the configuration; returns -1 to go on with a session, else the exit status. */
static int configure(int argc, char **argv, struct config *cfg)
{
	const char *file = DEFAULT_CONFIG_FILE;
	bool hash = false, nt_hash = false;
	char err[RESPONSE_MAX];
	int opt;

	config_defaults(cfg);
	while ((opt = getopt(argc, argv, ":c:o:HNVh")) != -1) {
		switch (opt) {
		case 'H':
			hash = true;
			break;
		case 'N':
			nt_hash = true;
			break;
		case 'c':
			file = optarg;
			break;
		case 'o':
			break;	/* applied after the file, below */
		case 'V':
			printf("pop3-handler %s\n", POP3_HANDLER_VERSION);
			return 0;
		case 'h':
			usage();
			return 0;
		default:
			snprintf(err, sizeof err, "bad option -%c; see pop3-handler -h", optopt);
			return startup_error(cfg, err);
		}
	}
	if (optind < argc)
		return startup_error(cfg, "unexpected argument; see pop3-handler -h");
	if (hash) {
		log_to_stderr();	/* a tool at a terminal, not a session */
		return auth_hash_tool(nt_hash);
	}
	if (nt_hash)
		return startup_error(cfg, "-N goes with -H; see pop3-handler -h");
	if (!config_load(cfg, file, err, sizeof err))
		return startup_error(cfg, err);
	optind = 1;
	while ((opt = getopt(argc, argv, ":c:o:HNVh")) != -1)
		if (opt == 'o' && !config_assign(cfg, optarg, err, sizeof err))
			return startup_error(cfg, err);
	if (cfg->ntlm && strcmp(cfg->passwd_file, AUTH_SYSTEM_DATABASE) == 0)
		return startup_error(cfg, "ntlm = yes needs a passwd_file with NT hashes: the host's accounts have none");
	if (cfg->log == LOG_TARGET_STDERR)
		log_to_stderr();
	else
		log_to_syslog();
	return -1;
}

int main(int argc, char **argv)
{
	struct privsep_jail jail;
	char err[RESPONSE_MAX];
	struct config cfg;
	int status;

	umask(077);
	status = configure(argc, argv, &cfg);
	if (status >= 0)
		return status;
	/* Not root: no privilege to separate from, one process as ever. */
	if (geteuid() != 0)
		return session_run(&cfg, STDIN_FILENO, STDOUT_FILENO);
	if (!privsep_jail_open(cfg.privsep_user, cfg.privsep_dir, &jail, err, sizeof err))
		return startup_error(&cfg, err);
	return session_run_separated(&cfg, &jail);
}
