/*
 * gssapi.c - the server side of SASL GSSAPI (RFC 4752): the Kerberos 5
 * context, the security layer negotiation, and the mapping of the client
 * principal to a local user.
 */
#include "gssapi.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <gssapi/gssapi_alloc.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>

#include "parse.h"
#include "log.h"
#include "util.h"

/* RFC 4752 section 3.3: the first octet of the security layer negotiation
 * is a bit mask of layers; we offer (and accept) only "no security layer",
 * as TLS protects the session, with a maximum message size of 0. */
#define LAYER_NONE 0x01
#define LAYER_MESSAGE_SIZE 4

/* Room for the text of a GSS status: MIT's messages are a line each. */
#define STATUS_TEXT_MAX 512

/* MIT Kerberos is loaded only where a keytab makes GSSAPI possible.
 * Linked, its eight libraries would be loaded by every session, and most
 * sites have no Kerberos: measured, that cost each session some 600 KiB of
 * memory and the loading of eight libraries.  dlsym() on the handle finds libkrb5's functions too, as a
 * dependency of libgssapi_krb5.  What gssapi.c calls: */
#define MIT_LIBRARY "libgssapi_krb5.so.2"

static struct mit_kerberos {
	bool loaded;
	gss_OID *nt_hostbased_service;		/* GSS_C_NT_HOSTBASED_SERVICE */
	const gss_OID_set *mech_set_krb5;
	__typeof__(gss_accept_sec_context) *accept_sec_context;
	__typeof__(gss_acquire_cred_from) *acquire_cred_from;
	__typeof__(gss_delete_sec_context) *delete_sec_context;
	__typeof__(gss_display_name) *display_name;
	__typeof__(gss_display_status) *display_status;
	__typeof__(gss_import_name) *import_name;
	__typeof__(gss_release_buffer) *release_buffer;
	__typeof__(gss_release_cred) *release_cred;
	__typeof__(gss_release_name) *release_name;
	__typeof__(gss_unwrap) *unwrap;
	__typeof__(gss_wrap) *wrap;
	__typeof__(krb5_init_context) *init_context;
	__typeof__(krb5_get_default_realm) *get_default_realm;
	__typeof__(krb5_free_default_realm) *free_default_realm;
	__typeof__(krb5_get_error_message) *get_error_message;
	__typeof__(krb5_free_error_message) *free_error_message;
	__typeof__(krb5_free_context) *free_context;
	__typeof__(krb5_kt_resolve) *kt_resolve;
	__typeof__(krb5_kt_start_seq_get) *kt_start_seq_get;
	__typeof__(krb5_kt_next_entry) *kt_next_entry;
	__typeof__(krb5_kt_end_seq_get) *kt_end_seq_get;
	__typeof__(krb5_kt_add_entry) *kt_add_entry;
	__typeof__(krb5_kt_close) *kt_close;
	__typeof__(krb5_free_keytab_entry_contents) *free_keytab_entry_contents;
	__typeof__(krb5_unparse_name) *unparse_name;
	__typeof__(krb5_free_unparsed_name) *free_unparsed_name;
	__typeof__(krb5_parse_name) *parse_name;
	__typeof__(krb5_free_principal) *free_principal;
} mit;

#define GSS_SYMBOL(field) { "gss_" #field, offsetof(struct mit_kerberos, field) }
#define KRB5_SYMBOL(field) { "krb5_" #field, offsetof(struct mit_kerberos, field) }

static const struct library_symbol mit_symbols[] = {
	{ "GSS_C_NT_HOSTBASED_SERVICE", offsetof(struct mit_kerberos, nt_hostbased_service) },
	GSS_SYMBOL(mech_set_krb5),	  GSS_SYMBOL(accept_sec_context), GSS_SYMBOL(acquire_cred_from),
	GSS_SYMBOL(delete_sec_context),	  GSS_SYMBOL(display_name),	  GSS_SYMBOL(display_status),
	GSS_SYMBOL(import_name),	  GSS_SYMBOL(release_buffer),	  GSS_SYMBOL(release_cred),
	GSS_SYMBOL(release_name),	  GSS_SYMBOL(unwrap),		  GSS_SYMBOL(wrap),
	KRB5_SYMBOL(init_context),	  KRB5_SYMBOL(get_default_realm), KRB5_SYMBOL(free_default_realm),
	KRB5_SYMBOL(get_error_message),	  KRB5_SYMBOL(free_error_message), KRB5_SYMBOL(free_context),
	KRB5_SYMBOL(kt_resolve),	  KRB5_SYMBOL(kt_start_seq_get),  KRB5_SYMBOL(kt_next_entry),
	KRB5_SYMBOL(kt_end_seq_get),	  KRB5_SYMBOL(kt_add_entry),	  KRB5_SYMBOL(kt_close),
	KRB5_SYMBOL(free_keytab_entry_contents), KRB5_SYMBOL(unparse_name), KRB5_SYMBOL(free_unparsed_name),
	KRB5_SYMBOL(parse_name),	  KRB5_SYMBOL(free_principal),
};

/* Loads MIT Kerberos into mit, once; false (logged at LOG_WARNING: a keytab is there to be
 * used) when the library or one of its symbols is missing. */
static bool mit_load(void)
{
	return library_load_once(&mit.loaded, MIT_LIBRARY, mit_symbols, sizeof mit_symbols / sizeof *mit_symbols,
				 &mit, sizeof mit, LOG_WARNING, "GSSAPI");
}

/* Frees a buffer GSS gave us.  mit.release_buffer() frees nothing of
 * length 0, but mit.unwrap() allocates one for an empty message: a client
 * could leak memory with each. */
static void free_buffer(gss_buffer_t buffer)
{
	OM_uint32 minor;

	if (buffer->length == 0 && buffer->value != NULL)
		gssalloc_free(buffer->value);
	else
		mit.release_buffer(&minor, buffer);
	buffer->value = NULL;
	buffer->length = 0;
}

/* Appends the text gss_display_status gives for one status code (of type GSS_C_GSS_CODE or
 * GSS_C_MECH_CODE) to text; a code may have several messages. */
static void append_status(char *text, size_t size, OM_uint32 code, int type)
{
	OM_uint32 more = 0;

	do {
		gss_buffer_desc msg = GSS_C_EMPTY_BUFFER;
		OM_uint32 minor;
		size_t used = strlen(text);

		if (GSS_ERROR(mit.display_status(&minor, code, type, GSS_C_NO_OID, &more, &msg)))
			return;
		snprintf(text + used, size - used, "%s%.*s", used > 0 ? "; " : "", (int)msg.length,
			 (const char *)msg.value);
		free_buffer(&msg);
	} while (more != 0);
}

/* Logs a failed GSS call with its major and minor status text. */
static void log_gss_failure(int priority, const char *what, OM_uint32 major, OM_uint32 minor)
{
	char text[STATUS_TEXT_MAX] = "";

	append_status(text, sizeof text, major, GSS_C_GSS_CODE);
	if (minor != 0)
		append_status(text, sizeof text, minor, GSS_C_MECH_CODE);
	log_msg(priority, "GSSAPI: %s failed: %s", what, text);
}

/* Gets acceptor credentials for the service "pop" of any host name from the keytab at path,
 * Kerberos 5 only (RFC 4752 is not SPNEGO), loading MIT Kerberos first (every other GSS call
 * follows one of these); failures are logged at priority. */
static bool acquire_acceptor(const char *keytab, gss_cred_id_t *cred, int priority)
{
	static char service[] = "pop";
	gss_buffer_desc service_name = { sizeof service - 1, service };
	gss_key_value_element_desc element = { "keytab", keytab };
	gss_key_value_set_desc store = { 1, &element };
	gss_name_t name = GSS_C_NO_NAME;
	OM_uint32 major, minor, ignored;

	*cred = GSS_C_NO_CREDENTIAL;
	if (!mit_load())
		return false;
	major = mit.import_name(&minor, &service_name, *mit.nt_hostbased_service, &name);
	if (major != GSS_S_COMPLETE) {
		log_gss_failure(priority, "importing the service name", major, minor);
		return false;
	}
	major = mit.acquire_cred_from(&minor, name, GSS_C_INDEFINITE, *mit.mech_set_krb5, GSS_C_ACCEPT, &store,
				      cred, NULL, NULL);
	mit.release_name(&ignored, &name);
	if (major != GSS_S_COMPLETE) {
		char what[CONFIG_LINE_MAX + 64];

		snprintf(what, sizeof what, "getting the service key for pop from %s", keytab);
		log_gss_failure(priority, what, major, minor);
		if (*cred != GSS_C_NO_CREDENTIAL)
			mit.release_cred(&ignored, cred);
		return false;
	}
	return true;
}

bool gssapi_available(const char *keytab)
{
	gss_cred_id_t cred;
	struct stat st;
	OM_uint32 minor;

	/* No keytab is the usual case of a site without Kerberos: not
	 * worth a line in every session's log. */
	if (stat(keytab, &st) != 0) {
		if (errno != ENOENT)
			log_msg(LOG_DEBUG, "GSSAPI not offered: keytab %s: %s", keytab, strerror(errno));
		return false;
	}
	/* The credentials only name the keytab; released at once, they keep
	 * no key in memory. */
	if (!acquire_acceptor(keytab, &cred, LOG_DEBUG))
		return false;
	mit.release_cred(&minor, &cred);
	return true;
}

void gssapi_init(struct gssapi_exchange *x, const char *keytab, const char *realm)
{
	x->keytab = keytab;
	x->realm = realm;
	x->state = GSSAPI_IDLE;
	x->steps = 0;
	x->cred = GSS_C_NO_CREDENTIAL;
	x->ctx = GSS_C_NO_CONTEXT;
	x->user[0] = '\0';
}

bool gssapi_ready(struct gssapi_exchange *x)
{
	gssapi_reset(x);
	if (!acquire_acceptor(x->keytab, &x->cred, LOG_NOTICE))
		return false;
	x->state = GSSAPI_ACCEPTING;
	return true;
}

/* Frees the context and the credentials and makes x idle, keeping x->user (the result of a
 * DONE). */
static void release_exchange(struct gssapi_exchange *x)
{
	OM_uint32 minor;

	if (x->ctx != GSS_C_NO_CONTEXT)
		mit.delete_sec_context(&minor, &x->ctx, GSS_C_NO_BUFFER);
	if (x->cred != GSS_C_NO_CREDENTIAL)
		mit.release_cred(&minor, &x->cred);
	x->ctx = GSS_C_NO_CONTEXT;
	x->cred = GSS_C_NO_CREDENTIAL;
	x->state = GSSAPI_IDLE;
	x->steps = 0;
}

void gssapi_reset(struct gssapi_exchange *x)
{
	release_exchange(x);
	x->user[0] = '\0';
}

/* Moves a GSS output token into out (releasing it); false (logged) when it does not fit. */
static bool emit_token(gss_buffer_t token, unsigned char *out, size_t out_size, size_t *out_len)
{
	bool fits = token->length <= out_size;

	if (fits) {
		if (token->length > 0)
			memcpy(out, token->value, token->length);
		*out_len = token->length;
	} else {
		log_msg(LOG_NOTICE, "GSSAPI: our token of %zu octets exceeds the %zu the challenge may hold",
			token->length, out_size);
	}
	free_buffer(token);
	return fits;
}

/* Logs a failed libkrb5 call (what) with its error message. */
static void log_krb5_failure(krb5_context kc, const char *what, krb5_error_code code)
{
	const char *msg = mit.get_error_message(kc, code);

	log_msg(LOG_NOTICE, "GSSAPI: %s: %s", what, msg);
	mit.free_error_message(kc, msg);
}

/* Gets a libkrb5 context (krb5.conf read); false (logged) when there is none. */
static bool krb5_context_open(krb5_context *kc)
{
	krb5_error_code code = mit.init_context(kc);

	if (code != 0)
		log_msg(LOG_NOTICE, "GSSAPI: cannot read the Kerberos configuration (error %ld)", (long)code);
	return code == 0;
}

bool gssapi_default_realm(char *realm, size_t size)
{
	krb5_context kc;
	krb5_error_code code;
	char *dflt;

	if (!mit_load() || !krb5_context_open(&kc))
		return false;
	code = mit.get_default_realm(kc, &dflt);
	if (code != 0) {
		log_krb5_failure(kc, "no default realm", code);
	} else {
		snprintf(realm, size, "%s", dflt);
		mit.free_default_realm(kc, dflt);
	}
	mit.free_context(kc);
	return code == 0;
}

/* The realm whose principals are users: x->realm, or libkrb5's default realm; false (logged)
 * when that cannot be had. */
static bool user_realm(const struct gssapi_exchange *x, char *realm, size_t size)
{
	if (x->realm[0] == '\0')
		return gssapi_default_realm(realm, size);
	snprintf(realm, size, "%s", x->realm);
	return true;
}

/* Why the displayed principal (user@REALM) maps to no user of realm, or NULL when it maps: then
 * its user part is copied to user.  A '\' (an escaped '@' or '/'), a second '@' or a '/' (an
 * instance) never map. */
static const char *principal_problem(const char *principal, size_t len, const char *realm,
				     char user[USER_NAME_MAX + 1])
{
	const char *at = memchr(principal, '@', len);
	size_t user_len;

	if (at == NULL || memchr(principal, '\\', len) != NULL ||
	    memchr(at + 1, '@', len - (size_t)(at - principal) - 1) != NULL)
		return "is not of the form user@REALM";
	user_len = (size_t)(at - principal);
	if (len - user_len - 1 != strlen(realm) || memcmp(at + 1, realm, strlen(realm)) != 0)
		return "is not in the realm";
	if (memchr(principal, '/', user_len) != NULL)
		return "has an instance";
	if (!user_name_ok(principal, user_len))
		return "has a user name we do not accept";
	memcpy(user, principal, user_len);
	user[user_len] = '\0';
	return NULL;
}

/* Maps the client principal of the completed context to x->user; false (logged) when it is not
 * user@realm with a user name we accept. */
static bool map_client(struct gssapi_exchange *x, gss_name_t client)
{
	gss_buffer_desc shown = GSS_C_EMPTY_BUFFER;
	char realm[CONFIG_LINE_MAX];
	OM_uint32 major, minor;
	const char *problem;

	major = mit.display_name(&minor, client, &shown, NULL);
	if (major != GSS_S_COMPLETE) {
		log_gss_failure(LOG_NOTICE, "showing the client principal", major, minor);
		return false;
	}
	if (!user_realm(x, realm, sizeof realm)) {
		free_buffer(&shown);
		return false;
	}
	problem = principal_problem(shown.value, shown.length, realm, x->user);
	if (problem != NULL)
		log_msg(LOG_NOTICE, "GSSAPI: principal %.*s %s (users are user@%s)", (int)shown.length,
			(const char *)shown.value, problem, realm);
	free_buffer(&shown);
	return problem == NULL;
}

/* Sends the security layer offer: no layer, no maximum message size, integrity-protected by the
 * context (RFC 4752 section 3.1). */
static enum gssapi_step offer_layer(struct gssapi_exchange *x, unsigned char *out, size_t out_size, size_t *out_len)
{
	unsigned char offer[LAYER_MESSAGE_SIZE] = { LAYER_NONE, 0, 0, 0 };
	gss_buffer_desc plain = { sizeof offer, offer };
	gss_buffer_desc wrapped = GSS_C_EMPTY_BUFFER;
	OM_uint32 major, minor;

	major = mit.wrap(&minor, x->ctx, 0, GSS_C_QOP_DEFAULT, &plain, NULL, &wrapped);
	if (major != GSS_S_COMPLETE) {
		log_gss_failure(LOG_NOTICE, "wrapping the security layer offer", major, minor);
		return GSSAPI_FAILED;
	}
	if (!emit_token(&wrapped, out, out_size, out_len))
		return GSSAPI_FAILED;
	x->state = GSSAPI_LAYER_OFFERED;
	return GSSAPI_CONTINUE;
}

/* Takes one context token; once the context is complete and its client mapped to a user, sends
 * our last token (the AP-REP of mutual authentication) if there is one, else the layer offer. */
static enum gssapi_step accept_token(struct gssapi_exchange *x, gss_buffer_t in, unsigned char *out, size_t out_size,
				     size_t *out_len)
{
	gss_buffer_desc token = GSS_C_EMPTY_BUFFER;
	gss_name_t client = GSS_C_NO_NAME;
	OM_uint32 major, minor, ignored;
	bool mapped;

	/* No delegated credentials handle: MIT drops any the client sends. */
	major = mit.accept_sec_context(&minor, &x->ctx, x->cred, in, GSS_C_NO_CHANNEL_BINDINGS, &client, NULL,
				       &token, NULL, NULL, NULL);
	/* Any supplementary bit (a replayed, old or out-of-sequence token) fails too. */
	if (major != GSS_S_COMPLETE && major != GSS_S_CONTINUE_NEEDED) {
		log_gss_failure(LOG_NOTICE, "accepting the context", major, minor);
		free_buffer(&token);
		mit.release_name(&ignored, &client);
		return GSSAPI_FAILED;
	}
	if (major == GSS_S_CONTINUE_NEEDED) {
		mit.release_name(&ignored, &client);
		return emit_token(&token, out, out_size, out_len) ? GSSAPI_CONTINUE : GSSAPI_FAILED;
	}
	mapped = map_client(x, client);
	mit.release_name(&ignored, &client);
	if (!mapped) {
		free_buffer(&token);
		return GSSAPI_FAILED;
	}
	if (token.length == 0) {
		free_buffer(&token);
		return offer_layer(x, out, out_size, out_len);
	}
	if (!emit_token(&token, out, out_size, out_len))
		return GSSAPI_FAILED;
	x->state = GSSAPI_FINAL_TOKEN_SENT;
	return GSSAPI_CONTINUE;
}

/* Tells whether an authorization identity of len octets names the mapped user: empty, the user,
 * or the principal user@realm (Thunderbird sends the account's user name, which may be the
 * latter). */
static bool authzid_ok(const struct gssapi_exchange *x, const char *authzid, size_t len)
{
	char realm[CONFIG_LINE_MAX];
	size_t user_len = strlen(x->user);

	if (len == 0 || (len == user_len && memcmp(authzid, x->user, len) == 0))
		return true;
	return len > user_len && memcmp(authzid, x->user, user_len) == 0 && authzid[user_len] == '@' &&
	       user_realm(x, realm, sizeof realm) && len - user_len - 1 == strlen(realm) &&
	       memcmp(authzid + user_len + 1, realm, len - user_len - 1) == 0;
}

/* Checks the client's wrapped choice: exactly "no security layer", any maximum size, and an
 * authorization identity authzid_ok() accepts. */
static enum gssapi_step check_choice(struct gssapi_exchange *x, gss_buffer_t in)
{
	gss_buffer_desc plain = GSS_C_EMPTY_BUFFER;
	OM_uint32 major, minor;
	const unsigned char *choice;
	size_t authz_len;
	bool ok;

	major = mit.unwrap(&minor, x->ctx, in, &plain, NULL, NULL);
	if (major != GSS_S_COMPLETE) {
		log_gss_failure(LOG_NOTICE, "unwrapping the security layer choice", major, minor);
		free_buffer(&plain);
		return GSSAPI_FAILED;
	}
	choice = plain.value;
	authz_len = plain.length >= LAYER_MESSAGE_SIZE ? plain.length - LAYER_MESSAGE_SIZE : 0;
	if (plain.length < LAYER_MESSAGE_SIZE || choice[0] != LAYER_NONE) {
		log_msg(LOG_NOTICE, "GSSAPI: %s chose a security layer other than none", x->user);
		ok = false;
	} else {
		ok = authzid_ok(x, (const char *)choice + LAYER_MESSAGE_SIZE, authz_len);
		if (!ok)
			log_msg(LOG_NOTICE, "GSSAPI: %s asked to act as another user", x->user);
	}
	free_buffer(&plain);
	return ok ? GSSAPI_DONE : GSSAPI_FAILED;
}

/* Takes the client's answer to our last context token, which must be empty, and offers the
 * layer. */
static enum gssapi_step take_empty_response(struct gssapi_exchange *x, size_t in_len, unsigned char *out,
					    size_t out_size, size_t *out_len)
{
	if (in_len != 0) {
		log_msg(LOG_NOTICE, "GSSAPI: %s sent %zu octets where an empty response was due", x->user, in_len);
		return GSSAPI_FAILED;
	}
	return offer_layer(x, out, out_size, out_len);
}

/* Runs one step in the exchange's state, starting it (with credentials) when idle. */
static enum gssapi_step run_step(struct gssapi_exchange *x, const unsigned char *in, size_t in_len, unsigned char *out,
				 size_t out_size, size_t *out_len)
{
	/* GSS takes input buffers as non-const; none of these calls writes them. */
	gss_buffer_desc token = { in_len, (void *)(uintptr_t)in };

	switch (x->state) {
	case GSSAPI_IDLE:
		if (!acquire_acceptor(x->keytab, &x->cred, LOG_NOTICE))
			return GSSAPI_FAILED;
		x->state = GSSAPI_ACCEPTING;
		return accept_token(x, &token, out, out_size, out_len);
	case GSSAPI_ACCEPTING:
		return accept_token(x, &token, out, out_size, out_len);
	case GSSAPI_FINAL_TOKEN_SENT:
		return take_empty_response(x, in_len, out, out_size, out_len);
	case GSSAPI_LAYER_OFFERED:
		return check_choice(x, &token);
	}
	return GSSAPI_FAILED;
}

enum gssapi_step gssapi_step(struct gssapi_exchange *x, const unsigned char *in, size_t in_len, unsigned char *out,
			     size_t out_size, size_t *out_len)
{
	enum gssapi_step result;

	*out_len = 0;
	if (x->state == GSSAPI_IDLE)
		gssapi_reset(x);
	if (in_len > (size_t)GSSAPI_TOKEN_MAX) {
		log_msg(LOG_NOTICE, "GSSAPI: a response of %zu octets exceeds %d", in_len, GSSAPI_TOKEN_MAX);
		result = GSSAPI_FAILED;
	} else if (x->steps >= GSSAPI_STEPS_MAX) {
		log_msg(LOG_NOTICE, "GSSAPI: more than %d responses", GSSAPI_STEPS_MAX);
		result = GSSAPI_FAILED;
	} else {
		x->steps++;
		result = run_step(x, in, in_len, out, out_size, out_len);
	}
	if (result == GSSAPI_FAILED) {
		gssapi_reset(x);
		*out_len = 0;
	} else if (result == GSSAPI_DONE) {
		release_exchange(x);
	}
	return result;
}

/* --- Service keys, for an acceptor in another process ---------------- */

/* Tells whether a principal is a host's "pop" service: pop/<host>@REALM. */
static bool is_pop_service(krb5_const_principal p)
{
	return p->length == 2 && p->data[0].length == 3 && memcmp(p->data[0].data, "pop", 3) == 0;
}

/* Copies a keytab entry into key; false (logged) when a field exceeds its room. */
static bool key_copy(krb5_context kc, const krb5_keytab_entry *e, struct gssapi_key *key)
{
	char *name = NULL;
	krb5_error_code code = mit.unparse_name(kc, e->principal, &name);
	bool fits = code == 0 && strlen(name) < sizeof key->principal && e->key.length <= sizeof key->contents;

	if (code != 0)
		log_krb5_failure(kc, "naming a keytab entry", code);
	else if (!fits)
		log_msg(LOG_NOTICE, "GSSAPI: the keytab entry of %s is larger than we keep", name);
	if (fits) {
		memset(key, 0, sizeof *key);
		snprintf(key->principal, sizeof key->principal, "%s", name);
		key->kvno = e->vno;
		key->enctype = e->key.enctype;
		key->len = e->key.length;
		memcpy(key->contents, e->key.contents, e->key.length);
	}
	if (name != NULL)
		mit.free_unparsed_name(kc, name);
	return fits;
}

/* Reads the entries of pop/ principals from the open keytab kt into keys; false (logged) on a
 * read error or more than max of them. */
static bool read_pop_keys(krb5_context kc, krb5_keytab kt, struct gssapi_key *keys, size_t max, size_t *count)
{
	krb5_kt_cursor cursor;
	krb5_keytab_entry e;
	krb5_error_code code = mit.kt_start_seq_get(kc, kt, &cursor);
	bool ok = true;

	if (code != 0) {
		log_krb5_failure(kc, "reading the keytab", code);
		return false;
	}
	while (ok && (code = mit.kt_next_entry(kc, kt, &e, &cursor)) == 0) {
		if (is_pop_service(e.principal)) {
			if (*count >= max)
				log_msg(LOG_NOTICE, "GSSAPI: the keytab holds more than %zu pop/ keys", max);
			ok = *count < max && key_copy(kc, &e, &keys[*count]);
			*count += ok;
		}
		mit.free_keytab_entry_contents(kc, &e);
	}
	mit.kt_end_seq_get(kc, kt, &cursor);
	if (code != 0 && code != KRB5_KT_END) {
		log_krb5_failure(kc, "reading the keytab", code);
		return false;
	}
	return ok;
}

bool gssapi_service_keys(const char *keytab, struct gssapi_key *keys, size_t max, size_t *count)
{
	krb5_context kc;
	krb5_keytab kt;
	krb5_error_code code;
	bool ok = false;

	*count = 0;
	if (!mit_load() || !krb5_context_open(&kc))
		return false;
	code = mit.kt_resolve(kc, keytab, &kt);
	if (code != 0) {
		log_krb5_failure(kc, "opening the keytab", code);
	} else {
		ok = read_pop_keys(kc, kt, keys, max, count);
		mit.kt_close(kc, kt);
	}
	mit.free_context(kc);
	if (ok && *count == 0)
		log_msg(LOG_NOTICE, "GSSAPI: the keytab %s holds no pop/ key", keytab);
	return ok && *count > 0;
}

/* Adds one key to the keytab kt; false (logged) when libkrb5 refuses it. */
static bool key_add(krb5_context kc, krb5_keytab kt, const struct gssapi_key *key)
{
	krb5_keytab_entry e;
	krb5_error_code code;

	memset(&e, 0, sizeof e);
	code = mit.parse_name(kc, key->principal, &e.principal);
	if (code == 0) {
		e.vno = key->kvno;
		e.key.enctype = key->enctype;
		e.key.length = key->len;
		/* libkrb5 copies the key; it does not write ours. */
		e.key.contents = (krb5_octet *)(uintptr_t)key->contents;
		code = mit.kt_add_entry(kc, kt, &e);
		mit.free_principal(kc, e.principal);
	}
	if (code != 0)
		log_krb5_failure(kc, "adding a key to the memory keytab", code);
	return code == 0;
}

bool gssapi_memory_keytab(const char *name, const struct gssapi_key *keys, size_t count)
{
	/* Kept open for the life of the process: a MEMORY: keytab lives
	 * while a handle on it does. */
	static krb5_context kc;
	static krb5_keytab kt;
	krb5_error_code code;
	bool ok = true;

	if (strncmp(name, "MEMORY:", 7) != 0 || !mit_load() || !krb5_context_open(&kc))
		return false;
	code = mit.kt_resolve(kc, name, &kt);
	if (code != 0) {
		log_krb5_failure(kc, "making the memory keytab", code);
		return false;
	}
	for (size_t i = 0; ok && i < count; i++)
		ok = key_add(kc, kt, &keys[i]);
	return ok;
}
