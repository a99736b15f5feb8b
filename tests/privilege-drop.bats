#!/usr/bin/env bats
# At login the handler drops root for good: started as root it becomes the
# passwd entry's uid and gid after PASS (and never uid 0 or gid 0); started
# as another user it serves only entries with its own uid.  Shown by what
# the session can and cannot read or remove.

load lib/helpers

OTHER_ID=4343	# a uid/gid no test user has
NONROOT_ID=4243	# the uid/gid of the non-root handler runs

setup() {
	[ "$(id -u)" -eq 0 ] || skip "privilege tests need root"
	setup_world
}

# use_wrapper COMMAND...: from now on this test runs the handler as
# COMMAND... pop3-handler ARGS (session and raw_session use $HANDLER).
use_wrapper() {
	local real=$HANDLER
	{
		echo '#!/bin/bash'
		printf 'exec'
		printf ' %q' "$@" "$real"
		printf ' "$@"\n'
	} >"$T/wrap"
	chmod 755 "$T/wrap"
	HANDLER="$T/wrap"
}

# as_nonroot: the handler runs as uid/gid $NONROOT_ID without supplementary
# groups; the passwd file and configuration are made readable for it.
as_nonroot() {
	chmod 644 "$T/passwd" "$T/conf"
	use_wrapper setpriv --reuid="$NONROOT_ID" --regid="$NONROOT_ID" --clear-groups
}

@test "after PASS the session runs as the entry's uid: a root-only message is not served" {
	add_user alice secret
	deliver alice 1700000000.M1P1.host "$MSG"
	deliver alice 1700000001.M2P2.host "$MSG"
	chown root:root "$T/home/alice/Maildir/new/1700000001.M2P2.host"
	chmod 600 "$T/home/alice/Maildir/new/1700000001.M2P2.host"
	session -- "USER alice" "PASS secret" "STAT" "QUIT"
	expect_line 2 "+OK Logged in, 1 message (22 octets)"
	expect_line 3 "+OK 1 22"
	grep -q "skipping new/1700000001.M2P2.host: Permission denied" "$T/log"

	# the same set-up owned by the user: both messages
	chown "$TEST_UID:$TEST_GID" "$T/home/alice/Maildir/new/1700000001.M2P2.host"
	session -- "USER alice" "PASS secret" "STAT" "QUIT"
	expect_line 2 "+OK Logged in, 2 messages (44 octets)"
	expect_line 3 "+OK 2 44"
}

@test "after PASS the session runs as the entry's uid: removal from a root-owned cur/ fails" {
	add_user alice secret
	deliver alice 1700000000.M1P1.host:2,S "$MSG" cur
	chown root:root "$T/home/alice/Maildir/cur" "$T/home/alice/Maildir/cur/1700000000.M1P1.host:2,S"
	chmod 755 "$T/home/alice/Maildir/cur"
	chmod 644 "$T/home/alice/Maildir/cur/1700000000.M1P1.host:2,S"
	session -- "USER alice" "PASS secret" "RETR 1" "DELE 1" "QUIT"
	expect_line 2 "+OK Logged in, 1 message (22 octets)"
	expect_line 3 "+OK 22 octets"
	expect_line 7 "."
	expect_line 8 "+OK Message 1 deleted"
	expect_line 9 "-ERR [SYS/TEMP] Some deleted messages were not removed (1 of 1)"
	[ -f "$T/home/alice/Maildir/cur/1700000000.M1P1.host:2,S" ]
	grep -q "cannot remove cur/1700000000.M1P1.host:2,S: Permission denied" "$T/log"

	# the same set-up owned by the user: removed
	chown -R "$TEST_UID:$TEST_GID" "$T/home/alice/Maildir/cur"
	session -- "USER alice" "PASS secret" "DELE 1" "QUIT"
	expect_line 3 "+OK Message 1 deleted"
	expect_line 4 "+OK Bye, 1 message deleted"
	[ ! -e "$T/home/alice/Maildir/cur/1700000000.M1P1.host:2,S" ]
}

@test "after PASS the session runs as the entry's gid" {
	add_user alice secret
	deliver alice 1700000000.M1P1.host "$MSG"
	deliver alice 1700000001.M2P2.host 'Subject: other\n\nhello\n'	# 25 octets
	chown "root:$TEST_GID" "$T/home/alice/Maildir/new/1700000000.M1P1.host"
	chown "root:$OTHER_ID" "$T/home/alice/Maildir/new/1700000001.M2P2.host"
	chmod 640 "$T/home/alice/Maildir/new/"*
	session -- "USER alice" "PASS secret" "STAT" "QUIT"
	expect_line 2 "+OK Logged in, 1 message (22 octets)"
	expect_line 3 "+OK 1 22"
	grep -q "skipping new/1700000001.M2P2.host: Permission denied" "$T/log"

	# the control: readable by the group, both are served
	chown "root:$TEST_GID" "$T/home/alice/Maildir/new/1700000001.M2P2.host"
	session -- "USER alice" "PASS secret" "STAT" "QUIT"
	expect_line 2 "+OK Logged in, 2 messages (47 octets)"
}

@test "supplementary groups are dropped" {
	add_user alice secret
	deliver alice 1700000000.M1P1.host "$MSG"
	chown "root:$OTHER_ID" "$T/home/alice/Maildir/new/1700000000.M1P1.host"
	chmod 640 "$T/home/alice/Maildir/new/1700000000.M1P1.host"
	use_wrapper setpriv --groups="$OTHER_ID"
	session -- "USER alice" "PASS secret" "STAT" "QUIT"
	expect_line 2 "+OK Logged in, 0 messages (0 octets)"
	grep -q "skipping new/1700000000.M1P1.host: Permission denied" "$T/log"
}

@test "a Maildir only root can open is not opened after the switch" {
	add_user alice secret
	chown root:root "$T/home/alice/Maildir"
	chmod 700 "$T/home/alice/Maildir"
	session -- "USER alice" "PASS secret" "STAT" "QUIT"
	expect_line 2 "-ERR [SYS/TEMP] Cannot open the mailbox"
	[ "${#lines[@]}" -eq 3 ]
	grep -q "cannot open Maildir $T/home/alice/Maildir: Permission denied" "$T/log"
}

@test "an entry with uid 0 is refused with -ERR [SYS/PERM]" {
	add_user root0 secret 0 "$TEST_GID"
	session -- "USER root0" "PASS secret" "STAT" "QUIT"
	expect_line 2 "-ERR [SYS/PERM] This account cannot log in here"
	expect_line 3 "-ERR Command not valid in this state"
	expect_line 4 "+OK Bye"
	grep -q "user root0: uid 0 may not be served by this process" "$T/log"
}

@test "an entry with gid 0 is refused with -ERR [SYS/PERM]" {
	add_user gid0 secret "$TEST_UID" 0
	session -- "USER gid0" "PASS secret" "STAT" "QUIT"
	expect_line 2 "-ERR [SYS/PERM] This account cannot log in here"
	expect_line 3 "-ERR Command not valid in this state"
	expect_line 4 "+OK Bye"
}

@test "a passwd file owned by a non-root user is refused when started as root" {
	add_user alice secret
	chown "$TEST_UID" "$T/passwd"
	session -- "USER alice" "PASS secret" "QUIT"
	expect_line 2 "-ERR [SYS/TEMP] Authentication is temporarily unavailable"
	grep -q "refusing $T/passwd" "$T/log"
}

@test "started as a non-root user: an entry with its own uid is served" {
	add_user bob secret "$NONROOT_ID" "$NONROOT_ID"
	deliver bob 1700000000.M1P1.host "$MSG"
	chown "$NONROOT_ID:$NONROOT_ID" "$T/home/bob/Maildir/new/1700000000.M1P1.host"
	as_nonroot
	session -- "USER bob" "PASS secret" "STAT" "DELE 1" "QUIT"
	expect_line 2 "+OK Logged in, 1 message (22 octets)"
	expect_line 3 "+OK 1 22"
	expect_line 4 "+OK Message 1 deleted"
	expect_line 5 "+OK Bye, 1 message deleted"
	[ -z "$(find "$T/home/bob/Maildir/new" "$T/home/bob/Maildir/cur" -type f)" ]
}

@test "started as a non-root user: a passwd file owned by that user (mode 600) is used" {
	add_user bob secret "$NONROOT_ID" "$NONROOT_ID"
	as_nonroot
	chown "$NONROOT_ID" "$T/passwd"
	chmod 600 "$T/passwd"
	session -- "USER bob" "PASS secret" "QUIT"
	expect_line 2 "+OK Logged in, 0 messages (0 octets)"
}

@test "started as a non-root user: an entry with another uid is refused with -ERR [SYS/PERM]" {
	add_user alice secret "$TEST_UID" "$TEST_GID"
	add_user bob secret "$NONROOT_ID" "$NONROOT_ID"
	as_nonroot
	session -- "USER alice" "PASS secret" "STAT" "USER bob" "PASS secret" "QUIT"
	expect_line 2 "-ERR [SYS/PERM] This account cannot log in here"
	expect_line 3 "-ERR Command not valid in this state"
	expect_line 5 "+OK Logged in, 0 messages (0 octets)"
	expect_line 6 "+OK Bye, 0 messages deleted"
	grep -q "user alice: uid $TEST_UID may not be served by this process" "$T/log"
}

@test "started as a non-root user: a passwd file owned by another non-root user is refused" {
	add_user bob secret "$NONROOT_ID" "$NONROOT_ID"
	as_nonroot
	chown "$TEST_UID" "$T/passwd"
	session -- "USER bob" "PASS secret" "QUIT"
	expect_line 2 "-ERR [SYS/TEMP] Authentication is temporarily unavailable"
	grep -q "refusing $T/passwd" "$T/log"
}
