#!/usr/bin/env bats
# The TRANSACTION commands answer as RFC 1939 says: STAT LIST UIDL RETR
# TOP DELE RSET NOOP QUIT, message numbers, argument counts, and the
# UPDATE done by QUIT.

load lib/helpers

MD() { printf '%s' "$T/home/alice/Maildir"; }

# Three messages, in delivery order:
#  1  plain LF text                                  23 octets stored, 26 exact
#  2  CRLF and LF mixed, lines starting with '.', a bare CR inside a line,
#     no final newline                              69 octets stored, 72 exact
#  3  two header lines, three body lines             51 octets stored, 57 exact
M1='Subject: one\n\nbody one\n'
M2='Subject: two\r\n\r\n.dot line\r\n..two dots\n.\nbare\rCR\nlast line, no newline'
M3='Subject: three\nX-Header: yes\n\nline 1\nline 2\nline 3\n'
U1=1700000001.M1P1.host
U2=1700000002.M2P2.host
U3=1700000003.M3P3.host

three_messages() {
	add_user alice secret
	deliver alice "$U1" "$M1"
	deliver alice "$U2:2,S" "$M2" cur
	deliver alice "$U3" "$M3"
}

LOGIN=("USER alice" "PASS secret")

# expect_raw BYTES: the raw output is exactly BYTES (printf %b), compared with cmp.
expect_raw() {
	printf '%b' "$1" >"$T/expected"
	if ! cmp "$T/expected" "$T/raw"; then
		echo "--- expected ---"
		od -c "$T/expected" | head -60
		echo "--- got ---"
		od -c "$T/raw" | head -60
		echo "--- log ---"
		cat "$T/log"
		return 1
	fi
}

# crlf_size FILE: the file's size with every LF not preceded by CR counted as CRLF.
crlf_size() {
	perl -0777 -ne 'my $n = () = /(?<!\r)\n/g; print length($_) + $n' "$1"
}

# uids: sets U1ID U2ID U3ID to the UIDs the UID list gives the three
# messages, checked to be decimal and increasing in delivery order.
uids() {
	U1ID=$(list_uid alice "$U1")
	U2ID=$(list_uid alice "$U2")
	U3ID=$(list_uid alice "$U3")
	expect_increasing "$U1ID" "$U2ID" "$U3ID"
}

# msg_file BASE: the path of the one message file with that base name, in new/ or cur/.
msg_file() {
	local f=("$(MD)/new/$1" "$(MD)/new/$1":* "$(MD)/cur/$1" "$(MD)/cur/$1":*) found=() p
	for p in "${f[@]}"; do [ -f "$p" ] && found+=("$p"); done
	if [ "${#found[@]}" -ne 1 ]; then
		echo "expected one file for $1, found ${#found[@]}: ${found[*]}" >&2
		return 1
	fi
	printf '%s' "${found[0]}"
}

# files_left: the message files still in the Maildir, one per line, sorted.
files_left() {
	(cd "$(MD)" && find new cur -type f | LC_ALL=C sort)
}

@test "STAT gives the count and the exact CRLF size of all messages" {
	three_messages
	session -- "${LOGIN[@]}" "STAT" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" \
		"+OK Logged in, 3 messages (155 octets)" "+OK 3 155" "+OK Bye, 0 messages deleted"
	[ "$(crlf_size "$(MD)/cur/$U1:2,")" -eq 26 ]
	[ "$(crlf_size "$(MD)/cur/$U2:2,S")" -eq 72 ]
	[ "$(crlf_size "$(MD)/cur/$U3:2,")" -eq 57 ]
	expect_raw_crlf
}

@test "LIST lists every message with its exact size" {
	three_messages
	session -- "${LOGIN[@]}" "LIST" "QUIT"
	expect_lines 3 "+OK 3 messages (155 octets)" "1 26" "2 72" "3 57" "." "+OK Bye, 0 messages deleted"
	expect_raw_crlf
}

@test "LIST n gives one message's number and size" {
	three_messages
	session -- "${LOGIN[@]}" "LIST 1" "LIST 2" "LIST 3" "QUIT"
	expect_lines 3 "+OK 1 26" "+OK 2 72" "+OK 3 57" "+OK Bye, 0 messages deleted"
}

@test "UIDL lists the decimal UIDs of the UID list, increasing in delivery order" {
	three_messages
	session -- "${LOGIN[@]}" "UIDL" "QUIT"
	uids
	expect_lines 3 "+OK Unique-id listing follows" "1 $U1ID" "2 $U2ID" "3 $U3ID" "." "+OK Bye, 0 messages deleted"
	expect_raw_crlf
}

@test "UIDL n gives one message's unique-id" {
	three_messages
	session -- "${LOGIN[@]}" "UIDL 2" "UIDL 1" "UIDL 3" "QUIT"
	uids
	expect_lines 3 "+OK 2 $U2ID" "+OK 1 $U1ID" "+OK 3 $U3ID" "+OK Bye, 0 messages deleted"
}

@test "RETR sends CRLF lines, dot-stuffed, with a final CRLF added, then '.'" {
	three_messages
	session -- "${LOGIN[@]}" "RETR 2" "RETR 1" "QUIT"
	expect_raw '+OK POP3 server ready\r\n+OK Send your password\r\n+OK Logged in, 3 messages (155 octets)\r\n+OK 72 octets\r\nSubject: two\r\n\r\n..dot line\r\n...two dots\r\n..\r\nbare\rCR\r\nlast line, no newline\r\n.\r\n+OK 26 octets\r\nSubject: one\r\n\r\nbody one\r\n.\r\n+OK Bye, 0 messages deleted\r\n'
}

@test "RETR of an empty message file sends just '.'" {
	add_user alice secret
	deliver alice 1700000001.empty.host ''
	session -- "${LOGIN[@]}" "LIST" "RETR 1" "QUIT"
	expect_raw '+OK POP3 server ready\r\n+OK Send your password\r\n+OK Logged in, 1 message (0 octets)\r\n+OK 1 message (0 octets)\r\n1 0\r\n.\r\n+OK 0 octets\r\n.\r\n+OK Bye, 0 messages deleted\r\n'
}

# retr_body: the octets between the first "+OK N octets" line of $T/raw and the "." line that ends it.
retr_body() {
	perl -0777 -ne 'print $1 if /\+OK \d+ octets\r\n((?:(?!\.\r\n)[^\n]*\n)*)\.\r\n/' "$T/raw"
}

@test "the announced size is what RETR sends, less dot-stuffing and an added final CRLF (Dovecot's size)" {
	add_user alice secret
	deliver alice 1700000001.a.host 'a\nb\r\nc\n'
	deliver alice 1700000002.b.host '.\n..\n...\r\n.x\n\n\r\n'
	deliver alice 1700000003.c.host 'ends in a bare CR\r'
	deliver alice 1700000004.d.host 'CR CR LF\r\r\nLF LF\n\n.end'
	deliver alice 1700000005.e.host '\n'
	local i f path size body stuffed added
	i=0
	for f in 1700000001.a.host 1700000002.b.host 1700000003.c.host 1700000004.d.host 1700000005.e.host; do
		i=$((i + 1))
		# in new/ before the first session, in cur/ after it
		path=$(msg_file "$f")
		size=$(crlf_size "$path")
		added=0
		if [ -s "$path" ] && [ "$(tail -c 1 "$path" | od -An -tx1 | tr -d ' ')" != "0a" ]; then
			added=2
		fi
		session -- "${LOGIN[@]}" "LIST $i" "RETR $i" "QUIT"
		expect_line 3 "+OK $i $size"
		expect_line 4 "+OK $size octets"
		retr_body >"$T/body"
		body=$(stat -c %s "$T/body")
		stuffed=$(perl -0777 -ne 'my $n = () = /^\./mg; print $n' "$T/body")
		echo "message $i: body $body, stuffed $stuffed, added $added, announced $size"
		[ $((body - stuffed - added)) -eq "$size" ]
		# RETR made it seen
		[ "$(msg_file "$f")" = "$(MD)/cur/$f:2,S" ]
	done
}

@test "TOP n 0 sends the header and the blank line" {
	three_messages
	session -- "${LOGIN[@]}" "TOP 3 0" "TOP 2 0" "QUIT"
	expect_raw '+OK POP3 server ready\r\n+OK Send your password\r\n+OK Logged in, 3 messages (155 octets)\r\n+OK 57 octets\r\nSubject: three\r\nX-Header: yes\r\n\r\n.\r\n+OK 72 octets\r\nSubject: two\r\n\r\n.\r\n+OK Bye, 0 messages deleted\r\n'
}

@test "TOP n 2 sends the header and two body lines, dot-stuffed" {
	three_messages
	session -- "${LOGIN[@]}" "TOP 3 2" "TOP 2 2" "QUIT"
	expect_raw '+OK POP3 server ready\r\n+OK Send your password\r\n+OK Logged in, 3 messages (155 octets)\r\n+OK 57 octets\r\nSubject: three\r\nX-Header: yes\r\n\r\nline 1\r\nline 2\r\n.\r\n+OK 72 octets\r\nSubject: two\r\n\r\n..dot line\r\n...two dots\r\n.\r\n+OK Bye, 0 messages deleted\r\n'
}

@test "TOP n 99999999 sends the whole message" {
	three_messages
	session -- "${LOGIN[@]}" "TOP 2 99999999" "TOP 3 99999999" "QUIT"
	expect_raw '+OK POP3 server ready\r\n+OK Send your password\r\n+OK Logged in, 3 messages (155 octets)\r\n+OK 72 octets\r\nSubject: two\r\n\r\n..dot line\r\n...two dots\r\n..\r\nbare\rCR\r\nlast line, no newline\r\n.\r\n+OK 57 octets\r\nSubject: three\r\nX-Header: yes\r\n\r\nline 1\r\nline 2\r\nline 3\r\n.\r\n+OK Bye, 0 messages deleted\r\n'
}

@test "TOP with a 30-digit line count sends the whole message" {
	three_messages
	session -- "${LOGIN[@]}" "TOP 3 123456789012345678901234567890" "QUIT"
	expect_raw '+OK POP3 server ready\r\n+OK Send your password\r\n+OK Logged in, 3 messages (155 octets)\r\n+OK 57 octets\r\nSubject: three\r\nX-Header: yes\r\n\r\nline 1\r\nline 2\r\nline 3\r\n.\r\n+OK Bye, 0 messages deleted\r\n'
}

@test "TOP with a line count that is not a number answers -ERR" {
	three_messages
	session -- "${LOGIN[@]}" "TOP 1 -1" "TOP 1 x" "TOP 1 1x" "STAT" "QUIT"
	expect_lines 3 "-ERR Invalid line count" "-ERR Invalid line count" "-ERR Invalid line count" \
		"+OK 3 155" "+OK Bye, 0 messages deleted"
}

@test "DELE marks a message: LIST n, RETR n, TOP, UIDL n and DELE n on it answer -ERR" {
	three_messages
	session -- "${LOGIN[@]}" "DELE 2" "LIST 2" "RETR 2" "TOP 2 0" "UIDL 2" "DELE 2" "LIST 1" "QUIT"
	expect_lines 3 "+OK Message 2 deleted" "-ERR Message 2 is deleted" "-ERR Message 2 is deleted" \
		"-ERR Message 2 is deleted" "-ERR Message 2 is deleted" "-ERR Message 2 is deleted" \
		"+OK 1 26" "+OK Bye, 1 message deleted"
}

@test "STAT, LIST and UIDL leave out messages marked deleted" {
	three_messages
	session -- "${LOGIN[@]}" "DELE 2" "STAT" "LIST" "UIDL" "RSET" "QUIT"
	expect_lines 3 "+OK Message 2 deleted" "+OK 2 83" \
		"+OK 2 messages (83 octets)" "1 26" "3 57" "." \
		"+OK Unique-id listing follows" "1 $(list_uid alice "$U1")" "3 $(list_uid alice "$U3")" "." \
		"+OK 3 messages (155 octets)" "+OK Bye, 0 messages deleted"
}

@test "RSET unmarks every message and nothing is removed" {
	three_messages
	session -- "${LOGIN[@]}" "DELE 1" "DELE 3" "STAT" "RSET" "STAT" "LIST 1" "RETR 3" "QUIT"
	expect_lines 3 "+OK Message 1 deleted" "+OK Message 3 deleted" "+OK 1 72" \
		"+OK 3 messages (155 octets)" "+OK 3 155" "+OK 1 26" \
		"+OK 57 octets" "Subject: three" "X-Header: yes" "" "line 1" "line 2" "line 3" "." \
		"+OK Bye, 0 messages deleted"
	# message 3 was retrieved (RETR), so it is seen now
	[ "$(files_left)" = "$(printf '%s\n' "cur/$U1:2," "cur/$U2:2,S" "cur/$U3:2,S")" ]
}

@test "NOOP answers +OK and changes nothing" {
	three_messages
	session -- "${LOGIN[@]}" "NOOP" "DELE 1" "NOOP" "STAT" "QUIT"
	expect_lines 3 "+OK" "+OK Message 1 deleted" "+OK" "+OK 2 129" "+OK Bye, 1 message deleted"
}

@test "QUIT removes exactly the marked messages and says how many" {
	three_messages
	session -- "${LOGIN[@]}" "DELE 1" "DELE 3" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 3 "+OK Message 1 deleted" "+OK Message 3 deleted" "+OK Bye, 2 messages deleted"
	[ "$(files_left)" = "cur/$U2:2,S" ]
}

@test "QUIT with one marked message says '1 message deleted' and removes it alone" {
	three_messages
	session -- "${LOGIN[@]}" "DELE 2" "QUIT"
	expect_lines 3 "+OK Message 2 deleted" "+OK Bye, 1 message deleted"
	[ "$(files_left)" = "$(printf '%s\n' "cur/$U1:2," "cur/$U3:2,")" ]
}

@test "a session that ends without QUIT removes nothing" {
	three_messages
	session -- "${LOGIN[@]}" "DELE 1" "DELE 2" "DELE 3"
	[ "$status" -eq 0 ]
	expect_lines 3 "+OK Message 1 deleted" "+OK Message 2 deleted" "+OK Message 3 deleted"
	[ "$(files_left)" = "$(printf '%s\n' "cur/$U1:2," "cur/$U2:2,S" "cur/$U3:2,")" ]
	grep -q 'user=alice session ended without QUIT: nothing removed' "$T/log"
}

@test "message number 0 and N+1 answer 'No such message'" {
	three_messages
	session -- "${LOGIN[@]}" "LIST 0" "RETR 0" "LIST 4" "RETR 4" "TOP 4 0" "UIDL 4" "DELE 4" "DELE 0" "STAT" "QUIT"
	expect_lines 3 "-ERR No such message" "-ERR No such message" "-ERR No such message" \
		"-ERR No such message" "-ERR No such message" "-ERR No such message" \
		"-ERR No such message" "-ERR No such message" "+OK 3 155" "+OK Bye, 0 messages deleted"
	[ "$(files_left)" = "$(printf '%s\n' "cur/$U1:2," "cur/$U2:2,S" "cur/$U3:2,")" ]
}

@test "N+1 with ten messages (two digits) answers 'No such message'" {
	add_user alice secret
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		deliver alice "$((1700000000 + i)).M$i.host" "Subject: $i\n\nmessage $i\n"
	done
	session -- "${LOGIN[@]}" "LIST 11" "RETR 11" "LIST 10" "QUIT"
	expect_lines 3 "-ERR No such message" "-ERR No such message" "+OK 10 27" "+OK Bye, 0 messages deleted"
}

@test "message number 1 in an empty mailbox answers 'No such message'" {
	add_user alice secret
	session -- "${LOGIN[@]}" "LIST 1" "RETR 1" "DELE 1" "UIDL 1" "TOP 1 0" "STAT" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 3 "-ERR No such message" "-ERR No such message" "-ERR No such message" \
		"-ERR No such message" "-ERR No such message" "+OK 0 0" "+OK Bye, 0 messages deleted"
}

@test "message numbers that are not plain digits are refused: -1 +1 1x 0x10" {
	three_messages
	session -- "${LOGIN[@]}" "LIST -1" "RETR +1" "DELE 1x" "LIST 0x10" "UIDL 1.0" "STAT" "QUIT"
	expect_lines 3 "-ERR Invalid message number" "-ERR Invalid message number" \
		"-ERR Invalid message number" "-ERR Invalid message number" "-ERR Invalid message number" \
		"+OK 3 155" "+OK Bye, 0 messages deleted"
}

@test "a 30-digit message number answers 'No such message' without overflowing" {
	three_messages
	session -- "${LOGIN[@]}" "LIST 123456789012345678901234567890" "RETR 18446744073709551617" \
		"DELE 18446744073709551616" "STAT" "QUIT"
	expect_lines 3 "-ERR No such message" "-ERR No such message" "-ERR No such message" \
		"+OK 3 155" "+OK Bye, 0 messages deleted"
}

@test "several spaces or a tab before the message number are accepted" {
	three_messages
	session -- "${LOGIN[@]}" "QUIT"
	uids
	session -- "${LOGIN[@]}" "LIST    2" 'LIST\t3' 'UIDL \t 1' 'TOP\t\t3 \t 0' "DELE     1" "QUIT"
	expect_lines 3 "+OK 2 72" "+OK 3 57" "+OK 1 $U1ID" \
		"+OK 57 octets" "Subject: three" "X-Header: yes" "" "." \
		"+OK Message 1 deleted" "+OK Bye, 1 message deleted"
}

@test "leading zeros are accepted: 007 with seven messages" {
	add_user alice secret
	local i
	for i in 1 2 3 4 5 6 7; do
		deliver alice "170000000$i.M$i.host" "Subject: $i\n\nmessage $i\n"
	done
	session -- "${LOGIN[@]}" "QUIT"
	local u6 u7
	u6=$(list_uid alice 1700000006.M6.host)
	u7=$(list_uid alice 1700000007.M7.host)
	expect_increasing "$u6" "$u7"
	session -- "${LOGIN[@]}" "LIST 007" "UIDL 0007" "RETR 07" "DELE 007" "STAT" "QUIT"
	expect_lines 3 "+OK 7 25" "+OK 7 $u7" \
		"+OK 25 octets" "Subject: 7" "" "message 7" "." \
		"+OK Message 7 deleted" "+OK 6 150" "+OK Bye, 1 message deleted"
	[ "$(files_left)" = "$(for i in 1 2 3 4 5 6; do echo "cur/170000000$i.M$i.host:2,"; done)" ]
}

@test "wrong argument counts answer -ERR: RETR with none, STAT 1, TOP 1" {
	three_messages
	session -- "${LOGIN[@]}" "RETR" "STAT 1" "TOP 1" "DELE" "TOP 1 2 3" "LIST 1 2" "NOOP x" "RSET x" "QUIT now" "STAT" "QUIT"
	expect_lines 3 "-ERR Wrong number of arguments for RETR" "-ERR Wrong number of arguments for STAT" \
		"-ERR Wrong number of arguments for TOP" "-ERR Wrong number of arguments for DELE" \
		"-ERR Wrong number of arguments for TOP" "-ERR Wrong number of arguments for LIST" \
		"-ERR Wrong number of arguments for NOOP" "-ERR Wrong number of arguments for RSET" \
		"-ERR Wrong number of arguments for QUIT" "+OK 3 155" "+OK Bye, 0 messages deleted"
}

@test "USER and PASS after login answer -ERR and the session stays logged in" {
	three_messages
	session -- "${LOGIN[@]}" "USER alice" "PASS secret" "APOP alice 0123456789abcdef0123456789abcdef" "STAT" "QUIT"
	expect_lines 3 "-ERR Command not valid in this state" "-ERR Command not valid in this state" \
		"-ERR Command not valid in this state" "+OK 3 155" "+OK Bye, 0 messages deleted"
}

@test "an empty Maildir: STAT '+OK 0 0', LIST and UIDL with just '.'" {
	add_user alice secret
	session -- "${LOGIN[@]}" "STAT" "LIST" "UIDL" "RSET" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 0 messages (0 octets)" \
		"+OK 0 0" "+OK 0 messages (0 octets)" "." "+OK Unique-id listing follows" "." \
		"+OK 0 messages (0 octets)" "+OK Bye, 0 messages deleted"
	expect_raw_crlf
}

@test "a missing Maildir directory logs in with 0 messages" {
	add_user alice secret
	rm -rf "$(MD)"
	session -- "${LOGIN[@]}" "STAT" "LIST" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 0 messages (0 octets)" \
		"+OK 0 0" "+OK 0 messages (0 octets)" "." "+OK Bye, 0 messages deleted"
	[ ! -e "$(MD)" ]
}
