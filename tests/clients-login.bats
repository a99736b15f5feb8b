#!/usr/bin/env bats
# Real clients log in over TCP: the handler started per connection by
# systemd-socket-activate (as inetd would), and curl (AUTH PLAIN with and
# without an initial response) and Python's poplib (USER/PASS, AUTH PLAIN)
# talking to it.  Also: the address the launcher puts in the environment
# wins over getpeername() (stunnel hands us a loopback socket).

load lib/helpers

M1='Subject: one\n\nbody one\n'			# 26 octets with CRLF
M2='Subject: two\n\n.starts with a dot\nend\n'	# 41 octets with CRLF
B1=1700000001.M1P1.host
B2=1700000002.M2P2.host

setup() {
	unset REMOTE_ADDR REMOTE_HOST TCPREMOTEIP
	command -v systemd-socket-activate >/dev/null 2>&1 || skip "systemd-socket-activate is not installed"
	setup_world
	add_user alice secret
	deliver alice "$B1" "$M1"
	deliver alice "$B2" "$M2"
	SSA_PID=
}

teardown() {
	if [ -n "${SSA_PID:-}" ]; then
		kill "$SSA_PID" 2>/dev/null || true
		wait "$SSA_PID" 2>/dev/null || true
	fi
	cleanup_world
}

# crlf FILE: the file with every LF turned into CRLF.
crlf() {
	sed 's/$/\r/' "$1"
}

@test "curl lists the messages; by default it uses AUTH PLAIN with a \"+ \" continuation" {
	listen
	curl -sS -v --max-time 10 "pop3://alice:secret@127.0.0.1:$PORT/" >"$T/out" 2>"$T/trace"
	printf '1 26\r\n2 41\r\n' >"$T/want"
	cmp "$T/want" "$T/out"
	tr -d '\r' <"$T/trace" | grep -qx '> AUTH PLAIN'
	tr -d '\r' <"$T/trace" | grep -qx '< + '
	tr -d '\r' <"$T/trace" | grep -qx '< SASL PLAIN'
	expect_server_logged "info: login user=alice mechanism=PLAIN client=127.0.0.1 messages=2 octets=67"
}

@test "curl --sasl-ir sends the initial response on the AUTH line" {
	listen
	curl -sS -v --max-time 10 --sasl-ir "pop3://alice:secret@127.0.0.1:$PORT/" >"$T/out" 2>"$T/trace"
	printf '1 26\r\n2 41\r\n' >"$T/want"
	cmp "$T/want" "$T/out"
	tr -d '\r' <"$T/trace" | grep -qx "> AUTH PLAIN $(plain_b64 '' alice secret)"
	# no continuation ("!" would not fail a bats test: set -e ignores negations)
	run grep -cx '< + ' <(tr -d '\r' <"$T/trace")
	[ "$output" = 0 ]
	expect_server_logged "info: login user=alice mechanism=PLAIN client=127.0.0.1 messages=2 octets=67"
}

@test "curl --login-options AUTH=PLAIN works" {
	listen
	curl -sS -v --max-time 10 --login-options AUTH=PLAIN "pop3://alice:secret@127.0.0.1:$PORT/" >"$T/out" 2>"$T/trace"
	printf '1 26\r\n2 41\r\n' >"$T/want"
	cmp "$T/want" "$T/out"
	tr -d '\r' <"$T/trace" | grep -qx '> AUTH PLAIN'
}

@test "curl retrieves a message byte for byte (CRLF, dot-stuffing undone)" {
	listen
	curl -sS --max-time 10 "pop3://127.0.0.1:$PORT/2" -u alice:secret >"$T/out"
	printf '%b' "$M2" >"$T/m2"
	crlf "$T/m2" >"$T/want"
	cmp "$T/want" "$T/out"
	curl -sS --max-time 10 --sasl-ir "pop3://127.0.0.1:$PORT/1" -u alice:secret >"$T/out"
	printf '%b' "$M1" >"$T/m1"
	crlf "$T/m1" >"$T/want"
	cmp "$T/want" "$T/out"
	expect_server_logged "info: logout user=alice retrieved=1 octets=42 deleted=0 octets=0 expired=0 failed=0"
}

@test "curl with a wrong password or an unknown user fails (login denied)" {
	listen
	local rc=0
	curl -sS --max-time 10 "pop3://127.0.0.1:$PORT/" -u alice:wrong >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -eq 67 ]	# CURLE_LOGIN_DENIED
	[ ! -s "$T/out" ]
	rc=0
	curl -sS --max-time 10 --sasl-ir "pop3://127.0.0.1:$PORT/" -u nobody:secret >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -eq 67 ]
	expect_server_logged "notice: failed login user=alice mechanism=PLAIN client=127.0.0.1"
	expect_server_logged "notice: failed login: unknown user, mechanism=PLAIN client=127.0.0.1"
}

@test "Python poplib: user/pass_, stat, uidl, retr, AUTH PLAIN, and a refused password" {
	listen
	python3 - "$PORT" >"$T/out" <<'PY'
import base64, poplib, sys
port = int(sys.argv[1])
p = poplib.POP3("127.0.0.1", port, timeout=10)
print(p.getwelcome().decode())
print(p.user("alice").decode())
print(p.pass_("secret").decode())
print(p.stat())
resp, uids, _ = p.uidl()
print(resp.decode(), [u.decode() for u in uids])
resp, body, octets = p.retr(2)
print(resp.decode(), body, octets)
print(p.quit().decode())

p = poplib.POP3("127.0.0.1", port, timeout=10)
print(p._shortcmd("AUTH PLAIN " + base64.b64encode(b"\0alice\0secret").decode()).decode())
print(p.stat())
print(p.quit().decode())

p = poplib.POP3("127.0.0.1", port, timeout=10)
p.user("alice")
try:
    p.pass_("wrong")
except poplib.error_proto as e:
    print("refused:", e.args[0].decode())
try:
    p._shortcmd("AUTH PLAIN " + base64.b64encode(b"\0nobody\0secret").decode())
except poplib.error_proto as e:
    print("refused:", e.args[0].decode())
print(p.quit().decode())
PY
	local uid1 uid2
	uid1=$(list_uid alice "$B1")
	uid2=$(list_uid alice "$B2")
	cat >"$T/want" <<EOF
+OK POP3 server ready
+OK Send your password
+OK Logged in, 2 messages (67 octets)
(2, 67)
+OK Unique-id listing follows ['1 $uid1', '2 $uid2']
+OK 41 octets [b'Subject: two', b'', b'.starts with a dot', b'end'] 41
+OK Bye, 0 messages deleted
+OK Logged in, 2 messages (67 octets)
(2, 67)
+OK Bye, 0 messages deleted
refused: -ERR [AUTH] Authentication failed
refused: -ERR [AUTH] Authentication failed
+OK Bye
EOF
	diff "$T/want" "$T/out"
	expect_server_logged "info: login user=alice mechanism=USER client=127.0.0.1 messages=2 octets=67"
	expect_server_logged "info: login user=alice mechanism=PLAIN client=127.0.0.1 messages=2 octets=67"
	expect_server_logged "notice: failed login user=alice mechanism=USER client=127.0.0.1"
	expect_server_logged "notice: failed login: unknown user, mechanism=PLAIN client=127.0.0.1"
}

# pop_dialogue LINE...: connects to $PORT, sends each LINE after reading the
# greeting and one reply line per LINE; prints every line received.
pop_dialogue() {
	python3 - "$PORT" "$@" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
f = s.makefile("rb")
print(f.readline().decode().rstrip("\r\n"))
for line in sys.argv[2:]:
    s.sendall(line.encode() + b"\r\n")
    print(f.readline().decode().rstrip("\r\n"))
PY
}

@test "REMOTE_ADDR from the launcher wins over the loopback peer of the socket (stunnel's case)" {
	local refused='-ERR [AUTH] Plaintext authentication is not allowed without TLS'
	# loopback TCP and nothing in the environment: getpeername says 127.0.0.1, allowed
	listen
	run pop_dialogue "USER alice" "PASS secret" "QUIT"
	[ "$output" = "$(printf '%s\n' "+OK POP3 server ready" "+OK Send your password" \
		"+OK Logged in, 2 messages (67 octets)" "+OK Bye, 0 messages deleted")" ]
	expect_server_logged "info: login user=alice mechanism=USER client=127.0.0.1 messages=2 octets=67"
	kill "$SSA_PID"
	wait "$SSA_PID" || true
	# the launcher says the client is 203.0.113.7: refused, and curl cannot log in
	listen -E REMOTE_ADDR=203.0.113.7
	run pop_dialogue "USER alice" "PASS secret" "AUTH PLAIN $(plain_b64 '' alice secret)" "QUIT"
	[ "$output" = "$(printf '%s\n' "+OK POP3 server ready" "$refused" "$refused" "$refused" "+OK Bye")" ]
	local rc=0
	curl -sS --max-time 10 "pop3://127.0.0.1:$PORT/" -u alice:secret >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -eq 67 ]
	kill "$SSA_PID"
	wait "$SSA_PID" || true
	# and with tls=yes (stunnel passes it) the login works, logged with that address
	printf 'tls = yes\n' >>"$T/conf"
	listen -E REMOTE_ADDR=203.0.113.7
	curl -sS --max-time 10 "pop3://127.0.0.1:$PORT/" -u alice:secret >"$T/out"
	printf '1 26\r\n2 41\r\n' >"$T/want"
	cmp "$T/want" "$T/out"
	expect_server_logged "info: login user=alice mechanism=PLAIN client=203.0.113.7 messages=2 octets=67"
}
