/*
 * test-ntlm.c - table-driven tests of ntlm.c: UTF-8 to UTF-16LE, the NT
 * hash and its text form, the NEGOTIATE, CHALLENGE and AUTHENTICATE
 * messages, the domain check and the NTLMv2 check, the latter against the
 * published example of MS-NLMP section 4.2.4.
 *
 * Results are rendered as short text ("ok 0041", "rejected", "ok user=..."
 * or a status name) so that each row states its whole expectation in one
 * literal; output buffers carry guard octets past the size the code under
 * test is told.
 */
#include "ntlm.h"

#include <nettle/hmac.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "util.h"

#define GUARD 16
#define GUARD_BYTE 0xa5
#define ROWS(table) (sizeof(table) / sizeof *(table))

static bool guard_intact(const unsigned char *buf, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (buf[i] != GUARD_BYTE)
			return false;
	return true;
}

static void render_hex(struct unit_buf *b, const unsigned char *data, size_t len)
{
	for (size_t i = 0; i < len; i++)
		unit_buf_addf(b, "%02x", data[i]);
}

/* Decodes hex text (the tables' way of writing octets) into out. */
static size_t from_hex(const char *hex, unsigned char *out)
{
	size_t n = strlen(hex) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			unit_bail("bad hex in a table: %s", hex);
		out[i] = (unsigned char)v;
	}
	return n;
}

/* ASCII text widened to UTF-16LE, as the tables write names. */
static size_t widen(const char *ascii, unsigned char *out)
{
	size_t n = strlen(ascii);

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = (unsigned char)ascii[i];
		out[2 * i + 1] = 0;
	}
	return 2 * n;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> 8 * i);
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* ---- utf8_to_utf16le ---- */

struct utf8_case {
	const char *what;
	const char *in;
	size_t len;
	size_t size;		/* the output size given */
	const char *expected;	/* "ok HEX" or "rejected" */
};

static const struct utf8_case utf8_cases[] = {
	{ "ASCII", BYTES("Ab"), 64, "ok 41006200" },
	{ "empty", BYTES(""), 64, "ok " },
	{ "empty into 0 octets", BYTES(""), 0, "ok " },
	{ "NUL is a character", BYTES("a\0b"), 64, "ok 610000006200" },
	{ "2 octets: U+00E9", BYTES("\xc3\xa9"), 64, "ok e900" },
	{ "2 octets: U+0080, the lowest", BYTES("\xc2\x80"), 64, "ok 8000" },
	{ "2 octets: U+07FF, the highest", BYTES("\xdf\xbf"), 64, "ok ff07" },
	{ "3 octets: U+20AC", BYTES("\xe2\x82\xac"), 64, "ok ac20" },
	{ "3 octets: U+0800, the lowest", BYTES("\xe0\xa0\x80"), 64, "ok 0008" },
	{ "3 octets: U+D7FF, below the surrogates", BYTES("\xed\x9f\xbf"), 64, "ok ffd7" },
	{ "3 octets: U+E000, above the surrogates", BYTES("\xee\x80\x80"), 64, "ok 00e0" },
	{ "3 octets: U+FFFF", BYTES("\xef\xbf\xbf"), 64, "ok ffff" },
	{ "4 octets: U+1F600 as a surrogate pair", BYTES("\xf0\x9f\x98\x80"), 64, "ok 3dd800de" },
	{ "4 octets: U+10000, the lowest", BYTES("\xf0\x90\x80\x80"), 64, "ok 00d800dc" },
	{ "4 octets: U+10FFFF, the highest", BYTES("\xf4\x8f\xbf\xbf"), 64, "ok ffdbffdf" },
	{ "mixed widths", BYTES("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"), 64, "ok 6100e900ac203dd800de" },
	{ "overlong NUL (C0 80)", BYTES("\xc0\x80"), 64, "rejected" },
	{ "overlong 2 octets (C1 BF)", BYTES("\xc1\xbf"), 64, "rejected" },
	{ "overlong 3 octets (E0 9F BF)", BYTES("\xe0\x9f\xbf"), 64, "rejected" },
	{ "overlong 3 octets of '/' (E0 80 AF)", BYTES("\xe0\x80\xaf"), 64, "rejected" },
	{ "overlong 4 octets (F0 8F BF BF)", BYTES("\xf0\x8f\xbf\xbf"), 64, "rejected" },
	{ "surrogate U+D800", BYTES("\xed\xa0\x80"), 64, "rejected" },
	{ "surrogate U+DFFF", BYTES("\xed\xbf\xbf"), 64, "rejected" },
	{ "a CESU-8 surrogate pair", BYTES("\xed\xa0\xbd\xed\xb8\x80"), 64, "rejected" },
	{ "above U+10FFFF (F4 90 80 80)", BYTES("\xf4\x90\x80\x80"), 64, "rejected" },
	{ "lead F5", BYTES("\xf5\x80\x80\x80"), 64, "rejected" },
	{ "lead F8 (5 octets)", BYTES("\xf8\x88\x80\x80\x80"), 64, "rejected" },
	{ "lead FF", BYTES("\xff"), 64, "rejected" },
	{ "a lone continuation octet", BYTES("a\x80"), 64, "rejected" },
	{ "truncated 2 octets", BYTES("a\xc3"), 64, "rejected" },
	{ "truncated 3 octets", BYTES("\xe2\x82"), 64, "rejected" },
	{ "truncated 4 octets", BYTES("\xf0\x9f\x98"), 64, "rejected" },
	{ "a continuation that is ASCII", BYTES("\xc3\x41"), 64, "rejected" },
	{ "a continuation that is a lead", BYTES("\xe2\xc3\xa9"), 64, "rejected" },
	{ "2 characters into exactly 4", BYTES("Ab"), 4, "ok 41006200" },
	{ "2 characters into 3", BYTES("Ab"), 3, "rejected" },
	{ "1 character into 1", BYTES("A"), 1, "rejected" },
	{ "1 character into 0", BYTES("A"), 0, "rejected" },
	{ "a surrogate pair into exactly 4", BYTES("\xf0\x9f\x98\x80"), 4, "ok 3dd800de" },
	{ "a surrogate pair into 3", BYTES("\xf0\x9f\x98\x80"), 3, "rejected" },
	{ "a surrogate pair into 2", BYTES("\xf0\x9f\x98\x80"), 2, "rejected" },
};

static void test_utf8_to_utf16le(void)
{
	struct unit_buf got = { 0 };

	for (size_t i = 0; i < ROWS(utf8_cases); i++) {
		const struct utf8_case *c = &utf8_cases[i];
		unsigned char out[64 + GUARD];
		/* The input is followed by valid ASCII, so that reading past
		 * len would show in the result. */
		char in[64];
		size_t out_len = SIZE_MAX;
		bool ok;

		memset(in, 'Z', sizeof in);
		memcpy(in, c->in, c->len);
		memset(out, GUARD_BYTE, sizeof out);
		ok = utf8_to_utf16le(in, c->len, out, c->size, &out_len);
		unit_buf_clear(&got);
		if (ok) {
			unit_buf_adds(&got, "ok ");
			render_hex(&got, out, out_len);
		} else {
			unit_buf_adds(&got, "rejected");
		}
		unit_expect_str(got.data, c->expected, "utf8_to_utf16le: %s", c->what);
		unit_ok(guard_intact(out, c->size, sizeof out), "utf8_to_utf16le: %s: nothing written past %zu",
			c->what, c->size);
	}
	unit_buf_free(&got);
}

/* ---- ntlm_nt_hash, ntlm_hash_parse, ntlm_hash_format ---- */

/* The expected hashes were computed by OpenSSL's MD4 (legacy provider)
 * over the UTF-16LE of the password. */
struct nt_hash_case {
	const char *what;
	const char *password;	/* NULL: the repeated one below */
	const char *repeat;
	size_t times;
	const char *expected;	/* hex, or "rejected" (and a zero hash) */
};

static const struct nt_hash_case nt_hash_cases[] = {
	{ "MS-NLMP 4.2.1: \"Password\"", "Password", NULL, 0, "a4f49c406510bdcab6824ee7c30fd852" },
	{ "empty password", "", NULL, 0, "31d6cfe0d16ae931b73c59d7e0c089c0" },
	{ "non-ASCII password", "p\xc3\xa4ssword", NULL, 0, "f1b094f25bbdcb6fdbaa6cc8b43f0c44" },
	{ "supplementary plane", "\xf0\x9f\x98\x80x", NULL, 0, "4239d4dcd7148a5ea8f750b376cfdbd6" },
	{ "1024 octets of ASCII (the most)", NULL, "a", 1024, "42b61e67392055510d48d758584d0ef9" },
	{ "1024 octets of 2-octet UTF-8", NULL, "\xc3\xa9", 512, "7c419c05933742141b8ce0da285ec002" },
	{ "1025 octets", NULL, "a", 1025, "rejected" },
	{ "invalid UTF-8", "pass\xff", NULL, 0, "rejected" },
	{ "a surrogate in UTF-8", "\xed\xa0\x80", NULL, 0, "rejected" },
	{ "truncated UTF-8", "pass\xc3", NULL, 0, "rejected" },
};

static void test_nt_hash(void)
{
	static char long_password[2 * NTLM_PASSWORD_MAX + 2];
	struct unit_buf got = { 0 };

	for (size_t i = 0; i < ROWS(nt_hash_cases); i++) {
		const struct nt_hash_case *c = &nt_hash_cases[i];
		const char *password = c->password;
		unsigned char hash[NTLM_HASH_SIZE + GUARD];
		static const unsigned char zero[NTLM_HASH_SIZE];

		if (password == NULL) {
			long_password[0] = '\0';
			for (size_t k = 0; k < c->times; k++)
				strcat(long_password, c->repeat);
			password = long_password;
		}
		memset(hash, GUARD_BYTE, sizeof hash);
		unit_buf_clear(&got);
		if (ntlm_nt_hash(password, hash))
			render_hex(&got, hash, NTLM_HASH_SIZE);
		else
			unit_buf_adds(&got, memcmp(hash, zero, sizeof zero) == 0 ? "rejected" : "rejected, hash not zeroed");
		unit_expect_str(got.data, c->expected, "ntlm_nt_hash: %s", c->what);
		unit_ok(guard_intact(hash, NTLM_HASH_SIZE, sizeof hash), "ntlm_nt_hash: %s: 16 octets written",
			c->what);
	}
	unit_buf_free(&got);
}

struct hash_text_case {
	const char *what;
	const char *text;
	const char *expected;	/* the hash formatted back, or "rejected" */
};

static const struct hash_text_case hash_text_cases[] = {
	{ "lower case", "a4f49c406510bdcab6824ee7c30fd852", "a4f49c406510bdcab6824ee7c30fd852" },
	{ "upper case", "A4F49C406510BDCAB6824EE7C30FD852", "a4f49c406510bdcab6824ee7c30fd852" },
	{ "mixed case", "A4f49C406510bDcab6824ee7C30fD852", "a4f49c406510bdcab6824ee7c30fd852" },
	{ "all zero", "00000000000000000000000000000000", "00000000000000000000000000000000" },
	{ "all ff", "ffffffffffffffffffffffffffffffff", "ffffffffffffffffffffffffffffffff" },
	{ "31 digits", "a4f49c406510bdcab6824ee7c30fd85", "rejected" },
	{ "33 digits", "a4f49c406510bdcab6824ee7c30fd8521", "rejected" },
	{ "empty", "", "rejected" },
	{ "a 'g'", "g4f49c406510bdcab6824ee7c30fd852", "rejected" },
	{ "a bad last digit", "a4f49c406510bdcab6824ee7c30fd85:", "rejected" },
	{ "a space", "a4f49c406510bdca 6824ee7c30fd852", "rejected" },
	{ "a 0x prefix", "0xa4f49c406510bdcab6824ee7c30fd8", "rejected" },
	{ "a trailing newline", "a4f49c406510bdcab6824ee7c30fd852\n", "rejected" },
};

static void test_hash_text(void)
{
	for (size_t i = 0; i < ROWS(hash_text_cases); i++) {
		const struct hash_text_case *c = &hash_text_cases[i];
		unsigned char hash[NTLM_HASH_SIZE + GUARD];
		char text[2 * NTLM_HASH_SIZE + 1 + GUARD];

		memset(hash, GUARD_BYTE, sizeof hash);
		memset(text, 'X', sizeof text);
		if (ntlm_hash_parse(c->text, hash))
			ntlm_hash_format(hash, text);
		else
			snprintf(text, sizeof text, "rejected");
		unit_expect_str(text, c->expected, "ntlm_hash_parse and _format: %s", c->what);
		unit_ok(guard_intact(hash, NTLM_HASH_SIZE, sizeof hash), "ntlm_hash_parse: %s: 16 octets written",
			c->what);
	}
}

/* ---- ntlm_v2_ok: MS-NLMP 4.2.4 ---- */

/* MS-NLMP 4.2.4: user "User", domain "Domain", password "Password",
 * server challenge 0123456789abcdef, client challenge aa*8, time 0, and
 * the target info NbDomainName "Domain", NbComputerName "Server", EOL.
 * NTOWFv2 0c868a40... and NTProofStr 68cd0ab8... were computed again
 * with Python's hmac module before being written here. */
#define VECTOR_NT_HASH "a4f49c406510bdcab6824ee7c30fd852"
#define VECTOR_NTOWF "0c868a403bfd7a93a3001ef22ef02e3f"
#define VECTOR_PROOF "68cd0ab851e51c96aabc927bebef6a1c"
#define VECTOR_CHALLENGE "0123456789abcdef"
/* The blob: RespType, HiRespType, 6 reserved, timestamp, client
 * challenge, 4 reserved, the AV pairs, 4 reserved (MS-NLMP 3.3.2). */
#define VECTOR_BLOB "0101000000000000" "0000000000000000" "aaaaaaaaaaaaaaaa" "00000000" \
	"02000c0044006f006d00610069006e00" "01000c00530065007200760065007200" "00000000" "00000000"

/* HMAC-MD5, for the test's own NTOWFv2 and for re-signing altered blobs. */
static void hmac_md5(const unsigned char *key, const unsigned char *a, size_t a_len, const unsigned char *b,
		     size_t b_len, unsigned char out[NTLM_HASH_SIZE])
{
	struct hmac_md5_ctx ctx;

	hmac_md5_set_key(&ctx, NTLM_HASH_SIZE, key);
	hmac_md5_update(&ctx, a_len, a);
	hmac_md5_update(&ctx, b_len, b);
	hmac_md5_digest(&ctx, NTLM_HASH_SIZE, out);
}

/* The vector's NTLMv2 response (NTProofStr, blob) into out. */
static size_t vector_response(unsigned char *out)
{
	unsigned char proof[NTLM_HASH_SIZE];

	from_hex(VECTOR_PROOF, proof);
	memcpy(out, proof, NTLM_HASH_SIZE);
	return NTLM_HASH_SIZE + from_hex(VECTOR_BLOB, out + NTLM_HASH_SIZE);
}

/* The published intermediate values, checked by a computation of their
 * own (nettle's HMAC-MD5 here, OpenSSL's MD4 and Python's HMAC when the
 * constants were written). */
static void test_v2_vector_parts(void)
{
	unsigned char hash[NTLM_HASH_SIZE], ntowf[NTLM_HASH_SIZE], proof[NTLM_HASH_SIZE];
	unsigned char ident[64], challenge[NTLM_CHALLENGE_SIZE], blob[128];
	size_t ident_len = widen("USER", ident), blob_len = from_hex(VECTOR_BLOB, blob);
	struct unit_buf got = { 0 };

	ident_len += widen("Domain", ident + ident_len);
	from_hex(VECTOR_CHALLENGE, challenge);
	unit_ok(ntlm_nt_hash("Password", hash), "MS-NLMP 4.2.4: NT hash computed");
	render_hex(&got, hash, sizeof hash);
	unit_expect_str(got.data, VECTOR_NT_HASH, "MS-NLMP 4.2.4: NT hash of \"Password\"");
	hmac_md5(hash, ident, ident_len, NULL, 0, ntowf);
	unit_buf_clear(&got);
	render_hex(&got, ntowf, sizeof ntowf);
	unit_expect_str(got.data, VECTOR_NTOWF, "MS-NLMP 4.2.4: NTOWFv2");
	hmac_md5(ntowf, challenge, sizeof challenge, blob, blob_len, proof);
	unit_buf_clear(&got);
	render_hex(&got, proof, sizeof proof);
	unit_expect_str(got.data, VECTOR_PROOF, "MS-NLMP 4.2.4: NTProofStr");
	unit_buf_free(&got);
}

/* How a row alters the vector's response before the check. */
enum v2_change {
	V2_AS_IS,
	V2_FLIP_BLOB_BIT,	/* one bit of the client challenge */
	V2_FLIP_PROOF_BIT,
	V2_DROP_LAST,		/* one octet less, still long enough */
	V2_CUT_47,		/* shorter than NTLM_RESPONSE_MIN, re-signed */
	V2_CUT_48,		/* exactly NTLM_RESPONSE_MIN, re-signed */
	V2_NTLMV1,		/* a 24-octet response */
	V2_RESP_TYPE_2,		/* RespType 2, re-signed */
	V2_HI_RESP_TYPE_2,	/* HiRespType 2, re-signed */
};

struct v2_case {
	const char *what;
	const char *password;
	const char *user;
	const char *domain;	/* ASCII, given in UTF-16LE */
	const char *challenge;
	enum v2_change change;
	bool expected;
};

static const struct v2_case v2_cases[] = {
	{ "the vector", "Password", "User", "Domain", VECTOR_CHALLENGE, V2_AS_IS, true },
	{ "user in lower case (upper-cased for the hash)", "Password", "user", "Domain", VECTOR_CHALLENGE,
	  V2_AS_IS, true },
	{ "user in upper case", "Password", "USER", "Domain", VECTOR_CHALLENGE, V2_AS_IS, true },
	{ "a 48-octet response, re-signed", "Password", "User", "Domain", VECTOR_CHALLENGE, V2_CUT_48, true },
	{ "wrong password", "password", "User", "Domain", VECTOR_CHALLENGE, V2_AS_IS, false },
	{ "wrong user", "Password", "Usr", "Domain", VECTOR_CHALLENGE, V2_AS_IS, false },
	{ "user with a non-ASCII letter", "Password", "\xc3\x9cser", "Domain", VECTOR_CHALLENGE, V2_AS_IS,
	  false },
	{ "empty user", "Password", "", "Domain", VECTOR_CHALLENGE, V2_AS_IS, false },
	{ "wrong domain", "Password", "User", "Domian", VECTOR_CHALLENGE, V2_AS_IS, false },
	{ "domain in another case (hashed as given)", "Password", "User", "DOMAIN", VECTOR_CHALLENGE,
	  V2_AS_IS, false },
	{ "empty domain", "Password", "User", "", VECTOR_CHALLENGE, V2_AS_IS, false },
	{ "another challenge", "Password", "User", "Domain", "0123456789abcdee", V2_AS_IS, false },
	{ "one bit flipped in the blob", "Password", "User", "Domain", VECTOR_CHALLENGE, V2_FLIP_BLOB_BIT,
	  false },
	{ "one bit flipped in NTProofStr", "Password", "User", "Domain", VECTOR_CHALLENGE, V2_FLIP_PROOF_BIT,
	  false },
	{ "the last octet dropped", "Password", "User", "Domain", VECTOR_CHALLENGE, V2_DROP_LAST, false },
	{ "47 octets, re-signed", "Password", "User", "Domain", VECTOR_CHALLENGE, V2_CUT_47, false },
	{ "a 24-octet NTLMv1 response", "Password", "User", "Domain", VECTOR_CHALLENGE, V2_NTLMV1, false },
	{ "RespType 2, re-signed", "Password", "User", "Domain", VECTOR_CHALLENGE, V2_RESP_TYPE_2, false },
	{ "HiRespType 2, re-signed", "Password", "User", "Domain", VECTOR_CHALLENGE, V2_HI_RESP_TYPE_2, false },
};

/* Gives the blob of response a valid NTProofStr for the vector's user,
 * domain, password and challenge, so that only the change itself can
 * make the check fail. */
static void resign(unsigned char *response, size_t len)
{
	unsigned char ntowf[NTLM_HASH_SIZE], challenge[NTLM_CHALLENGE_SIZE];

	from_hex(VECTOR_NTOWF, ntowf);
	from_hex(VECTOR_CHALLENGE, challenge);
	hmac_md5(ntowf, challenge, sizeof challenge, response + NTLM_HASH_SIZE, len - NTLM_HASH_SIZE, response);
}

/* Applies a row's change to the vector's response; returns its length. */
static size_t change_response(enum v2_change change, unsigned char *r, size_t len)
{
	switch (change) {
	case V2_AS_IS:
		return len;
	case V2_FLIP_BLOB_BIT:
		r[NTLM_HASH_SIZE + 16] ^= 0x01;
		return len;
	case V2_FLIP_PROOF_BIT:
		r[5] ^= 0x80;
		return len;
	case V2_DROP_LAST:
		return len - 1;
	case V2_CUT_47:
	case V2_CUT_48:
		len = change == V2_CUT_47 ? NTLM_RESPONSE_MIN - 1 : NTLM_RESPONSE_MIN;
		resign(r, len);
		return len;
	case V2_NTLMV1:
		return 24;
	case V2_RESP_TYPE_2:
	case V2_HI_RESP_TYPE_2:
		r[NTLM_HASH_SIZE + (change == V2_RESP_TYPE_2 ? 0 : 1)] = 2;
		resign(r, len);
		return len;
	}
	unit_bail("unknown change %d", (int)change);
}

static void test_v2_ok(void)
{
	for (size_t i = 0; i < ROWS(v2_cases); i++) {
		const struct v2_case *c = &v2_cases[i];
		unsigned char hash[NTLM_HASH_SIZE], domain[64], challenge[NTLM_CHALLENGE_SIZE], response[256];
		size_t domain_len = widen(c->domain, domain), len = vector_response(response);

		if (!ntlm_nt_hash(c->password, hash))
			unit_bail("no NT hash for %s", c->password);
		from_hex(c->challenge, challenge);
		len = change_response(c->change, response, len);
		unit_expect_bool(ntlm_v2_ok(hash, c->user, domain, domain_len, challenge, response, len), c->expected,
				 "ntlm_v2_ok: %s", c->what);
	}
}

/* ---- ntlm_parse_negotiate ---- */

struct negotiate_case {
	const char *what;
	const char *msg;
	size_t len;
	const char *expected;	/* "flags 0x..." or "rejected" */
};

/* curl 7.88's NEGOTIATE (seen in the end-to-end check against it). */
#define CURL_NEGOTIATE "NTLMSSP\0\x01\0\0\0\x06\x82\x08\0" "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"

static const struct negotiate_case negotiate_cases[] = {
	{ "curl 7.88's", BYTES(CURL_NEGOTIATE), "flags 0x00088206" },
	{ "the 16-octet minimum", BYTES("NTLMSSP\0\x01\0\0\0\x07\x82\x08\xa2"), "flags 0xa2088207" },
	{ "with a Version field", BYTES("NTLMSSP\0\x01\0\0\0\x07\x82\x08\xe2" "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
					"\x0a\0\x63\x45\0\0\0\x0f"), "flags 0xe2088207" },
	{ "15 octets", BYTES("NTLMSSP\0\x01\0\0\0\x07\x82\x08"), "rejected" },
	{ "empty", BYTES(""), "rejected" },
	{ "signature without its NUL", BYTES("NTLMSSPX\x01\0\0\0\x07\x82\x08\xa2"), "rejected" },
	{ "another signature", BYTES("NTLMSSQ\0\x01\0\0\0\x07\x82\x08\xa2"), "rejected" },
	{ "type 2", BYTES("NTLMSSP\0\x02\0\0\0\x07\x82\x08\xa2"), "rejected" },
	{ "type 3", BYTES("NTLMSSP\0\x03\0\0\0\x07\x82\x08\xa2"), "rejected" },
	{ "type 0x101", BYTES("NTLMSSP\0\x01\x01\0\0\x07\x82\x08\xa2"), "rejected" },
	{ "type 1 in big endian", BYTES("NTLMSSP\0\0\0\0\x01\x07\x82\x08\xa2"), "rejected" },
};

static void test_parse_negotiate(void)
{
	for (size_t i = 0; i < ROWS(negotiate_cases); i++) {
		const struct negotiate_case *c = &negotiate_cases[i];
		uint32_t flags = 0;
		char got[64];

		if (ntlm_parse_negotiate((const unsigned char *)c->msg, c->len, &flags))
			snprintf(got, sizeof got, "flags 0x%08" PRIx32, flags);
		else
			snprintf(got, sizeof got, "rejected");
		unit_expect_str(got, c->expected, "ntlm_parse_negotiate: %s", c->what);
	}
}

/* ---- ntlm_build_challenge ---- */

struct flags_case {
	const char *what;
	uint32_t client;
	uint32_t expected;
};

/* NTLM 0x200, REQUEST_TARGET 0x4, TARGET_TYPE_DOMAIN 0x10000 and
 * TARGET_INFO 0x800000 always; the rest only as said in ntlm.c. */
static const struct flags_case flags_cases[] = {
	{ "nothing asked: OEM", 0, 0x00810206 },
	{ "curl 7.88 (OEM, ESS, ALWAYS_SIGN)", 0x00088206, 0x00898206 },
	{ "Unicode only", 0x00000001, 0x00810205 },
	{ "Unicode and OEM: Unicode", 0x00000003, 0x00810205 },
	{ "a Windows client (SIGN, SEAL, KEY_EXCH, 56, 128, VERSION...)", 0xe2088297, 0x20898205 },
	{ "everything: never SIGN, SEAL, KEY_EXCH, 56, LM_KEY, VERSION", 0xffffffff, 0x20898205 },
};

static void test_challenge_flags(void)
{
	static const struct ntlm_target t = { "DOMAIN", "SERVER", { 1, 2, 3, 4, 5, 6, 7, 8 } };

	for (size_t i = 0; i < ROWS(flags_cases); i++) {
		const struct flags_case *c = &flags_cases[i];
		unsigned char out[512];
		uint32_t chosen = 0;
		size_t len = ntlm_build_challenge(c->client, &t, out, sizeof out, &chosen);

		unit_expect_uint(chosen, c->expected, "ntlm_build_challenge: flags for %s", c->what);
		unit_expect_uint(len > 24 ? get32(out + 20) : 0, c->expected,
				 "ntlm_build_challenge: %s: the flags in the message", c->what);
	}
}

/* Reads the security buffer at p of a CHALLENGE back, checking it lies
 * inside the message; the payload it names as text (UTF-16 shown as hex
 * when not ASCII). */
static bool read_field(const unsigned char *msg, size_t len, size_t at, const unsigned char **data,
		       size_t *data_len)
{
	uint16_t flen = get16(msg + at), max = get16(msg + at + 2);
	uint32_t offset = get32(msg + at + 4);

	if (flen != max || offset > len || flen > len - offset)
		return false;
	*data = msg + offset;
	*data_len = flen;
	return true;
}

/* UTF-16LE of ASCII as text, or "<hex>" when not that. */
static void render_utf16(struct unit_buf *b, const unsigned char *s, size_t len)
{
	bool ascii = len % 2 == 0;

	for (size_t i = 0; ascii && i < len; i += 2)
		ascii = s[i] >= 0x20 && s[i] < 0x7f && s[i + 1] == 0;
	if (!ascii) {
		unit_buf_adds(b, "<");
		render_hex(b, s, len);
		unit_buf_adds(b, ">");
		return;
	}
	for (size_t i = 0; i < len; i += 2)
		unit_buf_add(b, s + i, 1);
}

/* The AV pairs of a target info as "id:value ...", or a note of what
 * went wrong ("<overrun>", "<no EOL>", "<after EOL>"). */
static void render_av_pairs(struct unit_buf *b, const unsigned char *info, size_t len)
{
	size_t at = 0;

	while (at + 4 <= len) {
		uint16_t id = get16(info + at), vlen = get16(info + at + 2);

		if (vlen > len - at - 4) {
			unit_buf_adds(b, "<overrun>");
			return;
		}
		unit_buf_addf(b, "%u:", id);
		render_utf16(b, info + at + 4, vlen);
		at += 4 + vlen;
		if (id == 0) {
			if (at != len)
				unit_buf_adds(b, "<after EOL>");
			return;
		}
		unit_buf_adds(b, " ");
	}
	unit_buf_adds(b, "<no EOL>");
}

/* A CHALLENGE read back field by field. */
static void render_challenge(struct unit_buf *b, const unsigned char *msg, size_t len)
{
	const unsigned char *name, *info;
	size_t name_len, info_len;

	unit_buf_clear(b);
	if (len < 48) {
		unit_buf_addf(b, "length %zu", len);
		return;
	}
	unit_buf_addf(b, "%s type=%" PRIu32 " flags=0x%08" PRIx32 " challenge=",
		      memcmp(msg, "NTLMSSP", 8) == 0 ? "NTLMSSP" : "<bad signature>", get32(msg + 8),
		      get32(msg + 20));
	render_hex(b, msg + 24, 8);
	unit_buf_adds(b, " reserved=");
	render_hex(b, msg + 32, 8);
	if (!read_field(msg, len, 12, &name, &name_len) || !read_field(msg, len, 40, &info, &info_len)) {
		unit_buf_adds(b, " <field outside the message>");
		return;
	}
	unit_buf_addf(b, " name@%zu=", (size_t)(name - msg));
	if (get32(msg + 20) & NTLMSSP_NEGOTIATE_UNICODE)
		render_utf16(b, name, name_len);
	else
		unit_buf_add(b, name, name_len);
	unit_buf_addf(b, " info@%zu=", (size_t)(info - msg));
	render_av_pairs(b, info, info_len);
	unit_buf_addf(b, " end=%zu", len);
}

struct challenge_case {
	const char *what;
	uint32_t client;
	const char *domain, *computer;
	const char *expected;
};

static const struct challenge_case challenge_cases[] = {
	{ "Unicode", NTLMSSP_NEGOTIATE_UNICODE, "EXAMPLE", "MAIL1",
	  "NTLMSSP type=2 flags=0x00810205 challenge=0123456789abcdef reserved=0000000000000000 name@48=EXAMPLE "
	  "info@62=2:EXAMPLE 1:MAIL1 0: end=98" },
	{ "OEM", NTLMSSP_NEGOTIATE_OEM, "EXAMPLE", "MAIL1",
	  "NTLMSSP type=2 flags=0x00810206 challenge=0123456789abcdef reserved=0000000000000000 name@48=EXAMPLE "
	  "info@55=2:EXAMPLE 1:MAIL1 0: end=91" },
	{ "empty names", NTLMSSP_NEGOTIATE_UNICODE, "", "",
	  "NTLMSSP type=2 flags=0x00810205 challenge=0123456789abcdef reserved=0000000000000000 name@48= "
	  "info@48=2: 1: 0: end=60" },
};

static void test_build_challenge(void)
{
	struct unit_buf got = { 0 };

	for (size_t i = 0; i < ROWS(challenge_cases); i++) {
		const struct challenge_case *c = &challenge_cases[i];
		struct ntlm_target t = { c->domain, c->computer, { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef } };
		unsigned char out[512 + GUARD];
		uint32_t chosen;
		size_t len;

		memset(out, GUARD_BYTE, sizeof out);
		len = ntlm_build_challenge(c->client, &t, out, 512, &chosen);
		render_challenge(&got, out, len);
		unit_expect_str(got.data, c->expected, "ntlm_build_challenge: %s, read back", c->what);
		unit_ok(guard_intact(out, len, sizeof out), "ntlm_build_challenge: %s: nothing written past %zu",
			c->what, len);
	}
	unit_buf_free(&got);
}

/* Every size short of the message: 0 returned, nothing written past it,
 * the flags left alone. */
static void test_challenge_too_small(void)
{
	static const struct ntlm_target t = { "EXAMPLE", "MAIL1", { 0 } };
	static const uint32_t client[] = { NTLMSSP_NEGOTIATE_UNICODE, NTLMSSP_NEGOTIATE_OEM };

	for (size_t k = 0; k < ROWS(client); k++) {
		unsigned char out[512 + GUARD];
		uint32_t chosen;
		size_t full = ntlm_build_challenge(client[k], &t, out, 512, &chosen);
		unsigned bad = 0, first_bad = 0;

		for (size_t size = 0; size < full; size++) {
			uint32_t flags = 0x5a5a5a5a;

			memset(out, GUARD_BYTE, sizeof out);
			if (ntlm_build_challenge(client[k], &t, out, size, &flags) != 0 || flags != 0x5a5a5a5a ||
			    !guard_intact(out, size, sizeof out)) {
				if (bad++ == 0)
					first_bad = (unsigned)size;
			}
		}
		memset(out, GUARD_BYTE, sizeof out);
		if (!unit_ok(bad == 0, "ntlm_build_challenge: %s, every size from 0 to %zu: 0, no overrun",
			     client[k] == NTLMSSP_NEGOTIATE_OEM ? "OEM" : "Unicode", full - 1))
			unit_diag("%u sizes failed, the first %u", bad, first_bad);
		unit_expect_uint(ntlm_build_challenge(client[k], &t, out, full, &chosen), full,
				 "ntlm_build_challenge: exactly %zu octets fit", full);
		unit_ok(guard_intact(out, full, sizeof out), "ntlm_build_challenge: exact fit, no overrun");
	}
}

/* ---- ntlm_parse_authenticate ---- */

#define AUTH_HEADER 64
#define AUTH_HEADER_MIC 88	/* with Version and MIC */
/* The six security buffers in message order; and the damages a row may
 * do instead of altering one. */
enum { F_LM, F_NT, F_DOMAIN, F_USER, F_WORKSTATION, F_KEY, F_COUNT, F_NONE, F_SIGNATURE, F_TYPE_1 };

struct auth_case {
	const char *what;
	uint32_t flags;		/* given to the parser */
	const char *user;	/* the field as sent */
	size_t user_len;
	const char *domain;
	size_t domain_len;
	size_t response_len;	/* a response of this many patterned octets */
	int bad_field;		/* F_NONE, a field given bad_len and bad_offset, or F_SIGNATURE, F_TYPE_1 */
	uint32_t bad_len;
	int64_t bad_offset;	/* as is, or FROM_END(n): n octets before the end */
	size_t header;		/* AUTH_HEADER or AUTH_HEADER_MIC */
	size_t keep;		/* 0: the whole message; else its first keep octets */
	const char *expected;
};

#define U NTLMSSP_NEGOTIATE_UNICODE
#define OEM NTLMSSP_NEGOTIATE_OEM
/* UTF-16LE of "alice" and of "Domain" */
#define ALICE16 "a\0l\0i\0c\0e\0"
#define DOMAIN16 "D\0o\0m\0a\0i\0n\0"
#define DOMAIN16_HEX "44006f006d00610069006e00"
#define GOOD_USER BYTES(ALICE16)
#define GOOD_DOMAIN BYTES(DOMAIN16)
#define NO_BAD F_NONE, 0, 0
#define FROM_END(n) (-(int64_t)(n) - 1)
#define BAD_SIGNATURE F_SIGNATURE, 0, 0
#define BAD_TYPE F_TYPE_1, 0, 0
#define OK_ALICE(response) "ok user=\"alice\" (5) domain=" DOMAIN16_HEX " response=" #response
#define A64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define A64_16 \
	"a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0" \
	"a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0a\0"
#define E32_16 \
	"\xe9\0\xe9\0\xe9\0\xe9\0\xe9\0\xe9\0\xe9\0\xe9\0\xe9\0\xe9\0\xe9\0\xe9\0\xe9\0\xe9\0\xe9\0\xe9\0" \
	"\xe9\0\xe9\0\xe9\0\xe9\0\xe9\0\xe9\0\xe9\0\xe9\0\xe9\0\xe9\0\xe9\0\xe9\0\xe9\0\xe9\0\xe9\0\xe9\0"
#define E32 \
	"\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9" \
	"\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9" \
	"\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9" \
	"\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9"
/* A domain of n UTF-16LE code units ('d'): built by the test (NULL here). */
#define LONG_DOMAIN(units) NULL, (units)

static const struct auth_case auth_cases[] = {
	/* good ones */
	{ "Unicode", U, GOOD_USER, GOOD_DOMAIN, 84, NO_BAD, AUTH_HEADER, 0, OK_ALICE(84) },
	{ "Unicode with Version and MIC", U, GOOD_USER, GOOD_DOMAIN, 84, NO_BAD, AUTH_HEADER_MIC, 0,
	  OK_ALICE(84) },
	{ "OEM", OEM, BYTES("alice"), BYTES("Domain"), 84, NO_BAD, AUTH_HEADER, 0, OK_ALICE(84) },
	{ "empty domain", U, GOOD_USER, BYTES(""), 84, NO_BAD, AUTH_HEADER, 0,
	  "ok user=\"alice\" (5) domain= response=84" },
	{ "empty OEM domain", OEM, BYTES("alice"), BYTES(""), 84, NO_BAD, AUTH_HEADER, 0,
	  "ok user=\"alice\" (5) domain= response=84" },
	{ "user in Latin-1 letters", U, BYTES("J\0\xfc\0r\0g\0"), GOOD_DOMAIN, 84, NO_BAD, AUTH_HEADER, 0,
	  "ok user=\"J\\xc3\\xbcrg\" (5) domain=" DOMAIN16_HEX " response=84" },
	{ "user with U+20AC", U, BYTES("\xac\x20"), GOOD_DOMAIN, 84, NO_BAD, AUTH_HEADER, 0,
	  "ok user=\"\\xe2\\x82\\xac\" (3) domain=" DOMAIN16_HEX " response=84" },
	{ "user with a surrogate pair", U, BYTES("x\0\x3d\xd8\x00\xde"), GOOD_DOMAIN, 84, NO_BAD, AUTH_HEADER,
	  0, "ok user=\"x\\xf0\\x9f\\x98\\x80\" (5) domain=" DOMAIN16_HEX " response=84" },
	{ "user of 64 octets", U, BYTES(A64_16), GOOD_DOMAIN, 84, NO_BAD, AUTH_HEADER, 0,
	  "ok user=\"" A64 "\" (64) domain=" DOMAIN16_HEX " response=84" },
	{ "user of 64 octets in 2-octet UTF-8", U, BYTES(E32_16), GOOD_DOMAIN, 84, NO_BAD, AUTH_HEADER, 0,
	  "ok user=\"" E32 "\" (64) domain=" DOMAIN16_HEX " response=84" },
	{ "OEM user of 64 octets", OEM, BYTES(A64), BYTES("Domain"), 84, NO_BAD, AUTH_HEADER, 0,
	  "ok user=\"" A64 "\" (64) domain=" DOMAIN16_HEX " response=84" },
	{ "domain of 255 units (the most)", U, GOOD_USER, LONG_DOMAIN(255), 84, NO_BAD, AUTH_HEADER, 0,
	  "ok user=\"alice\" (5) domain=<510 octets> response=84" },
	{ "OEM domain of 255 octets", OEM, BYTES("alice"), LONG_DOMAIN(255), 84, NO_BAD, AUTH_HEADER, 0,
	  "ok user=\"alice\" (5) domain=<510 octets> response=84" },
	{ "response of 48 octets (the least)", U, GOOD_USER, GOOD_DOMAIN, 48, NO_BAD, AUTH_HEADER, 0,
	  OK_ALICE(48) },
	{ "response of 2048 octets (the most)", U, GOOD_USER, GOOD_DOMAIN, 2048, NO_BAD, AUTH_HEADER, 0,
	  OK_ALICE(2048) },
	{ "a large LM field, ignored", U, GOOD_USER, GOOD_DOMAIN, 84, F_LM, 24, 0, AUTH_HEADER, 0,
	  OK_ALICE(84) },
	{ "an empty field at the very end", U, GOOD_USER, GOOD_DOMAIN, 84, F_KEY, 0, FROM_END(0), AUTH_HEADER, 0,
	  OK_ALICE(84) },
	/* the header */
	{ "bad signature", U, GOOD_USER, GOOD_DOMAIN, 84, BAD_SIGNATURE, AUTH_HEADER, 0, "malformed" },
	{ "type 1", U, GOOD_USER, GOOD_DOMAIN, 84, BAD_TYPE, AUTH_HEADER, 0, "malformed" },
	{ "63 octets", U, GOOD_USER, GOOD_DOMAIN, 84, NO_BAD, AUTH_HEADER, 63, "malformed" },
	/* security buffers */
	{ "user starting at the end", U, GOOD_USER, GOOD_DOMAIN, 84, F_USER, 10, FROM_END(0), AUTH_HEADER, 0,
	  "malformed" },
	{ "user ending one octet past the end", U, GOOD_USER, GOOD_DOMAIN, 84, F_USER, 10, FROM_END(9),
	  AUTH_HEADER, 0, "malformed" },
	{ "user ending at the end (the last of the session key)", U, GOOD_USER, GOOD_DOMAIN, 84, F_USER, 4,
	  FROM_END(4), AUTH_HEADER, 0, "ok user=\"\\xe6\\x91\\xa3\\xe6\\x99\\xa5\" (6) domain=" DOMAIN16_HEX
	  " response=84" },
	{ "user offset 0xffffffff", U, GOOD_USER, GOOD_DOMAIN, 84, F_USER, 10, 0xffffffff, AUTH_HEADER, 0,
	  "malformed" },
	{ "user offset 0xfffffff0", U, GOOD_USER, GOOD_DOMAIN, 84, F_USER, 10, 0xfffffff0, AUTH_HEADER, 0,
	  "malformed" },
	{ "empty user at offset 0xfffffffe", U, GOOD_USER, GOOD_DOMAIN, 84, F_USER, 0, 0xfffffffe, AUTH_HEADER,
	  0, "malformed" },
	{ "user length 0xffff", U, GOOD_USER, GOOD_DOMAIN, 84, F_USER, 0xffff, 64, AUTH_HEADER, 0,
	  "malformed" },
	{ "domain past the end", U, GOOD_USER, GOOD_DOMAIN, 84, F_DOMAIN, 12, FROM_END(11), AUTH_HEADER, 0,
	  "malformed" },
	{ "NT response past the end", U, GOOD_USER, GOOD_DOMAIN, 84, F_NT, 84, FROM_END(83), AUTH_HEADER, 0,
	  "malformed" },
	{ "the message cut in the response", U, GOOD_USER, GOOD_DOMAIN, 84, NO_BAD, AUTH_HEADER,
	  AUTH_HEADER + 24 + 50, "malformed" },
	{ "the message cut in the session key", U, GOOD_USER, GOOD_DOMAIN, 84, NO_BAD, AUTH_HEADER,
	  AUTH_HEADER + 24 + 84 + 12 + 10 + 4 + 15, "malformed" },
	{ "the message cut after the session key", U, GOOD_USER, GOOD_DOMAIN, 84, NO_BAD, AUTH_HEADER,
	  AUTH_HEADER + 24 + 84 + 12 + 10 + 4 + 16, OK_ALICE(84) },
	{ "LM response outside (ignored field)", U, GOOD_USER, GOOD_DOMAIN, 84, F_LM, 24, 0xffffffff,
	  AUTH_HEADER, 0, "malformed" },
	{ "workstation outside (ignored field)", U, GOOD_USER, GOOD_DOMAIN, 84, F_WORKSTATION, 2, 0x7fffffff,
	  AUTH_HEADER, 0, "malformed" },
	{ "session key outside (ignored field)", U, GOOD_USER, GOOD_DOMAIN, 84, F_KEY, 16, FROM_END(15),
	  AUTH_HEADER, 0, "malformed" },
	/* the response */
	{ "NTLMv1 response (24 octets)", U, GOOD_USER, GOOD_DOMAIN, 24, NO_BAD, AUTH_HEADER, 0, "not v2" },
	{ "anonymous (empty response)", U, BYTES(""), BYTES(""), 0, NO_BAD, AUTH_HEADER, 0, "not v2" },
	{ "response of 47 octets", U, GOOD_USER, GOOD_DOMAIN, 47, NO_BAD, AUTH_HEADER, 0, "not v2" },
	{ "response of 2049 octets", U, GOOD_USER, GOOD_DOMAIN, 2049, NO_BAD, AUTH_HEADER, 0, "too long" },
	/* the domain */
	{ "domain of 256 units", U, GOOD_USER, LONG_DOMAIN(256), 84, NO_BAD, AUTH_HEADER, 0, "too long" },
	{ "OEM domain of 256 octets", OEM, BYTES("alice"), LONG_DOMAIN(256), 84, NO_BAD, AUTH_HEADER, 0,
	  "too long" },
	{ "odd-length domain", U, GOOD_USER, BYTES("D\0o"), 84, NO_BAD, AUTH_HEADER, 0, "malformed" },
	{ "OEM domain not ASCII", OEM, BYTES("alice"), BYTES("Dom\xe4ne"), 84, NO_BAD, AUTH_HEADER, 0,
	  "malformed" },
	/* the user */
	{ "odd-length user", U, BYTES("a\0l\0i"), GOOD_DOMAIN, 84, NO_BAD, AUTH_HEADER, 0, "malformed" },
	{ "empty user", U, BYTES(""), GOOD_DOMAIN, 84, NO_BAD, AUTH_HEADER, 0, "bad user" },
	{ "empty OEM user", OEM, BYTES(""), BYTES("Domain"), 84, NO_BAD, AUTH_HEADER, 0, "bad user" },
	{ "user of 65 octets", U, BYTES(A64_16 "a\0"), GOOD_DOMAIN, 84, NO_BAD, AUTH_HEADER, 0, "bad user" },
	{ "user of 65 octets in UTF-8 (32 x U+00E9, 'a')", U, BYTES(E32_16 "a\0"), GOOD_DOMAIN, 84, NO_BAD,
	  AUTH_HEADER, 0, "bad user" },
	{ "OEM user of 65 octets", OEM, BYTES(A64 "a"), BYTES("Domain"), 84, NO_BAD, AUTH_HEADER, 0,
	  "bad user" },
	{ "user with a NUL", U, BYTES("a\0\0\0b\0"), GOOD_DOMAIN, 84, NO_BAD, AUTH_HEADER, 0, "bad user" },
	{ "OEM user with a NUL", OEM, BYTES("a\0b"), BYTES("Domain"), 84, NO_BAD, AUTH_HEADER, 0, "bad user" },
	{ "OEM user not ASCII", OEM, BYTES("J\xfcrg"), BYTES("Domain"), 84, NO_BAD, AUTH_HEADER, 0,
	  "bad user" },
	{ "unpaired high surrogate at the end", U, BYTES("a\0\x3d\xd8"), GOOD_DOMAIN, 84, NO_BAD, AUTH_HEADER,
	  0, "bad user" },
	{ "high surrogate then a letter", U, BYTES("\x3d\xd8" "a\0"), GOOD_DOMAIN, 84, NO_BAD, AUTH_HEADER, 0,
	  "bad user" },
	{ "two high surrogates", U, BYTES("\x3d\xd8\x3d\xd8"), GOOD_DOMAIN, 84, NO_BAD, AUTH_HEADER, 0,
	  "bad user" },
	{ "unpaired low surrogate", U, BYTES("\x00\xde" "a\0"), GOOD_DOMAIN, 84, NO_BAD, AUTH_HEADER, 0,
	  "bad user" },
};

/* The patterned octets of a row's response. */
static unsigned char response_octet(size_t i)
{
	return (unsigned char)(i * 37 + 11);
}

/* Builds a row's AUTHENTICATE into msg: the header, then the payloads in
 * field order (a workstation "WS" and a 16-octet session key included). */
static size_t build_authenticate(const struct auth_case *c, unsigned char *msg, size_t size)
{
	bool unicode = c->flags & NTLMSSP_NEGOTIATE_UNICODE;
	static unsigned char response[4096], domain[1024];
	const unsigned char *data[F_COUNT] = { (const unsigned char *)"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
					       response, (const unsigned char *)c->domain,
					       (const unsigned char *)c->user, (const unsigned char *)"W\0S\0",
					       (const unsigned char *)"0123456789abcdef" };
	size_t len[F_COUNT] = { 24, c->response_len, c->domain_len, c->user_len, unicode ? 4 : 2, 16 };
	size_t at = c->header;

	for (size_t i = 0; i < c->response_len; i++)
		response[i] = response_octet(i);
	if (c->domain == NULL) {
		memset(domain, 0, sizeof domain);
		for (size_t i = 0; i < c->domain_len; i++)
			domain[unicode ? 2 * i : i] = 'd';
		data[F_DOMAIN] = domain;
		len[F_DOMAIN] = unicode ? 2 * c->domain_len : c->domain_len;
	}
	memset(msg, 0, c->header);
	memcpy(msg, "NTLMSSP", 8);
	put32(msg + 8, 3);
	put32(msg + 60, c->flags);
	for (int f = 0; f < F_COUNT; f++) {
		if (at + len[f] > size)
			unit_bail("a row's message does not fit");
		memcpy(msg + at, data[f], len[f]);
		msg[12 + 8 * f] = (unsigned char)len[f];
		msg[12 + 8 * f + 1] = (unsigned char)(len[f] >> 8);
		msg[12 + 8 * f + 2] = (unsigned char)len[f];
		msg[12 + 8 * f + 3] = (unsigned char)(len[f] >> 8);
		put32(msg + 12 + 8 * f + 4, (uint32_t)at);
		at += len[f];
	}
	return at;
}

/* Applies a row's damage to the message of msg_len octets built for it;
 * returns the length kept. */
static size_t damage_authenticate(const struct auth_case *c, unsigned char *msg, size_t msg_len)
{
	size_t len = c->keep > 0 ? c->keep : msg_len;

	if (c->bad_field == F_SIGNATURE)
		msg[7] = 'X';		/* the signature's NUL */
	if (c->bad_field == F_TYPE_1)
		put32(msg + 8, 1);
	if (c->bad_field < F_COUNT) {
		uint32_t offset = c->bad_offset < 0 ? (uint32_t)(len - (size_t)(-c->bad_offset - 1))
						    : (uint32_t)c->bad_offset;

		msg[12 + 8 * c->bad_field] = (unsigned char)c->bad_len;
		msg[12 + 8 * c->bad_field + 1] = (unsigned char)(c->bad_len >> 8);
		put32(msg + 12 + 8 * c->bad_field + 4, offset);
	}
	return len;
}

static void render_authenticate(struct unit_buf *b, enum ntlm_status st, const struct ntlm_authenticate *a)
{
	static const char *const names[] = { "ok", "malformed", "not v2", "bad user", "too long" };
	static const struct ntlm_authenticate zero;
	char user[512];

	unit_buf_clear(b);
	unit_buf_adds(b, (unsigned)st < ROWS(names) ? names[st] : "<status?>");
	if (st != NTLM_OK) {
		if (memcmp(a, &zero, sizeof zero) != 0)
			unit_buf_adds(b, " <out not wiped>");
		return;
	}
	unit_escape(user, sizeof user, a->user, strlen(a->user));
	unit_buf_addf(b, " user=\"%s\" (%zu) domain=", user, a->user_len);
	if (a->domain_len > 64)
		unit_buf_addf(b, "<%zu octets>", a->domain_len);
	else
		render_hex(b, a->domain, a->domain_len);
	unit_buf_addf(b, " response=%zu", a->response_len);
	for (size_t i = 0; i < a->response_len && i < sizeof a->response; i++)
		if (a->response[i] != response_octet(i)) {
			unit_buf_adds(b, " <response differs>");
			break;
		}
	if (strlen(a->user) != a->user_len)
		unit_buf_adds(b, " <user_len differs from strlen>");
}

static void test_parse_authenticate(void)
{
	static unsigned char msg[8192];
	struct unit_buf got = { 0 };

	for (size_t i = 0; i < ROWS(auth_cases); i++) {
		const struct auth_case *c = &auth_cases[i];
		struct ntlm_authenticate a;
		size_t len = damage_authenticate(c, msg, build_authenticate(c, msg, sizeof msg));
		enum ntlm_status st;

		/* Octets past the message that a parser must not read: as
		 * valid UTF-16 letters they would go unnoticed otherwise. */
		memset(msg + len, 'Q', sizeof msg - len);
		memset(&a, 0x5a, sizeof a);
		st = ntlm_parse_authenticate(msg, len, c->flags, &a);
		render_authenticate(&got, st, &a);
		unit_expect_str(got.data, c->expected, "ntlm_parse_authenticate: %s", c->what);
	}
	unit_buf_free(&got);
}

/* ---- the whole exchange with the MS-NLMP 4.2.4 response ---- */

/* Our CHALLENGE carrying the vector's server challenge, then an
 * AUTHENTICATE with its user, domain and response, parsed under the flags
 * we chose and verified; Unicode and OEM. */
static void test_exchange(void)
{
	static const struct ntlm_target t = { "DOMAIN", "SERVER", { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef } };
	static const struct {
		const char *what;
		uint32_t client;
		const char *user, *domain;
		size_t user_len, domain_len;
		bool expected;
	} rows[] = {
		{ "Unicode", U, "U\0s\0e\0r\0", "D\0o\0m\0a\0i\0n\0", 8, 12, true },
		{ "OEM", OEM, "User", "Domain", 4, 6, true },
		{ "Unicode, domain DOMAIN (another key)", U, "U\0s\0e\0r\0", "D\0O\0M\0A\0I\0N\0", 8, 12, false },
	};

	for (size_t i = 0; i < ROWS(rows); i++) {
		unsigned char challenge[512], msg[1024], hash[NTLM_HASH_SIZE];
		struct auth_case c = { rows[i].what, 0, rows[i].user, rows[i].user_len, rows[i].domain,
				       rows[i].domain_len, 84, NO_BAD, AUTH_HEADER_MIC, 0, NULL };
		struct ntlm_authenticate a;
		size_t len;
		bool verified = false;

		ntlm_nt_hash("Password", hash);
		unit_ok(ntlm_build_challenge(rows[i].client, &t, challenge, sizeof challenge, &c.flags) > 0,
			"exchange %s: CHALLENGE built", rows[i].what);
		len = build_authenticate(&c, msg, sizeof msg);
		vector_response(msg + AUTH_HEADER_MIC + 24);
		if (unit_expect_uint(ntlm_parse_authenticate(msg, len, c.flags, &a), NTLM_OK,
				     "exchange %s: AUTHENTICATE parsed", rows[i].what))
			verified = ntlm_v2_ok(hash, a.user, a.domain, a.domain_len, challenge + 24, a.response,
					      a.response_len);
		unit_expect_bool(verified, rows[i].expected, "exchange %s: verified", rows[i].what);
		unit_expect_bool(ntlm_domain_ok(a.domain, a.domain_len, t.domain), true,
				 "exchange %s: the domain is ours", rows[i].what);
	}
}

/* ---- ntlm_domain_ok ---- */

struct domain_case {
	const char *what;
	const char *domain;	/* UTF-16LE */
	size_t len;
	const char *ours;
	bool expected;
};

static const struct domain_case domain_cases[] = {
	{ "empty", BYTES(""), "EXAMPLE", true },
	{ "equal", BYTES("E\0X\0A\0M\0P\0L\0E\0"), "EXAMPLE", true },
	{ "lower case", BYTES("e\0x\0a\0m\0p\0l\0e\0"), "EXAMPLE", true },
	{ "mixed case, ours in lower case", BYTES("E\0x\0A\0m\0P\0l\0E\0"), "example", true },
	{ "one letter short", BYTES("E\0X\0A\0M\0P\0L\0"), "EXAMPLE", false },
	{ "one letter more", BYTES("E\0X\0A\0M\0P\0L\0E\0S\0"), "EXAMPLE", false },
	{ "another letter", BYTES("E\0X\0A\0M\0P\0L\0F\0"), "EXAMPLE", false },
	{ "odd length", BYTES("E\0X\0A\0M\0P\0L\0E"), "EXAMPLE", false },
	{ "odd length, one unit", BYTES("E"), "E", false },
	{ "a high octet set (U+0145)", BYTES("E\0X\0A\0M\0P\0L\0E\x01"), "EXAMPLE", false },
	{ "a non-ASCII letter that folds to one (U+0130)", BYTES("\x30\x01"), "I", false },
	{ "a non-ASCII unit against a non-ASCII octet", BYTES("\xe9\0"), "\xe9", false },
	{ "ours empty, domain not", BYTES("E\0"), "", false },
	{ "'@' and '`' are not letters", BYTES("@\0"), "`", false },
	{ "a dot and digits", BYTES("m\0x\0.\x00" "1\0"), "MX.1", true },
};

static void test_domain_ok(void)
{
	for (size_t i = 0; i < ROWS(domain_cases); i++) {
		const struct domain_case *c = &domain_cases[i];

		unit_expect_bool(ntlm_domain_ok((const unsigned char *)c->domain, c->len, c->ours), c->expected,
				 "ntlm_domain_ok: %s", c->what);
	}
}

/* ---- library_load: how ntlm.c gets nettle (and gssapi.c MIT Kerberos) ---- */

struct md4_table {
	void (*init)(void);
	void (*digest)(void);
};

static const struct library_symbol md4_symbols[] = {
	{ "nettle_md4_init", offsetof(struct md4_table, init) },
	{ "nettle_md4_digest", offsetof(struct md4_table, digest) },
};

static const struct library_symbol missing_symbols[] = {
	{ "nettle_md4_init", offsetof(struct md4_table, init) },
	{ "nettle_no_such_function", offsetof(struct md4_table, digest) },
};

static void test_library_load(void)
{
	struct md4_table t;
	char err[256];

	memset(&t, 0, sizeof t);
	unit_ok(library_load("libnettle.so.8", md4_symbols, 2, &t, sizeof t, err, sizeof err) && t.init != NULL &&
			t.digest != NULL,
		"library_load: nettle's functions are found");
	memset(&t, 0, sizeof t);
	unit_ok(!library_load("libno-such-library.so.1", md4_symbols, 2, &t, sizeof t, err, sizeof err) &&
			strstr(err, "cannot load libno-such-library.so.1") != NULL && t.init == NULL,
		"library_load: a missing library fails and says so (%s)", err);
	memset(&t, 0xa5, sizeof t);
	unit_ok(!library_load("libnettle.so.8", missing_symbols, 2, &t, sizeof t, err, sizeof err) &&
			strcmp(err, "libnettle.so.8 lacks nettle_no_such_function") == 0 && t.init == NULL &&
			t.digest == NULL,
		"library_load: a missing symbol fails, names it, and leaves no pointer behind (%s)", err);
	unit_ok(ntlm_ready(), "ntlm_ready: nettle loads");
}

int main(void)
{
	test_library_load();
	test_utf8_to_utf16le();
	test_nt_hash();
	test_hash_text();
	test_v2_vector_parts();
	test_v2_ok();
	test_parse_negotiate();
	test_challenge_flags();
	test_build_challenge();
	test_challenge_too_small();
	test_parse_authenticate();
	test_exchange();
	test_domain_ok();
	return unit_done();
}
