#!/usr/bin/env bats
# What a session changes in the Maildir, and when: login moves new/ to
# cur/; RETR sets the Seen flag when the session ends (QUIT, a client gone
# or autologout), TOP never does, and a message marked deleted keeps its
# name; retention (expire_days, expire_days_unread, announced by CAPA)
# removes retrieved or old messages at QUIT, and only then.  The UPDATE
# that DELE asks for: transaction.bats.

load lib/helpers
load lib/maildir

# --- flags and moves ------------------------------------------------------------

@test "login moves new/ messages to cur/ with ':2,'; cur/ names are kept" {
	add_user alice secret
	deliver alice "$B1" "$M1"
	deliver alice "$B2:2,S" "$M2"
	deliver alice "$B3:2,T" "$M3" cur
	deliver alice 1700000004.noinfo.host "$M1" cur
	live_start
	live_send "${LOGIN[@]}"
	live_expect "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 4 messages (97 octets)"
	# moved at login, before any command
	expect_files "cur/$B1:2," "cur/$B2:2,S" "cur/$B3:2,T" "cur/1700000004.noinfo.host"
	live_send "QUIT"
	live_expect "+OK Bye, 0 messages deleted"
	live_end
	expect_files "cur/$B1:2," "cur/$B2:2,S" "cur/$B3:2,T" "cur/1700000004.noinfo.host"
}

@test "RETR sets the Seen flag when the session ends with QUIT, not before" {
	three_messages
	live_start
	live_send "${LOGIN[@]}" "RETR 2"
	live_expect "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 3 messages (71 octets)" \
		"+OK 21 octets" "Subject: two" "" "two" "."
	expect_files "cur/$B1:2," "cur/$B2:2," "cur/$B3:2,"
	live_send "QUIT"
	live_expect "+OK Bye, 0 messages deleted"
	live_end
	expect_files "cur/$B1:2," "cur/$B2:2,S" "cur/$B3:2,"
}

@test "RETR sets the Seen flag when the client disconnects without QUIT" {
	three_messages
	session -- "${LOGIN[@]}" "RETR 1" "RETR 3"
	[ "$status" -eq 0 ]
	expect_line 2 "+OK Logged in, 3 messages (71 octets)"
	expect_files "cur/$B1:2,S" "cur/$B2:2," "cur/$B3:2,S"
	grep -q 'user=alice session ended without QUIT: nothing removed' "$T/log"
}

@test "RETR sets the Seen flag when the session ends by autologout" {
	three_messages
	live_start -o timeout_auth=1
	live_send "${LOGIN[@]}" "RETR 1"
	live_expect "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 3 messages (71 octets)" \
		"+OK 26 octets" "Subject: one" "" "body one" "." \
		"-ERR Autologout: idle for too long, closing connection"
	live_end
	expect_files "cur/$B1:2,S" "cur/$B2:2," "cur/$B3:2,"
}

@test "the Seen flag keeps the flag letters sorted" {
	add_user alice secret
	deliver alice "1700000001.a.host:2,RT" "$M1" cur
	deliver alice "1700000002.b.host:2,F" "$M1" cur
	deliver alice "1700000003.c.host:2,DFPRT" "$M1" cur
	deliver alice "1700000004.d.host:2,T" "$M1" cur
	deliver alice "1700000005.e.host:2,RS" "$M1" cur
	deliver alice "1700000006.f.host:2,Ta" "$M1" cur
	session -- "${LOGIN[@]}" "RETR 1" "RETR 2" "RETR 3" "RETR 4" "RETR 5" "RETR 6" "QUIT"
	expect_line 2 "+OK Logged in, 6 messages (156 octets)"
	expect_files "cur/1700000001.a.host:2,RST" "cur/1700000002.b.host:2,FS" "cur/1700000003.c.host:2,DFPRST" \
		"cur/1700000004.d.host:2,ST" "cur/1700000005.e.host:2,RS" "cur/1700000006.f.host:2,STa"
}

@test "a message in cur/ without an info gets ':2,S'" {
	add_user alice secret
	deliver alice "$B1" "$M1" cur
	session -- "${LOGIN[@]}" "RETR 1" "QUIT"
	expect_lines 2 "+OK Logged in, 1 message (26 octets)" "+OK 26 octets" "Subject: one" "" "body one" "." \
		"+OK Bye, 0 messages deleted"
	expect_files "cur/$B1:2,S"
}

@test "TOP does not set the Seen flag, even for the whole message" {
	three_messages
	session -- "${LOGIN[@]}" "TOP 1 0" "TOP 2 99999999" "QUIT"
	expect_line 3 "+OK 26 octets"
	expect_files "cur/$B1:2," "cur/$B2:2," "cur/$B3:2,"
	session -- "${LOGIN[@]}" "TOP 3 1"
	expect_files "cur/$B1:2," "cur/$B2:2," "cur/$B3:2,"
}

@test "a message retrieved and marked deleted is not renamed; RSET makes it seen again" {
	three_messages
	# disconnect without QUIT: nothing removed, and the marked message keeps its name
	session -- "${LOGIN[@]}" "RETR 1" "DELE 1" "RETR 2"
	expect_line 8 "+OK Message 1 deleted"
	expect_files "cur/$B1:2," "cur/$B2:2,S" "cur/$B3:2,"
	# RETR, DELE, RSET: kept and seen
	session -- "${LOGIN[@]}" "RETR 3" "DELE 3" "RSET" "QUIT"
	expect_line 10 "+OK 3 messages (71 octets)"
	expect_files "cur/$B1:2," "cur/$B2:2,S" "cur/$B3:2,S"
	# RETR, DELE, QUIT: removed, nothing renamed
	session -- "${LOGIN[@]}" "RETR 1" "DELE 1" "QUIT"
	expect_line 9 "+OK Bye, 1 message deleted"
	expect_files "cur/$B2:2,S" "cur/$B3:2,S"
}

# --- retention (expire_days) -----------------------------------------------------

@test "CAPA: EXPIRE NEVER by default, EXPIRE 30 with expire_days=30, EXPIRE 0 with 0" {
	add_user alice secret
	local opt want
	for opt in "" expire_days=never expire_days=30 expire_days=0 expire_days=36500; do
		case $opt in
		"" | expire_days=never) want="EXPIRE NEVER" ;;
		*) want="EXPIRE ${opt#expire_days=}" ;;
		esac
		if [ -n "$opt" ]; then
			session -o "$opt" -- "CAPA" "${LOGIN[@]}" "CAPA" "QUIT"
		else
			session -- "CAPA" "${LOGIN[@]}" "CAPA" "QUIT"
		fi
		# once in each list, before and after login
		[ "$(printf '%s\n' "${lines[@]}" | grep -c '^EXPIRE')" -eq 2 ] || { echo "$output"; return 1; }
		[ "$(printf '%s\n' "${lines[@]}" | grep -cx "$want")" -eq 2 ] || { echo "($opt) $output"; return 1; }
		[ "${lines[1]}" = "+OK Capability list follows" ]
		[ "${lines[-1]}" = "+OK Bye, 0 messages deleted" ]
	done
}

@test "expire_days=1: a message retrieved two days ago is removed at the next QUIT; one never retrieved stays" {
	need_faketime
	three_messages
	local before after
	before=$(date +%s)
	faked_session -2d -o expire_days=1 -- "${LOGIN[@]}" "RETR 1" "TOP 2 0" "QUIT"
	after=$(date +%s)
	expect_line 3 "+OK 26 octets"
	expect_lines 12 "+OK Bye, 0 messages deleted"
	expect_files "cur/$B1:2,S" "cur/$B2:2," "cur/$B3:2,"
	# the retrieval time recorded is the (faked) time of that session
	local r
	r=$(list_field "$B1" 4)
	[ "$r" -ge $((before - 172800 - 5)) ]
	[ "$r" -le $((after - 172800 + 5)) ]
	[ "$(list_field "$B2" 4)" = 0 ]
	# a later session: all three are listed; the old retrieval expires at QUIT
	session -o expire_days=1 -- "${LOGIN[@]}" "STAT" "QUIT"
	expect_lines 2 "+OK Logged in, 3 messages (71 octets)" "+OK 3 71" "+OK Bye, 0 messages deleted"
	expect_files "cur/$B2:2," "cur/$B3:2,"
	grep -q 'expired=1 ' "$T/log"
	# without expire_days nothing more goes
	session -- "${LOGIN[@]}" "RETR 1" "QUIT"
	session -- "${LOGIN[@]}" "STAT" "QUIT"
	expect_lines 2 "+OK Logged in, 2 messages (45 octets)" "+OK 2 45" "+OK Bye, 0 messages deleted"
}

@test "expire_days=0: a message retrieved is removed at the same QUIT; TOP alone keeps it" {
	three_messages
	session -o expire_days=0 -- "${LOGIN[@]}" "RETR 2" "TOP 3 0" "QUIT"
	expect_line 3 "+OK 21 octets"
	expect_lines 12 "+OK Bye, 0 messages deleted"
	expect_files "cur/$B1:2," "cur/$B3:2,"
}

@test "the QUIT reply counts only the client's DELEs, not expired messages" {
	three_messages
	deliver alice 1700000004.M4P4.host "$M1"
	session -o expire_days=0 -- "${LOGIN[@]}" "RETR 1" "RETR 2" "DELE 3" "QUIT"
	expect_line 2 "+OK Logged in, 4 messages (97 octets)"
	expect_lines 13 "+OK Message 3 deleted" "+OK Bye, 1 message deleted"
	expect_files "cur/1700000004.M4P4.host:2,"
	grep -q ': info: logout user=alice retrieved=2 octets=47 deleted=1 octets=24 expired=2 failed=0$' "$T/log"
}

@test "expire_days_unread=yes: a message whose file is 5 days old goes at QUIT with expire_days=3" {
	three_messages
	touch -d '5 days ago' "$(MD)/new/$B1"
	touch -d '2 days ago' "$(MD)/new/$B2"
	# without expire_days_unread, age alone removes nothing
	session -o expire_days=3 -- "${LOGIN[@]}" "STAT" "QUIT"
	expect_lines 3 "+OK 3 71" "+OK Bye, 0 messages deleted"
	expect_files "cur/$B1:2," "cur/$B2:2," "cur/$B3:2,"
	session -o expire_days=3 -o expire_days_unread=yes -- "${LOGIN[@]}" "STAT" "QUIT"
	expect_lines 2 "+OK Logged in, 3 messages (71 octets)" "+OK 3 71" "+OK Bye, 0 messages deleted"
	expect_files "cur/$B2:2," "cur/$B3:2,"
}

@test "a session that ends without QUIT expires nothing" {
	need_faketime
	three_messages
	touch -d '5 days ago' "$(MD)/new/$B3"
	faked_session -2d -o expire_days=1 -- "${LOGIN[@]}" "RETR 1" "QUIT"
	expect_files "cur/$B1:2,S" "cur/$B2:2," "cur/$B3:2,"
	# old retrieval (B1), retrieval now with expire_days=0 (B2), old file (B3): no QUIT, all stay
	session -o expire_days=0 -o expire_days_unread=yes -- "${LOGIN[@]}" "RETR 2" "STAT"
	expect_line 2 "+OK Logged in, 3 messages (71 octets)"
	expect_files "cur/$B1:2,S" "cur/$B2:2,S" "cur/$B3:2,"
	grep -q 'session ended without QUIT: nothing removed' "$T/log"
	# that session recorded its retrieval all the same
	[ "$(list_field "$B2" 4)" -ge "$(($(date +%s) - 60))" ]
	# the same with QUIT and expire_days=1: B1 and B3 go, B2 (retrieved just now) stays
	session -o expire_days=1 -o expire_days_unread=yes -- "${LOGIN[@]}" "QUIT"
	expect_lines 2 "+OK Logged in, 3 messages (71 octets)" "+OK Bye, 0 messages deleted"
	expect_files "cur/$B2:2,S"
	grep -q ' deleted=0 octets=0 expired=2 failed=0$' "$T/log"
}
