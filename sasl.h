/*
 * sasl.h - AUTH (RFC 5034): the SASL mechanisms this server offers, in one
 * table, and their exchanges: PLAIN (RFC 4616), NTLM (MS-NLMP) and GSSAPI
 * (RFC 4752), each response taken in base64 and passed to the login door.
 */
#ifndef POP3_SASL_H
#define POP3_SASL_H

#include "session.h"

/* Names this host and the NTLM domain (ntlm_domain, else the host name) as NTLM's
 * CHALLENGE gives them. */
void sasl_init(struct session *s);

/* AUTH: alone, lists the mechanisms offered; with a mechanism (and maybe an initial
 * response), starts its exchange. */
void sasl_auth(struct session *s, const struct request *q, struct reply *r);

/* Writes CAPA's SASL line: "SASL" and the mechanisms offered. */
void sasl_write_capability(struct session *s);

#endif
