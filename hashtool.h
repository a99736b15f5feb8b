/*
 * hashtool.h - pop3-handler -H, the tool that makes the passwd file's
 * hashes from a password.
 */
#ifndef POP3_HASHTOOL_H
#define POP3_HASHTOOL_H

#include <stdbool.h>

/* Reads a password from standard input (twice and without echo on a terminal) and prints
 * its hash with libxcrypt's default method, and with nt_hash its NT hash on a second line;
 * says on standard error why it cannot; returns the exit status. */
int hash_tool(bool nt_hash);

#endif
