/*
 * session.h - one POP3 session: its state by concern, the commands of a
 * state as a table, the replies handlers choose, and the engine that reads
 * lines, looks commands up, checks their arguments and writes every reply
 * (the greeting, the autologout and start-up errors included).
 */
#ifndef POP3_SESSION_H
#define POP3_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "io.h"
#include "login.h"
#include "maildir.h"
#include "params.h"
#include "parse.h"

enum state { STATE_AUTHORIZATION, STATE_TRANSACTION, STATES, STATE_END = STATES };

struct session;
struct reply;

/* What a reply is. */
enum reply_kind {
	REPLY_OK,		/* +OK and the text */
	REPLY_ERR,		/* -ERR, an optional [code], and the text */
	REPLY_BAD,		/* -ERR to a malformed or misplaced command: counted as bad */
	REPLY_CHALLENGE,	/* "+ " and the session's challenge buffer in base64 (SASL) */
	REPLY_NONE,		/* nothing: the session ends (handed over, or its decider is gone) */
};

/* Takes the line that answers a REPLY_CHALLENGE. */
typedef void answer_handler(struct session *s, struct line *line, struct reply *r);

/* Writes the body of a multi-line reply; false when it could not be finished. */
typedef bool body_writer(struct session *s);

/* The reply a handler chooses; the engine writes it. */
struct reply {
	enum reply_kind kind;
	bool close;			/* end the session after this reply */
	const char *code;		/* REPLY_ERR: RFC 2449/3206 response code, or NULL */
	char text[RESPONSE_MAX];
	body_writer *body;		/* REPLY_OK: the multi-line body, or NULL */
	size_t challenge_len;		/* REPLY_CHALLENGE: octets of s->challenge */
	answer_handler *answer;		/* REPLY_CHALLENGE: takes the next line */
	size_t answer_max;		/* REPLY_CHALLENGE: the longest line it takes, CRLF included */
};

/* A command with its message number (0-based) and line count resolved. */
struct request {
	const struct command *cmd;
	bool has_message;
	size_t message;
	uint64_t count;
};

typedef void command_handler(struct session *s, const struct request *q, struct reply *r);

/* One command of a state, with the arguments it takes; the engine checks them before the
 * handler runs.  A table ends with a row whose keyword is NULL. */
struct command_def {
	const char *keyword;
	unsigned min_args, max_args;	/* words after the keyword (ARGS_ANY: the handler judges) */
	unsigned flags;			/* COMMAND_* */
	command_handler *run;
};

/* max_args of a command that takes any number of words. */
#define ARGS_ANY (COMMAND_ARGS_MAX + 1)

/* The first argument, when given, is a live message's number. */
#define COMMAND_MESSAGE 1u
/* The second argument is TOP's line count. */
#define COMMAND_LINE_COUNT 2u
/* The line holds a password: wiped after use. */
#define COMMAND_SECRET 4u

/* Who the client is. */
struct client {
	int in_fd;			/* where its commands come from */
	char address[CLIENT_ADDRESS_MAX];	/* its address, or "local" */
};

/* AUTHORIZATION: the door logins are decided at, what this session allows, and the login
 * under way. */
struct login_state {
	struct login_door door;
	struct login_policy policy;
	unsigned exchanges;		/* login exchanges started */
	bool user_given;		/* USER was accepted and PASS may follow */
	bool refusal_logged;		/* a login the policy refused was logged */
	char user[USER_NAME_MAX + 1];	/* "" when the name given is not one we accept */
};

/* The SASL exchange under way (sasl.c). */
struct sasl_state {
	enum mechanism mechanism;	/* whose response the next line is */
	unsigned step;			/* which of its responses */
	uint32_t ntlm_flags;		/* chosen in our NTLM CHALLENGE */
	char host[DOMAIN_NAME_MAX + 1];	/* NTLM: this computer's NetBIOS name */
	char ntlm_domain[DOMAIN_NAME_MAX + 1];	/* NTLM: the domain, in capitals */
};

/* TRANSACTION: the snapshot and what the client did with it. */
struct mailbox {
	struct maildir md;
	bool open;			/* the snapshot was taken */
	bool finished;			/* QUIT finished the mailbox (UPDATE, flags) */
	size_t live_count;		/* messages not marked deleted */
	uint64_t live_octets;
	uint64_t total_octets;		/* of the whole snapshot */
	size_t retrieved;		/* RETR and TOP answered */
	uint64_t retrieved_octets;
	int message_fd;			/* the message RETR or TOP is about to send */
	size_t message;			/* its number, 0-based */
	bool top;			/* TOP, not RETR */
	uint64_t top_lines;
};

struct session {
	const struct config *cfg;
	const struct command_def *commands[STATES];	/* each state's table */
	enum state state;
	unsigned bad_commands;
	answer_handler *awaiting;	/* takes the next line instead of a command, or NULL */
	size_t awaiting_max;		/* the longest line it takes */
	struct client client;
	struct login_state login;
	struct sasl_state sasl;
	struct mailbox box;
	/* The buffers come last: session_init() clears what is before them
	 * and leaves their pages untouched until they are used. */
	unsigned char challenge[SASL_CHALLENGE_MAX];	/* the "+ " challenge being sent */
	struct line_reader in;
	struct output out;
};

/* Prepares a session on in_fd and out_fd in AUTHORIZATION with the two states' tables: the
 * client's address, the buffers and the signals; the login door and policy are the
 * caller's to set. */
void session_init(struct session *s, const struct config *cfg,
		  const struct command_def *const tables[STATES], int in_fd, int out_fd);

/* Greets the client, starting the timer of the AUTHORIZATION state. */
void session_greet(struct session *s);

/* Serves commands until the session ends, then writes out what is buffered. */
void session_serve(struct session *s);

/* Writes a reply and its body; counts bad commands (the BAD_COMMANDS_MAX-th closes the
 * session) and ends the session when the reply says so. */
void session_reply(struct session *s, struct reply *r);

/* Logs how a client left that did not wait for the end, wipes the input and returns the
 * exit status. */
int session_close(struct session *s);

/* The replies a handler chooses. */
void reply_ok(struct reply *r, const char *format, ...) __attribute__((format(printf, 2, 3)));
void reply_err(struct reply *r, const char *code, const char *format, ...)
	__attribute__((format(printf, 3, 4)));
/* A -ERR to a malformed or misplaced command, counted as bad. */
void reply_bad(struct reply *r, const char *format, ...) __attribute__((format(printf, 2, 3)));
/* "+ " and len octets of s->challenge; answer takes the next line, of at most max octets. */
void reply_challenge(struct reply *r, size_t len, answer_handler *answer, size_t max);
/* No reply, and the session ends. */
void reply_none(struct reply *r);

/* Writes the status line of a reply that is not a challenge to o; outside a session too
 * (a start-up error). */
void reply_write(struct output *o, const struct reply *r);

/* "s" unless n is 1, for replies that count things. */
const char *plural(size_t n);

#endif
