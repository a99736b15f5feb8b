/*
 * fuzz-ntlm.c - libFuzzer target for the NTLM messages a client sends
 * (ntlm.c).  The input is taken as a NEGOTIATE, answered with a CHALLENGE
 * when it parses, and as an AUTHENTICATE under Unicode and under OEM flags;
 * what parses goes through the domain and NTLMv2 checks, and the input
 * through the UTF-8 conversion.  Invariants, checked with abort():
 *   - a CHALLENGE is built for every NEGOTIATE that parses, grants Unicode
 *     or OEM (exactly one) and never SIGN, SEAL, KEY_EXCH or 56;
 *   - a parsed AUTHENTICATE has a user of 1..USER_NAME_MAX octets without
 *     NUL, an even domain of at most NTLM_DOMAIN_MAX octets and a response
 *     of NTLM_RESPONSE_MIN..NTLM_RESPONSE_MAX octets; one that does not
 *     parse leaves its output all zero;
 *   - UTF-16LE from UTF-8 is even and at most twice the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ntlm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* NTLMSSP_NEGOTIATE_SIGN, _SEAL, _KEY_EXCH and _56 (MS-NLMP 2.2.2.5). */
#define NEVER_GRANTED (0x00000010u | 0x00000020u | 0x40000000u | 0x80000000u)

static void check(int ok)
{
	if (!ok)
		abort();
}

static void fuzz_negotiate(const uint8_t *data, size_t size)
{
	static const struct ntlm_target t = { "EXAMPLE", "MAIL1", { 1, 2, 3, 4, 5, 6, 7, 8 } };
	unsigned char out[SASL_CHALLENGE_MAX];
	uint32_t client, chosen;

	if (!ntlm_parse_negotiate(data, size, &client))
		return;
	check(size >= 16);
	check(ntlm_build_challenge(client, &t, out, sizeof out, &chosen) > 0);
	check((chosen & NEVER_GRANTED) == 0);
	check(((chosen & NTLMSSP_NEGOTIATE_UNICODE) != 0) != ((chosen & NTLMSSP_NEGOTIATE_OEM) != 0));
}

static bool all_zero(const void *p, size_t len)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static void fuzz_authenticate(const uint8_t *data, size_t size, uint32_t flags)
{
	static const unsigned char hash[NTLM_HASH_SIZE] = { 0xa4, 0xf4, 0x9c, 0x40 };
	static const unsigned char challenge[NTLM_CHALLENGE_SIZE] = { 0x01, 0x23, 0x45, 0x67 };
	struct ntlm_authenticate a;

	memset(&a, 0x5a, sizeof a);
	if (ntlm_parse_authenticate(data, size, flags, &a) != NTLM_OK) {
		check(all_zero(&a, sizeof a));
		return;
	}
	check(a.user_len >= 1 && a.user_len <= USER_NAME_MAX && strlen(a.user) == a.user_len);
	check(a.domain_len % 2 == 0 && a.domain_len <= NTLM_DOMAIN_MAX);
	check(a.response_len >= NTLM_RESPONSE_MIN && a.response_len <= NTLM_RESPONSE_MAX);
	(void)ntlm_domain_ok(a.domain, a.domain_len, "EXAMPLE");
	(void)ntlm_v2_ok(hash, a.user, a.domain, a.domain_len, challenge, a.response, a.response_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char utf16[2 * 65536];
	size_t n;

	fuzz_negotiate(data, size);
	fuzz_authenticate(data, size, NTLMSSP_NEGOTIATE_UNICODE);
	fuzz_authenticate(data, size, NTLMSSP_NEGOTIATE_OEM);
	if (size <= sizeof utf16 / 2 && utf8_to_utf16le((const char *)data, size, utf16, sizeof utf16, &n))
		check(n % 2 == 0 && n <= 2 * size);
	return 0;
}
