#!/usr/bin/env bats
# The snapshot taken at login is the mailbox a session serves: which files
# are messages (new/ and cur/ only), their order, messages removed, renamed
# or delivered by other programs during the session, the UPDATE of what
# was marked, and a large message sent byte-exact with its size.

load lib/helpers

MD() { printf '%s' "$T/home/alice/Maildir"; }

LOGIN=("USER alice" "PASS secret")

# files_left: the message files still in the Maildir, one per line, sorted.
files_left() {
	(cd "$(MD)" && find new cur tmp -type f | LC_ALL=C sort)
}

# --- tests ------------------------------------------------------------------

@test "messages come from new/ and cur/ (with :2,S flags); dot files, tmp/ and the root are ignored" {
	add_user alice secret
	deliver alice 1700000001.new.host 'Subject: a\n\nnew\n'
	deliver alice 1700000002.cur.host:2,S 'Subject: b\n\ncur\n' cur
	deliver alice 1700000003.seen.host:2,RS 'Subject: c\n\nseen\n' cur
	deliver alice .1700000000.hidden.host 'Subject: dot\n\n\n'
	deliver alice .1700000000.hidden2.host:2,S 'Subject: dot\n\n\n' cur
	printf 'Subject: tmp\n\n\n' >"$(MD)/tmp/1700000000.tmp.host"
	printf 'Subject: root\n\n\n' >"$(MD)/1700000000.root.host"
	session -- "${LOGIN[@]}" "STAT" "UIDL" "RETR 2" "QUIT"
	local u1 u2 u3
	u1=$(list_uid alice 1700000001.new.host)
	u2=$(list_uid alice 1700000002.cur.host)
	u3=$(list_uid alice 1700000003.seen.host)
	expect_increasing "$u1" "$u2" "$u3"
	expect_lines 2 "+OK Logged in, 3 messages (58 octets)" "+OK 3 58" \
		"+OK Unique-id listing follows" "1 $u1" "2 $u2" "3 $u3" "." \
		"+OK 19 octets" "Subject: b" "" "cur" "." "+OK Bye, 0 messages deleted"
	# the UID list names these three only
	[ "$(awk 'NR > 1 && $1 != "END" { b = $6; sub(/:.*/, "", b); print b }' "$(MD)/pop3-handler-uidlist")" = \
		"$(printf '%s\n' 1700000001.new.host 1700000002.cur.host 1700000003.seen.host)" ]
	# the new/ message went to cur/ with an empty info; the others are untouched
	[ "$(files_left)" = "$(printf '%s\n' "cur/.1700000000.hidden2.host:2,S" "cur/1700000001.new.host:2," \
		"cur/1700000002.cur.host:2,S" "cur/1700000003.seen.host:2,RS" "new/.1700000000.hidden.host" \
		"tmp/1700000000.tmp.host")" ]
	[ -f "$(MD)/1700000000.root.host" ]
}

@test "order is by the leading timestamp, then the name (9.x before 10.x)" {
	add_user alice secret
	deliver alice 10.a.host 'Subject: 10a\n\n\n'
	deliver alice 9.z.host:2,S 'Subject: 9z\n\n\n' cur
	deliver alice 100.a.host 'Subject: 100a\n\n\n'
	deliver alice 1700000000.B.host:2, 'Subject: B\n\n\n' cur
	deliver alice 1700000000.A.host 'Subject: A\n\n\n'
	deliver alice 99.b.host:2,S 'Subject: 99b\n\n\n' cur
	deliver alice 99.a.host 'Subject: 99a\n\n\n'
	session -- "${LOGIN[@]}" "UIDL" "TOP 1 0" "QUIT"
	# UIDs are given in that order too
	local names=(9.z.host 10.a.host 99.a.host 99.b.host 100.a.host 1700000000.A.host 1700000000.B.host)
	local uids=() want=() i
	for i in "${!names[@]}"; do
		uids+=("$(list_uid alice "${names[$i]}")")
		want+=("$((i + 1)) ${uids[$i]}")
	done
	expect_increasing "${uids[@]}"
	expect_lines 3 "+OK Unique-id listing follows" "${want[@]}" "." \
		"+OK 17 octets" "Subject: 9z" "" "." "+OK Bye, 0 messages deleted"
}

@test "subdirectories, symlinks and FIFOs in cur/ are skipped, without hanging" {
	add_user alice secret
	deliver alice 1700000002.real.host:2,S 'Subject: real\n\nreal\n' cur
	mkdir "$(MD)/cur/1700000001.dir.host:2,S"
	mkdir "$(MD)/new/1700000001.dir2.host"
	printf 'Subject: outside\n\nsecret\n' >"$T/outside"
	chmod 644 "$T/outside"
	ln -s "$T/outside" "$(MD)/cur/1700000001.link.host:2,S"
	ln -s ../cur/1700000002.real.host:2,S "$(MD)/new/1700000003.link2.host"
	mkfifo "$(MD)/cur/1700000001.fifo.host:2,S"
	mkfifo "$(MD)/new/1700000004.fifo2.host"
	chown -h "$TEST_UID:$TEST_GID" "$(MD)"/cur/* "$(MD)"/new/*
	printf 'USER alice\r\nPASS secret\r\nSTAT\r\nUIDL\r\nRETR 1\r\nQUIT\r\n' >"$T/in"
	status=0
	timeout 10 "$HANDLER" -c "$T/conf" <"$T/in" >"$T/raw" 2>"$T/log" || status=$?
	output=$(tr -d '\r' <"$T/raw")
	mapfile -t lines <<<"$output"
	[ "$status" -eq 0 ]
	expect_lines 2 "+OK Logged in, 1 message (23 octets)" "+OK 1 23" \
		"+OK Unique-id listing follows" "1 $(list_uid alice 1700000002.real.host)" "." \
		"+OK 23 octets" "Subject: real" "" "real" "." "+OK Bye, 0 messages deleted"
}

@test "a message removed by another program after login: RETR and TOP answer -ERR, the session goes on" {
	add_user alice secret
	deliver alice 1700000001.one.host 'Subject: one\n\n1\n'
	deliver alice 1700000002.two.host:2,S 'Subject: two\n\n2\n' cur
	live_start
	live_send "${LOGIN[@]}"
	live_expect "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 2 messages (38 octets)"
	rm "$(MD)/cur/1700000001.one.host:2,"
	live_send "RETR 1" "TOP 1 0" "NOOP" "LIST 1" "RETR 2" "DELE 1" "QUIT"
	live_expect "-ERR Message 1 was removed from the mailbox by another program" \
		"-ERR Message 1 was removed from the mailbox by another program" \
		"+OK" "+OK 1 19" "+OK 19 octets" "Subject: two" "" "2" "." "+OK Message 1 deleted" \
		"+OK Bye, 1 message deleted"
	live_end
	[ "$status" -eq 0 ]
	[ "$(files_left)" = "cur/1700000002.two.host:2,S" ]
}

@test "a message whose flags change after login (cur/X:2, -> cur/X:2,S) is still retrieved and deleted" {
	add_user alice secret
	deliver alice 1700000001.one.host:2, 'Subject: one\n\n1\n' cur
	deliver alice 1700000002.two.host:2, 'Subject: two\n\n2\n' cur
	live_start
	live_send "${LOGIN[@]}"
	live_expect "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 2 messages (38 octets)"
	mv "$(MD)/cur/1700000001.one.host:2," "$(MD)/cur/1700000001.one.host:2,S"
	local uid
	uid=$(list_uid alice 1700000001.one.host)
	expect_increasing "$uid"
	live_send "RETR 1" "UIDL 1" "DELE 1" "QUIT"
	live_expect "+OK 19 octets" "Subject: one" "" "1" "." "+OK 1 $uid" \
		"+OK Message 1 deleted" "+OK Bye, 1 message deleted"
	live_end
	[ "$(files_left)" = "cur/1700000002.two.host:2," ]
}

@test "a message moved new/X -> cur/X:2, after login is still retrieved and deleted" {
	add_user alice secret
	deliver alice 1700000001.one.host 'Subject: one\n\n1\n'
	deliver alice 1700000002.two.host 'Subject: two\n\n2\n'
	# cur/ read-only at login: the login cannot move them itself (it logs
	# that) and they stay in new/ for another program to move
	chmod 555 "$(MD)/cur"
	live_start
	live_send "${LOGIN[@]}"
	live_expect "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 2 messages (38 octets)"
	chmod 755 "$(MD)/cur"
	grep -q 'cannot move new/1700000002.two.host to cur/: Permission denied' "$T/log"
	mv "$(MD)/new/1700000002.two.host" "$(MD)/cur/1700000002.two.host:2,"
	live_send "TOP 2 0" "RETR 2" "DELE 2" "QUIT"
	live_expect "+OK 19 octets" "Subject: two" "" "." "+OK 19 octets" "Subject: two" "" "2" "." \
		"+OK Message 2 deleted" "+OK Bye, 1 message deleted"
	live_end
	[ "$(files_left)" = "new/1700000001.one.host" ]
}

@test "a message renamed after DELE (not retrieved) is still removed by QUIT" {
	add_user alice secret
	deliver alice 1700000001.one.host 'Subject: one\n\n1\n'
	deliver alice 1700000002.two.host:2, 'Subject: two\n\n2\n' cur
	# cur/ read-only at login: message 1 stays in new/ for another program to move
	chmod 555 "$(MD)/cur"
	live_start
	live_send "${LOGIN[@]}" "DELE 1" "DELE 2"
	live_expect "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 2 messages (38 octets)" \
		"+OK Message 1 deleted" "+OK Message 2 deleted"
	chmod 755 "$(MD)/cur"
	mv "$(MD)/new/1700000001.one.host" "$(MD)/cur/1700000001.one.host:2,S"
	mv "$(MD)/cur/1700000002.two.host:2," "$(MD)/cur/1700000002.two.host:2,T"
	live_send "QUIT"
	live_expect "+OK Bye, 2 messages deleted"
	live_end
	[ -z "$(files_left)" ]
}

@test "QUIT when a marked message cannot be removed answers -ERR and still removes the others" {
	add_user alice secret
	deliver alice 1700000001.one.host 'Subject: one\n\n1\n'
	deliver alice 1700000002.two.host:2,S 'Subject: two\n\n2\n' cur
	deliver alice 1700000003.three.host 'Subject: three\n\n3\n'
	deliver alice 1700000004.four.host 'Subject: four\n\n4\n'
	chmod 555 "$(MD)/cur"
	session -- "${LOGIN[@]}" "DELE 1" "DELE 2" "DELE 3" "QUIT"
	chmod 755 "$(MD)/cur"
	expect_lines 3 "+OK Message 1 deleted" "+OK Message 2 deleted" "+OK Message 3 deleted" \
		"-ERR [SYS/TEMP] Some deleted messages were not removed (1 of 3)"
	[ "$(files_left)" = "$(printf '%s\n' "cur/1700000002.two.host:2,S" "new/1700000004.four.host")" ]
	grep -q 'cannot remove cur/1700000002.two.host:2,S: Permission denied' "$T/log"
}

@test "the snapshot ignores messages delivered after login" {
	# Nine messages, so that the number after the last has two digits.
	add_user alice secret
	local i list=() uidl=()
	for i in 1 2 3 4 5 6 7 8 9; do
		deliver alice "170000000$i.m$i.host" "Subject: $i\n\n$i\n"
		list+=("$i 17")
	done
	live_start
	live_send "${LOGIN[@]}"
	live_expect "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 9 messages (153 octets)"
	local ids=()
	for i in 1 2 3 4 5 6 7 8 9; do
		ids+=("$(list_uid alice "170000000$i.m$i.host")")
		uidl+=("$i ${ids[$((i - 1))]}")
	done
	expect_increasing "${ids[@]}"
	deliver alice 1600000000.early.host 'Subject: late\n\nlate\n'
	deliver alice 1700000099.late.host:2,S 'Subject: late\n\nlate\n' cur
	live_send "STAT" "LIST" "UIDL" "RETR 10" "LIST 11" "DELE 10" "RETR 1" "DELE 1" "QUIT"
	live_expect "+OK 9 153" "+OK 9 messages (153 octets)" "${list[@]}" "." \
		"+OK Unique-id listing follows" "${uidl[@]}" "." \
		"-ERR No such message" "-ERR No such message" "-ERR No such message" \
		"+OK 17 octets" "Subject: 1" "" "1" "." "+OK Message 1 deleted" "+OK Bye, 1 message deleted"
	live_end
	# the late ones untouched, message 1 removed, the others moved to cur/
	local want=("cur/1700000002.m2.host:2," "cur/1700000003.m3.host:2," "cur/1700000004.m4.host:2,"
		"cur/1700000005.m5.host:2," "cur/1700000006.m6.host:2," "cur/1700000007.m7.host:2,"
		"cur/1700000008.m8.host:2," "cur/1700000009.m9.host:2," "cur/1700000099.late.host:2,S"
		"new/1600000000.early.host")
	[ "$(files_left)" = "$(printf '%s\n' "${want[@]}")" ]
	# the next session sees them, with new UIDs larger than the others
	session -- "${LOGIN[@]}" "STAT" "UIDL 1" "UIDL 9" "UIDL 10" "QUIT"
	local early late
	early=$(list_uid alice 1600000000.early.host)
	late=$(list_uid alice 1700000099.late.host)
	expect_increasing "${ids[@]}" "$early" "$late"
	expect_lines 2 "+OK Logged in, 10 messages (182 octets)" "+OK 10 182" \
		"+OK 1 $early" "+OK 9 ${ids[8]}" "+OK 10 $late" "+OK Bye, 0 messages deleted"
}

@test "a message of over 200 KB with mixed line ends is sent byte-exact with its exact size" {
	add_user alice secret
	local f="$(MD)/cur/1700000001.big.host:2,S"
	# Lines with LF, CRLF, CR CR LF, bare CRs, empty lines, "." and ".."
	# lines; a CRLF split across the 64 KiB read blocks, a "." line right
	# at a block start, a bare CR at a block end; no final newline.
	perl -e '
		my $s = "Subject: big\r\nX-Mixed: yes\n\n";
		my @kinds = ("plain line %d\n", "crlf line %d\r\n", ".dot line %d\n", "..two dots %d\r\n",
			".\n", "\n", "\r\n", "bare\rcr %d\n", "cr cr lf %d\r\r\n", "." . ("x" x 300) . " %d\n");
		my $i = 0;
		sub fill { my $n = shift; while (length($s) < $n - 400) { $s .= sprintf($kinds[$i % @kinds], $i); $i++ } $s .= "y" x ($n - length($s)) }
		fill(65535); $s .= "\r\n";		# CR ends block 1, LF starts block 2
		fill(131071); $s .= "\n.dot at a block start\n";
		fill(196607); $s .= "\rz\n";	# bare CR ends block 3
		fill(262144 + 1000); $s .= "\n.\n..\nlast line without newline";
		print $s;' >"$f"
	chown "$TEST_UID:$TEST_GID" "$f"
	[ "$(stat -c %s "$f")" -gt 204800 ]
	local size
	size=$(perl -0777 -ne 'my $n = () = /(?<!\r)\n/g; print length($_) + $n' "$f")
	{
		printf '+OK POP3 server ready\r\n+OK Send your password\r\n+OK Logged in, 1 message (%s octets)\r\n' "$size"
		printf '+OK 1 %s\r\n+OK %s octets\r\n' "$size" "$size"
		perl -0777 -pe 's/(?<!\r)\n/\r\n/g; s/^\./../mg; $_ .= "\r\n" if length($_) && !/\n\z/' "$f"
		printf '.\r\n+OK Bye, 0 messages deleted\r\n'
	} >"$T/expected"
	session -- "${LOGIN[@]}" "LIST 1" "RETR 1" "QUIT"
	if ! cmp "$T/expected" "$T/raw"; then
		cmp -l "$T/expected" "$T/raw" | head -20
		cat "$T/log"
		return 1
	fi
}
