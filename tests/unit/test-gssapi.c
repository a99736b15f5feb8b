/*
 * test-gssapi.c - whole SASL GSSAPI exchanges (RFC 4752) between an MIT
 * Kerberos client in this process, which plays curl (target
 * pop@localhost, with and without mutual authentication), and gssapi_step() as the
 * server, against the throw-away realm of tests/lib/krb5.bash.  Run by
 * tests/login-gssapi.bats, which starts the KDC and gets the tickets: it
 * passes the realm, keytabs and credential caches in the environment.
 *
 * An exchange is rendered as short text ("DONE alice", "FAILED at step
 * 3"; " not idle" when the exchange kept GSS objects after it ended) so
 * that each row states its whole expectation in one literal; a failure
 * must also have logged why.
 */
#include "gssapi.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>

#include "log.h"
#include "unit-log.h"
#include "unit.h"

/* What tests/login-gssapi.bats passes. */
static const char *realm;		/* KRB5_TEST_REALM, the default realm */
static const char *keytab;		/* KRB5_TEST_KEYTAB: pop/localhost */
static const char *other_keytab;	/* KRB5_TEST_OTHER_KEYTAB: imap/localhost only */
static const char *dir;			/* KRB5_TEST_DIR, where the log goes */

static const char *need_env(const char *name)
{
	const char *value = getenv(name);

	if (value == NULL || value[0] == '\0')
		unit_bail("%s is not set: run tests/login-gssapi.bats", name);
	return value;
}

/* The server's log goes to a file, so that each failure can be checked for its reason. */
static void open_log(void)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/test-gssapi.log", dir);
	unit_log_open(path);
}

/* Tells whether the log holds text; shows the log when it does not. */
static bool log_has(const char *text)
{
	if (unit_log_has(text))
		return true;
	unit_diag("the log lacks \"%s\"; it holds: %s", text, unit_log_text());
	return false;
}

/* ---- the client, as curl does it ---- */

struct client {
	gss_cred_id_t cred;
	gss_ctx_id_t ctx;
	gss_name_t target;
	OM_uint32 flags;
	bool complete;
};

static void client_start(struct client *c, const char *ccache, bool mutual)
{
	static char target[] = "pop@localhost";
	gss_buffer_desc target_name = { sizeof target - 1, target };
	gss_key_value_element_desc element = { "ccache", ccache };
	gss_key_value_set_desc store = { 1, &element };
	OM_uint32 major, minor;

	memset(c, 0, sizeof *c);
	c->ctx = GSS_C_NO_CONTEXT;
	/* curl 7.88 (Curl_gss_init_sec_context) asks for replay detection,
	 * and for mutual authentication when told to: its SASL GSSAPI does
	 * not (it gets no AP-REP), other clients do. */
	c->flags = GSS_C_REPLAY_FLAG | (mutual ? GSS_C_MUTUAL_FLAG : 0);
	major = gss_acquire_cred_from(&minor, GSS_C_NO_NAME, GSS_C_INDEFINITE, gss_mech_set_krb5, GSS_C_INITIATE,
				      &store, &c->cred, NULL, NULL);
	if (major != GSS_S_COMPLETE)
		unit_bail("no client credentials in %s (major %u, minor %u)", ccache, major, minor);
	major = gss_import_name(&minor, &target_name, GSS_C_NT_HOSTBASED_SERVICE, &c->target);
	if (major != GSS_S_COMPLETE)
		unit_bail("importing %s failed", target);
}

/* One gss_init_sec_context call with the server's last token (none at first); false when it fails. */
static bool client_step(struct client *c, const unsigned char *in, size_t in_len, gss_buffer_t out)
{
	gss_buffer_desc input = { in_len, (void *)(uintptr_t)in };
	OM_uint32 major, minor;

	major = gss_init_sec_context(&minor, c->cred, &c->ctx, c->target, gss_mech_krb5, c->flags, 0,
				     GSS_C_NO_CHANNEL_BINDINGS, c->ctx == GSS_C_NO_CONTEXT ? GSS_C_NO_BUFFER : &input,
				     NULL, out, NULL, NULL);
	c->complete = major == GSS_S_COMPLETE;
	return major == GSS_S_COMPLETE || major == GSS_S_CONTINUE_NEEDED;
}

/* Unwraps the server's layer offer; true when it is exactly "no layer, size 0". */
static bool client_offer_ok(struct client *c, const unsigned char *in, size_t in_len)
{
	gss_buffer_desc input = { in_len, (void *)(uintptr_t)in };
	gss_buffer_desc plain = GSS_C_EMPTY_BUFFER;
	OM_uint32 major, minor;
	bool ok;

	major = gss_unwrap(&minor, c->ctx, &input, &plain, NULL, NULL);
	ok = major == GSS_S_COMPLETE && plain.length == 4 && memcmp(plain.value, "\x01\0\0\0", 4) == 0;
	gss_release_buffer(&minor, &plain);
	return ok;
}

static void client_wrap(struct client *c, const char *msg, size_t len, gss_buffer_t out)
{
	gss_buffer_desc plain = { len, (void *)(uintptr_t)msg };
	OM_uint32 minor;

	if (gss_wrap(&minor, c->ctx, 0, GSS_C_QOP_DEFAULT, &plain, NULL, out) != GSS_S_COMPLETE)
		unit_bail("the client cannot wrap");
}

static void client_end(struct client *c)
{
	OM_uint32 minor;

	gss_delete_sec_context(&minor, &c->ctx, GSS_C_NO_BUFFER);
	gss_release_cred(&minor, &c->cred);
	gss_release_name(&minor, &c->target);
}

/* ---- the server ---- */

static bool idle(const struct gssapi_exchange *x)
{
	return x->state == GSSAPI_IDLE && x->steps == 0 && x->ctx == GSS_C_NO_CONTEXT &&
	       x->cred == GSS_C_NO_CREDENTIAL;
}

/* Renders how an exchange stopped: "DONE user" or "FAILED at step N", " not idle" when it kept GSS objects. */
static void render_end(struct unit_buf *b, enum gssapi_step r, unsigned step, const struct gssapi_exchange *x)
{
	if (r == GSSAPI_DONE)
		unit_buf_addf(b, "DONE %s", x->user);
	else
		unit_buf_addf(b, "%s at step %u", r == GSSAPI_FAILED ? "FAILED" : "CONTINUE", step);
	if (!idle(x))
		unit_buf_adds(b, " not idle");
}

/* ---- whole exchanges ---- */

#define CHOICE(s) BYTES(s)
/* A numeric limit as text in a string literal. */
#define TEXT(n) TEXT_OF(n)
#define TEXT_OF(n) #n
#define NO_LAYER_ALONE CHOICE("\x01\0\0\0")

struct exchange_case {
	const char *what;
	const char *ccache_env;		/* the client: whose credential cache */
	const char *server_realm;	/* x->realm; NULL for the test realm */
	bool mutual;
	size_t first_out_size;		/* room for the server's first token; 0 for SASL_CHALLENGE_MAX */
	const char *empty;		/* the client's answer to the AP-REP (empty for a good client) */
	unsigned preset_steps;		/* when not 0: x->steps before the client's last response */
	const char *choice;		/* the client's layer choice, before wrapping */
	size_t choice_len;
	bool tamper;			/* flips an octet of the wrapped choice */
	const char *expected;
	const char *logged;		/* what the log must hold after it, or NULL */
};

#define ALICE "TEST_CCACHE_ALICE"
#define BOB "TEST_CCACHE_BOB"
#define ADMIN "TEST_CCACHE_ADMIN"

static const struct exchange_case exchange_cases[] = {
	{ "alice logs in", ALICE, NULL, true, 0, "", 0, NO_LAYER_ALONE, false, "DONE alice", NULL },
	{ "the default realm when none is set", ALICE, "", true, 0, "", 0, NO_LAYER_ALONE, false, "DONE alice", NULL },
	{ "bob logs in", BOB, NULL, true, 0, "", 0, NO_LAYER_ALONE, false, "DONE bob", NULL },
	{ "without mutual authentication (no AP-REP)", ALICE, NULL, false, 0, "", 0, NO_LAYER_ALONE, false,
	  "DONE alice", NULL },
	{ "authzid alice for alice", ALICE, NULL, true, 0, "", 0, CHOICE("\x01\0\0\0alice"), false, "DONE alice",
	  NULL },
	{ "the client's maximum size is ignored", ALICE, NULL, true, 0, "", 0, CHOICE("\x01\xff\xff\xff"), false,
	  "DONE alice", NULL },
	{ "authzid bob for alice", ALICE, NULL, true, 0, "", 0, CHOICE("\x01\0\0\0bob"), false,
	  "FAILED at step 3", "alice asked to act as another user" },
	{ "authzid alice for bob", BOB, NULL, true, 0, "", 0, CHOICE("\x01\0\0\0alice"), false, "FAILED at step 3",
	  "bob asked to act as another user" },
	{ "authzid longer than the user", ALICE, NULL, true, 0, "", 0, CHOICE("\x01\0\0\0alicex"), false,
	  "FAILED at step 3", "asked to act as another user" },
	{ "authzid a prefix of the user", ALICE, NULL, true, 0, "", 0, CHOICE("\x01\0\0\0alic"), false,
	  "FAILED at step 3", "asked to act as another user" },
	{ "authzid with a NUL after the user", ALICE, NULL, true, 0, "", 0, CHOICE("\x01\0\0\0alice\0"), false,
	  "FAILED at step 3", "asked to act as another user" },
	{ "authzid the principal itself (Thunderbird)", ALICE, NULL, true, 0, "", 0,
	  CHOICE("\x01\0\0\0alice@POP3TEST.LOCAL"), false, "DONE alice", NULL },
	{ "authzid the principal in another realm", ALICE, NULL, true, 0, "", 0,
	  CHOICE("\x01\0\0\0alice@OTHER.LOCAL"), false, "FAILED at step 3", "asked to act as another user" },
	{ "authzid the principal with the realm cut short", ALICE, NULL, true, 0, "", 0,
	  CHOICE("\x01\0\0\0alice@POP3TEST"), false, "FAILED at step 3", "asked to act as another user" },
	{ "authzid another user in the realm", ALICE, NULL, true, 0, "", 0, CHOICE("\x01\0\0\0bob@POP3TEST.LOCAL"),
	  false, "FAILED at step 3", "asked to act as another user" },
	{ "integrity layer chosen", ALICE, NULL, true, 0, "", 0, CHOICE("\x02\0\0\0"), false, "FAILED at step 3",
	  "chose a security layer other than none" },
	{ "confidentiality layer chosen", ALICE, NULL, true, 0, "", 0, CHOICE("\x04\0\0\0"), false,
	  "FAILED at step 3", "chose a security layer other than none" },
	{ "all layers chosen", ALICE, NULL, true, 0, "", 0, CHOICE("\x07\0\0\0"), false, "FAILED at step 3",
	  "chose a security layer other than none" },
	{ "no bit chosen", ALICE, NULL, true, 0, "", 0, CHOICE("\0\0\0\0"), false, "FAILED at step 3",
	  "chose a security layer other than none" },
	{ "a choice of 3 octets", ALICE, NULL, true, 0, "", 0, CHOICE("\x01\0\0"), false, "FAILED at step 3",
	  "chose a security layer other than none" },
	{ "an empty choice", ALICE, NULL, true, 0, "", 0, CHOICE(""), false, "FAILED at step 3",
	  "chose a security layer other than none" },
	{ "a tampered wrapped choice", ALICE, NULL, true, 0, "", 0, NO_LAYER_ALONE, true, "FAILED at step 3",
	  "unwrapping the security layer choice failed" },
	{ "a non-empty answer to the AP-REP", ALICE, NULL, true, 0, "x", 0, NO_LAYER_ALONE, false,
	  "FAILED at step 2", "alice sent 1 octets where an empty response was due" },
	{ "a principal of another realm", ALICE, "OTHER.REALM", true, 0, "", 0, NO_LAYER_ALONE, false,
	  "FAILED at step 1", "principal alice@POP3TEST.LOCAL is not in the realm (users are user@OTHER.REALM)" },
	{ "a principal with an instance", ADMIN, NULL, true, 0, "", 0, NO_LAYER_ALONE, false, "FAILED at step 1",
	  "principal alice/admin@POP3TEST.LOCAL has an instance" },
	{ "an AP-REP larger than the challenge", ALICE, NULL, true, 16, "", 0, NO_LAYER_ALONE, false,
	  "FAILED at step 1", "exceeds the 16 the challenge may hold" },
	{ "the last response is the GSSAPI_STEPS_MAX-th", ALICE, NULL, true, 0, "", GSSAPI_STEPS_MAX - 1,
	  NO_LAYER_ALONE, false, "DONE alice", NULL },
	{ "one response more than GSSAPI_STEPS_MAX", ALICE, NULL, true, 0, "", GSSAPI_STEPS_MAX, NO_LAYER_ALONE,
	  false, "FAILED at step 3", "more than " TEXT(GSSAPI_STEPS_MAX) " responses" },
};

/* One server step, as the caller runs it; *step counts them. */
static enum gssapi_step server_step(struct gssapi_exchange *x, const void *in, size_t in_len, unsigned char *out,
				    size_t out_size, size_t *out_len, unsigned *step)
{
	(*step)++;
	return gssapi_step(x, in, in_len, out, out_size, out_len);
}

/* Runs the client's side after the server's first token: the answer to the AP-REP (if any), then the layer choice; renders how it ended. */
static void finish_exchange(const struct exchange_case *c, struct client *cl, struct gssapi_exchange *x,
			    unsigned char *out, size_t *out_len, unsigned *step, struct unit_buf *b)
{
	gss_buffer_desc token = GSS_C_EMPTY_BUFFER;
	enum gssapi_step r = GSSAPI_CONTINUE;
	OM_uint32 minor;

	if (!cl->complete) {
		if (!client_step(cl, out, *out_len, &token) || !cl->complete || token.length != 0) {
			unit_buf_adds(b, "the client refused the AP-REP");
			gss_release_buffer(&minor, &token);
			return;
		}
		r = server_step(x, c->empty, strlen(c->empty), out, SASL_CHALLENGE_MAX, out_len, step);
	}
	if (r == GSSAPI_CONTINUE && !client_offer_ok(cl, out, *out_len)) {
		unit_buf_adds(b, "a bad layer offer");
		return;
	}
	if (r == GSSAPI_CONTINUE) {
		client_wrap(cl, c->choice, c->choice_len, &token);
		if (c->tamper)
			((unsigned char *)token.value)[token.length - 1] ^= 0x01;
		if (c->preset_steps != 0)
			x->steps = c->preset_steps;
		r = server_step(x, token.value, token.length, out, SASL_CHALLENGE_MAX, out_len, step);
		gss_release_buffer(&minor, &token);
	}
	render_end(b, r, *step, x);
}

/* Runs one whole exchange and renders how it ended. */
static void run_exchange(const struct exchange_case *c, struct gssapi_exchange *x, struct unit_buf *b)
{
	unsigned char out[SASL_CHALLENGE_MAX];
	gss_buffer_desc token = GSS_C_EMPTY_BUFFER;
	struct client cl;
	enum gssapi_step r;
	unsigned step = 0;
	size_t out_len;
	OM_uint32 minor;

	client_start(&cl, need_env(c->ccache_env), c->mutual);
	if (!client_step(&cl, NULL, 0, &token))
		unit_bail("the client cannot start (%s)", c->what);
	r = server_step(x, token.value, token.length, out, c->first_out_size ? c->first_out_size : sizeof out,
			&out_len, &step);
	gss_release_buffer(&minor, &token);
	if (r == GSSAPI_CONTINUE)
		finish_exchange(c, &cl, x, out, &out_len, &step, b);
	else
		render_end(b, r, step, x);
	client_end(&cl);
}

static void test_exchanges(void)
{
	struct unit_buf b = { 0 };

	for (size_t i = 0; i < sizeof exchange_cases / sizeof exchange_cases[0]; i++) {
		const struct exchange_case *c = &exchange_cases[i];
		struct gssapi_exchange x;

		gssapi_init(&x, keytab, c->server_realm ? c->server_realm : realm);
		unit_buf_clear(&b);
		unit_log_clear();
		run_exchange(c, &x, &b);
		unit_expect_str(b.data, c->expected, "exchange: %s", c->what);
		if (c->logged != NULL)
			unit_ok(log_has(c->logged), "exchange: %s: logged", c->what);
		gssapi_reset(&x);
	}
	unit_buf_free(&b);
}

/* ---- single bad responses ---- */

/* Renders the result of a first response the server must refuse, and checks the log. */
static void expect_first_refused(const char *what, const unsigned char *in, size_t in_len, const char *logged)
{
	unsigned char out[SASL_CHALLENGE_MAX];
	struct gssapi_exchange x;
	struct unit_buf b = { 0 };
	size_t out_len = 1;

	gssapi_init(&x, keytab, realm);
	unit_log_clear();
	render_end(&b, gssapi_step(&x, in, in_len, out, sizeof out, &out_len), 1, &x);
	unit_expect_str(b.data, "FAILED at step 1", "first response: %s", what);
	unit_expect_uint(out_len, 0, "first response: %s: nothing to send", what);
	unit_ok(log_has(logged), "first response: %s: logged", what);
	unit_buf_free(&b);
}

static void test_bad_first_responses(void)
{
	static unsigned char big[GSSAPI_TOKEN_MAX + 1];
	char too_long[128];

	memset(big, 0x60, sizeof big);
	expect_first_refused("garbage", (const unsigned char *)"garbage", 7, "accepting the context failed");
	expect_first_refused("empty", (const unsigned char *)"", 0, "accepting the context failed");
	expect_first_refused("GSSAPI_TOKEN_MAX octets of garbage reach GSS", big, sizeof big - 1,
			     "accepting the context failed");
	snprintf(too_long, sizeof too_long, "a response of %zu octets exceeds %d", sizeof big, GSSAPI_TOKEN_MAX);
	expect_first_refused("GSSAPI_TOKEN_MAX + 1 octets", big, sizeof big, too_long);
}

/* A keytab without a key for pop/ fails the exchange at once. */
static void test_keytab_without_pop(void)
{
	struct exchange_case c = { "a keytab with imap/ only", ALICE, NULL, true, 0, "", 0, NO_LAYER_ALONE, false,
				   "FAILED at step 1", "getting the service key for pop" };
	struct unit_buf b = { 0 };
	struct gssapi_exchange x;

	gssapi_init(&x, other_keytab, realm);
	unit_log_clear();
	run_exchange(&c, &x, &b);
	unit_expect_str(b.data, c.expected, "exchange: %s", c.what);
	unit_ok(log_has(c.logged), "exchange: %s: logged", c.what);
	unit_buf_free(&b);
}

/* The same first token twice is a replay: MIT's replay cache refuses the second. */
static void test_replay(void)
{
	unsigned char out[SASL_CHALLENGE_MAX];
	gss_buffer_desc token = GSS_C_EMPTY_BUFFER;
	struct gssapi_exchange x;
	struct client cl;
	OM_uint32 minor;
	size_t out_len;

	client_start(&cl, need_env(ALICE), true);
	if (!client_step(&cl, NULL, 0, &token))
		unit_bail("the client cannot start (replay)");
	gssapi_init(&x, keytab, realm);
	unit_expect_uint(gssapi_step(&x, token.value, token.length, out, sizeof out, &out_len), GSSAPI_CONTINUE,
			 "replay: the first use continues");
	gssapi_reset(&x);
	unit_log_clear();
	unit_expect_uint(gssapi_step(&x, token.value, token.length, out, sizeof out, &out_len), GSSAPI_FAILED,
			 "replay: the second use fails");
	unit_ok(log_has("accepting the context failed"), "replay: logged");
	gss_release_buffer(&minor, &token);
	client_end(&cl);
}

/* One exchange object serves logins one after another, and an abandoned exchange is dropped by the next. */
static void test_reuse(void)
{
	static const struct exchange_case good = { "reuse", ALICE, NULL, true, 0, "", 0, NO_LAYER_ALONE, false,
						   "DONE alice", NULL };
	static const struct exchange_case fail = { "reuse", ALICE, NULL, true, 0, "", 0, CHOICE("\x02\0\0\0"), false,
						   "FAILED at step 3", NULL };
	unsigned char out[SASL_CHALLENGE_MAX];
	gss_buffer_desc token = GSS_C_EMPTY_BUFFER;
	struct unit_buf b = { 0 };
	struct gssapi_exchange x;
	struct client cl;
	OM_uint32 minor;
	size_t out_len;

	gssapi_init(&x, keytab, realm);
	run_exchange(&good, &x, &b);
	unit_buf_adds(&b, ", ");
	run_exchange(&fail, &x, &b);
	unit_buf_adds(&b, ", ");
	run_exchange(&good, &x, &b);
	unit_expect_str(b.data, "DONE alice, FAILED at step 3, DONE alice", "reuse: logins one after another");
	client_start(&cl, need_env(ALICE), true);
	if (!client_step(&cl, NULL, 0, &token))
		unit_bail("the client cannot start (reuse)");
	gssapi_step(&x, token.value, token.length, out, sizeof out, &out_len);
	gss_release_buffer(&minor, &token);
	client_end(&cl);
	gssapi_reset(&x);
	unit_ok(idle(&x) && x.user[0] == '\0', "reuse: reset in mid-exchange leaves it idle");
	unit_buf_clear(&b);
	run_exchange(&good, &x, &b);
	unit_expect_str(b.data, "DONE alice", "reuse: a login after a reset");
	unit_buf_free(&b);
}

/* ---- gssapi_available ---- */

static void test_available(void)
{
	char path[4096];
	int fd;

	unit_expect_bool(gssapi_available(keytab), true, "available: the keytab with pop/localhost");
	unit_log_clear();
	snprintf(path, sizeof path, "%s/no-such.keytab", dir);
	unit_expect_bool(gssapi_available(path), false, "available: a missing keytab");
	unit_ok(!log_has("GSSAPI"), "available: a missing keytab (a site without Kerberos): nothing logged");
	unit_log_clear();
	unit_expect_bool(gssapi_available(other_keytab), false, "available: a keytab with imap/localhost only");
	unit_ok(log_has("getting the service key for pop"), "available: a keytab without pop/: logged");
	snprintf(path, sizeof path, "%s/empty.keytab", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || close(fd) != 0)
		unit_bail("%s: %s", path, strerror(errno));
	unit_expect_bool(gssapi_available(path), false, "available: an empty file");
}

int main(void)
{
	realm = need_env("KRB5_TEST_REALM");
	keytab = need_env("KRB5_TEST_KEYTAB");
	other_keytab = need_env("KRB5_TEST_OTHER_KEYTAB");
	dir = need_env("KRB5_TEST_DIR");
	open_log();
	test_available();
	test_exchanges();
	test_bad_first_responses();
	test_keytab_without_pop();
	test_replay();
	test_reuse();
	return unit_done();
}
