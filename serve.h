/*
 * serve.h - serving one client, the two ways: in one process, which
 * decides its own logins, or (started as root) separated into a jailed
 * child that talks to the client until login and the root parent that
 * decides its logins and then serves the mailbox as the user.
 */
#ifndef POP3_SERVE_H
#define POP3_SERVE_H

#include "config.h"
#include "privsep.h"

/* Serves one POP3 session reading commands from in_fd and writing replies to out_fd, in this
 * process; returns the process exit status. */
int serve_one_process(const struct config *cfg, int in_fd, int out_fd);

/* Serves one POP3 session on standard input and output separated (privsep.h): the child enters
 * jail; returns this process's exit status. */
int serve_separated(const struct config *cfg, struct privsep_jail *jail);

#endif
