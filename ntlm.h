/*
 * ntlm.h - NTLM authentication (MS-NLMP) as POP3 carries it (MS-OXPOP3):
 * the NT hash of a password, the three NTLMSSP messages (NEGOTIATE from
 * the client, CHALLENGE from us, AUTHENTICATE from the client) and the
 * check of an NTLMv2 response.  LM and NTLMv1 responses are refused.
 * Every message from the client is hostile: parsing checks each offset and
 * length against the message before it reads.  MD4 and HMAC-MD5 come from
 * nettle.
 */
#ifndef POP3_NTLM_H
#define POP3_NTLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "params.h"

#define NTLM_CHALLENGE_SIZE 8	/* the server challenge */
#define NTLM_HASH_SIZE 16	/* an NT hash, an NTProofStr */

/* NegotiateFlags bits (MS-NLMP 2.2.2.5) that the CHALLENGE may grant. */
#define NTLMSSP_NEGOTIATE_UNICODE 0x00000001u
#define NTLMSSP_NEGOTIATE_OEM 0x00000002u
#define NTLMSSP_REQUEST_TARGET 0x00000004u
#define NTLMSSP_NEGOTIATE_NTLM 0x00000200u
#define NTLMSSP_NEGOTIATE_ALWAYS_SIGN 0x00008000u
#define NTLMSSP_TARGET_TYPE_DOMAIN 0x00010000u
#define NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY 0x00080000u
#define NTLMSSP_NEGOTIATE_TARGET_INFO 0x00800000u
#define NTLMSSP_NEGOTIATE_128 0x20000000u

/* The shortest NTLMv2 response: NTProofStr (16), then the blob's fixed
 * part (RespType, HiRespType, reserved, timestamp, client challenge,
 * reserved: 28) and an AV pair list of at least MsvAvEOL (4).  An NTLMv1
 * response is 24 octets, so it can never pass. */
#define NTLM_RESPONSE_MIN (16 + 28 + 4)

/* Loads nettle, which the hashes need, once; false (logged at LOG_WARNING) when it or one of
 * its functions is missing: NTLM is then not to be offered. */
bool ntlm_ready(void);

/* Converts len octets of UTF-8 to UTF-16LE in out (size octets); false when the input is not
 * valid UTF-8 (overlong forms, surrogates and code points above U+10FFFF included) or the
 * result does not fit. */
bool utf8_to_utf16le(const char *in, size_t len, unsigned char *out, size_t size, size_t *out_len);

/* Computes the NT hash, MD4 of the password in UTF-16LE; false (hash zeroed) when the password
 * is not valid UTF-8 or longer than NTLM_PASSWORD_MAX octets, or ntlm_ready() fails. */
bool ntlm_nt_hash(const char *password, unsigned char hash[NTLM_HASH_SIZE]);

/* Parses the text form of an NT hash (32 hexadecimal digits, either case); false for anything
 * else. */
bool ntlm_hash_parse(const char *text, unsigned char hash[NTLM_HASH_SIZE]);

/* Writes the text form of an NT hash (32 lower-case hexadecimal digits and a NUL) into text. */
void ntlm_hash_format(const unsigned char hash[NTLM_HASH_SIZE], char text[2 * NTLM_HASH_SIZE + 1]);

/* Checks a NEGOTIATE message (signature, type 1, length) and gives the flags the client asked
 * for; false when malformed. */
bool ntlm_parse_negotiate(const unsigned char *msg, size_t len, uint32_t *flags);

/* What the server names in its CHALLENGE: NetBIOS domain and computer names (ASCII, upper-cased
 * as sent), and the challenge. */
struct ntlm_target {
	const char *domain;
	const char *computer;
	unsigned char challenge[NTLM_CHALLENGE_SIZE];
};

/* Builds the CHALLENGE message answering a NEGOTIATE with client_flags: NTLM, the domain as
 * target name and the target info AV pairs (MsvAvNbDomainName, MsvAvNbComputerName, MsvAvEOL),
 * Unicode if the client offered it (else OEM), extended session security, always-sign and
 * 128-bit keys only when asked, never signing, sealing or key exchange; stores in *flags the
 * flags it chose, for ntlm_parse_authenticate; returns the message length, or 0 when it does
 * not fit size. */
size_t ntlm_build_challenge(uint32_t client_flags, const struct ntlm_target *t, unsigned char *out,
			    size_t size, uint32_t *flags);

/* What an AUTHENTICATE message says, as the verifier needs it. */
struct ntlm_authenticate {
	char user[USER_NAME_MAX + 1];		/* UTF-8 (from UTF-16LE or OEM), NUL-terminated */
	size_t user_len;
	unsigned char domain[NTLM_DOMAIN_MAX];	/* UTF-16LE as the hash takes it (OEM converted) */
	size_t domain_len;
	unsigned char response[NTLM_RESPONSE_MAX];	/* NtChallengeResponse: NTProofStr and blob */
	size_t response_len;
};

enum ntlm_status {
	NTLM_OK,
	/* a bad signature or type, a field outside the message, odd UTF-16, a non-ASCII OEM domain */
	NTLM_MALFORMED,
	NTLM_NOT_V2,		/* an LM, NTLMv1 or anonymous response: refused */
	/* a user name that is empty, too long (in UTF-8), holds a NUL, or is not valid UTF-16 (OEM:
	 * not ASCII) */
	NTLM_BAD_USER,
	NTLM_TOO_LONG,		/* a domain or response longer than this side keeps */
};

/* Parses an AUTHENTICATE message sent under the flags ntlm_build_challenge chose, filling out;
 * out is wiped unless NTLM_OK. */
enum ntlm_status ntlm_parse_authenticate(const unsigned char *msg, size_t len, uint32_t flags,
					 struct ntlm_authenticate *out);

/* Tells whether a UTF-16LE domain from an AUTHENTICATE message is empty or, compared without
 * regard to ASCII case, the domain we serve (ASCII). */
bool ntlm_domain_ok(const unsigned char *domain, size_t domain_len, const char *ours);

/* Checks an NTLMv2 response (false when ntlm_ready() fails): its NTProofStr must equal
 * HMAC-MD5(NTOWFv2, challenge + blob) with NTOWFv2 = HMAC-MD5(nt_hash, UTF-16LE(upper-cased
 * user + domain)); compared in constant time.  User names outside ASCII fail.  A response
 * shorter than NTLM_RESPONSE_MIN or with a blob whose RespType and HiRespType are not 1 fails. */
bool ntlm_v2_ok(const unsigned char nt_hash[NTLM_HASH_SIZE], const char *user,
		const unsigned char *domain, size_t domain_len,
		const unsigned char challenge[NTLM_CHALLENGE_SIZE], const unsigned char *response,
		size_t response_len);

#endif
