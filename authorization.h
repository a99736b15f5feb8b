/*
 * authorization.h - the AUTHORIZATION state's commands (RFC 1939, 2449,
 * 5034): USER, PASS, APOP, AUTH, CAPA and QUIT.
 */
#ifndef POP3_AUTHORIZATION_H
#define POP3_AUTHORIZATION_H

#include "session.h"

/* The AUTHORIZATION state's command table. */
extern const struct command_def authorization_commands[];

/* CAPA, in either state: the capabilities, and before login how one may log in. */
void authorization_capa(struct session *s, const struct request *q, struct reply *r);

#endif
