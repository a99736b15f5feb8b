/*
 * confine.h - what a session gives up: after login, before it reads the
 * Maildir, new privileges, file access outside the Maildir (Landlock), and
 * every system call the TRANSACTION state does not make (seccomp); before
 * login, in the jailed child, all that and every file; and the seccomp
 * allow-list of another process (the GSSAPI helper).
 */
#ifndef POP3_CONFINE_H
#define POP3_CONFINE_H

#include <stdbool.h>
#include <stddef.h>

#include "seccomp-programs.h"

/* Steps of confine_session that the running kernel lacks. */
#define CONFINE_NO_LANDLOCK 1u	/* no Landlock, or (confine_session) only ABI 1 (Linux 5.13 to 5.18) */
#define CONFINE_NO_SECCOMP 2u	/* no seccomp filters with SECCOMP_RET_KILL_PROCESS */

/* Sets no-new-privileges, restricts file access to reading, writing, creating, removing and
 * renaming regular files beneath maildir with Landlock (nothing at all when maildir cannot be
 * opened), and installs the session's seccomp allow-list, any other call killing the process;
 * returns false with errno set when a step the kernel supports fails, and sets *missing to the
 * CONFINE_NO_* bits of the steps the kernel lacks.  Whatever the session needs from outside the
 * Maildir (the syslog connection, the time zone) must be loaded before. */
bool confine_session(const char *maildir, unsigned *missing);

/* Sets no-new-privileges, forbids every file access, TCP (Landlock ABI 4) and signals to other
 * processes (ABI 6) with Landlock, and installs the pre-login child's seccomp allow-list: the
 * client's and the socket pair's reads and writes, the timer, logging, memory, signals to
 * itself and exit; anything else kills the process (socket() fails with EACCES).  Returns and
 * sets *missing as confine_session does.  The syslog connection must be open before. */
bool confine_prelogin(unsigned *missing);

/* Installs program (seccomp-programs.h) as this process's seccomp filter, every call it does
 * not allow killing the whole process; no-new-privileges must be set first.  False with errno
 * set on failure, true with CONFINE_NO_SECCOMP added to *missing when the kernel lacks seccomp
 * filters. */
bool confine_system_calls(const struct seccomp_program *program, unsigned *missing);

#endif
