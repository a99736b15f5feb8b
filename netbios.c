/*
 * netbios.c - NetBIOS names for NTLM.
 */
#include "netbios.h"

#include <ctype.h>
#include <string.h>
#include <unistd.h>

#include "parse.h"

void netbios_name(char out[DOMAIN_NAME_MAX + 1], const char *name)
{
	size_t i;

	for (i = 0; i < DOMAIN_NAME_MAX && name[i] != '\0'; i++)
		out[i] = (char)toupper((unsigned char)name[i]);
	out[i] = '\0';
}

void netbios_host_name(char out[DOMAIN_NAME_MAX + 1])
{
	char name[DOMAIN_NAME_MAX + 1] = "";

	/* No host name is no error: NTLM then names us "POP3". */
	if (gethostname(name, sizeof name - 1) != 0)
		name[0] = '\0';
	name[strcspn(name, ".")] = '\0';
	netbios_name(out, domain_name_ok(name) ? name : "POP3");
}
