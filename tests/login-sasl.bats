#!/usr/bin/env bats
# Logging in with SASL PLAIN (AUTH, RFC 5034 and RFC 4616): an initial
# response and a "+ " continuation, "=" and "*", every malformed response,
# the authorization identity, AUTH alone, responses at the line limit, the
# failure counter shared with USER/PASS, CAPA, plaintext_auth=no, and what
# the log may hold.  The client's address and plaintext_auth=secure:
# client-address.bats.

load lib/helpers

GREETING='+OK POP3 server ready'
CLOSING='-ERR [AUTH] Authentication failed; too many failures, closing connection'
BAD_B64='-ERR Invalid base64 in the SASL response'
MALFORMED='-ERR Malformed SASL PLAIN response'
BAD_AUTHCID='-ERR Invalid authentication identity'
BAD_AUTHZID='-ERR [AUTH] Authorization identity must be empty or the user name'
CANCELLED='-ERR Authentication cancelled'
UNSUPPORTED='-ERR Unsupported authentication mechanism'
TOO_LONG='-ERR Command line too long'

setup() {
	setup_alice
}

# add_long_user NAME PASSWORD: as add_user, with a hash from pop3-handler -H
# (openssl passwd, which add_user uses, cuts passwords at 256 octets).
add_long_user() {
	local home="$T/home/$1" hash
	hash=$(printf '%s\n' "$2" | "$HANDLER" -H)
	printf '%s:%s:%s:%s:Test user:%s:/bin/sh\n' "$1" "$hash" "$TEST_UID" "$TEST_GID" "$home" >>"$T/passwd"
	mkdir -p "$home/Maildir/cur" "$home/Maildir/new" "$home/Maildir/tmp"
	chown -R "$TEST_UID:$TEST_GID" "$home"
}

# repeat CHAR N: CHAR N times.
repeat() {
	local s
	printf -v s '%*s' "$2" ''
	printf '%s' "${s// /$1}"
}

@test "plain_b64 makes the PLAIN message these tests rely on" {
	[ "$(plain_b64 '' alice secret)" = "$ALICE" ]
	[ "$(plain_b64 '' alice secret | base64 -d | od -An -c | tr -s ' ')" = ' \0 a l i c e \0 s e c r e t' ]
}

# --- AUTH PLAIN ---------------------------------------------------------------

@test "AUTH PLAIN with an initial response logs in; login and logout are logged with the mechanism and client" {
	session -- "AUTH PLAIN $ALICE" "STAT" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 0 "$GREETING" "$LOGGED_IN" "+OK 1 22" "+OK Bye, 0 messages deleted"
	expect_raw_crlf
	expect_log "info: login user=alice mechanism=PLAIN client=local messages=1 octets=22"
	expect_log "info: logout user=alice retrieved=0 octets=0 deleted=0 octets=0 expired=0 failed=0"
}

@test "AUTH PLAIN with a continuation: the server sends exactly \"+ \" CRLF and waits for the response" {
	live_start
	live_expect "$GREETING"
	live_send "AUTH PLAIN"
	live_expect "+ "
	live_send "$ALICE"
	live_expect "$LOGGED_IN"
	live_send "DELE 1" "QUIT"
	live_expect "+OK Message 1 deleted" "+OK Bye, 1 message deleted"
	live_end
	[ "$status" -eq 0 ]
	expect_log "info: login user=alice mechanism=PLAIN client=local messages=1 octets=22"
	expect_log "info: logout user=alice retrieved=0 octets=0 deleted=1 octets=22 expired=0 failed=0"
	# and the bytes on the wire: "+", one space, CRLF
	session -- "AUTH PLAIN" "$ALICE" "QUIT"
	# (the message is gone: the live session deleted it)
	printf '%s\r\n+ \r\n%s\r\n' "$GREETING" "+OK Logged in, 0 messages (0 octets)" >"$T/want"
	cmp -n "$(stat -c %s "$T/want")" "$T/want" "$T/raw"
}

@test "AUTH PLAIN: \"=\" is an empty initial response and answers -ERR; an empty continuation line or \"=\" too" {
	session -- "AUTH PLAIN =" "AUTH PLAIN" "" "AUTH PLAIN" "=" "STAT" "QUIT"
	# "=" is RFC 5034's empty initial response; as a continuation line
	# it is no base64 either, and a client may send it for an empty response
	expect_lines 1 "$MALFORMED" "+ " "$MALFORMED" "+ " "$MALFORMED" "$NOT_NOW" "+OK Bye"
	refute_log "login user="
}

@test "AUTH PLAIN: \"*\" cancels with -ERR and the session goes on" {
	session -- "AUTH PLAIN" "*" "STAT" "AUTH PLAIN" "$ALICE" "STAT" "QUIT"
	expect_lines 1 "+ " "$CANCELLED" "$NOT_NOW" "+ " "$LOGGED_IN" "+OK 1 22" "+OK Bye, 0 messages deleted"
}

@test "AUTH PLAIN: invalid base64, a missing NUL, an empty or over-long authcid answer -ERR, as initial response and as continuation" {
	local n64 n65
	n64=$(repeat a 64)
	n65=${n64}a
	add_user "$n64" pw64
	# response -> reply; each is tried as initial response and as continuation
	local -a cases=(
		"AGFsaWNlAHNlY3JldA=" "$BAD_B64"		# length not a multiple of 4
		"AGFsaWNlAHNlY3JldA" "$BAD_B64"			# padding missing
		"AGFsaWNlAHNlY3JldB==" "$BAD_B64"		# non-canonical trailing bits
		"AGFsaWNl=HNlY3JldA==" "$BAD_B64"		# misplaced padding
		"AGFsaWNlAHNlY3J!dA==" "$BAD_B64"		# not in the alphabet
		"AGFsaWNlAHNlY3JldA==AA==" "$BAD_B64"		# data after the padding
		"$(printf 'alicesecret' | base64 -w0)" "$MALFORMED"	# no NUL
		"$(printf 'alice\0secret' | base64 -w0)" "$MALFORMED"	# one NUL
		"$(printf '\0alice\0sec\0ret' | base64 -w0)" "$MALFORMED"	# three NULs
		"$(plain_b64 '' '' secret)" "$BAD_AUTHCID"	# empty authcid
		"$(plain_b64 '' "$n65" secret)" "$BAD_AUTHCID"	# 65 octets
		"$(plain_b64 "$n65" "$n65" secret)" "$BAD_AUTHCID"	# 65 octets, authzid equal
	)
	local i
	for ((i = 0; i < ${#cases[@]}; i += 2)); do
		session -- "AUTH PLAIN ${cases[i]}" "AUTH PLAIN" "${cases[i]}" "STAT" "QUIT"
		echo "response ${cases[i]}"
		expect_lines 1 "${cases[i + 1]}" "+ " "${cases[i + 1]}" "$NOT_NOW" "+OK Bye"
		refute_log "login user="
	done
	# a response with a blank inside: three arguments, or no base64 as continuation
	session -- "AUTH PLAIN AGFsaWNl AHNlY3JldA==" "AUTH PLAIN" "AGFsaWNl AHNlY3JldA==" "QUIT"
	expect_lines 1 "-ERR Wrong number of arguments for AUTH" "+ " "$BAD_B64" "+OK Bye"
	# the 64-octet authcid is fine
	session -- "AUTH PLAIN $(plain_b64 '' "$n64" pw64)" "QUIT"
	expect_lines 1 "+OK Logged in, 0 messages (0 octets)" "+OK Bye, 0 messages deleted"
}

@test "AUTH PLAIN: an authzid other than the authcid is refused with -ERR [AUTH], even with the right password; an equal one logs in" {
	session -- "AUTH PLAIN $(plain_b64 bob alice secret)" "AUTH PLAIN $(plain_b64 Alice alice secret)" \
		"AUTH PLAIN" "$(plain_b64 alice2 alice secret)" "STAT" \
		"AUTH PLAIN $(plain_b64 alice alice secret)" "STAT" "QUIT"
	expect_lines 1 "$BAD_AUTHZID" "$BAD_AUTHZID" "+ " "$BAD_AUTHZID" "$NOT_NOW" \
		"$LOGGED_IN" "+OK 1 22" "+OK Bye, 0 messages deleted"
	expect_log "info: login user=alice mechanism=PLAIN client=local messages=1 octets=22"
	# the same with the continuation
	session -- "AUTH PLAIN" "$(plain_b64 alice alice secret)" "QUIT"
	expect_lines 1 "+ " "$LOGGED_IN" "+OK Bye, 0 messages deleted"
}

@test "AUTH PLAIN: a wrong password, an unknown user and an invalid name give the one -ERR [AUTH] text" {
	session -o max_auth_failures=10 -- "AUTH PLAIN $(plain_b64 '' alice wrong)" \
		"AUTH PLAIN $(plain_b64 '' nobody secret)" "AUTH PLAIN $(plain_b64 '' a/b secret)" \
		"AUTH PLAIN $(plain_b64 '' .hidden secret)" "AUTH PLAIN $(plain_b64 '' 'ali ce' secret)" \
		"AUTH PLAIN $(plain_b64 '' $'ali\nce' secret)" "AUTH PLAIN $(plain_b64 '' alice '')" "STAT" "QUIT"
	expect_lines 1 "$FAILED" "$FAILED" "$FAILED" "$FAILED" "$FAILED" "$FAILED" "$FAILED" "$NOT_NOW" "+OK Bye"
	expect_log "notice: failed login user=alice mechanism=PLAIN client=local"
	expect_log "notice: failed login: unknown user, mechanism=PLAIN client=local"
	# names we never accept are logged as unknown, never copied into the log
	[ "$(grep -c ': notice: failed login user=alice mechanism=PLAIN client=local$' "$T/log")" -eq 2 ]
	[ "$(grep -c ': notice: failed login: unknown user, mechanism=PLAIN client=local$' "$T/log")" -eq 5 ]
	[ "$(grep -c '' "$T/log")" -eq 7 ]
}

@test "a wrong password via PASS and via AUTH count in one failure counter (max_auth_failures=3)" {
	# one PASS failure, then two AUTH failures: the third closes
	session -o max_auth_failures=3 -- "USER alice" "PASS wrong" "AUTH PLAIN $(plain_b64 '' alice wrong)" \
		"AUTH PLAIN" "$(plain_b64 '' nobody secret)" "USER alice" "PASS secret" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 0 "$GREETING" "+OK Send your password" "$FAILED" "$FAILED" "+ " "$CLOSING"
	expect_log "notice: failed login user=alice mechanism=USER client=local"
	expect_log "notice: failed login user=alice mechanism=PLAIN client=local"
	expect_log "notice: failed login: unknown user, mechanism=PLAIN client=local"
	refute_log "login user=alice mechanism=PLAIN client=local messages" "login user=alice mechanism=USER client=local messages"
	# two AUTH failures, then a PASS failure
	session -o max_auth_failures=3 -- "AUTH PLAIN $(plain_b64 '' alice wrong)" "AUTH PLAIN $(plain_b64 '' alice wrong2)" \
		"USER alice" "PASS wrong3" "AUTH PLAIN $ALICE" "QUIT"
	expect_lines 0 "$GREETING" "$FAILED" "$FAILED" "+OK Send your password" "$CLOSING"
	# below the limit, AUTH still logs in after failures of both kinds
	session -o max_auth_failures=3 -- "USER alice" "PASS wrong" "AUTH PLAIN $(plain_b64 '' alice wrong)" \
		"AUTH PLAIN $ALICE" "QUIT"
	expect_lines 1 "+OK Send your password" "$FAILED" "$FAILED" "$LOGGED_IN" "+OK Bye, 0 messages deleted"
}

@test "AUTH after USER forgets the USER: a PASS after a failed AUTH is not taken" {
	add_user bob bobpw
	session -o max_auth_failures=10 -- "USER alice" "AUTH PLAIN $(plain_b64 '' bob wrong)" "PASS secret" \
		"PASS bobpw" "STAT" "QUIT"
	expect_lines 1 "+OK Send your password" "$FAILED" "-ERR Send USER first" "-ERR Send USER first" "$NOT_NOW" "+OK Bye"
	refute_log "info: login user="
}

@test "AUTH alone lists PLAIN then \".\"; an unknown mechanism answers -ERR" {
	session -- "AUTH" "AUTH LOGIN" "AUTH CRAM-MD5" "AUTH GSSAPI" "AUTH NTLM" "AUTH XOAUTH2 dXNlcg==" \
		"AUTH PLAINX $ALICE" "AUTH PLAI" "AUTH PLAIN $ALICE extra" "STAT" "QUIT"
	expect_lines 1 "+OK Supported mechanisms follow" "PLAIN" "." "$UNSUPPORTED" "$UNSUPPORTED" "$UNSUPPORTED" \
		"$UNSUPPORTED" "$UNSUPPORTED" "$UNSUPPORTED" "$UNSUPPORTED" "-ERR Wrong number of arguments for AUTH" \
		"$NOT_NOW" "+OK Bye"
	expect_raw_crlf
}

@test "an initial response making the line exactly max_command_length octets is accepted; one octet more is too long" {
	# "AUTH PLAIN" + 4 blanks + 496 base64 digits + CRLF = 512 octets; the
	# 496 digits carry "\0long\0" and a 366-octet password.
	local pw b64 line
	pw=$(repeat p 366)
	add_long_user long "$pw"
	b64=$(plain_b64 '' long "$pw")
	[ ${#b64} -eq 496 ]
	line="AUTH PLAIN    $b64"
	[ $((${#line} + 2)) -eq 512 ]
	session -- "$line" "QUIT"
	expect_lines 1 "+OK Logged in, 0 messages (0 octets)" "+OK Bye, 0 messages deleted"
	# 513 octets: refused whole; the session goes on with the next line
	session -- "AUTH PLAIN     $b64" "STAT" "QUIT"
	expect_lines 1 "$TOO_LONG" "$NOT_NOW" "+OK Bye"
	# a continuation line over the limit ends the exchange: the next line is a command again
	session -- "AUTH PLAIN" "$b64$(repeat A 16)" "QUIT"
	expect_lines 1 "+ " "$TOO_LONG" "+OK Bye"
	# and one within it is taken
	session -- "AUTH PLAIN" "$b64" "QUIT"
	expect_lines 1 "+ " "+OK Logged in, 0 messages (0 octets)" "+OK Bye, 0 messages deleted"
}

@test "max_command_length=1024: an initial response making a 1024-octet line is taken and checked, 1025 is too long" {
	# "AUTH PLAIN" + 4 blanks + 1008 digits + CRLF = 1024; 756 octets decoded:
	# "\0long\0" and a 750-octet password.  libxcrypt takes passphrases of
	# at most 511 octets, so no account can have that password: the line
	# shows it was taken whole when it gets the failure for user "long".
	local pw b64
	pw=$(repeat q 750)
	add_user long secret
	b64=$(plain_b64 '' long "$pw")
	[ ${#b64} -eq 1008 ]
	session -o max_command_length=1024 -- "AUTH PLAIN    $b64" "QUIT"
	expect_lines 1 "$FAILED" "+OK Bye"
	expect_log "notice: failed login user=long mechanism=PLAIN client=local"
	session -o max_command_length=1024 -- "AUTH PLAIN     $b64" "QUIT"
	expect_lines 1 "$TOO_LONG" "+OK Bye"
	[ ! -s "$T/log" ]
	# the longest password libxcrypt takes, 511 octets, logs in
	pw=$(repeat r 511)
	add_long_user longest "$pw"
	session -o max_command_length=1024 -- "AUTH PLAIN $(plain_b64 longest longest "$pw")" "QUIT"
	expect_lines 1 "+OK Logged in, 0 messages (0 octets)" "+OK Bye, 0 messages deleted"
}

@test "CAPA before login lists SASL PLAIN; after login it lacks SASL and USER, and AUTH is not valid" {
	session -- "CAPA" "AUTH PLAIN $ALICE" "CAPA" "AUTH" "AUTH PLAIN $ALICE" "USER alice" "QUIT"
	expect_lines 1 "+OK Capability list follows" "TOP" "UIDL" "RESP-CODES" "AUTH-RESP-CODE" "PIPELINING" \
		"IMPLEMENTATION pop3-handler" "EXPIRE NEVER" "USER" "SASL PLAIN" "." \
		"$LOGGED_IN" \
		"+OK Capability list follows" "TOP" "UIDL" "RESP-CODES" "AUTH-RESP-CODE" "PIPELINING" \
		"IMPLEMENTATION pop3-handler" "EXPIRE NEVER" "." \
		"$NOT_NOW" "$NOT_NOW" "$NOT_NOW" "+OK Bye, 0 messages deleted"
}

@test "plaintext_auth=no: AUTH PLAIN answers -ERR [AUTH] about TLS, alike for every name, with or without a response; neither CAPA nor AUTH lists it" {
	session -o plaintext_auth=no -- "AUTH PLAIN $ALICE" "AUTH PLAIN $(plain_b64 '' alice wrong)" \
		"AUTH PLAIN $(plain_b64 '' nobody secret)" "AUTH PLAIN $(plain_b64 '' a/b x)" \
		"AUTH PLAIN $(plain_b64 bob alice secret)" "AUTH PLAIN" "AUTH PLAIN !!!!" "AUTH PLAIN =" \
		"AUTH" "STAT" "QUIT"
	expect_lines 1 "$NO_PLAINTEXT" "$NO_PLAINTEXT" "$NO_PLAINTEXT" "$NO_PLAINTEXT" "$NO_PLAINTEXT" \
		"$NO_PLAINTEXT" "$NO_PLAINTEXT" "$NO_PLAINTEXT" \
		"+OK Supported mechanisms follow" "." "$NOT_NOW" "+OK Bye"
	# nothing was checked: the refusal is logged once, no login and no failure
	expect_log "notice: failed login: not allowed on this connection, mechanism=PLAIN client=local"
	[ "$(grep -c "login" "$T/log")" -eq 1 ]
	# CAPA: neither USER nor SASL PLAIN, which this client may not use (as Dovecot)
	session -o plaintext_auth=no -- "CAPA" "QUIT"
	expect_lines 1 "+OK Capability list follows" "TOP" "UIDL" "RESP-CODES" "AUTH-RESP-CODE" "PIPELINING" \
		"IMPLEMENTATION pop3-handler" "EXPIRE NEVER" "." "+OK Bye"
}

@test "the log never holds a password, an AUTH argument or a continuation line" {
	add_user carol 'Good-Pw-7741'
	local -a sent=(
		"$(plain_b64 '' carol Bad-Pw-1111)"
		"$(plain_b64 '' nobody Other-Pw-2222)"
		"$(plain_b64 bob carol Zid-Pw-3333)"
		"$(plain_b64 '' '' Empty-Pw-4444)"
		"$(printf 'carol\0Nul-Pw-5555' | base64 -w0)"
		"Q2FyJ3MtUHctNjY2Ng=!"
		"$(plain_b64 '' carol Good-Pw-7741)"
	)
	session -o max_auth_failures=10 -- "AUTH PLAIN ${sent[0]}" "AUTH PLAIN" "${sent[1]}" \
		"AUTH PLAIN ${sent[2]}" "AUTH PLAIN" "${sent[3]}" "AUTH PLAIN ${sent[4]}" "AUTH PLAIN" "${sent[5]}" \
		"AUTH PLAIN" "${sent[6]}" "QUIT"
	expect_lines 1 "$FAILED" "+ " "$FAILED" "$BAD_AUTHZID" "+ " "$BAD_AUTHCID" "$MALFORMED" "+ " "$BAD_B64" \
		"+ " "+OK Logged in, 0 messages (0 octets)" "+OK Bye, 0 messages deleted"
	[ -s "$T/log" ]
	refute_log Bad-Pw Other-Pw Zid-Pw Empty-Pw Nul-Pw Good-Pw
	local s
	for s in "${sent[@]}"; do
		# the whole argument, and any 8 digits of it
		refute_log "$s" "${s:0:8}" "${s:8:8}" "${s:16:8}"
	done
	expect_log "notice: failed login user=carol mechanism=PLAIN client=local"
	expect_log "notice: failed login: unknown user, mechanism=PLAIN client=local"
	expect_log "info: login user=carol mechanism=PLAIN client=local messages=0 octets=0"
}
