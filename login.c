/*
 * login.c - the mechanisms' table.
 */
#include "login.h"

static const struct {
	const char *name;
	bool plaintext;
} mechanisms[MECHANISMS] = {
	[MECHANISM_USER] = { "USER", true },
	[MECHANISM_PLAIN] = { "PLAIN", true },
	[MECHANISM_NTLM] = { "NTLM", false },	/* an NTLMv2 answer to our challenge */
	[MECHANISM_GSSAPI] = { "GSSAPI", false },	/* Kerberos tokens */
};

const char *mechanism_name(enum mechanism m)
{
	return m < MECHANISMS ? mechanisms[m].name : "?";
}

bool mechanism_plaintext(enum mechanism m)
{
	return m < MECHANISMS && mechanisms[m].plaintext;
}

bool login_allows(const struct login_policy *p, enum mechanism m)
{
	if (m >= MECHANISMS || (p->offered & MECHANISM_BIT(m)) == 0)
		return false;
	if (mechanisms[m].plaintext)
		return p->plaintext_ok;
	return m != MECHANISM_NTLM || p->ntlm_ok;
}
