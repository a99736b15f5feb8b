#!/usr/bin/env bats
# The session's frame: the greeting, what each state takes (CAPA, commands
# before login, QUIT), how command lines are read and answered whatever
# they hold (keywords, separators, line ends, pipelining, the length
# limit, NUL bytes, bad and unknown commands, the reply lines), and the
# inactivity timers that end idle sessions.

load lib/helpers

MD() { printf '%s' "$T/home/alice/Maildir"; }

LOGIN=("USER alice" "PASS secret")
U1=1700000001.one.host

# one_message: alice with one message of 19 octets stored, 22 exact.
one_message() {
	add_user alice secret
	deliver alice "$U1" 'Subject: one\n\nbody\n'
}

# expect_kept: the one message is still there, moved from new/ to cur/ with
# an empty info by the login, never marked seen.
expect_kept() {
	[ "$(ls "$(MD)/cur")" = "$U1:2," ] && [ -z "$(ls "$(MD)/new")" ] || {
		echo "expected only cur/$U1:2, in the Maildir, got:"
		(cd "$(MD)" && find new cur -type f)
		return 1
	}
}

# pad N: N spaces.
pad() {
	printf '%*s' "$1" ''
}

# now_ms: milliseconds since the epoch.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# run_input_file [-o key=value]...: runs a session on $T/in as written (for inputs too big for an argument).
run_input_file() {
	status=0
	timeout 20 "$HANDLER" -c "$T/conf" "$@" <"$T/in" >"$T/raw" 2>"$T/log" || status=$?
	output=$(tr -d '\r' <"$T/raw")
	mapfile -t lines <<<"$output"
}

# idle_session [-o key=value]... -- BYTES: as raw_session, but the input
# stays open after BYTES (a FIFO with a writer), so the handler idles.
idle_session() {
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do opts+=("$1"); shift; done
	[ "${1:-}" = "--" ] && shift
	mkfifo "$T/fifo"
	exec 5<>"$T/fifo"
	printf '%b' "${1:-}" >&5
	status=0
	# timeout: a handler that never logs out must not hang the suite
	timeout 10 "$HANDLER" -c "$T/conf" "${opts[@]}" <"$T/fifo" >"$T/raw" 2>"$T/log" 5>&- || status=$?
	exec 5>&-
	output=$(tr -d '\r' <"$T/raw")
	mapfile -t lines <<<"$output"
}

# expect_short_responses: no line of $T/raw is longer than 512 octets with its CRLF.
expect_short_responses() {
	if ! LC_ALL=C awk 'length($0) + 1 > 512 { printf "line %d: %d octets\n", NR, length($0) + 1; bad = 1 } END { exit bad }' "$T/raw"; then
		return 1
	fi
}

# --- the greeting, a first session, and what each state takes ------------------

@test "greeting: +OK with text, no <...> timestamp" {
	session --
	[ "$status" -eq 0 ]
	expect_line 0 "+OK POP3 server ready"
	expect_count 1
	[[ ${lines[0]} != *"<"* && ${lines[0]} != *">"* ]]
	expect_raw_crlf
}

@test "a user logs in, lists, retrieves and deletes a message" {
	add_user alice secret
	deliver alice 1700000000.M1P1.host 'Subject: hi\n\nhello\n'
	session -- "USER alice" "PASS secret" "STAT" "RETR 1" "DELE 1" "QUIT"
	[ "$status" -eq 0 ]
	expect_line 0 "+OK POP3 server ready"
	expect_line 3 "+OK 1 22"
	expect_line 4 "+OK 22 octets"
	expect_line 5 "Subject: hi"
	expect_line 6 ""
	expect_line 7 "hello"
	expect_line 8 "."
	expect_line 9 "+OK Message 1 deleted"
	expect_line 10 "+OK Bye, 1 message deleted"
	[ -z "$(find "$T/home/alice/Maildir/new" "$T/home/alice/Maildir/cur" -type f)" ]
	expect_raw_crlf
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

@test "AUTH lists PLAIN; a command line answering the \"+ \" continuation is taken as the response, not run" {
	add_user alice secret
	# AGFsaWNlAHNlY3JldA== is PLAIN data "\0alice\0secret", but the whole
	# line "AUTH PLAIN AGFs..." answers the continuation: not base64, no login
	session -- "AUTH" "AUTH PLAIN" "AUTH PLAIN AGFsaWNlAHNlY3JldA==" "STAT" "QUIT"
	expect_lines 1 "+OK Supported mechanisms follow" "PLAIN" "." "+ " \
		"-ERR Invalid base64 in the SASL response" "$NOT_NOW" "+OK Bye"
	refute_grep ": info: login user=" "$T/log"
}

# --- keywords, separators, line ends ----------------------------------------

@test "keywords are case-insensitive" {
	one_message
	session -- "user alice" "pAsS secret" "stat" "List 1" "uidl 1" "Top 1 0" "rEtR 1" "dele 1" "rset" "noop" "quit"
	[ "$status" -eq 0 ]
	local uid
	uid=$(list_uid alice "$U1")
	expect_increasing "$uid"
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 1 message (22 octets)" \
		"+OK 1 22" "+OK 1 22" "+OK 1 $uid" \
		"+OK 22 octets" "Subject: one" "" "." \
		"+OK 22 octets" "Subject: one" "" "body" "." \
		"+OK Message 1 deleted" "+OK 1 message (22 octets)" "+OK" "+OK Bye, 0 messages deleted"
	# kept (RSET), and seen (RETR)
	[ "$(ls "$(MD)/cur")" = "$U1:2,S" ]
}

@test "one or more spaces or tabs separate the keyword and the arguments" {
	one_message
	session -- 'USER \t  alice' 'PASS\t\tsecret' 'LIST \t 1' 'TOP\t1\t\t0' 'UIDL  1' 'DELE\t 1' "QUIT"
	local uid
	# the message is removed at QUIT, its UID list entry too: take its UID from UIDL
	uid=$(sed -n 's/^+OK 1 \([0-9]\{10,\}\)$/\1/p' <<<"$output")
	expect_increasing "$uid"
	expect_lines 1 "+OK Send your password" "+OK Logged in, 1 message (22 octets)" \
		"+OK 1 22" "+OK 22 octets" "Subject: one" "" "." "+OK 1 $uid" \
		"+OK Message 1 deleted" "+OK Bye, 1 message deleted"
	[ -z "$(find "$(MD)/new" "$(MD)/cur" -type f)" ]
}

@test "leading and trailing separators are tolerated" {
	one_message
	session -- '  USER alice \t' '\t PASS secret' ' \t STAT \t' 'LIST 1   ' '\tNOOP\t' 'TOP 1 0 \t ' 'QUIT  '
	expect_lines 1 "+OK Send your password" "+OK Logged in, 1 message (22 octets)" \
		"+OK 1 22" "+OK 1 22" "+OK" "+OK 22 octets" "Subject: one" "" "." "+OK Bye, 0 messages deleted"
}

@test "bare LF line ends are accepted; replies still end in CRLF" {
	one_message
	raw_session -- 'USER alice\nPASS secret\r\nSTAT\nRETR 1\nDELE 1\r\nQUIT\n'
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 1 message (22 octets)" \
		"+OK 1 22" "+OK 22 octets" "Subject: one" "" "body" "." "+OK Message 1 deleted" "+OK Bye, 1 message deleted"
	expect_raw_crlf
	[ -z "$(find "$(MD)/new" "$(MD)/cur" -type f)" ]
}

# --- pipelining ---------------------------------------------------------------

@test "pipelining: 1000 NOOPs in one write are all answered" {
	one_message
	local cmds=() i
	for ((i = 0; i < 1000; i++)); do cmds+=("NOOP"); done
	session -- "${LOGIN[@]}" "${cmds[@]}" "QUIT"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1004 ]
	expect_line 2 "+OK Logged in, 1 message (22 octets)"
	for ((i = 3; i < 1003; i++)); do
		[ "${lines[$i]}" = "+OK" ] || { echo "line $i: '${lines[$i]}'"; return 1; }
	done
	expect_line 1003 "+OK Bye, 0 messages deleted"
	expect_raw_crlf
}

@test "pipelining: 200 LIST n in one write are answered in order" {
	add_user alice secret
	deliver alice 1700000001.a.host 'a\n'
	deliver alice 1700000002.b.host 'bb\n'
	deliver alice 1700000003.c.host 'ccc\n'
	local cmds=() want=() i n
	for ((i = 0; i < 200; i++)); do
		n=$(((i * 7) % 3 + 1))
		cmds+=("LIST $n")
		want+=("+OK $n $((n + 2))")
	done
	session -- "${LOGIN[@]}" "${cmds[@]}" "LIST" "QUIT"
	expect_lines 3 "${want[@]}" "+OK 3 messages (12 octets)" "1 3" "2 4" "3 5" "." "+OK Bye, 0 messages deleted"
}

# --- max_command_length --------------------------------------------------------

@test "a command line of exactly 512 octets with its CRLF is accepted" {
	one_message
	# "USER alice" + spaces = 510 octets; "LIST" + spaces + "1" = 510 octets
	session -- "USER alice$(pad 500)" "PASS secret" "LIST$(pad 505)1" "QUIT"
	expect_lines 1 "+OK Send your password" "+OK Logged in, 1 message (22 octets)" "+OK 1 22" "+OK Bye, 0 messages deleted"
}

@test "a command line of 513 octets is answered once with -ERR, discarded, and the next command is answered" {
	one_message
	session -- "${LOGIN[@]}" "LIST$(pad 506)1" "DELE 1$(pad 505)" "STAT" "QUIT"
	expect_lines 3 "-ERR Command line too long" "-ERR Command line too long" "+OK 1 22" "+OK Bye, 0 messages deleted"
	expect_kept
}

@test "max_command_length=40: 40 octets accepted, 41 refused" {
	one_message
	session -o max_command_length=40 -- "${LOGIN[@]}" "LIST$(pad 33)1" "LIST$(pad 34)1" "DELE 1$(pad 33)" "STAT" "QUIT"
	expect_lines 3 "+OK 1 22" "-ERR Command line too long" "-ERR Command line too long" "+OK 1 22" "+OK Bye, 0 messages deleted"
	expect_kept
}

@test "max_command_length=1024: 1024 octets accepted, 1025 refused" {
	one_message
	session -o max_command_length=1024 -- "${LOGIN[@]}" "LIST$(pad 1017)1" "LIST$(pad 1018)1" "DELE 1$(pad 1017)" "STAT" "QUIT"
	expect_lines 3 "+OK 1 22" "-ERR Command line too long" "-ERR Command line too long" "+OK 1 22" "+OK Bye, 0 messages deleted"
	expect_kept
}

@test "a 64 KiB command line is answered once and the session goes on" {
	one_message
	session -- "${LOGIN[@]}" "DELE 1$(pad 65536)" "STAT" "NOOP$(pad 65536)x" "LIST 1" "QUIT"
	expect_lines 3 "-ERR Command line too long" "+OK 1 22" "-ERR Command line too long" "+OK 1 22" "+OK Bye, 0 messages deleted"
	expect_kept
}

@test "a 10 MiB command line is answered once and the session goes on" {
	one_message
	{
		printf 'USER alice\r\nPASS secret\r\nDELE 1'
		head -c $((10 * 1024 * 1024)) /dev/zero | tr '\0' ' '
		printf '\r\nSTAT\r\nQUIT\r\n'
	} >"$T/in"
	run_input_file
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 1 message (22 octets)" \
		"-ERR Command line too long" "+OK 1 22" "+OK Bye, 0 messages deleted"
	expect_kept
}

@test "lines arriving in pieces: 512 octets accepted, an over-long one answered once, CR and LF split" {
	one_message
	live_start
	live_send "${LOGIN[@]}"
	live_expect "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 1 message (22 octets)"
	printf 'LIST%s' "$(pad 300)" >&"$LIVE_IN"
	sleep 0.2
	printf '%s1\r\n' "$(pad 205)" >&"$LIVE_IN"
	live_expect "+OK 1 22"
	printf 'DELE 1%s' "$(pad 400)" >&"$LIVE_IN"
	sleep 0.2
	printf '%s' "$(pad 400)" >&"$LIVE_IN"
	sleep 0.2
	printf '%s\r\nSTAT\r' "$(pad 400)" >&"$LIVE_IN"
	live_expect "-ERR Command line too long"
	sleep 0.2
	printf '\n' >&"$LIVE_IN"
	live_expect "+OK 1 22"
	live_send "QUIT"
	live_expect "+OK Bye, 0 messages deleted"
	live_end
	expect_kept
}

# --- NUL, bad and unknown commands -------------------------------------------

@test "a NUL byte in a command answers -ERR" {
	one_message
	raw_session -- 'USER alice\r\nPASS secret\r\nNO\0OP\r\nSTAT\0\r\nDELE 1\0\r\nSTAT\r\nQUIT\r\n'
	expect_lines 3 "-ERR Invalid octet (NUL or CR) in command" "-ERR Invalid octet (NUL or CR) in command" \
		"-ERR Invalid octet (NUL or CR) in command" "+OK 1 22" "+OK Bye, 0 messages deleted"
	expect_kept
}

@test "a NUL byte counts as a bad command: 19 unknown commands and one NUL close the session" {
	one_message
	local i input=""
	for ((i = 0; i < 19; i++)); do input+='XXXX\r\n'; done
	raw_session -- "${input}NO\\0OP\\r\\nUSER alice\\r\\nQUIT\\r\\n"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 21 ]
	for ((i = 1; i < 20; i++)); do expect_line "$i" "-ERR Unknown command"; done
	expect_line 20 "-ERR Too many bad commands, closing connection"
}

@test "20 bad commands (unknown keywords, empty lines) close the session; later commands get no reply" {
	one_message
	local bad=() i
	for ((i = 0; i < 8; i++)); do bad+=("XYZZY"); done
	for ((i = 0; i < 6; i++)); do bad+=(""); done
	for ((i = 0; i < 5; i++)); do bad+=("FOO bar"); done
	bad+=(' \t ')
	session -- "${bad[@]}" "USER alice" "PASS secret" "QUIT"
	[ "$status" -eq 0 ]
	local want=()
	for ((i = 0; i < 8; i++)); do want+=("-ERR Unknown command"); done
	for ((i = 0; i < 6; i++)); do want+=("-ERR Empty command"); done
	for ((i = 0; i < 5; i++)); do want+=("-ERR Unknown command"); done
	expect_lines 0 "+OK POP3 server ready" "${want[@]}" "-ERR Too many bad commands, closing connection"
	expect_raw_crlf
}

@test "20 bad commands after login close the session without removing a marked message" {
	one_message
	local bad=() i
	for ((i = 0; i < 20; i++)); do bad+=("BOGUS $i"); done
	session -- "${LOGIN[@]}" "DELE 1" "${bad[@]}" "QUIT"
	[ "$status" -eq 0 ]
	local want=()
	for ((i = 0; i < 19; i++)); do want+=("-ERR Unknown command"); done
	expect_lines 3 "+OK Message 1 deleted" "${want[@]}" "-ERR Too many bad commands, closing connection"
	expect_kept
}

@test "19 bad commands do not close the session" {
	one_message
	local bad=() want=() i
	for ((i = 0; i < 19; i++)); do bad+=("NOPE"); want+=("-ERR Unknown command"); done
	session -- "${bad[@]}" "${LOGIN[@]}" "STAT" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "${want[@]}" "+OK Send your password" \
		"+OK Logged in, 1 message (22 octets)" "+OK 1 22" "+OK Bye, 0 messages deleted"
}

@test "an unknown command answers -ERR Unknown command, in both states" {
	one_message
	session -- "HELO" "STATISTICS" "X" "USER alice" "PASS secret" "EHLO example" "LIST1" "1" "STAT" "QUIT"
	expect_lines 0 "+OK POP3 server ready" "-ERR Unknown command" "-ERR Unknown command" "-ERR Unknown command" \
		"+OK Send your password" "+OK Logged in, 1 message (22 octets)" \
		"-ERR Unknown command" "-ERR Unknown command" "-ERR Unknown command" "+OK 1 22" "+OK Bye, 0 messages deleted"
}

# --- what goes out -------------------------------------------------------------

@test "no response line is longer than 512 octets with its CRLF" {
	add_user alice secret
	local long
	long=$(printf 'x%.0s' $(seq 200))
	deliver alice "1700000001.$long:2,S" 'Subject: long\n\nbody\n' cur
	deliver alice "1700000002.ok.host" 'Subject: short\n\nbody\n'
	session -- "USER $(pad 2)$(printf 'u%.0s' $(seq 490))" "PASS $(printf 'p%.0s' $(seq 500))" \
		"${LOGIN[@]}" "UIDL" "UIDL 1" "LIST" "STAT" "RETR 123456789012345678901234567890" \
		"TOP 1 123456789012345678901234567890" "DELE 0x$(printf 'f%.0s' $(seq 490))" "CAPA" \
		"LIST$(pad 600)1" "QUIT"
	expect_line 1 "+OK Send your password"
	expect_line 2 "-ERR [AUTH] Authentication failed"
	# the UIDL of a message with a long name is its decimal UID, not the name
	local u1 u2
	u1=$(list_uid alice "1700000001.$long")
	u2=$(list_uid alice 1700000002.ok.host)
	expect_increasing "$u1" "$u2"
	expect_line 6 "1 $u1"
	expect_line 7 "2 $u2"
	expect_line 9 "+OK 1 $u1"
	expect_short_responses
	expect_raw_crlf
}

@test "every line of the raw output ends in CRLF" {
	one_message
	deliver alice 1700000002.two.host 'Subject: two\n\n.dots\nno final newline'
	session -- "CAPA" "NOOP" "${LOGIN[@]}" "CAPA" "STAT" "LIST" "UIDL" "LIST 2" "UIDL 0" "RETR 1" "TOP 2 1" \
		"RETR 2" "DELE 1" "RSET" "BOGUS" "" "QUIT"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -gt 40 ]
	expect_raw_crlf
	# and no CR other than the one before each LF
	[ "$(tr -cd '\r' <"$T/raw" | wc -c)" -eq "$(tr -cd '\n' <"$T/raw" | wc -c)" ]
}

# --- inactivity timers ---------------------------------------------------------

@test "timeout_unauth=1: a silent client gets a closing -ERR autologout line" {
	one_message
	live_start -o timeout_unauth=1
	live_expect "+OK POP3 server ready"
	local t0 t1
	t0=$(now_ms)
	live_expect "-ERR Autologout: idle for too long, closing connection"
	t1=$(now_ms)
	live_eof
	echo "autologout after $((t1 - t0)) ms"
	[ $((t1 - t0)) -ge 800 ]
	[ $((t1 - t0)) -le 4000 ]
	live_end
	[ "$status" -eq 0 ]
}

@test "timeout_auth=1: autologout after login, and a message marked with DELE is not removed" {
	one_message
	live_start -o timeout_auth=1
	live_send "${LOGIN[@]}" "DELE 1"
	live_expect "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 1 message (22 octets)" \
		"+OK Message 1 deleted"
	local t0 t1
	t0=$(now_ms)
	live_expect "-ERR Autologout: idle for too long, closing connection"
	t1=$(now_ms)
	live_eof
	echo "autologout after $((t1 - t0)) ms"
	[ $((t1 - t0)) -ge 800 ]
	[ $((t1 - t0)) -le 4000 ]
	live_end
	[ "$status" -eq 0 ]
	expect_kept
}

@test "any command resets the timer: NOOPs every 0.6 s for 2.4 s keep a timeout_auth=1 session alive" {
	one_message
	live_start -o timeout_auth=1
	live_send "${LOGIN[@]}"
	live_expect "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 1 message (22 octets)"
	local i
	for i in 1 2 3 4; do
		sleep 0.6
		live_send "NOOP"
		live_expect "+OK"
	done
	live_send "DELE 1" "QUIT"
	live_expect "+OK Message 1 deleted" "+OK Bye, 1 message deleted"
	live_end
	if grep -q -i autologout "$T/log"; then return 1; fi
	[ -z "$(find "$(MD)/new" "$(MD)/cur" -type f)" ]
}

@test "any command resets the timer before login too: CAPA every 0.6 s with timeout_unauth=1" {
	one_message
	live_start -o timeout_unauth=1
	live_expect "+OK POP3 server ready"
	local i
	for i in 1 2 3; do
		sleep 0.6
		live_send "CAPA"
		live_expect "+OK Capability list follows" "TOP" "UIDL" "RESP-CODES" "AUTH-RESP-CODE" "PIPELINING" \
			"IMPLEMENTATION pop3-handler" "EXPIRE NEVER" "USER" "SASL PLAIN" "."
	done
	live_send "${LOGIN[@]}" "QUIT"
	live_expect "+OK Send your password" "+OK Logged in, 1 message (22 octets)" "+OK Bye, 0 messages deleted"
	live_end
	if grep -q -i autologout "$T/log"; then return 1; fi
}

@test "timeout_unauth=1: an idle client before login is logged out with -ERR" {
	local t0 t1
	t0=$(now_ns)
	idle_session -o timeout_unauth=1 -- 'NOOP\r\n'
	t1=$(now_ns)
	[ "$status" -eq 0 ]
	expect_line 0 "+OK POP3 server ready"
	expect_line 1 "-ERR Command not valid in this state"
	expect_line 2 "-ERR Autologout: idle for too long, closing connection"
	[ "${#lines[@]}" -eq 3 ]
	[ $((t1 - t0)) -ge 1000000000 ]
	expect_logged ": info: autologout user=- client=local after 1 s idle"
}

@test "timeout_auth=1: an idle client after login is logged out, without UPDATE" {
	add_user alice secret
	deliver alice 1700000000.M1P1.host "$MSG"
	local t0 t1
	t0=$(now_ns)
	idle_session -o timeout_auth=1 -- 'USER alice\r\nPASS secret\r\nDELE 1\r\n'
	t1=$(now_ns)
	[ "$status" -eq 0 ]
	expect_line 2 "+OK Logged in, 1 message (22 octets)"
	expect_line 3 "+OK Message 1 deleted"
	expect_line 4 "-ERR Autologout: idle for too long, closing connection"
	[ "${#lines[@]}" -eq 5 ]
	[ $((t1 - t0)) -ge 1000000000 ]
	# not removed; the login moved it from new/ to cur/
	[ -f "$T/home/alice/Maildir/cur/1700000000.M1P1.host:2," ]
	[ -z "$(ls "$T/home/alice/Maildir/new")" ]
	expect_logged ": info: autologout user=alice client=local after 1 s idle"
}

@test "a client that disconnects mid-session after DELE removes nothing" {
	one_message
	deliver alice 1700000002.two.host 'Subject: two\n\n2\n'
	live_start
	live_send "${LOGIN[@]}" "DELE 1" "DELE 2"
	live_expect "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 2 messages (41 octets)" \
		"+OK Message 1 deleted" "+OK Message 2 deleted"
	live_end
	[ "$status" -eq 0 ]
	[ "$(ls "$(MD)/cur")" = "$(printf '%s\n' "$U1:2," "1700000002.two.host:2,")" ]
	[ -z "$(ls "$(MD)/new")" ]
	grep -q 'user=alice session ended without QUIT: nothing removed' "$T/log"
}
