/*
 * ntlm.c - NTLM (MS-NLMP) as POP3 carries it (MS-OXPOP3): the NT hash, the
 * NEGOTIATE, CHALLENGE and AUTHENTICATE messages, and the NTLMv2 check.
 * Client messages are read only through field_find() and the 16/32-bit
 * readers at offsets below the checked minimum length.
 */
#include "ntlm.h"

#include <nettle/hmac.h>
#include <nettle/md4.h>
#include <nettle/memops.h>
#include <nettle/version.h>
#include <stddef.h>
#include <string.h>

#include "log.h"
#include "util.h"

/* nettle (MD4, HMAC-MD5) is loaded when NTLM first needs a hash: linked,
 * its relocations would cost every session some 200 KiB of memory, and
 * most sessions never use NTLM.  Its soname has been libnettle.so.8 since
 * nettle 3.6. */
#define NETTLE_LIBRARY "libnettle.so.8"

/* The functions' types and the contexts' sizes come from the headers: they
 * must be those of the library loaded (nettle 4 changed both). */
#if defined(NETTLE_VERSION_MAJOR) && NETTLE_VERSION_MAJOR != 3	/* (cppcheck reads no system header) */
#error "ntlm.c loads libnettle.so.8, which is nettle 3: build against nettle 3's headers"
#endif

static struct nettle {
	bool loaded;
	__typeof__(nettle_md4_init) *md4_init;
	__typeof__(nettle_md4_update) *md4_update;
	__typeof__(nettle_md4_digest) *md4_digest;
	__typeof__(nettle_hmac_md5_set_key) *hmac_md5_set_key;
	__typeof__(nettle_hmac_md5_update) *hmac_md5_update;
	__typeof__(nettle_hmac_md5_digest) *hmac_md5_digest;
	__typeof__(nettle_memeql_sec) *memeql_sec;
} nettle;

#define NETTLE_SYMBOL(field) { "nettle_" #field, offsetof(struct nettle, field) }

static const struct library_symbol nettle_symbols[] = {
	NETTLE_SYMBOL(md4_init),	 NETTLE_SYMBOL(md4_update),	 NETTLE_SYMBOL(md4_digest),
	NETTLE_SYMBOL(hmac_md5_set_key), NETTLE_SYMBOL(hmac_md5_update), NETTLE_SYMBOL(hmac_md5_digest),
	NETTLE_SYMBOL(memeql_sec),
};

bool ntlm_ready(void)
{
	return library_load_once(&nettle.loaded, NETTLE_LIBRARY, nettle_symbols,
				 sizeof nettle_symbols / sizeof *nettle_symbols, &nettle, sizeof nettle, LOG_WARNING, "NTLM");
}

/* Every message starts with the signature "NTLMSSP\0" and a 32-bit type. */
static const unsigned char ntlm_signature[8] = "NTLMSSP";
#define MESSAGE_NEGOTIATE 1
#define MESSAGE_CHALLENGE 2
#define MESSAGE_AUTHENTICATE 3

/* NEGOTIATE: signature, type, NegotiateFlags; the domain and workstation
 * fields after them are optional and of no use to us. */
#define NEGOTIATE_FLAGS 12
#define NEGOTIATE_MIN 16

/* CHALLENGE: signature, type, TargetNameFields, NegotiateFlags,
 * ServerChallenge, Reserved, TargetInfoFields; the payload follows (no
 * Version field, so NTLMSSP_NEGOTIATE_VERSION is never granted). */
#define CHALLENGE_TARGET_NAME 12
#define CHALLENGE_FLAGS 20
#define CHALLENGE_SERVER_CHALLENGE 24
#define CHALLENGE_TARGET_INFO 40
#define CHALLENGE_PAYLOAD 48

/* AUTHENTICATE: signature, type, six security buffers (LM response, NT
 * response, domain, user, workstation, encrypted session key), then
 * NegotiateFlags; Version and MIC may follow and are not needed here. */
enum authenticate_field {
	AUTH_LM_RESPONSE,
	AUTH_NT_RESPONSE,
	AUTH_DOMAIN,
	AUTH_USER,
	AUTH_WORKSTATION,
	AUTH_SESSION_KEY,
	AUTH_FIELDS
};
#define AUTHENTICATE_FIELDS 12
#define AUTHENTICATE_MIN 64

/* A security buffer: Len (16 bits), MaxLen (16 bits), Offset (32 bits). */
#define FIELD_SIZE 8

/* AV pair identifiers of the target info (MS-NLMP 2.2.2.1). */
#define MSV_AV_EOL 0
#define MSV_AV_NB_COMPUTER_NAME 1
#define MSV_AV_NB_DOMAIN_NAME 2
#define AV_HEADER 4

/* The blob of an NTLMv2 response starts with RespType and HiRespType,
 * both 1 (MS-NLMP 2.2.2.7). */
#define BLOB_RESP_TYPE 1

static uint16_t get_le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put_le32(unsigned char *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

static unsigned char ascii_upper(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? (unsigned char)(c - ('a' - 'A')) : c;
}

/* --- Unicode --------------------------------------------------------- */

/* A decoder takes one code point from in (len octets) at *at, advancing
 * *at; false when the input is not valid in its encoding.  An encoder
 * appends one (a scalar value) at out + *at, advancing *at; false when it
 * does not fit size or the encoding lacks it. */
typedef bool decode_fn(const unsigned char *in, size_t len, size_t *at, uint32_t *cp);
typedef bool encode_fn(uint32_t cp, unsigned char *out, size_t size, size_t *at);

/* Strict UTF-8: the shortest form only, no surrogates, nothing above
 * U+10FFFF, no sequence cut short by the end of the input. */
static bool get_utf8(const unsigned char *in, size_t len, size_t *at, uint32_t *cp)
{
	static const uint32_t shortest[4] = { 0, 0x80, 0x800, 0x10000 };
	unsigned char lead = in[*at];
	size_t more = lead < 0xc0 ? 0 : lead < 0xe0 ? 1 : lead < 0xf0 ? 2 : lead < 0xf8 ? 3 : 0;
	uint32_t v = lead & (0x3fu >> more);

	if (lead < 0x80) {
		*cp = lead;
		(*at)++;
		return true;
	}
	if (more == 0)
		return false;	/* a continuation octet first, or 0xf8..0xff */
	if (more > len - *at - 1)
		return false;
	for (size_t i = 1; i <= more; i++) {
		unsigned char c = in[*at + i];

		if ((c & 0xc0) != 0x80)
			return false;
		v = v << 6 | (c & 0x3fu);
	}
	if (v < shortest[more] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return false;
	*cp = v;
	*at += more + 1;
	return true;
}

/* UTF-16LE of even length len: a surrogate must be a high one followed by
 * a low one. */
static bool get_utf16le(const unsigned char *in, size_t len, size_t *at, uint32_t *cp)
{
	uint32_t high = get_le16(in + *at), low;

	*at += 2;
	if (high < 0xd800 || high > 0xdfff) {
		*cp = high;
		return true;
	}
	if (high > 0xdbff || len - *at < 2)
		return false;
	low = get_le16(in + *at);
	if (low < 0xdc00 || low > 0xdfff)
		return false;
	*at += 2;
	*cp = 0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00);
	return true;
}

/* OEM strings are accepted in their ASCII subset only: the code page the
 * client means is unknown, and ASCII reads the same in every one. */
static bool get_ascii(const unsigned char *in, size_t len, size_t *at, uint32_t *cp)
{
	(void)len;
	*cp = in[(*at)++];
	return *cp < 0x80;
}

/* UTF-16LE, a surrogate pair above the BMP. */
static bool put_utf16le(uint32_t cp, unsigned char *out, size_t size, size_t *at)
{
	size_t need = cp >= 0x10000 ? 4 : 2;

	if (need > size - *at)
		return false;
	if (cp >= 0x10000) {
		cp -= 0x10000;
		put_le16(out + *at, (uint16_t)(0xd800 | cp >> 10));
		put_le16(out + *at + 2, (uint16_t)(0xdc00 | (cp & 0x3ff)));
	} else {
		put_le16(out + *at, (uint16_t)cp);
	}
	*at += need;
	return true;
}

static bool put_utf8(uint32_t cp, unsigned char *out, size_t size, size_t *at)
{
	size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;

	if (n > size - *at)
		return false;
	if (n == 1) {
		out[*at] = (unsigned char)cp;
	} else {
		for (size_t i = n - 1; i > 0; i--) {
			out[*at + i] = (unsigned char)(0x80 | (cp & 0x3f));
			cp >>= 6;
		}
		/* The lead octet: n one bits, a zero, the highest bits. */
		out[*at] = (unsigned char)((0xff00u >> n & 0xff) | cp);
	}
	*at += n;
	return true;
}

/* ASCII only, as for get_ascii. */
static bool put_oem(uint32_t cp, unsigned char *out, size_t size, size_t *at)
{
	if (cp >= 0x80 || *at >= size)
		return false;
	out[(*at)++] = (unsigned char)cp;
	return true;
}

/* Converts all of in from the encoding get reads to the one put writes. */
static bool transcode(decode_fn *get, encode_fn *put, const unsigned char *in, size_t len, unsigned char *out,
		      size_t size, size_t *out_len)
{
	size_t at = 0, n = 0;
	uint32_t cp;

	while (at < len)
		if (!get(in, len, &at, &cp) || !put(cp, out, size, &n))
			return false;
	*out_len = n;
	return true;
}

bool utf8_to_utf16le(const char *in, size_t len, unsigned char *out, size_t size, size_t *out_len)
{
	return transcode(get_utf8, put_utf16le, (const unsigned char *)in, len, out, size, out_len);
}

/* --- NT hash --------------------------------------------------------- */

bool ntlm_nt_hash(const char *password, unsigned char hash[NTLM_HASH_SIZE])
{
	/* Each UTF-8 octet gives at most two octets of UTF-16. */
	unsigned char utf16[2 * NTLM_PASSWORD_MAX];
	size_t len = strnlen(password, NTLM_PASSWORD_MAX + 1), n;
	struct md4_ctx ctx;
	bool ok = len <= NTLM_PASSWORD_MAX && utf8_to_utf16le(password, len, utf16, sizeof utf16, &n) &&
		  ntlm_ready();

	if (ok) {
		nettle.md4_init(&ctx);
		nettle.md4_update(&ctx, n, utf16);
		nettle.md4_digest(&ctx, NTLM_HASH_SIZE, hash);
		explicit_bzero(&ctx, sizeof ctx);
	} else {
		explicit_bzero(hash, NTLM_HASH_SIZE);
	}
	explicit_bzero(utf16, sizeof utf16);
	return ok;
}

/* The text form of an NT hash: two hexadecimal digits per octet. */
#define HASH_TEXT_LEN ((size_t)2 * NTLM_HASH_SIZE)

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool ntlm_hash_parse(const char *text, unsigned char hash[NTLM_HASH_SIZE])
{
	if (strnlen(text, HASH_TEXT_LEN + 1) != HASH_TEXT_LEN)
		return false;
	for (size_t i = 0; i < NTLM_HASH_SIZE; i++) {
		int high = hex_value(text[2 * i]), low = hex_value(text[2 * i + 1]);

		if (high < 0 || low < 0) {
			explicit_bzero(hash, NTLM_HASH_SIZE);
			return false;
		}
		hash[i] = (unsigned char)(high << 4 | low);
	}
	return true;
}

void ntlm_hash_format(const unsigned char hash[NTLM_HASH_SIZE], char text[2 * NTLM_HASH_SIZE + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < NTLM_HASH_SIZE; i++) {
		text[2 * i] = digits[hash[i] >> 4];
		text[2 * i + 1] = digits[hash[i] & 0xf];
	}
	text[HASH_TEXT_LEN] = '\0';
}

/* --- Messages -------------------------------------------------------- */

/* Whether msg is at least min octets and starts with the signature and
 * the given message type. */
static bool message_is(const unsigned char *msg, size_t len, uint32_t type, size_t min)
{
	return len >= min && memcmp(msg, ntlm_signature, sizeof ntlm_signature) == 0 &&
	       get_le32(msg + sizeof ntlm_signature) == type;
}

bool ntlm_parse_negotiate(const unsigned char *msg, size_t len, uint32_t *flags)
{
	if (!message_is(msg, len, MESSAGE_NEGOTIATE, NEGOTIATE_MIN))
		return false;
	*flags = get_le32(msg + NEGOTIATE_FLAGS);
	return true;
}

/* The flags of our CHALLENGE.  No security layer follows authentication
 * in POP3 (MS-OXPOP3), so SIGN, SEAL, KEY_EXCH and 56 are never granted:
 * they would promise signed or sealed traffic after login, which never
 * comes, and a session key we never derive.  Unicode or OEM, extended session
 * security and ALWAYS_SIGN (a dummy signature promise, harmless without
 * SIGN) answer what the client asked, as MS-NLMP 3.2.5.1.1 has it.
 * NEGOTIATE_128 is granted when asked although no key is ever used:
 * Windows clients (Outlook through SSPI) by default require 128-bit keys
 * (NtlmMinClientSec) and MUST abort when the CHALLENGE lacks the flag
 * (MS-NLMP 3.1.5.1.2); it weakens nothing, as no key exists. */
static uint32_t challenge_flags(uint32_t client)
{
	uint32_t echoed = NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY | NTLMSSP_NEGOTIATE_ALWAYS_SIGN |
			  NTLMSSP_NEGOTIATE_128;
	uint32_t flags = NTLMSSP_NEGOTIATE_NTLM | NTLMSSP_REQUEST_TARGET | NTLMSSP_TARGET_TYPE_DOMAIN |
			 NTLMSSP_NEGOTIATE_TARGET_INFO | (client & echoed);

	flags |= client & NTLMSSP_NEGOTIATE_UNICODE ? NTLMSSP_NEGOTIATE_UNICODE : NTLMSSP_NEGOTIATE_OEM;
	return flags;
}

/* Appends name (ASCII) at out + *at, in UTF-16LE or OEM; false when it
 * does not fit size or is longer than a 16-bit length says. */
static bool put_name(const char *name, bool unicode, unsigned char *out, size_t size, size_t *at)
{
	size_t n;

	if (!transcode(get_utf8, unicode ? put_utf16le : put_oem, (const unsigned char *)name, strlen(name),
		       out + *at, size - *at, &n))
		return false;
	if (n > UINT16_MAX)
		return false;
	*at += n;
	return true;
}

/* Appends an AV pair whose value is name in UTF-16LE. */
static bool put_av_pair(uint16_t id, const char *name, unsigned char *out, size_t size, size_t *at)
{
	size_t value_at = *at + AV_HEADER;

	if (size - *at < AV_HEADER || !put_name(name, true, out, size, &value_at))
		return false;
	put_le16(out + *at, id);
	put_le16(out + *at + 2, (uint16_t)(value_at - *at - AV_HEADER));
	*at = value_at;
	return true;
}

/* Writes a security buffer at p for len octets at offset (MaxLen = Len). */
static void put_field(unsigned char *p, size_t offset, size_t len)
{
	put_le16(p, (uint16_t)len);
	put_le16(p + 2, (uint16_t)len);
	put_le32(p + 4, (uint32_t)offset);
}

size_t ntlm_build_challenge(uint32_t client_flags, const struct ntlm_target *t, unsigned char *out, size_t size,
			    uint32_t *flags)
{
	uint32_t chosen = challenge_flags(client_flags);
	size_t at = CHALLENGE_PAYLOAD, info_at;

	if (size < CHALLENGE_PAYLOAD)
		return 0;
	memset(out, 0, CHALLENGE_PAYLOAD);
	memcpy(out, ntlm_signature, sizeof ntlm_signature);
	put_le32(out + sizeof ntlm_signature, MESSAGE_CHALLENGE);
	put_le32(out + CHALLENGE_FLAGS, chosen);
	memcpy(out + CHALLENGE_SERVER_CHALLENGE, t->challenge, NTLM_CHALLENGE_SIZE);
	if (!put_name(t->domain, chosen & NTLMSSP_NEGOTIATE_UNICODE, out, size, &at))
		return 0;
	put_field(out + CHALLENGE_TARGET_NAME, CHALLENGE_PAYLOAD, at - CHALLENGE_PAYLOAD);
	info_at = at;
	if (!put_av_pair(MSV_AV_NB_DOMAIN_NAME, t->domain, out, size, &at) ||
	    !put_av_pair(MSV_AV_NB_COMPUTER_NAME, t->computer, out, size, &at) ||
	    !put_av_pair(MSV_AV_EOL, "", out, size, &at) || at - info_at > UINT16_MAX)
		return 0;
	put_field(out + CHALLENGE_TARGET_INFO, info_at, at - info_at);
	*flags = chosen;
	return at;
}

/* The octets a security buffer of the client's message points to. */
struct field {
	const unsigned char *data;
	size_t len;
};

/* Locates the security buffer at msg + at (below the checked minimum
 * length); false when its octets are not all inside the message.  MaxLen
 * is never used: MS-NLMP 2.2.1.3 says it MUST be ignored on receipt. */
static bool field_find(const unsigned char *msg, size_t len, size_t at, struct field *f)
{
	size_t field_len = get_le16(msg + at), offset = get_le32(msg + at + 4);

	if (offset > len || field_len > len - offset)
		return false;
	f->data = msg + offset;
	f->len = field_len;
	return true;
}

/* Copies a field into dst of size octets, setting *len. */
static enum ntlm_status field_copy(const struct field *f, unsigned char *dst, size_t size, size_t *len)
{
	if (f->len > size)
		return NTLM_TOO_LONG;
	memcpy(dst, f->data, f->len);
	*len = f->len;
	return NTLM_OK;
}

/* Only NTLMv2 responses are long enough; empty (anonymous) and 24-octet
 * (NTLMv1) ones are not. */
static enum ntlm_status response_copy(const struct field *f, struct ntlm_authenticate *out)
{
	if (f->len < NTLM_RESPONSE_MIN)
		return NTLM_NOT_V2;
	return field_copy(f, out->response, sizeof out->response, &out->response_len);
}

/* Keeps the domain in UTF-16LE, as NTOWFv2 hashes it. */
static enum ntlm_status domain_copy(const struct field *f, bool unicode, struct ntlm_authenticate *out)
{
	if (unicode) {
		if (f->len % 2 != 0)
			return NTLM_MALFORMED;
		return field_copy(f, out->domain, sizeof out->domain, &out->domain_len);
	}
	if (f->len > sizeof out->domain / 2)
		return NTLM_TOO_LONG;
	if (!transcode(get_ascii, put_utf16le, f->data, f->len, out->domain, sizeof out->domain, &out->domain_len))
		return NTLM_MALFORMED;
	return NTLM_OK;
}

/* Converts the user name to NUL-terminated UTF-8. */
static enum ntlm_status user_copy(const struct field *f, bool unicode, struct ntlm_authenticate *out)
{
	unsigned char *user = (unsigned char *)out->user;
	size_t n;

	if (unicode && f->len % 2 != 0)
		return NTLM_MALFORMED;
	if (!transcode(unicode ? get_utf16le : get_ascii, put_utf8, f->data, f->len, user, USER_NAME_MAX, &n) ||
	    n == 0 || memchr(user, '\0', n) != NULL)
		return NTLM_BAD_USER;
	out->user[n] = '\0';
	out->user_len = n;
	return NTLM_OK;
}

static enum ntlm_status authenticate_read(const unsigned char *msg, size_t len, uint32_t flags,
					  struct ntlm_authenticate *out)
{
	bool unicode = flags & NTLMSSP_NEGOTIATE_UNICODE;
	struct field fields[AUTH_FIELDS];
	enum ntlm_status st;

	if (!message_is(msg, len, MESSAGE_AUTHENTICATE, AUTHENTICATE_MIN))
		return NTLM_MALFORMED;
	/* All of them, the ignored ones too: a message pointing outside
	 * itself is not one a real client made. */
	for (size_t i = 0; i < AUTH_FIELDS; i++)
		if (!field_find(msg, len, AUTHENTICATE_FIELDS + i * FIELD_SIZE, &fields[i]))
			return NTLM_MALFORMED;
	st = response_copy(&fields[AUTH_NT_RESPONSE], out);
	if (st == NTLM_OK)
		st = domain_copy(&fields[AUTH_DOMAIN], unicode, out);
	if (st == NTLM_OK)
		st = user_copy(&fields[AUTH_USER], unicode, out);
	return st;
}

enum ntlm_status ntlm_parse_authenticate(const unsigned char *msg, size_t len, uint32_t flags,
					 struct ntlm_authenticate *out)
{
	enum ntlm_status st = authenticate_read(msg, len, flags, out);

	if (st != NTLM_OK)
		explicit_bzero(out, sizeof *out);
	return st;
}

bool ntlm_domain_ok(const unsigned char *domain, size_t domain_len, const char *ours)
{
	size_t ours_len = strlen(ours);

	if (domain_len == 0)
		return true;
	if (domain_len / 2 != ours_len || domain_len % 2 != 0)
		return false;
	for (size_t i = 0; i < ours_len; i++) {
		uint16_t unit = get_le16(domain + 2 * i);

		if (unit >= 0x80 || ascii_upper((unsigned char)unit) != ascii_upper((unsigned char)ours[i]))
			return false;
	}
	return true;
}

/* --- NTLMv2 ---------------------------------------------------------- */

static bool is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* NTOWFv2 (MS-NLMP 3.3.2): HMAC-MD5 keyed with the NT hash over the
 * upper-cased user and the domain, both UTF-16LE; user is ASCII. */
static void ntowf_v2(const unsigned char nt_hash[NTLM_HASH_SIZE], const char *user, const unsigned char *domain,
		     size_t domain_len, unsigned char ntowf[NTLM_HASH_SIZE])
{
	struct hmac_md5_ctx ctx;

	nettle.hmac_md5_set_key(&ctx, NTLM_HASH_SIZE, nt_hash);
	for (const char *p = user; *p != '\0'; p++) {
		unsigned char unit[2] = { ascii_upper((unsigned char)*p), 0 };

		nettle.hmac_md5_update(&ctx, sizeof unit, unit);
	}
	nettle.hmac_md5_update(&ctx, domain_len, domain);
	nettle.hmac_md5_digest(&ctx, NTLM_HASH_SIZE, ntowf);
	explicit_bzero(&ctx, sizeof ctx);
}

/* NTProofStr: HMAC-MD5 keyed with NTOWFv2 over the server challenge and
 * the client's blob. */
static void nt_proof(const unsigned char ntowf[NTLM_HASH_SIZE], const unsigned char challenge[NTLM_CHALLENGE_SIZE],
		     const unsigned char *blob, size_t blob_len, unsigned char proof[NTLM_HASH_SIZE])
{
	struct hmac_md5_ctx ctx;

	nettle.hmac_md5_set_key(&ctx, NTLM_HASH_SIZE, ntowf);
	nettle.hmac_md5_update(&ctx, NTLM_CHALLENGE_SIZE, challenge);
	nettle.hmac_md5_update(&ctx, blob_len, blob);
	nettle.hmac_md5_digest(&ctx, NTLM_HASH_SIZE, proof);
	explicit_bzero(&ctx, sizeof ctx);
}

bool ntlm_v2_ok(const unsigned char nt_hash[NTLM_HASH_SIZE], const char *user, const unsigned char *domain,
		size_t domain_len, const unsigned char challenge[NTLM_CHALLENGE_SIZE],
		const unsigned char *response, size_t response_len)
{
	const unsigned char *blob;
	unsigned char ntowf[NTLM_HASH_SIZE], proof[NTLM_HASH_SIZE];
	bool ok;

	if (response_len < NTLM_RESPONSE_MIN)
		return false;
	blob = response + NTLM_HASH_SIZE;
	if (blob[0] != BLOB_RESP_TYPE || blob[1] != BLOB_RESP_TYPE || !is_ascii(user) || !ntlm_ready())
		return false;
	ntowf_v2(nt_hash, user, domain, domain_len, ntowf);
	nt_proof(ntowf, challenge, blob, response_len - NTLM_HASH_SIZE, proof);
	ok = nettle.memeql_sec(proof, response, NTLM_HASH_SIZE);
	explicit_bzero(ntowf, sizeof ntowf);
	explicit_bzero(proof, sizeof proof);
	return ok;
}
