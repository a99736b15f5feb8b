#!/usr/bin/env bats
# Hostile clients change nothing they may not: over-long lines, odd line
# ends, NUL and 8-bit octets, empty lines, malformed numbers, pipelined
# floods, garbage after QUIT, input that ends mid-line or mid-AUTH, a client
# that goes away in the middle of a RETR and one that never reads.
# greeting-and-commands.bats covers the plain cases; these extend them.
# Every handler run is bounded by timeout.

load lib/helpers

MD() { printf '%s' "$T/home/alice/Maildir"; }

LOGIN=("USER alice" "PASS secret")
U1=1700000001.one.host
U2=1700000002.two.host
TOO_LONG="-ERR Command line too long"
BAD_OCTET="-ERR Invalid octet (NUL or CR) in command"
INVALID="-ERR Invalid message number"
NO_SUCH="-ERR No such message"
CLOSING="-ERR Too many bad commands, closing connection"

setup() {
	setup_world
	# a hang fails the test instead of blocking the suite
	WRAPPER=(timeout -k 5 30 "${WRAPPER[@]}")
}

teardown() {
	if [ -n "${SLEEPER:-}" ]; then
		kill "$SLEEPER" 2>/dev/null || true
		wait "$SLEEPER" 2>/dev/null || true
	fi
	cleanup_world
}

# one_message: alice with one message of 19 octets stored, 22 exact.
one_message() {
	add_user alice secret
	deliver alice "$U1" 'Subject: one\n\nbody\n'
}

# two_messages: alice with message 1 (22 exact) and message 2 (19 exact).
two_messages() {
	one_message
	deliver alice "$U2" 'Subject: two\n\n2\n'
}

# pad N: N spaces.  chars C N: N copies of the character C.
pad() { printf '%*s' "$1" ''; }
chars() { head -c "$2" /dev/zero | tr '\0' "$1"; }

# files_left: the files in new/ and cur/, one per line, sorted.
files_left() {
	(cd "$(MD)" && find new cur -mindepth 1 | LC_ALL=C sort)
}

# expect_files PATH...: exactly these files are in new/ and cur/.
expect_files() {
	local want
	want=$(printf '%s\n' "$@" | LC_ALL=C sort)
	if [ "$(files_left)" != "$want" ]; then
		echo "expected in the Maildir:"
		echo "$want"
		echo "got:"
		files_left
		return 1
	fi
}

# run_input_file [-o key=value]...: a session on $T/in as written (inputs too big for an argument).
run_input_file() {
	status=0
	"${WRAPPER[@]}" "$HANDLER" -c "$T/conf" "$@" <"$T/in" >"$T/raw" 2>"$T/log" || status=$?
	output=$(tr -d '\r' <"$T/raw")
	mapfile -t lines <<<"$output"
}

# long_line N TEXT: TEXT padded with spaces to N octets, CRLF included.
long_line() {
	printf '%s' "$2"
	chars ' ' $(($1 - ${#2} - 2))
	printf '\r\n'
}

# no_reply_within SECONDS: the live session sends nothing for that long.
no_reply_within() {
	local got
	if IFS= read -r -t "$1" -u "$LIVE_OUT" got; then
		echo "unexpected reply: '$got'"
		return 1
	fi
	[ -z "$got" ] || { echo "unexpected partial reply: '$got'"; return 1; }
}

# wait_gone PID SECONDS: the process ends within SECONDS.
wait_gone() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	echo "process $1 still running after $2 s"
	return 1
}

# --- over-long lines ------------------------------------------------------------

@test "513-octet lines before login, as an AUTH continuation and after login: one -ERR each, never parsed" {
	one_message
	session -- "USER alice$(pad 501)" "PASS secret" "AUTH PLAIN" "$(chars A 511)" \
		"AUTH PLAIN $(plain_b64 '' alice secret)" "DELE 1$(pad 505)" "STAT" "QUIT"
	[ "$status" -eq 0 ]
	# the USER line was never parsed, so PASS has no user; the AUTH
	# continuation is over, so the next AUTH starts afresh
	expect_lines 0 "+OK POP3 server ready" "$TOO_LONG" "-ERR Send USER first" "+ " "$TOO_LONG" \
		"+OK Logged in, 1 message (22 octets)" "$TOO_LONG" "+OK 1 22" "+OK Bye, 0 messages deleted"
	expect_raw_crlf
	expect_files "cur/$U1:2,"
}

@test "1025-octet lines: one -ERR each with the default limit and with max_command_length=1024" {
	one_message
	long_line 1025 "QUIT" >"$T/in"
	printf 'NOOP\r\n' >>"$T/in"
	long_line 1025 "USER alice" >>"$T/in"
	printf 'PASS secret\r\nUSER alice\r\nPASS secret\r\n' >>"$T/in"
	long_line 1025 "DELE 1" >>"$T/in"
	printf 'STAT\r\nQUIT\r\n' >>"$T/in"
	local limit
	for limit in 512 1024; do
		run_input_file -o max_command_length=$limit
		[ "$status" -eq 0 ]
		expect_lines 0 "+OK POP3 server ready" "$TOO_LONG" "-ERR Command not valid in this state" \
			"$TOO_LONG" "-ERR Send USER first" "+OK Send your password" \
			"+OK Logged in, 1 message (22 octets)" "$TOO_LONG" "+OK 1 22" "+OK Bye, 0 messages deleted"
		expect_files "cur/$U1:2,"
	done
}

@test "a 64 KiB line of bare-CR-separated DELE commands is one over-long line: no DELE runs" {
	two_messages
	{
		printf 'USER alice\r\nPASS secret\r\n'
		yes 'DELE 1' | tr '\n' '\r' | head -c 65534
		printf '\r\nDELE 2\r\nQUIT\r\n'
	} >"$T/in"
	[ "$(wc -c <"$T/in")" -eq $((25 + 65536 + 14)) ]
	run_input_file
	[ "$status" -eq 0 ]
	expect_lines 2 "+OK Logged in, 2 messages (41 octets)" "$TOO_LONG" "+OK Message 2 deleted" \
		"+OK Bye, 1 message deleted"
	expect_files "cur/$U1:2,"
}

@test "a 10 MiB line of NULs, CRs and QUITs is answered once; marked messages stay without QUIT" {
	two_messages
	{
		printf 'USER alice\r\nPASS secret\r\nDELE 1\r\n'
		yes 'QUIT_' | tr '_\n' '\000\r' | head -c $((10 * 1024 * 1024 - 2))
		printf '\r\nSTAT\r\nLIST 2\r\n'
	} >"$T/in"
	run_input_file
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 2 messages (41 octets)" \
		"+OK Message 1 deleted" "$TOO_LONG" "+OK 1 19" "+OK 2 19"
	# no QUIT was ever parsed: nothing removed
	expect_files "cur/$U1:2," "cur/$U2:2,"
	expect_logged "user=alice session ended without QUIT: nothing removed"
}

@test "over-long lines of 513, 1025, 64 KiB and 10 MiB octets count as bad commands: the 20th closes" {
	one_message
	local sizes=(513 1025 65536 10485760) i
	{
		printf 'USER alice\r\nPASS secret\r\nDELE 1\r\n'
		for ((i = 0; i < 19; i++)); do long_line "${sizes[$((i % 4))]}" "RSET"; done
		printf 'STAT\r\n'
		long_line 513 "NOOP"
		printf 'QUIT\r\n'
	} >"$T/in"
	run_input_file
	[ "$status" -eq 0 ]
	local want=()
	for ((i = 0; i < 19; i++)); do want+=("$TOO_LONG"); done
	expect_lines 2 "+OK Logged in, 1 message (22 octets)" "+OK Message 1 deleted" "${want[@]}" "+OK 0 0" "$CLOSING"
	# closed before QUIT: the marked message stays
	expect_files "cur/$U1:2,"
	expect_logged "user=alice session ended without QUIT: nothing removed"
}

# --- line ends -------------------------------------------------------------------

@test "a bare LF counts as CRLF for the limit: 510 octets + LF accepted, 511 + LF too long" {
	one_message
	raw_session -- "USER alice\nPASS secret\nLIST$(pad 505)1\nLIST$(pad 506)1\nSTAT\n\n \t\nQUIT\n"
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 1 message (22 octets)" \
		"+OK 1 22" "$TOO_LONG" "+OK 1 22" "-ERR Empty command" "-ERR Empty command" "+OK Bye, 0 messages deleted"
	expect_raw_crlf
}

@test "commands ended by a bare CR only are no lines: at end of input nothing is answered or done" {
	one_message
	raw_session -- 'USER alice\rPASS secret\rDELE 1\rQUIT\r'
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready"
	# no login, so the snapshot was never taken: the message is still in new/
	expect_files "new/$U1"
	[ ! -s "$T/log" ]
}

@test "bare-CR-ended commands accumulate to the limit: one -ERR, the rest up to LF discarded" {
	one_message
	local dele700
	dele700=$(yes 'DELE 1' | tr '\n' '\r' | head -c 700)
	raw_session -- "USER alice\r\nPASS secret\r\n${dele700}\nSTAT\r\nQUIT\r\n"
	[ "$status" -eq 0 ]
	expect_lines 2 "+OK Logged in, 1 message (22 octets)" "$TOO_LONG" "+OK 1 22" "+OK Bye, 0 messages deleted"
	expect_files "cur/$U1:2,"
}

@test "a CR inside a line: -ERR invalid octet, no command of it runs, a PASS with one is no login attempt" {
	one_message
	raw_session -- 'USER alice\r\nPASS sec\rret\r\nPASS secret\r\nNOOP\r\r\n\r\r\nDELE 1\rQUIT\r\nSTAT\r\nQUIT\r\n'
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "$BAD_OCTET" \
		"+OK Logged in, 1 message (22 octets)" "$BAD_OCTET" "$BAD_OCTET" "$BAD_OCTET" "+OK 1 22" \
		"+OK Bye, 0 messages deleted"
	refute_logged "failed login"
	expect_files "cur/$U1:2,"
}

@test "live: bytes ended by bare CRs get no reply until an LF ends the line" {
	one_message
	live_start
	live_send "${LOGIN[@]}"
	live_expect "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 1 message (22 octets)"
	printf 'STAT\r' >&"$LIVE_IN"
	no_reply_within 0.5
	printf 'DELE 1\r' >&"$LIVE_IN"
	no_reply_within 0.5
	printf '\n' >&"$LIVE_IN"
	live_expect "$BAD_OCTET"
	live_send "STAT" "QUIT"
	live_expect "+OK 1 22" "+OK Bye, 0 messages deleted"
	live_end
	[ "$status" -eq 0 ]
	expect_files "cur/$U1:2,"
}

# --- NUL and 8-bit octets ---------------------------------------------------------

@test "NUL in PASS, alone and in an AUTH continuation: -ERR each, no login attempt" {
	one_message
	raw_session -- 'USER alice\r\nPASS sec\0ret\r\n\0\r\nAUTH PLAIN\r\nAGFsaWNl\0AHNlY3JldA==\r\nPASS secret\r\nSTAT\r\nQUIT\r\n'
	[ "$status" -eq 0 ]
	# AUTH forgets the USER, so the PASS after it has none
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "$BAD_OCTET" "$BAD_OCTET" "+ " \
		"-ERR Invalid base64 in the SASL response" "-ERR Send USER first" \
		"-ERR Command not valid in this state" "+OK Bye"
	refute_logged "failed login"
	refute_logged "login user="
	expect_files "new/$U1"
}

@test "NUL in a command does not cost the USER: PASS after it logs in" {
	one_message
	raw_session -- 'USER alice\r\nPASS sec\0ret\r\n\0\r\nPASS secret\r\nST\0AT\r\nSTAT\r\nQUIT\r\n'
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "$BAD_OCTET" "$BAD_OCTET" \
		"+OK Logged in, 1 message (22 octets)" "$BAD_OCTET" "+OK 1 22" "+OK Bye, 0 messages deleted"
	refute_logged "failed login"
}

@test "8-bit octets in a keyword make it unknown; in an argument they make it invalid" {
	one_message
	raw_session -- 'ST\xc4T\r\nST\xc3\x84T\r\n\xef\xbb\xbfUSER alice\r\nQUIT\xa0\r\nUSER alice\r\nPASS secret\r\nQUIT\xc2\xa0\r\nSTAT \xff\r\nLIST \xd9\xa1\r\nRETR \xef\xbc\x91\r\nDELE 1\xff\r\nSTAT\r\nQUIT\r\n'
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "-ERR Unknown command" "-ERR Unknown command" "-ERR Unknown command" \
		"-ERR Unknown command" "+OK Send your password" "+OK Logged in, 1 message (22 octets)" \
		"-ERR Unknown command" "-ERR Wrong number of arguments for STAT" "$INVALID" "$INVALID" "$INVALID" \
		"+OK 1 22" "+OK Bye, 0 messages deleted"
	expect_files "cur/$U1:2,"
}

@test "8-bit octets in PASS are part of the password: a UTF-8 password logs in, its Latin-1 spelling does not" {
	add_user alice 'pässwörd € ✓'
	deliver alice "$U1" 'Subject: one\n\nbody\n'
	raw_session -- 'USER alice\r\nPASS p\xe4ssw\xf6rd \x80 ?\r\nUSER alice\r\nPASS pässwörd € ✓\r\nSTAT\r\nQUIT\r\n'
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "-ERR [AUTH] Authentication failed" \
		"+OK Send your password" "+OK Logged in, 1 message (22 octets)" "+OK 1 22" "+OK Bye, 0 messages deleted"
	# and through SASL PLAIN
	session -- "AUTH PLAIN $(plain_b64 '' alice 'pässwörd € ✓')" "QUIT"
	expect_lines 0 "+OK POP3 server ready" "+OK Logged in, 1 message (22 octets)" "+OK Bye, 0 messages deleted"
	if grep -q 'pässwörd' "$T/log"; then echo 'the password is in the log'; return 1; fi
}

# --- empty and whitespace-only lines ----------------------------------------------

@test "empty and whitespace-only lines in every form answer -ERR Empty command and count: the 20th closes" {
	one_message
	local forms=('\r\n' '\n' ' \r\n' '\t\r\n' ' \t \t \r\n' '    \n') input="" i
	for ((i = 0; i < 19; i++)); do input+=${forms[$((i % 6))]}; done
	raw_session -- "USER alice\r\nPASS secret\r\nDELE 1\r\n${input}STAT\r\n\t \r\nQUIT\r\n"
	[ "$status" -eq 0 ]
	local want=()
	for ((i = 0; i < 19; i++)); do want+=("-ERR Empty command"); done
	expect_lines 2 "+OK Logged in, 1 message (22 octets)" "+OK Message 1 deleted" "${want[@]}" "+OK 0 0" "$CLOSING"
	expect_files "cur/$U1:2,"
}

@test "PASS followed by separators only is a missing password, not an empty one; USER still stands" {
	one_message
	raw_session -- 'USER alice\r\nPASS    \r\nPASS \t\r\nPASS\r\nPASS secret\r\nQUIT\r\n'
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "-ERR Missing password" \
		"-ERR Missing password" "-ERR Missing password" "+OK Logged in, 1 message (22 octets)" \
		"+OK Bye, 0 messages deleted"
	refute_logged "failed login"
}

# --- numbers ------------------------------------------------------------------------

# The hostile message numbers, each with its reply kind: I invalid (a bad
# command), N no such message, 1 message 1, 2 message 2.
NUMBERS=("+1 I" "-1 I" "-0 I" "+0 I" "0 N" "3 N" "0x10 I" "0X1 I" "1x I" "1.0 I" "1e0 I" "１ I" "1, I"
	"123456789012345678901234567890 N" "18446744073709551617 N" "18446744073709551616 N" "4294967297 N"
	"02 2" "000000000000000000000000000001 1")

@test "RETR with signs, leading zeros, 30 digits, 0x10, wraparound values and trailing junk" {
	two_messages
	local cmds=() want=() pair n kind
	for pair in "${NUMBERS[@]}"; do
		n=${pair% *} kind=${pair##* }
		cmds+=("RETR $n")
		case $kind in
		I) want+=("$INVALID") ;;
		N) want+=("$NO_SUCH") ;;
		1) want+=("+OK 22 octets" "Subject: one" "" "body" ".") ;;
		2) want+=("+OK 19 octets" "Subject: two" "" "2" ".") ;;
		esac
	done
	session -- "${LOGIN[@]}" "${cmds[@]}" "RETR 1 x" "RETR 1 1" "STAT" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 3 "${want[@]}" "-ERR Wrong number of arguments for RETR" \
		"-ERR Wrong number of arguments for RETR" "+OK 2 41" "+OK Bye, 0 messages deleted"
}

@test "LIST with signs, leading zeros, 30 digits, 0x10, wraparound values and trailing junk" {
	two_messages
	local cmds=() want=() pair n kind
	for pair in "${NUMBERS[@]}"; do
		n=${pair% *} kind=${pair##* }
		cmds+=("LIST $n")
		case $kind in
		I) want+=("$INVALID") ;;
		N) want+=("$NO_SUCH") ;;
		1) want+=("+OK 1 22") ;;
		2) want+=("+OK 2 19") ;;
		esac
	done
	session -- "${LOGIN[@]}" "${cmds[@]}" "LIST 1 x" "STAT" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 3 "${want[@]}" "-ERR Wrong number of arguments for LIST" "+OK 2 41" "+OK Bye, 0 messages deleted"
}

@test "UIDL with signs, leading zeros, 30 digits, 0x10, wraparound values and trailing junk" {
	two_messages
	local cmds=() pair n
	for pair in "${NUMBERS[@]}"; do
		n=${pair% *}
		cmds+=("UIDL $n")
	done
	session -- "${LOGIN[@]}" "${cmds[@]}" "UIDL 1 x" "STAT" "QUIT"
	[ "$status" -eq 0 ]
	local u1 u2 want=() kind
	u1=$(list_uid alice "$U1")
	u2=$(list_uid alice "$U2")
	expect_increasing "$u1" "$u2"
	for pair in "${NUMBERS[@]}"; do
		kind=${pair##* }
		case $kind in
		I) want+=("$INVALID") ;;
		N) want+=("$NO_SUCH") ;;
		1) want+=("+OK 1 $u1") ;;
		2) want+=("+OK 2 $u2") ;;
		esac
	done
	expect_lines 3 "${want[@]}" "-ERR Wrong number of arguments for UIDL" "+OK 2 41" "+OK Bye, 0 messages deleted"
}

@test "DELE with malformed or wrapping numbers marks nothing; 02 and 30 digits with leading zeros do" {
	two_messages
	local cmds=() want=() pair n kind
	for pair in "${NUMBERS[@]}"; do
		n=${pair% *} kind=${pair##* }
		case $kind in
		I) cmds+=("DELE $n") want+=("$INVALID") ;;
		N) cmds+=("DELE $n") want+=("$NO_SUCH") ;;
		esac
	done
	session -- "${LOGIN[@]}" "${cmds[@]}" "DELE 1 x" "STAT" "DELE 02" "DELE 000000000000000000000000000001" \
		"DELE 0001" "DELE 2" "STAT" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 3 "${want[@]}" "-ERR Wrong number of arguments for DELE" "+OK 2 41" "+OK Message 2 deleted" \
		"+OK Message 1 deleted" "-ERR Message 1 is deleted" "-ERR Message 2 is deleted" "+OK 0 0" \
		"+OK Bye, 2 messages deleted"
	expect_files
}

@test "TOP with malformed message numbers: the message is checked before the line count" {
	two_messages
	local cmds=() want=() pair n kind
	for pair in "${NUMBERS[@]}"; do
		n=${pair% *} kind=${pair##* }
		cmds+=("TOP $n 0")
		case $kind in
		I) want+=("$INVALID") ;;
		N) want+=("$NO_SUCH") ;;
		1) want+=("+OK 22 octets" "Subject: one" "" ".") ;;
		2) want+=("+OK 19 octets" "Subject: two" "" ".") ;;
		esac
	done
	session -- "${LOGIN[@]}" "${cmds[@]}" "TOP +1 -1" "TOP 3 -1" "TOP 1" "TOP 1 0 0" "STAT" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 3 "${want[@]}" "$INVALID" "$NO_SUCH" "-ERR Wrong number of arguments for TOP" \
		"-ERR Wrong number of arguments for TOP" "+OK 2 41" "+OK Bye, 0 messages deleted"
}

@test "TOP with negative, signed, hexadecimal and huge line counts" {
	add_user alice secret
	deliver alice "$U1" 'Subject: one\n\nline 1\nline 2\nline 3\n'
	local whole=("+OK 40 octets" "Subject: one" "" "line 1" "line 2" "line 3" ".")
	session -- "${LOGIN[@]}" "TOP 1 -1" "TOP 1 -0" "TOP 1 +0" "TOP 1 +1" "TOP 1 0x10" "TOP 1 1e3" "TOP 1 2," \
		"TOP 1 ３" "TOP 1 000" "TOP 1 00000000000000000000000000000001" "TOP 1 18446744073709551615" \
		"TOP 1 18446744073709551616" "TOP 1 $(chars 9 100)" "TOP 1 4294967298" "STAT" "QUIT"
	[ "$status" -eq 0 ]
	local bad=() i
	for ((i = 0; i < 8; i++)); do bad+=("-ERR Invalid line count"); done
	expect_lines 3 "${bad[@]}" "+OK 40 octets" "Subject: one" "" "." \
		"+OK 40 octets" "Subject: one" "" "line 1" "." \
		"${whole[@]}" "${whole[@]}" "${whole[@]}" "${whole[@]}" "+OK 1 40" "+OK Bye, 0 messages deleted"
}

@test "19 invalid numbers leave the session open; 'No such message' is not a bad command; the 20th invalid closes" {
	one_message
	local cmds=() want=() i
	for ((i = 0; i < 19; i++)); do
		cmds+=("RETR 99999999999999999999999" "LIST -$i")
		want+=("$NO_SUCH" "$INVALID")
	done
	session -- "${LOGIN[@]}" "DELE 1" "${cmds[@]}" "STAT" "UIDL 0x1" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 3 "+OK Message 1 deleted" "${want[@]}" "+OK 0 0" "$CLOSING"
	expect_files "cur/$U1:2,"
}

# --- pipelining -----------------------------------------------------------------------

@test "pipelining: 500 NOOP and 300 RETR 1 of a 1.4 KB message in one write are answered in order, nothing lost" {
	add_user alice secret
	local body
	body=$(printf 'Subject: pipelined\n\n'; for i in $(seq 1 20); do printf '.line %02d %s\n' "$i" "$(chars x 60)"; done)
	deliver alice "$U1" "$body\n"
	local f="$(MD)/new/$U1" size
	size=$(($(wc -c <"$f") + $(wc -l <"$f")))
	[ "$size" -gt 1024 ]
	local cmds=() i
	for ((i = 0; i < 500; i++)); do cmds+=("NOOP"); done
	for ((i = 0; i < 300; i++)); do cmds+=("RETR 1"); done
	{
		printf '+OK POP3 server ready\r\n+OK Send your password\r\n+OK Logged in, 1 message (%s octets)\r\n' "$size"
		for ((i = 0; i < 500; i++)); do printf '+OK\r\n'; done
		for ((i = 0; i < 300; i++)); do
			printf '+OK %s octets\r\n' "$size"
			perl -pe 's/\n/\r\n/; s/^\./../' "$f"
			printf '.\r\n'
		done
		printf '+OK Message 1 deleted\r\n+OK Bye, 1 message deleted\r\n'
	} >"$T/expected"
	session -- "${LOGIN[@]}" "${cmds[@]}" "DELE 1" "QUIT"
	[ "$status" -eq 0 ]
	if ! cmp "$T/expected" "$T/raw"; then
		diff <(tr -d '\r' <"$T/expected") <(tr -d '\r' <"$T/raw") | head -20
		return 1
	fi
	[ "${#lines[@]}" -eq $((3 + 500 + 300 * 24 + 2)) ]
	expect_files
}

# --- garbage after QUIT ------------------------------------------------------------------

@test "garbage after QUIT before login is never answered: the handler exits with our input still open" {
	one_message
	live_start
	(printf 'QUIT\r\nUSER alice\r\nPASS secret\r\n\xff\x00\x01 garbage \r\r\n' >&"$LIVE_IN") 2>/dev/null || true
	live_expect "+OK POP3 server ready" "+OK Bye"
	live_eof
	wait_gone "$LIVE_PID" 5
	live_end
	[ "$status" -eq 0 ]
	refute_logged "login"
	expect_files "new/$U1"
}

@test "garbage after QUIT in TRANSACTION: UPDATE is done, the RSET after it never runs" {
	two_messages
	live_start
	live_send "${LOGIN[@]}" "DELE 1"
	live_expect "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 2 messages (41 octets)" \
		"+OK Message 1 deleted"
	# in a subshell: the handler may be gone (EPIPE) before the garbage is all written
	(printf 'QUIT\r\nRSET\r\nDELE 2\r\nQUIT\r\n\xff\xfe\x00%s\r\n' "$(chars z 2000)" >&"$LIVE_IN") 2>/dev/null || true
	live_expect "+OK Bye, 1 message deleted"
	live_eof
	wait_gone "$LIVE_PID" 5
	live_end
	[ "$status" -eq 0 ]
	expect_files "cur/$U2:2,"
}

# --- end of input in the middle --------------------------------------------------------

@test "end of input in the middle of a line after DELE: no reply to the partial QUIT, no UPDATE" {
	two_messages
	local tail
	for tail in 'QUIT' 'QUIT\r' 'QU'; do
		raw_session -- "USER alice\r\nPASS secret\r\nDELE 1\r\nDELE 2\r\n$tail"
		[ "$status" -eq 0 ]
		expect_lines 2 "+OK Logged in, 2 messages (41 octets)" "+OK Message 1 deleted" "+OK Message 2 deleted"
		expect_files "cur/$U1:2," "cur/$U2:2,"
		expect_logged "user=alice session ended without QUIT: nothing removed"
		refute_logged "logout user="
	done
}

@test "end of input in the middle of PASS: no reply, no login attempt" {
	one_message
	raw_session -- 'USER alice\r\nPASS secret'
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password"
	[ ! -s "$T/log" ]
	expect_files "new/$U1"
}

@test "end of input after the AUTH PLAIN continuation, and in the middle of the response: no login" {
	one_message
	raw_session -- 'AUTH PLAIN\r\n'
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "+ "
	[ ! -s "$T/log" ]
	# the whole right response, but without its line end
	local b64
	b64=$(plain_b64 '' alice secret)
	raw_session -- "AUTH PLAIN\r\n$b64"
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "+ "
	[ ! -s "$T/log" ]
	raw_session -- "AUTH PLAIN\r\n$b64\r"
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "+ "
	[ ! -s "$T/log" ]
	expect_files "new/$U1"
}

@test "the client goes away in the middle of a 5 MB RETR: clean exit 0, no UPDATE, logged" {
	add_user alice secret
	local big="$(MD)/cur/$U1:2,"
	yes 'The quick brown fox jumps over the lazy dog, again and again and again.' | head -c 5000000 >"$big"
	deliver alice "$U2:2," 'Subject: two\n\n2\n' cur
	chown "$TEST_UID:$TEST_GID" "$big"
	local size=$((5000000 + $(wc -l <"$big")))	# each LF counts as CRLF
	live_start
	live_send "${LOGIN[@]}" "DELE 2" "RETR 1"
	live_expect "+OK POP3 server ready" "+OK Send your password" \
		"+OK Logged in, 2 messages ($((size + 19)) octets)" "+OK Message 2 deleted" "+OK $size octets"
	local i got
	for ((i = 0; i < 100; i++)); do IFS= read -r -t 5 -u "$LIVE_OUT" got; done
	[ "$got" = $'The quick brown fox jumps over the lazy dog, again and again and again.\r' ]
	# the client stops reading and closes its end; the queued QUIT is never read
	live_send "QUIT"
	exec {LIVE_OUT}<&-
	wait_gone "$LIVE_PID" 10
	exec {LIVE_IN}>&-
	status=0
	wait "$LIVE_PID" || status=$?
	LIVE_PID=
	[ "$status" -eq 0 ]
	# nothing removed, and message 1 is not seen: it was never sent whole
	expect_files "cur/$U1:2," "cur/$U2:2,"
	expect_logged ": info: client went away"
	expect_logged "user=alice session ended without QUIT: nothing removed"
	refute_logged "logout user="
	[ -z "$(find "$T" "$PWD" -maxdepth 1 -name 'core*' -newer "$T/conf" 2>/dev/null)" ]
}

@test "a client trickling bytes of a line that never ends is logged out by the timer: bytes alone are no activity" {
	one_message
	live_start -o timeout_unauth=2
	live_expect "+OK POP3 server ready"
	local t0 t1
	t0=$(date +%s%N)
	# one octet every 0.4 s for 6 s, in the background
	(for i in $(seq 15); do sleep 0.4; printf 'U' >&"$LIVE_IN" || exit 0; done) 2>/dev/null 3>&- &
	SLEEPER=$!
	live_expect "-ERR Autologout: idle for too long, closing connection"
	t1=$(date +%s%N)
	echo "autologout after $(((t1 - t0) / 1000000)) ms"
	[ $((t1 - t0)) -ge 1800000000 ]
	[ $((t1 - t0)) -lt 3500000000 ]
	live_eof
	live_end
	[ "$status" -eq 0 ]
	expect_logged ": info: autologout user=- client=local after 2 s idle"
}

@test "a client that never reads: the timer ends a 20 MB RETR (timeout_auth=2), nothing removed" {
	add_user alice secret
	local big="$(MD)/cur/$U1:2,"
	yes 'Twenty megabytes nobody will ever read, line after line after line.' | head -c 20000000 >"$big"
	chown "$TEST_UID:$TEST_GID" "$big"
	deliver alice "$U2:2," 'Subject: two\n\n2\n' cur
	mkfifo "$T/out"
	# a reader that holds the pipe open and reads nothing
	sleep 60 <"$T/out" 3>&- &
	SLEEPER=$!
	printf 'USER alice\r\nPASS secret\r\nDELE 2\r\nRETR 1\r\nQUIT\r\n' >"$T/in"
	local t0 t1
	t0=$(date +%s%N)
	status=0
	"${WRAPPER[@]}" "$HANDLER" -c "$T/conf" -o timeout_auth=2 <"$T/in" >"$T/out" 2>"$T/log" || status=$?
	t1=$(date +%s%N)
	echo "ended after $(((t1 - t0) / 1000000)) ms"
	[ "$status" -eq 0 ]
	[ $((t1 - t0)) -ge 2000000000 ]
	[ $((t1 - t0)) -lt 10000000000 ]
	# the queued DELE 2 and QUIT never led to an UPDATE
	expect_files "cur/$U1:2," "cur/$U2:2,"
	expect_logged ": info: client stopped reading: autologout"
	expect_logged "user=alice session ended without QUIT: nothing removed"
	refute_logged "logout user="
}
