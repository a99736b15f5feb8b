/*
 * netbios.h - the NetBIOS names NTLM's CHALLENGE carries: this computer's
 * name and the domain, in capitals.
 */
#ifndef POP3_NETBIOS_H
#define POP3_NETBIOS_H

#include "params.h"

/* Writes name (at most DOMAIN_NAME_MAX octets are taken) into out in capitals, as NTLM
 * names domains and computers. */
void netbios_name(char out[DOMAIN_NAME_MAX + 1], const char *name);

/* Writes this host's NTLM computer name: its name up to the first dot, in capitals; "POP3"
 * when it has none we can use. */
void netbios_host_name(char out[DOMAIN_NAME_MAX + 1]);

#endif
