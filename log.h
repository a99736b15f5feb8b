/*
 * log.h - where pop3-handler's messages go: syslog (facility mail) in
 * production, standard error for tests.  Nothing else writes to fd 2.
 */
#ifndef POP3_LOG_H
#define POP3_LOG_H

#include <syslog.h>

/* Sends log messages to syslog, facility mail, with the process id (the default). */
void log_to_syslog(void);

/* Sends log messages to standard error, one line each (for tests and debugging). */
void log_to_stderr(void);

/* Sends log messages to standard error as a tool's (-t) are, "pop3-handler: error: ...". */
void log_to_terminal(void);

/* The number of messages logged so far at LOG_ERR or worse, and at LOG_WARNING. */
void log_counts(unsigned *error_count, unsigned *warning_count);

/* Opens the syslog connection (when logging there) and loads the time zone its timestamps use,
 * so that logging still works once file access is confined. */
void log_prepare_confinement(void);

/* Drops the syslog connection and makes a new one (when logging there): for a process that has
 * just closed the descriptors it inherited, the syslog socket among them. */
void log_reconnect(void);

/* Logs one message at the given syslog priority; the text must hold no secret. */
void log_msg(int priority, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

#endif
