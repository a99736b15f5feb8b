/*
 * transaction.h - the TRANSACTION state's commands (RFC 1939, 2449): STAT,
 * LIST, RETR, DELE, NOOP, RSET, QUIT, TOP, UIDL and CAPA.
 */
#ifndef POP3_TRANSACTION_H
#define POP3_TRANSACTION_H

#include "session.h"

/* The TRANSACTION state's command table. */
extern const struct command_def transaction_commands[];

#endif
