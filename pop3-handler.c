/*
 * pop3-handler.c - start-up: a POP3 server for one session on stdin and
 * stdout, started per connection by inetd, xinetd, a systemd socket or
 * stunnel.  main() reads the options and the configuration and hands the
 * session to serve.c, in one process or, started as root, separated.
 */

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config-test.h"
#include "hashtool.h"
#include "log.h"
#include "params.h"
#include "pop3-handler.h"
#include "privsep.h"
#include "serve.h"
#include "session.h"

/* A start-up error's reason is cut to this many octets, so that the one line the client
 * gets ("-ERR [SYS/PERM] Server configuration error: ...") fits RESPONSE_MAX. */
#define STARTUP_TEXT_MAX 490

static void usage(void)
{
	printf("usage: pop3-handler [-t] [-T] [-c FILE] [-o key=value]...\n"
	       "       pop3-handler -H [-N] | -V | -h\n"
	       "Serves one POP3 session on standard input and output.\n"
	       "  -c FILE       configuration file (default %s)\n"
	       "  -o key=value  override one configuration key (may repeat)\n"
	       "  -t            check the configuration and what it names (passwd\n"
	       "                file, privsep_user and privsep_dir, PAM service,\n"
	       "                keytab), report every problem on standard error, exit\n"
	       "                0 when a session would start, 1 otherwise\n"
	       "  -T            print the effective configuration\n"
	       "  -H            read a password on standard input, print its hash\n"
	       "                for the passwd file (libxcrypt's default method)\n"
	       "  -N            with -H: also print the password's NT hash, for\n"
	       "                the passwd file's eighth field (NTLM)\n"
	       "  -V            print the version\n"
	       "  -h            print this help\n", CONFIG_FILE_DEFAULT);
}

/* Reports a start-up error: to the log, and to the client as the only line it gets, through
 * the reply writer. */
static int startup_error(const struct config *cfg, const char *why)
{
	static struct output out;
	struct reply r = { 0 };

	if (cfg->log == LOG_TARGET_STDERR)
		log_to_stderr();
	log_msg(LOG_ERR, "configuration error: %s", why);
	reply_err(&r, "SYS/PERM", "Server configuration error: %s", why);
	r.text[STARTUP_TEXT_MAX] = '\0';
	/* The reason may quote the configuration: no control octet reaches
	 * the client. */
	for (char *p = r.text; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '?';
	output_init(&out, STDOUT_FILENO);
	reply_write(&out, &r);
	output_flush(&out);
	return 1;
}

/* The options that are not configuration keys. */
struct options {
	const char *file;	/* -c */
	bool hash, nt_hash;	/* -H, -N */
	bool test, print;	/* -t, -T */
};

#define OPTIONS ":c:o:tTHNVh"

/* Reads the options; returns -1 to go on, else the exit status (-V, -h, a bad option). */
static int read_options(int argc, char **argv, const struct config *cfg, struct options *o)
{
	char err[RESPONSE_MAX];
	int opt;

	while ((opt = getopt(argc, argv, OPTIONS)) != -1) {
		switch (opt) {
		case 't':
			o->test = true;
			break;
		case 'T':
			o->print = true;
			break;
		case 'H':
			o->hash = true;
			break;
		case 'N':
			o->nt_hash = true;
			break;
		case 'c':
			o->file = optarg;
			break;
		case 'o':
			break;	/* applied after the file, by apply_overrides() */
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
	return -1;
}

/* Applies the -o options over the file's settings, telling report each that is refused; false
 * when one was. */
static bool apply_overrides(int argc, char **argv, struct config *cfg, config_report *report, void *ctx)
{
	char why[RESPONSE_MAX];
	bool ok = true;
	int opt;

	optind = 1;
	while ((opt = getopt(argc, argv, OPTIONS)) != -1) {
		if (opt != 'o' || config_assign(cfg, optarg, why, sizeof why))
			continue;
		ok = false;
		if (!report(ctx, why))
			break;
	}
	return ok;
}

/* A config_report for -t and -T: logs the problem, after where it is from when ctx names
 * that, and goes on. */
static bool log_problem(void *ctx, const char *problem)
{
	const char *source = ctx;

	log_msg(LOG_ERR, "%s%s", source != NULL ? source : "", problem);
	return true;
}

/* -t and -T: reads the configuration reporting every problem, then checks what it names (-t)
 * and prints it (-T); the exit status. */
static int config_tool(int argc, char **argv, struct config *cfg, const struct options *o)
{
	char why[RESPONSE_MAX];
	unsigned errors, warnings;

	log_to_terminal();
	/* Without its file a session would not start: nothing else to check. */
	if (config_load_each(cfg, o->file, log_problem, NULL) == CONFIG_UNREADABLE)
		return 1;
	apply_overrides(argc, argv, cfg, log_problem, "-o: ");
	if (!config_check(cfg, why, sizeof why))
		log_problem(NULL, why);
	if (o->test)
		config_test(cfg);
	log_counts(&errors, &warnings);
	if (o->test)
		fprintf(stderr, "pop3-handler: %s: %u error%s, %u warning%s: %s\n", o->file, errors, plural(errors),
			warnings, plural(warnings), errors == 0 ? "a session would start" : "sessions would fail");
	if (o->print && errors == 0)
		config_print(cfg, stdout);
	return errors == 0 ? 0 : 1;
}

/* Reads the command line and the configuration; returns -1 to go on with a session, else
 * the exit status. */
static int configure(int argc, char **argv, struct config *cfg)
{
	struct options o = { CONFIG_FILE_DEFAULT, false, false, false, false };
	char err[RESPONSE_MAX];
	struct config_first first = { err, sizeof err };
	int status;

	config_defaults(cfg);
	status = read_options(argc, argv, cfg, &o);
	if (status >= 0)
		return status;
	if (o.hash) {
		log_to_stderr();	/* a tool at a terminal, not a session */
		return hash_tool(o.nt_hash);
	}
	if (o.nt_hash)
		return startup_error(cfg, "-N goes with -H; see pop3-handler -h");
	if (o.test || o.print)
		return config_tool(argc, argv, cfg, &o);
	if (!config_load(cfg, o.file, err, sizeof err) || !apply_overrides(argc, argv, cfg, config_keep_first, &first) ||
	    !config_check(cfg, err, sizeof err))
		return startup_error(cfg, err);
	if (cfg->log == LOG_TARGET_STDERR)
		log_to_stderr();
	else
		log_to_syslog();
	return -1;
}

/* Closes every descriptor above 2 that the launcher left open: a careless wrapper's descriptor
 * on /etc/shadow would otherwise reach the pre-login child and the confined session.  inetd,
 * xinetd, stunnel and a systemd socket with Accept=yes pass the connection on 0 and 1 only
 * (systemd's LISTEN_FDS belongs to Accept=no services, which this is not).  0, or the errno
 * of the failure. */
static int close_inherited_descriptors(void)
{
	struct rlimit lim;

	if (close_range(3, ~0U, 0) == 0)
		return 0;
	if (errno != ENOSYS)
		return errno;
	/* Before Linux 5.9: each descriptor the limit allows. */
	if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
		return errno;
	for (rlim_t fd = 3; fd < lim.rlim_cur && fd <= INT_MAX; fd++)
		if (close((int)fd) != 0 && errno != EBADF)
			return errno;
	return 0;
}

int main(int argc, char **argv)
{
	struct privsep_jail jail;
	char err[RESPONSE_MAX];
	struct config cfg;
	int status, closing;

	/* Before anything is allocated (params.h says why). */
	mallopt(M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD);
	/* Before anything else opens a descriptor of its own. */
	closing = close_inherited_descriptors();
	umask(077);
	status = configure(argc, argv, &cfg);
	if (status >= 0)
		return status;
	if (closing != 0) {
		snprintf(err, sizeof err, "cannot close inherited descriptors: %s", strerror(closing));
		return startup_error(&cfg, err);
	}
	/* Not root: no privilege to separate from, one process as ever. */
	if (geteuid() != 0)
		return serve_one_process(&cfg, STDIN_FILENO, STDOUT_FILENO);
	if (!privsep_jail_open(cfg.privsep_user, cfg.privsep_dir, &jail, err, sizeof err))
		return startup_error(&cfg, err);
	return serve_separated(&cfg, &jail);
}
