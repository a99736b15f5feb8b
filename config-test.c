/*
 * config-test.c - pop3-handler -t: reads what a session would read, past
 * the first problem, and logs each problem it finds: an error where a
 * session would not start or no login could succeed, a warning where a
 * session would skip or do without something.
 */
#include "config-test.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gssapi.h"
#include "log.h"
#include "ntlm.h"
#include "pam-accounts.h"
#include "params.h"
#include "passwd-file.h"
#include "privsep.h"
#include "textfile.h"
#include "userdb.h"
#include "util.h"

/* A user name and the line it is on, to find the names given twice. */
struct named_line {
	char name[USER_NAME_MAX + 1];
	unsigned lineno;
};

/* What the check of the passwd file gathers. */
struct passwd_check {
	const struct config *cfg;
	const char *path;
	bool jailed;			/* privsep_user was found: its ids are known */
	uid_t jail_uid;
	gid_t jail_gid;
	bool nt_hash_seen;
	struct named_line *names;
	size_t count, capacity;
};

/* Warns when the ids of an entry are ones no session serves. */
static void check_ids(const struct passwd_check *c, const struct passwd_entry *e)
{
	if (e->uid == 0 || e->gid == 0)
		log_msg(LOG_WARNING, "%s line %u: user %s: uid or gid 0, which is never served: this user cannot log in",
			c->path, e->lineno, e->name);
	else if (c->jailed && (e->uid == c->jail_uid || e->gid == c->jail_gid))
		log_msg(LOG_WARNING, "%s line %u: user %s: uid or gid of privsep_user %s, which every client's "
			"pre-login process runs as: this user cannot log in", c->path, e->lineno, e->name,
			c->cfg->privsep_user);
}

/* Warns when an entry's home is missing or its Maildir cannot be named. */
static void check_home(const struct passwd_check *c, const struct passwd_entry *e)
{
	char maildir[PATH_MAX];
	struct stat st;

	if (stat(e->home, &st) != 0)
		log_msg(LOG_WARNING, "%s line %u: user %s: home %s: %s", c->path, e->lineno, e->name, e->home,
			strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		log_msg(LOG_WARNING, "%s line %u: user %s: home %s is not a directory", c->path, e->lineno, e->name,
			e->home);
	if (!maildir_expand(c->cfg->maildir, e->name, e->home, maildir, sizeof maildir))
		log_msg(LOG_WARNING, "%s line %u: user %s: the maildir template gives no absolute path that fits",
			c->path, e->lineno, e->name);
}

/* A passwd_visitor: checks one entry and notes its name. */
static void check_entry(void *ctx, const struct passwd_entry *e)
{
	struct passwd_check *c = ctx;

	check_ids(c, e);
	check_home(c, e);
	c->nt_hash_seen |= e->has_nt_hash;
	if (!array_grow((void **)&c->names, &c->capacity, c->count + 1, sizeof *c->names)) {
		log_msg(LOG_ERR, "out of memory checking %s", c->path);
		return;
	}
	/* Fits: passwd-file.c took it for a user name. */
	str_copy(c->names[c->count].name, sizeof c->names->name, e->name);
	c->names[c->count++].lineno = e->lineno;
}

/* Orders names, then lines. */
static int by_name_then_line(const void *a, const void *b)
{
	const struct named_line *x = a, *y = b;
	int order = strcmp(x->name, y->name);

	return order != 0 ? order : (x->lineno > y->lineno) - (x->lineno < y->lineno);
}

/* Warns about every entry that repeats an earlier entry's name: a login only finds the first. */
static void check_duplicates(struct passwd_check *c)
{
	if (c->count == 0)
		return;
	qsort(c->names, c->count, sizeof *c->names, by_name_then_line);
	for (size_t i = 1, first = 0; i < c->count; i++) {
		if (strcmp(c->names[i].name, c->names[first].name) != 0) {
			first = i;
			continue;
		}
		log_msg(LOG_WARNING, "%s line %u: user %s is also on line %u, which logins use: this line is never "
			"used", c->path, c->names[i].lineno, c->names[i].name, c->names[first].lineno);
	}
}

/* Checks the passwd file at cfg->passwd_file, each entry and the whole. */
static void check_passwd_file(const struct config *cfg, const struct privsep_jail *jail)
{
	struct passwd_check c = { cfg, cfg->passwd_file, jail != NULL, 0, 0, false, NULL, 0, 0 };

	if (jail != NULL) {
		c.jail_uid = jail->uid;
		c.jail_gid = jail->gid;
	}
	if (passwd_file_visit(cfg->passwd_file, check_entry, &c)) {
		check_duplicates(&c);
		if (c.count == 0)
			log_msg(LOG_WARNING, "%s: no user: no login can succeed", c.path);
		if (cfg->ntlm && !c.nt_hash_seen)
			log_msg(LOG_WARNING, "ntlm = yes, but no user in %s has an NT hash (eighth field): NTLM "
				"is offered and no one can use it", c.path);
	}
	free(c.names);
}

/* Where Linux-PAM finds a service's file (/etc/pam.conf is read only when the directory is missing). */
#define PAM_SERVICE_DIR "/etc/pam.d/"

/* Checks the PAM service file a PAM login would read: present, and changed by root alone. */
static void check_pam_service(const struct config *cfg)
{
	char path[sizeof PAM_SERVICE_DIR + PATH_MAX];
	const char *problem;
	struct stat st;
	FILE *f;

	if (!pam_ready())
		return;		/* logged */
	snprintf(path, sizeof path, "%s%s", PAM_SERVICE_DIR, cfg->pam_service);
	f = fopen_regular(path);
	if (f == NULL) {
		log_msg(LOG_WARNING, "pam_service %s: %s: %s: PAM uses its service \"other\" instead", cfg->pam_service,
			path, errno == EINVAL ? "not a regular file" : strerror(errno));
		return;
	}
	problem = file_untrusted(f, &st);
	if (problem == NULL && st.st_uid != 0)
		problem = "not owned by root";
	if (problem != NULL)
		log_msg(LOG_ERR, "pam_service %s: %s: %s: it decides who logs in", cfg->pam_service, path, problem);
	fclose(f);
}

/* Checks the user database passwd_file names. */
static void check_user_database(const struct config *cfg, const struct privsep_jail *jail)
{
	const struct account_source *db = userdb_named(cfg->passwd_file);

	if (db == &passwd_file_source)
		check_passwd_file(cfg, jail);
	else if (db == &pam_accounts)
		check_pam_service(cfg);
	if (cfg->ntlm && !ntlm_ready())
		log_msg(LOG_WARNING, "ntlm = yes, but NTLM cannot be offered without nettle (libnettle8)");
}

/* Warns when others than root may read or change the keytab: its keys let whoever holds them
 * act as the service, or as any user towards it. */
static void check_keytab_mode(const char *keytab, const struct stat *st)
{
	if ((st->st_mode & (S_IRWXG | S_IRWXO)) != 0 || st->st_uid != 0)
		log_msg(LOG_WARNING, "keytab %s: owned by uid %u with mode %03o: it should be root's alone "
			"(chmod 600), as its keys act as the service", keytab, (unsigned)st->st_uid,
			(unsigned)(st->st_mode & 0777));
}

/* Checks the keytab: a site that names one, or has the default one, expects GSSAPI from it. */
static void check_keytab(const struct config *cfg)
{
	struct gssapi_key *keys;
	char realm[DOMAIN_NAME_MAX + 1];
	size_t count = 0;
	struct stat st;
	bool usable;

	if (stat(cfg->keytab, &st) != 0) {
		if (strcmp(cfg->keytab, KEYTAB_DEFAULT) != 0)
			log_msg(LOG_WARNING, "keytab %s: %s: GSSAPI is not offered", cfg->keytab, strerror(errno));
		return;
	}
	check_keytab_mode(cfg->keytab, &st);
	keys = calloc(GSSAPI_KEYS_MAX, sizeof *keys);
	if (keys == NULL) {
		log_msg(LOG_ERR, "out of memory reading the keytab %s", cfg->keytab);
		return;
	}
	usable = gssapi_service_keys(cfg->keytab, keys, GSSAPI_KEYS_MAX, &count);
	explicit_bzero(keys, GSSAPI_KEYS_MAX * sizeof *keys);
	free(keys);
	if (!usable)
		log_msg(LOG_WARNING, "keytab %s has no usable pop/ key: GSSAPI is not offered", cfg->keytab);
	else if (cfg->krb5_realm[0] == '\0' && !gssapi_default_realm(realm, sizeof realm))
		log_msg(LOG_WARNING, "krb5_realm is unset and krb5.conf names no default_realm: GSSAPI logins "
			"cannot be mapped to users");
}

void config_test(const struct config *cfg)
{
	struct privsep_jail jail;
	char err[RESPONSE_MAX];
	bool jailed = false;

	/* Sessions started as root separate privileges; others do not. */
	if (geteuid() != 0)
		log_msg(LOG_NOTICE, "not root: privsep_user and privsep_dir are not checked (a session started "
			"by this user does not use them)");
	else if (!privsep_jail_open(cfg->privsep_user, cfg->privsep_dir, &jail, err, sizeof err))
		log_msg(LOG_ERR, "%s", err);
	else
		jailed = true;
	if (jailed)
		close(jail.dirfd);	/* a directory opened to read: nothing is lost */
	check_user_database(cfg, jailed ? &jail : NULL);
	check_keytab(cfg);
}
