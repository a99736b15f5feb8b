/*
 * unit-accounts.h - a throw-away world for the tests of the login decision
 * (test-auth, test-privsep): a passwd file whose users have the password
 * "secret" (cheap sha256crypt) in several account states, the log in a
 * file, and NTLMv2 responses computed with nettle, apart from ntlm.c.
 * Header-only and static, like unit.h.
 */
#ifndef POP3_UNIT_ACCOUNTS_H
#define POP3_UNIT_ACCOUNTS_H

#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/hmac.h>

#include "ntlm.h"
#include "unit-log.h"
#include "unit.h"

/* The uid and gid of the users a test may log in: one root may change to, or the test's
 * own when it is not root (a process as another user serves only its own uid). */
static inline unsigned unit_user_id(void)
{
	return geteuid() == 0 ? 4242 : (unsigned)getuid();
}

struct unit_world {
	char dir[64];
	char passwd[128];
	char log[128];
};

/* Makes the world in a new directory named for the test:
 * - alice: the password and its NT hash;
 * - root0: uid and gid 0, the password (no process may serve it);
 * - carol: locked ('!' before the hash), with the NT hash;
 * - dave: no password ('*'), with the NT hash;
 * - erin: the password, no NT hash. */
static inline void unit_world_make(struct unit_world *w, const char *test)
{
	struct crypt_data cd;
	unsigned char nt[NTLM_HASH_SIZE];
	char lines[2048], nt_text[2 * NTLM_HASH_SIZE + 1];
	unsigned id = unit_user_id();
	const char *hash;
	FILE *f;

	snprintf(w->dir, sizeof w->dir, "/tmp/pop3-unit-%s.XXXXXX", test);
	if (mkdtemp(w->dir) == NULL)
		unit_bail("mkdtemp: %s", strerror(errno));
	memset(&cd, 0, sizeof cd);
	hash = crypt_r("secret", "$5$rounds=1000$unitsalt$", &cd);
	if (hash == NULL || hash[0] == '*')
		unit_bail("crypt_r failed");
	if (!ntlm_nt_hash("secret", nt))
		unit_bail("ntlm_nt_hash failed");
	ntlm_hash_format(nt, nt_text);
	snprintf(lines, sizeof lines,
		 "alice:%s:%u:%u::%s:/bin/sh:%s\nroot0:%s:0:0::%s:/bin/sh\ncarol:!%s:%u:%u::%s:/bin/sh:%s\n"
		 "dave:*:%u:%u::%s:/bin/sh:%s\nerin:%s:%u:%u::%s:/bin/sh\n",
		 hash, id, id, w->dir, nt_text, hash, w->dir, hash, id, id, w->dir, nt_text, id, id, w->dir, nt_text,
		 hash, id, id, w->dir);
	snprintf(w->passwd, sizeof w->passwd, "%s/passwd", w->dir);
	f = fopen(w->passwd, "w");
	if (f == NULL || fputs(lines, f) == EOF || fclose(f) != 0 || chmod(w->passwd, 0600) != 0)
		unit_bail("writing %s: %s", w->passwd, strerror(errno));
	snprintf(w->log, sizeof w->log, "%s/log", w->dir);
	unit_log_open(w->log);
}

static inline void unit_world_remove(const struct unit_world *w)
{
	unlink(w->log);
	unlink(w->passwd);
	rmdir(w->dir);
}

/* The blob of an NTLMv2 response (MS-NLMP 2.2.2.7): RespType and
 * HiRespType 1, reserved, a zero timestamp, a client challenge, reserved,
 * and an AV pair list of MsvAvEOL alone. */
static const unsigned char unit_ntlm_blob[28 + 4] = { 1, 1, [16] = 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa };

/* Appends text as UTF-16LE (ASCII only), upper-cased when upper, to out at *len. */
static inline void unit_utf16(const char *text, bool upper, unsigned char *out, size_t *len)
{
	for (; *text != '\0'; text++) {
		out[(*len)++] = (unsigned char)(upper ? toupper((unsigned char)*text) : *text);
		out[(*len)++] = 0;
	}
}

/* Computes into out the NTLMv2 response of user in domain (ASCII; the domain as the client
 * sends it) with password to challenge: NTProofStr then the blob; returns its length. */
static inline size_t unit_ntlm_response(const char *user, const char *domain,
					const unsigned char challenge[NTLM_CHALLENGE_SIZE], const char *password,
					unsigned char *out)
{
	unsigned char nt[NTLM_HASH_SIZE], key[MD5_DIGEST_SIZE], identity[512];
	struct hmac_md5_ctx ctx;
	size_t len = 0;

	if (!ntlm_nt_hash(password, nt))
		unit_bail("ntlm_nt_hash failed");
	unit_utf16(user, true, identity, &len);
	unit_utf16(domain, false, identity, &len);
	hmac_md5_set_key(&ctx, sizeof nt, nt);
	hmac_md5_update(&ctx, len, identity);
	hmac_md5_digest(&ctx, sizeof key, key);
	hmac_md5_set_key(&ctx, sizeof key, key);
	hmac_md5_update(&ctx, NTLM_CHALLENGE_SIZE, challenge);
	hmac_md5_update(&ctx, sizeof unit_ntlm_blob, unit_ntlm_blob);
	hmac_md5_digest(&ctx, MD5_DIGEST_SIZE, out);
	memcpy(out + MD5_DIGEST_SIZE, unit_ntlm_blob, sizeof unit_ntlm_blob);
	return MD5_DIGEST_SIZE + sizeof unit_ntlm_blob;
}

#endif
