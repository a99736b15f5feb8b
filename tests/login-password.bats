#!/usr/bin/env bats
# AUTHORIZATION state: greeting, USER/PASS, the user database, locked
# accounts, hash methods, failure limits and delay, APOP/AUTH, CAPA, the
# plaintext policy and what the log may hold.

load lib/helpers

MSG='Subject: hi\n\nhello\n'	# 22 octets with CRLF line ends
FAILED='-ERR [AUTH] Authentication failed'
CLOSING='-ERR [AUTH] Authentication failed; too many failures, closing connection'
NO_PLAINTEXT='-ERR [AUTH] Plaintext authentication is not allowed without TLS'
NOT_NOW='-ERR Command not valid in this state'

# add_user_hash NAME HASH [UID [GID]]: a passwd entry with the given hash field and an empty Maildir.
add_user_hash() {
	local name=$1 uid=${3:-$TEST_UID} gid=${4:-$TEST_GID}
	local home="$T/home/$name"
	printf '%s:%s:%s:%s:Test user:%s:/bin/sh\n' "$name" "$2" "$uid" "$gid" "$home" >>"$T/passwd"
	mkdir -p "$home/Maildir/cur" "$home/Maildir/new" "$home/Maildir/tmp"
	chown -R "$uid:$gid" "$home"
}

# make_hash PREFIX PASSWORD: prints a libxcrypt hash of the method PREFIX
# names ('$y$', '$2b$', ...), made with mkpasswd or python3 and libcrypt;
# prints nothing when no tool here can make one.
make_hash() {
	local prefix=$1 pw=$2 h="" method=""
	case $prefix in
	'$y$') method=yescrypt ;;
	'$2b$') method=bcrypt ;;
	'$6$') method=sha512crypt ;;
	'$5$') method=sha256crypt ;;
	esac
	if [ -n "$method" ] && command -v mkpasswd >/dev/null 2>&1; then
		h=$(mkpasswd -m "$method" "$pw" 2>/dev/null) || h=""
	fi
	if [[ $h != "$prefix"* ]] && command -v python3 >/dev/null 2>&1; then
		h=$(python3 - "$prefix" "$pw" 2>/dev/null <<'PY'
import ctypes, sys
lib = ctypes.CDLL("libcrypt.so.1")
lib.crypt_gensalt.restype = ctypes.c_char_p
lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
lib.crypt.restype = ctypes.c_char_p
lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
salt = lib.crypt_gensalt(sys.argv[1].encode(), 0, None, 0)
out = lib.crypt(sys.argv[2].encode(), salt) if salt else None
if out and not out.startswith(b"*"):
    print(out.decode())
PY
		) || h=""
	fi
	[[ $h == "$prefix"* ]] && printf '%s' "$h"
	return 0
}

# expect_capa INDEX ITEM...: lines after the +OK at INDEX are exactly the
# ITEMs in any order, followed by a line ".".
expect_capa() {
	local start=$1
	shift
	local n=$#
	local want got
	want=$(printf '%s\n' "$@" | LC_ALL=C sort)
	got=$(printf '%s\n' "${lines[@]:$((start + 1)):$n}" | LC_ALL=C sort)
	if [ "$want" != "$got" ] || [ "${lines[$((start + 1 + n))]}" != "." ]; then
		echo "capability list after line $start: expected (sorted), then '.':"
		echo "$want"
		echo "--- whole output ---"
		echo "$output"
		return 1
	fi
}

# expect_count N: the session wrote exactly N lines.
expect_count() {
	if [ "${#lines[@]}" -ne "$1" ]; then
		echo "expected $1 lines, got ${#lines[@]}:"
		echo "$output"
		echo "--- log ---"
		cat "$T/log"
		return 1
	fi
}

# refute_grep GREP-ARGS...: fails (showing the lines) when grep finds a match.
# (A bare "! grep" would not fail a bats test: set -e ignores negations.)
refute_grep() {
	if grep "$@" >/dev/null; then
		echo "unexpected match: grep $*"
		grep "$@"
		return 1
	fi
}

# now_ns: the time in nanoseconds.
now_ns() { date +%s%N; }

@test "greeting: +OK with text, no <...> timestamp" {
	session --
	[ "$status" -eq 0 ]
	expect_line 0 "+OK POP3 server ready"
	expect_count 1
	[[ ${lines[0]} != *"<"* && ${lines[0]} != *">"* ]]
	expect_raw_crlf
}

@test "USER: the same +OK for known, unknown and invalid names" {
	add_user alice secret
	local n64 n65
	n64=$(printf 'a%.0s' {1..64})
	n65=${n64}a
	session -- "USER alice" "USER nobody" "USER $n64" "USER $n65" "USER a/b" "USER .hidden" "USER a:b" "QUIT"
	[ "$status" -eq 0 ]
	expect_line 0 "+OK POP3 server ready"
	for i in 1 2 3 4 5 6 7; do
		expect_line $i "+OK Send your password"
	done
	expect_line 8 "+OK Bye"
	expect_count 9
	# long user-supplied text is never echoed
	[[ $output != *"$n64"* ]]
}

@test "USER with a name of 64 octets can log in; PASS after a 65-octet name fails" {
	local n64 n65
	n64=$(printf 'b%.0s' {1..64})
	n65=${n64}b
	add_user "$n64" secret
	session -o max_auth_failures=5 -- "USER $n65" "PASS secret" "USER $n64" "PASS secret" "QUIT"
	expect_line 2 "$FAILED"
	expect_line 4 "+OK Logged in, 0 messages (0 octets)"
	expect_line 5 "+OK Bye, 0 messages deleted"
}

@test "PASS with the right password enters TRANSACTION" {
	add_user alice secret
	deliver alice 1700000000.M1P1.host "$MSG"
	session -- "USER alice" "PASS secret" "STAT" "LIST" "QUIT"
	[ "$status" -eq 0 ]
	expect_line 1 "+OK Send your password"
	expect_line 2 "+OK Logged in, 1 message (22 octets)"
	expect_line 3 "+OK 1 22"
	expect_line 4 "+OK 1 message (22 octets)"
	expect_line 5 "1 22"
	expect_line 6 "."
	expect_line 7 "+OK Bye, 0 messages deleted"
	expect_count 8
	grep -qx "pop3-handler\[[0-9]*\]: info: login user=alice mechanism=USER client=local messages=1 octets=22" "$T/log"
}

@test "wrong password, unknown user and invalid name give the identical -ERR [AUTH] text" {
	add_user alice secret
	session -o max_auth_failures=10 -- "USER alice" "PASS wrong" "USER nobody" "PASS secret" \
		"USER a/b" "PASS secret" "USER alice" "PASS Secret" "STAT"
	expect_line 2 "$FAILED"
	expect_line 4 "$FAILED"
	expect_line 6 "$FAILED"
	expect_line 8 "$FAILED"
	expect_line 9 "$NOT_NOW"
	expect_count 10
}

@test "PASS takes the rest of the line: inner spaces, double spaces" {
	add_user alice "two words  x"
	session -o max_auth_failures=10 -- "USER alice" "PASS two words x" "USER alice" "PASS two" \
		"USER alice" "PASS two words  x" "QUIT"
	expect_line 2 "$FAILED"
	expect_line 4 "$FAILED"
	expect_line 6 "+OK Logged in, 0 messages (0 octets)"
	expect_line 7 "+OK Bye, 0 messages deleted"
}

@test "PASS takes the rest of the line: trailing spaces are part of the password" {
	add_user alice "pw  "
	session -o max_auth_failures=10 -- "USER alice" "PASS pw" "USER alice" "PASS pw " \
		"USER alice" "PASS pw  " "QUIT"
	expect_line 2 "$FAILED"
	expect_line 4 "$FAILED"
	expect_line 6 "+OK Logged in, 0 messages (0 octets)"
	expect_line 7 "+OK Bye, 0 messages deleted"
}

@test "PASS without USER is refused and is no login attempt" {
	add_user alice secret
	session -o max_auth_failures=1 -- "PASS secret" "PASS secret" "USER alice" "PASS secret" "QUIT"
	expect_line 1 "-ERR Send USER first"
	expect_line 2 "-ERR Send USER first"
	expect_line 3 "+OK Send your password"
	expect_line 4 "+OK Logged in, 0 messages (0 octets)"
	expect_line 5 "+OK Bye, 0 messages deleted"
}

@test "PASS with no argument is refused and USER still stands" {
	add_user alice secret
	session -o max_auth_failures=1 -- "USER alice" "PASS" "PASS secret" "QUIT"
	expect_line 1 "+OK Send your password"
	expect_line 2 "-ERR Missing password"
	expect_line 3 "+OK Logged in, 0 messages (0 octets)"
	expect_line 4 "+OK Bye, 0 messages deleted"
}

@test "USER must be sent again after a failed PASS" {
	add_user alice secret
	session -- "USER alice" "PASS wrong" "PASS secret" "STAT" "USER alice" "PASS secret" "STAT" "QUIT"
	expect_line 2 "$FAILED"
	expect_line 3 "-ERR Send USER first"
	expect_line 4 "$NOT_NOW"
	expect_line 5 "+OK Send your password"
	expect_line 6 "+OK Logged in, 0 messages (0 octets)"
	expect_line 7 "+OK 0 0"
	expect_line 8 "+OK Bye, 0 messages deleted"
}

@test "locked accounts (empty hash, '!' or '*' prefix) never log in" {
	local h
	h=$(hash_password secret)
	add_user_hash empty ""
	add_user_hash bang "!$h"
	add_user_hash star "*$h"
	add_user_hash bare '!'
	add_user_hash bare2 '*'
	session -o max_auth_failures=10 -- "USER empty" "PASS secret" "USER bang" "PASS secret" \
		"USER star" "PASS secret" "USER bare" "PASS secret" "USER bare2" "PASS secret" "STAT"
	expect_line 2 "$FAILED"
	expect_line 4 "$FAILED"
	expect_line 6 "$FAILED"
	expect_line 8 "$FAILED"
	expect_line 10 "$FAILED"
	expect_line 11 "$NOT_NOW"
}

@test "hash method: sha512crypt \$6\$ (openssl passwd -6)" {
	local h
	h=$(openssl passwd -6 'pw 6')
	[[ $h == '$6$'* ]]
	add_user_hash u6 "$h"
	session -- "USER u6" "PASS pw 6" "QUIT"
	expect_line 2 "+OK Logged in, 0 messages (0 octets)"
	expect_line 3 "+OK Bye, 0 messages deleted"
}

@test "hash method: sha256crypt \$5\$ (openssl passwd -5)" {
	local h
	h=$(openssl passwd -5 'pw 5')
	[[ $h == '$5$'* ]]
	add_user_hash u5 "$h"
	session -- "USER u5" "PASS pw 5" "QUIT"
	expect_line 2 "+OK Logged in, 0 messages (0 octets)"
	expect_line 3 "+OK Bye, 0 messages deleted"
}

@test "hash method: yescrypt \$y\$" {
	local h
	h=$(make_hash '$y$' 'pw y')
	[ -n "$h" ] || skip "neither mkpasswd nor python3 with libcrypt can make a yescrypt hash here"
	add_user_hash uy "$h"
	session -o max_auth_failures=5 -- "USER uy" "PASS pw Y" "USER uy" "PASS pw y" "QUIT"
	expect_line 2 "$FAILED"
	expect_line 4 "+OK Logged in, 0 messages (0 octets)"
	expect_line 5 "+OK Bye, 0 messages deleted"
}

@test "hash method: bcrypt \$2b\$" {
	local h
	h=$(make_hash '$2b$' 'pw b')
	[ -n "$h" ] || skip "neither mkpasswd nor python3 with libcrypt can make a bcrypt hash here"
	add_user_hash ub "$h"
	session -o max_auth_failures=5 -- "USER ub" "PASS pw B" "USER ub" "PASS pw b" "QUIT"
	expect_line 2 "$FAILED"
	expect_line 4 "+OK Logged in, 0 messages (0 octets)"
	expect_line 5 "+OK Bye, 0 messages deleted"
}

@test "a hash of an unknown method never matches" {
	add_user_hash odd '$9$abc$def'
	add_user_hash plain 'secret'
	session -o max_auth_failures=5 -- "USER odd" "PASS secret" "USER plain" "PASS secret" "STAT"
	expect_line 2 "$FAILED"
	expect_line 4 "$FAILED"
	expect_line 5 "$NOT_NOW"
}

@test "malformed passwd lines are logged and skipped; other users still log in" {
	local h
	h=$(hash_password secret)
	{
		echo "# a comment"
		echo ""
		echo "short:$h:4242:4242:only six fields"
		echo "nonnum:$h:42x:4242:g:$T/home/nonnum:/bin/sh"
		echo "relhome:$h:4242:4242:g:home/relhome:/bin/sh"
		echo "eight:$h:4242:4242:g:$T/home/eight:/bin/sh:extra"
		echo "bigid:$h:4294967295:4242:g:$T/home/bigid:/bin/sh"
	} >>"$T/passwd"
	add_user alice secret
	session -- "USER alice" "PASS secret" "QUIT"
	expect_line 2 "+OK Logged in, 0 messages (0 octets)"
	[ "$(grep -c 'malformed entry skipped' "$T/log")" -eq 5 ]
	for n in 3 4 5 6 7; do
		grep -q "$T/passwd line $n: malformed entry skipped" "$T/log"
	done
	# comment and blank lines are no warnings
	refute_grep "line [12]:" "$T/log"

	# the malformed entries themselves never log in
	session -o max_auth_failures=10 -- "USER short" "PASS secret" "USER nonnum" "PASS secret" \
		"USER relhome" "PASS secret" "USER eight" "PASS secret" "USER bigid" "PASS secret" "STAT"
	expect_line 2 "$FAILED"
	expect_line 4 "$FAILED"
	expect_line 6 "$FAILED"
	expect_line 8 "$FAILED"
	expect_line 10 "$FAILED"
	expect_line 11 "$NOT_NOW"
}

@test "a passwd line longer than 4096 octets is logged and skipped; the next user logs in" {
	local h long
	h=$(hash_password secret)
	long=$(printf 'g%.0s' {1..5000})
	echo "huge:$h:4242:4242:$long:$T/home/huge:/bin/sh" >>"$T/passwd"
	add_user alice secret
	session -o max_auth_failures=5 -- "USER huge" "PASS secret" "USER alice" "PASS secret" "QUIT"
	expect_line 2 "$FAILED"
	expect_line 4 "+OK Logged in, 0 messages (0 octets)"
	grep -q "$T/passwd line 1: too long, skipped" "$T/log"
}

@test "a second USER replaces the first; keywords are case-insensitive" {
	add_user alice secret
	add_user bob other
	session -- "USER bob" "user alice" "pass secret" "QUIT"
	expect_line 1 "+OK Send your password"
	expect_line 2 "+OK Send your password"
	expect_line 3 "+OK Logged in, 0 messages (0 octets)"
	grep -q ": info: login user=alice mechanism=USER " "$T/log"
}

@test "PASS: the password starts after the run of spaces and tabs after the keyword" {
	add_user alice "two words  x"
	session -- "USER alice" $'PASS \t  two words  x' "QUIT"
	expect_line 2 "+OK Logged in, 0 messages (0 octets)"
}

@test "max_auth_failures default 3: the third failure answers -ERR and closes" {
	add_user alice secret
	session -- "USER alice" "PASS a" "USER nobody" "PASS b" "USER alice" "PASS c" \
		"USER alice" "PASS secret" "NOOP" "QUIT"
	[ "$status" -eq 0 ]
	expect_line 2 "$FAILED"
	expect_line 4 "$FAILED"
	expect_line 5 "+OK Send your password"
	expect_line 6 "$CLOSING"
	expect_count 7
	refute_grep ": info: login user=" "$T/log"
	# the three failures are logged, the unknown user without a name
	[ "$(grep -c ": notice: failed login" "$T/log")" -eq 3 ]
	[ "$(grep -c ": notice: failed login user=alice mechanism=USER client=local$" "$T/log")" -eq 2 ]
	grep -q ": notice: failed login: unknown user, mechanism=USER client=local$" "$T/log"
}

@test "max_auth_failures=1 closes at the first failure" {
	add_user alice secret
	session -o max_auth_failures=1 -- "USER alice" "PASS wrong" "USER alice" "PASS secret" "QUIT"
	[ "$status" -eq 0 ]
	expect_line 1 "+OK Send your password"
	expect_line 2 "$CLOSING"
	expect_count 3
}

@test "auth_fail_delay is slept after a failed login" {
	add_user alice secret
	local t0 t1
	t0=$(now_ns)
	session -o auth_fail_delay=1 -- "USER alice" "PASS wrong" "QUIT"
	t1=$(now_ns)
	expect_line 2 "$FAILED"
	expect_line 3 "+OK Bye"
	[ $((t1 - t0)) -ge 1000000000 ]
}

@test "auth_fail_delay is slept for an unknown user too" {
	local t0 t1
	t0=$(now_ns)
	session -o auth_fail_delay=1 -- "USER nobody" "PASS wrong" "QUIT"
	t1=$(now_ns)
	expect_line 2 "$FAILED"
	[ $((t1 - t0)) -ge 1000000000 ]
}

@test "APOP answers -ERR and logs nobody in" {
	add_user alice secret
	session -- "APOP alice c4c9334bac560ecc979e58001b3e22fb" "STAT" "QUIT"
	expect_line 1 "-ERR APOP is not supported"
	expect_line 2 "$NOT_NOW"
	expect_line 3 "+OK Bye"
}

@test "AUTH lists PLAIN; a command line answering the \"+ \" continuation is taken as the response, not run" {
	add_user alice secret
	# AGFsaWNlAHNlY3JldA== is PLAIN data "\0alice\0secret", but the whole
	# line "AUTH PLAIN AGFs..." answers the continuation: not base64, no login
	session -- "AUTH" "AUTH PLAIN" "AUTH PLAIN AGFsaWNlAHNlY3JldA==" "STAT" "QUIT"
	expect_lines 1 "+OK Supported mechanisms follow" "PLAIN" "." "+ " \
		"-ERR Invalid base64 in the SASL response" "$NOT_NOW" "+OK Bye"
	refute_grep ": info: login user=" "$T/log"
}

@test "CAPA before login lists USER, SASL PLAIN and the other capabilities" {
	session -- "CAPA" "QUIT"
	expect_line 1 "+OK Capability list follows"
	expect_capa 1 USER "SASL PLAIN" TOP UIDL RESP-CODES AUTH-RESP-CODE PIPELINING "IMPLEMENTATION pop3-handler" "EXPIRE NEVER"
	expect_line 12 "+OK Bye"
	expect_count 13
	expect_raw_crlf
}

@test "CAPA after login lacks USER" {
	add_user alice secret
	session -- "USER alice" "PASS secret" "CAPA" "QUIT"
	expect_line 2 "+OK Logged in, 0 messages (0 octets)"
	expect_line 3 "+OK Capability list follows"
	expect_capa 3 TOP UIDL RESP-CODES AUTH-RESP-CODE PIPELINING "IMPLEMENTATION pop3-handler" "EXPIRE NEVER"
	expect_line 12 "+OK Bye, 0 messages deleted"
	expect_count 13
}

@test "TRANSACTION commands before login answer -ERR and change nothing" {
	add_user alice secret
	deliver alice 1700000000.M1P1.host "$MSG"
	session -- "STAT" "LIST" "LIST 1" "RETR 1" "DELE 1" "TOP 1 0" "UIDL" "NOOP" "RSET" \
		"USER alice" "PASS secret" "STAT" "QUIT"
	for i in 1 2 3 4 5 6 7 8 9; do
		expect_line $i "$NOT_NOW"
	done
	expect_line 11 "+OK Logged in, 1 message (22 octets)"
	expect_line 12 "+OK 1 22"
	expect_line 13 "+OK Bye, 0 messages deleted"
	expect_count 14
	# untouched: the login that followed only moved it from new/ to cur/
	[ -f "$T/home/alice/Maildir/cur/1700000000.M1P1.host:2," ]
	[ -z "$(ls "$T/home/alice/Maildir/new")" ]
}

@test "QUIT before login answers +OK, ends the session and removes nothing" {
	add_user alice secret
	deliver alice 1700000000.M1P1.host "$MSG"
	session -- "USER alice" "QUIT" "PASS secret" "DELE 1" "QUIT"
	[ "$status" -eq 0 ]
	expect_line 1 "+OK Send your password"
	expect_line 2 "+OK Bye"
	expect_count 3
	[ -f "$T/home/alice/Maildir/new/1700000000.M1P1.host" ]
	refute_grep "login user=" "$T/log"
}

@test "plaintext_auth=no: USER and PASS answer -ERR [AUTH] about TLS; CAPA lacks USER, keeps SASL PLAIN" {
	add_user alice secret
	session -o plaintext_auth=no -- "CAPA" "USER alice" "USER nobody" "PASS secret" "STAT" "QUIT"
	expect_line 1 "+OK Capability list follows"
	expect_capa 1 "SASL PLAIN" TOP UIDL RESP-CODES AUTH-RESP-CODE PIPELINING "IMPLEMENTATION pop3-handler" "EXPIRE NEVER"
	expect_line 11 "$NO_PLAINTEXT"
	expect_line 12 "$NO_PLAINTEXT"
	expect_line 13 "$NO_PLAINTEXT"
	expect_line 14 "$NOT_NOW"
	expect_line 15 "+OK Bye"
}

@test "plaintext_auth=no refuses even with tls=yes" {
	add_user alice secret
	session -o plaintext_auth=no -o tls=yes -- "USER alice" "PASS secret" "STAT"
	expect_line 1 "$NO_PLAINTEXT"
	expect_line 2 "$NO_PLAINTEXT"
	expect_line 3 "$NOT_NOW"
}

@test "plaintext_auth=secure over pipes (local): login works, CAPA lists USER" {
	add_user alice secret
	session -o plaintext_auth=secure -- "CAPA" "USER alice" "PASS secret" "QUIT"
	expect_capa 1 USER "SASL PLAIN" TOP UIDL RESP-CODES AUTH-RESP-CODE PIPELINING "IMPLEMENTATION pop3-handler" "EXPIRE NEVER"
	expect_line 12 "+OK Send your password"
	expect_line 13 "+OK Logged in, 0 messages (0 octets)"
}

@test "plaintext_auth=secure with tls=yes: login works" {
	add_user alice secret
	session -o plaintext_auth=secure -o tls=yes -- "USER alice" "PASS secret" "QUIT"
	expect_line 1 "+OK Send your password"
	expect_line 2 "+OK Logged in, 0 messages (0 octets)"
}

# tcp_session ADDRESS [-o key=value]... -- LINE...: as session, with the
# handler's stdin/stdout a TCP connection between two sockets on ADDRESS
# (IPv4 or IPv6), or with ADDRESS "unix" a Unix socket pair.
tcp_session() {
	local addr=$1
	shift
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do opts+=("$1"); shift; done
	[ "${1:-}" = "--" ] && shift
	local input="" l
	for l in "$@"; do input+="$l"$'\r\n'; done
	printf '%s' "$input" >"$T/in"
	status=0
	python3 - "$addr" "$T/in" "$T/raw" "$T/log" "$HANDLER" -c "$T/conf" "${opts[@]}" <<'PY' || status=$?
import socket, subprocess, sys
addr, infile, rawfile, logfile = sys.argv[1:5]
cmd = sys.argv[5:]
if addr == "unix":
    cli, conn = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    cli.settimeout(10)
else:
    srv = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_STREAM)
    srv.bind((addr, 0))
    srv.listen(1)
    cli = socket.create_connection(srv.getsockname()[:2], timeout=10)
    conn, _ = srv.accept()
    srv.close()
with open(logfile, "wb") as log:
    p = subprocess.Popen(cmd, stdin=conn, stdout=conn, stderr=log)
conn.close()
cli.sendall(open(infile, "rb").read())
cli.shutdown(socket.SHUT_WR)
data = b""
try:
    while True:
        b = cli.recv(65536)
        if not b:
            break
        data += b
    rc = p.wait(timeout=10)
except Exception:
    p.kill()
    rc = 124
open(rawfile, "wb").write(data)
sys.exit(rc)
PY
	output=$(tr -d '\r' <"$T/raw")
	mapfile -t lines <<<"$output"
}

# non_loopback_ipv4: an IPv4 address of this host outside 127/8, or nothing.
non_loopback_ipv4() {
	hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' | grep -v '^127\.' | head -n 1
}

# non_loopback_ipv6: a global IPv6 address of this host, or nothing.
non_loopback_ipv6() {
	hostname -I 2>/dev/null | tr ' ' '\n' | grep ':' | grep -v -i -e '^fe80:' -e '^::1$' | head -n 1
}

@test "plaintext_auth=secure on a non-loopback TCP connection: refused without tls, allowed with tls=yes" {
	command -v python3 >/dev/null 2>&1 || skip "python3 is needed to hand the handler a TCP socket"
	local addr
	addr=$(non_loopback_ipv4)
	[ -n "$addr" ] || skip "this host has no non-loopback IPv4 address"
	add_user alice secret
	tcp_session "$addr" -o plaintext_auth=secure -- "CAPA" "USER alice" "PASS secret" "QUIT"
	expect_capa 1 "SASL PLAIN" TOP UIDL RESP-CODES AUTH-RESP-CODE PIPELINING "IMPLEMENTATION pop3-handler" "EXPIRE NEVER"
	expect_line 11 "$NO_PLAINTEXT"
	expect_line 12 "$NO_PLAINTEXT"
	expect_line 13 "+OK Bye"
	tcp_session "$addr" -o plaintext_auth=secure -o tls=yes -- "USER alice" "PASS secret" "QUIT"
	expect_line 1 "+OK Send your password"
	expect_line 2 "+OK Logged in, 0 messages (0 octets)"
	tcp_session "$addr" -o plaintext_auth=yes -- "USER alice" "PASS secret" "QUIT"
	expect_line 2 "+OK Logged in, 0 messages (0 octets)"
	tcp_session 127.0.0.1 -o plaintext_auth=secure -- "USER alice" "PASS secret" "QUIT"
	expect_line 2 "+OK Logged in, 0 messages (0 octets)"
}

@test "plaintext_auth=secure on a non-loopback IPv6 connection: refused; on ::1 allowed" {
	command -v python3 >/dev/null 2>&1 || skip "python3 is needed to hand the handler a TCP socket"
	local addr
	addr=$(non_loopback_ipv6)
	[ -n "$addr" ] || skip "this host has no global IPv6 address"
	add_user alice secret
	tcp_session "$addr" -o plaintext_auth=secure -- "USER alice" "PASS secret" "QUIT"
	expect_line 1 "$NO_PLAINTEXT"
	expect_line 2 "$NO_PLAINTEXT"
	tcp_session "$addr" -o plaintext_auth=secure -o tls=yes -- "USER alice" "PASS secret" "QUIT"
	expect_line 2 "+OK Logged in, 0 messages (0 octets)"
	tcp_session ::1 -o plaintext_auth=secure -- "USER alice" "PASS secret" "QUIT"
	expect_line 2 "+OK Logged in, 0 messages (0 octets)"
}

@test "plaintext_auth=secure on a Unix socket (local): allowed" {
	command -v python3 >/dev/null 2>&1 || skip "python3 is needed to hand the handler a Unix socket"
	add_user alice secret
	tcp_session unix -o plaintext_auth=secure -- "USER alice" "PASS secret" "QUIT"
	expect_line 1 "+OK Send your password"
	expect_line 2 "+OK Logged in, 0 messages (0 octets)"
}

@test "a world-writable passwd file is refused with -ERR [SYS/TEMP] and logged" {
	add_user alice secret
	chmod 666 "$T/passwd"
	session -- "USER alice" "PASS secret" "STAT" "QUIT"
	expect_line 1 "+OK Send your password"
	expect_line 2 "-ERR [SYS/TEMP] Authentication is temporarily unavailable"
	expect_line 3 "$NOT_NOW"
	grep -q "refusing $T/passwd: writable by group or others" "$T/log"
}

@test "a group-writable passwd file is refused too" {
	add_user alice secret
	chmod 620 "$T/passwd"
	session -- "USER alice" "PASS secret" "QUIT"
	expect_line 2 "-ERR [SYS/TEMP] Authentication is temporarily unavailable"
	grep -q "refusing $T/passwd" "$T/log"
}

@test "a missing passwd file gives -ERR [SYS/TEMP] and is logged" {
	rm -f "$T/passwd"
	session -- "USER alice" "PASS secret" "QUIT"
	expect_line 2 "-ERR [SYS/TEMP] Authentication is temporarily unavailable"
	grep -q "cannot open user database $T/passwd" "$T/log"
}

@test "the log never contains a password, after good and bad logins" {
	add_user alice 'Good-Pw-7741'
	session -o max_auth_failures=10 -- "USER alice" "PASS Bad-Pw-9163" "USER nobody" "PASS Other-Pw-5528" \
		"USER alice" "PASS Good-Pw-7741" "QUIT"
	expect_line 2 "$FAILED"
	expect_line 4 "$FAILED"
	expect_line 6 "+OK Logged in, 0 messages (0 octets)"
	[ -s "$T/log" ]
	refute_grep -e 'Good-Pw' -e 'Bad-Pw' -e 'Other-Pw' "$T/log"
	grep -qx "pop3-handler\[[0-9]*\]: notice: failed login user=alice mechanism=USER client=local" "$T/log"
	grep -qx "pop3-handler\[[0-9]*\]: notice: failed login: unknown user, mechanism=USER client=local" "$T/log"
	grep -qx "pop3-handler\[[0-9]*\]: info: login user=alice mechanism=USER client=local messages=0 octets=0" "$T/log"
}
