/*
 * pop3-handler.h - the program's version, as -V prints it.
 */
#ifndef POP3_HANDLER_H
#define POP3_HANDLER_H

#define POP3_HANDLER_VERSION "0.1.0"

#endif
