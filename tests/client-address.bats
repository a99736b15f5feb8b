#!/usr/bin/env bats
# The client's address decides whether a password may travel in the clear:
# with plaintext_auth=secure (the default), USER/PASS and AUTH PLAIN are
# allowed from loopback addresses only, or with tls=yes; the address is
# the one the launcher puts in the environment (REMOTE_ADDR, then
# REMOTE_HOST, then TCPREMOTEIP; a value that is no address is ignored),
# and logins and failures are logged with it.  The address of the socket
# itself: login-password.bats; a real launcher: clients-login.bats.

load lib/helpers

setup() {
	setup_alice
}

@test "plaintext_auth=secure with REMOTE_ADDR=203.0.113.7 (stdin a pipe): CAPA offers neither USER nor SASL PLAIN, and they answer -ERR [AUTH]" {
	REMOTE_ADDR=203.0.113.7 session -o plaintext_auth=secure -- "CAPA" "USER alice" "PASS secret" \
		"AUTH PLAIN $ALICE" "AUTH PLAIN" "AUTH PLAIN $(plain_b64 '' nobody x)" "AUTH" "STAT" "QUIT"
	expect_lines 1 "+OK Capability list follows" "TOP" "UIDL" "RESP-CODES" "AUTH-RESP-CODE" "PIPELINING" \
		"IMPLEMENTATION pop3-handler" "EXPIRE NEVER" "." \
		"$NO_PLAINTEXT" "$NO_PLAINTEXT" "$NO_PLAINTEXT" "$NO_PLAINTEXT" "$NO_PLAINTEXT" \
		"+OK Supported mechanisms follow" "." "$NOT_NOW" "+OK Bye"
	# logged once a session, with the address (what fail2ban's filter reads)
	expect_log "notice: failed login: not allowed on this connection, mechanism=USER client=203.0.113.7"
	[ "$(grep -c "login" "$T/log")" -eq 1 ]
	# the default is secure too
	REMOTE_ADDR=203.0.113.7 session -- "AUTH PLAIN $ALICE" "USER alice" "QUIT"
	expect_lines 1 "$NO_PLAINTEXT" "$NO_PLAINTEXT" "+OK Bye"
	expect_log "notice: failed login: not allowed on this connection, mechanism=PLAIN client=203.0.113.7"
	[ "$(grep -c "login" "$T/log")" -eq 1 ]
}

# policy EXPECTED CLIENT [NAME=VALUE]...: with plaintext_auth=secure and
# the NAME=VALUE pairs in the handler's environment (stdin a pipe), USER/PASS
# and AUTH PLAIN are both "allowed" (and the login is logged with client
# CLIENT) or both "refused".
policy() {
	local expected=$1 client=$2 kv
	shift 2
	echo "environment: $* -> $expected"
	for kv in "$@"; do export "${kv?}"; done
	session -o plaintext_auth=secure -- "USER alice" "PASS secret" "QUIT"
	local pass_out=("${lines[@]}") pass_log
	pass_log=$(cat "$T/log")
	session -o plaintext_auth=secure -- "AUTH PLAIN $ALICE" "QUIT"
	unset REMOTE_ADDR REMOTE_HOST TCPREMOTEIP
	if [ "$expected" = allowed ]; then
		expect_lines 1 "$LOGGED_IN" "+OK Bye, 0 messages deleted"
		expect_log "info: login user=alice mechanism=PLAIN client=$client messages=1 octets=22"
		lines=("${pass_out[@]}")
		expect_lines 1 "+OK Send your password" "$LOGGED_IN" "+OK Bye, 0 messages deleted"
		[[ $pass_log == *": info: login user=alice mechanism=USER client=$client messages=1 octets=22"* ]]
	else
		expect_lines 1 "$NO_PLAINTEXT" "+OK Bye"
		lines=("${pass_out[@]}")
		expect_lines 1 "$NO_PLAINTEXT" "$NO_PLAINTEXT" "+OK Bye"
	fi
}

@test "REMOTE_ADDR: loopback addresses (127/8, ::1, ::ffff:127.x) allow plaintext, others do not" {
	policy allowed local
	policy refused - REMOTE_ADDR=203.0.113.7
	policy refused - REMOTE_ADDR=10.1.2.3
	policy refused - REMOTE_ADDR=2001:db8::7
	policy refused - REMOTE_ADDR=::ffff:203.0.113.7
	policy allowed 127.0.0.1 REMOTE_ADDR=127.0.0.1
	policy allowed 127.45.6.7 REMOTE_ADDR=127.45.6.7
	policy allowed ::1 REMOTE_ADDR=::1
	policy allowed ::ffff:127.0.0.1 REMOTE_ADDR=::ffff:127.0.0.1
}

@test "REMOTE_HOST (stunnel, xinetd) and TCPREMOTEIP (ucspi-tcp) count alike" {
	policy refused - REMOTE_HOST=203.0.113.7
	policy allowed 127.0.0.1 REMOTE_HOST=127.0.0.1
	policy refused - TCPREMOTEIP=203.0.113.7
	policy refused - TCPREMOTEIP=2001:db8::1
	policy allowed ::1 TCPREMOTEIP=::1
}

@test "REMOTE_ADDR wins over REMOTE_HOST, which wins over TCPREMOTEIP" {
	policy allowed 127.0.0.1 REMOTE_ADDR=127.0.0.1 REMOTE_HOST=203.0.113.7 TCPREMOTEIP=203.0.113.8
	policy refused - REMOTE_ADDR=203.0.113.7 REMOTE_HOST=127.0.0.1 TCPREMOTEIP=127.0.0.1
	policy allowed 127.0.0.2 REMOTE_HOST=127.0.0.2 TCPREMOTEIP=203.0.113.8
	policy refused - REMOTE_HOST=203.0.113.7 TCPREMOTEIP=127.0.0.1
}

@test "a REMOTE_ADDR that is not an address is ignored: over a pipe the client is local" {
	policy allowed local REMOTE_ADDR=not-an-address
	policy allowed local REMOTE_ADDR=mail.example.org
	policy allowed local REMOTE_ADDR=
	policy allowed local "REMOTE_ADDR=203.0.113.7 "
	policy allowed local "REMOTE_ADDR=203.0.113.7"$'\n'"forged log line"
	policy allowed local REMOTE_ADDR=203.0.113.256
	policy allowed local REMOTE_HOST=not-an-address TCPREMOTEIP=localhost
	# ignored means absent: the next variable is used
	policy refused - REMOTE_ADDR=not-an-address REMOTE_HOST=203.0.113.7
	refute_log "forged"
}

@test "tls=yes allows a remote address; plaintext_auth=yes too; the login log shows the address" {
	REMOTE_ADDR=203.0.113.7 session -o plaintext_auth=secure -o tls=yes -- "CAPA" "AUTH PLAIN $ALICE" "QUIT"
	expect_lines 1 "+OK Capability list follows" "TOP" "UIDL" "RESP-CODES" "AUTH-RESP-CODE" "PIPELINING" \
		"IMPLEMENTATION pop3-handler" "EXPIRE NEVER" "USER" "SASL PLAIN" "." "$LOGGED_IN" "+OK Bye, 0 messages deleted"
	expect_log "info: login user=alice mechanism=PLAIN client=203.0.113.7 messages=1 octets=22"
	REMOTE_ADDR=2001:db8::7 session -o plaintext_auth=yes -- "USER alice" "PASS secret" "QUIT"
	expect_lines 1 "+OK Send your password" "$LOGGED_IN" "+OK Bye, 0 messages deleted"
	expect_log "info: login user=alice mechanism=USER client=2001:db8::7 messages=1 octets=22"
	# plaintext_auth=no refuses loopback too, and CAPA offers neither
	REMOTE_ADDR=127.0.0.1 session -o plaintext_auth=no -- "CAPA" "USER alice" "AUTH PLAIN $ALICE" "QUIT"
	expect_lines 1 "+OK Capability list follows" "TOP" "UIDL" "RESP-CODES" "AUTH-RESP-CODE" "PIPELINING" \
		"IMPLEMENTATION pop3-handler" "EXPIRE NEVER" "." "$NO_PLAINTEXT" "$NO_PLAINTEXT" "+OK Bye"
}

@test "failed logins are logged with the client address; the unknown user without a name" {
	TCPREMOTEIP=198.51.100.9 session -o plaintext_auth=yes -o max_auth_failures=5 -- "USER alice" "PASS wrong" \
		"AUTH PLAIN $(plain_b64 '' alice wrong)" "AUTH PLAIN $(plain_b64 '' nobody secret)" "USER nobody" "PASS x" "QUIT"
	expect_lines 1 "+OK Send your password" "$FAILED" "$FAILED" "$FAILED" "+OK Send your password" "$FAILED" "+OK Bye"
	expect_log "notice: failed login user=alice mechanism=USER client=198.51.100.9"
	expect_log "notice: failed login user=alice mechanism=PLAIN client=198.51.100.9"
	expect_log "notice: failed login: unknown user, mechanism=PLAIN client=198.51.100.9"
	expect_log "notice: failed login: unknown user, mechanism=USER client=198.51.100.9"
	refute_log nobody
}
