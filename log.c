/*
 * log.c - syslog or standard error, chosen once at start-up.
 */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

static bool use_stderr;
static bool syslog_opened;

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
	va_list ap;

	va_start(ap, format);
	if (use_stderr) {
		/* One fprintf per part is fine: stderr is unbuffered, and the
		 * tests read whole lines only after the process ended. */
		fprintf(stderr, "pop3-handler[%ld]: %s: ", (long)getpid(),
			priority_name(priority));
		vfprintf(stderr, format, ap);
		fputc('\n', stderr);
	} else {
		if (!syslog_opened)
			log_to_syslog();
		vsyslog(priority, format, ap);
	}
	va_end(ap);
}
