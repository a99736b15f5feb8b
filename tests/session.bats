#!/usr/bin/env bats
# A first whole session; the detailed command tests live beside it.

load lib/helpers

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
