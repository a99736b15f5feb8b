/*
 * log.c - syslog or standard error, chosen once at start-up.
 */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static bool use_stderr;
static bool syslog_opened;
/* A tool at a terminal (-t): no process id on its lines. */
static bool tool;
/* Messages logged at LOG_ERR or worse, and at LOG_WARNING. */
static unsigned errors, warnings;

void log_to_syslog(void)
{
	use_stderr = false;
	if (!syslog_opened) {
		/* LOG_NDELAY: connect now, while the files we need are still
		 * reachable, not later from inside a Maildir session. */
		openlog("pop3-handler", LOG_PID | LOG_NDELAY, LOG_MAIL);
		syslog_opened = true;
	}
}

void log_to_stderr(void)
{
	use_stderr = true;
}

void log_to_terminal(void)
{
	use_stderr = true;
	tool = true;
}

void log_counts(unsigned *error_count, unsigned *warning_count)
{
	*error_count = errors;
	*warning_count = warnings;
}

void log_prepare_confinement(void)
{
	if (!use_stderr)
		log_to_syslog();
	/* syslog() stamps each line with localtime_r(), which reads
	 * /etc/localtime (or TZ's file) once, on first use: load it now. */
	tzset();
}

void log_reconnect(void)
{
	if (use_stderr || !syslog_opened)
		return;
	/* closelog() closes the descriptor it had, now closed already:
	 * nothing else has taken its number yet. */
	closelog();
	openlog("pop3-handler", LOG_PID | LOG_NDELAY, LOG_MAIL);
}

static const char *priority_name(int priority)
{
	switch (priority) {
	case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
		return "notice";
	case LOG_DEBUG:
		return "debug";
	default:
		return "info";
	}
}

void log_msg(int priority, const char *format, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, format);
	vsnprintf(text, sizeof text, format, ap);
	va_end(ap);
	/* File names and configuration values come from others: a newline
	 * in one must not forge a log line of its own. */
	for (char *p = text; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (priority <= LOG_ERR)
		errors++;
	else if (priority == LOG_WARNING)
		warnings++;
	if (tool) {
		fprintf(stderr, "pop3-handler: %s: %s\n", priority_name(priority), text);
	} else if (use_stderr) {
		fprintf(stderr, "pop3-handler[%ld]: %s: %s\n", (long)getpid(), priority_name(priority), text);
	} else {
		if (!syslog_opened)
			log_to_syslog();
		syslog(priority, "%s", text);
	}
}
