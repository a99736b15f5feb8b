#!/usr/bin/env bats
# A hostile Maildir is served without harm: unreadable message files,
# directories, symbolic links, FIFOs and devices where messages belong,
# zero-length and sparse 5 GiB messages, missing or misshapen directories, a
# damaged or misplaced UID list, lock or temporary file, and odd file names.
# mailbox-snapshot.bats and mailbox-uids.bats cover the plain cases; these
# extend them.  As root the handler runs as $TEST_UID: file modes matter.
# Every handler run is bounded by timeout.

load lib/helpers

MD() { printf '%s' "$T/home/alice/Maildir"; }

LOGIN=("USER alice" "PASS secret")
U1=1700000001.one.host
U2=1700000002.two.host
U3=1700000003.three.host
M1='Subject: one\n\nbody\n'	# 19 stored, 22 exact
M2='Subject: two\n\n2\n'	# 16 stored, 19 exact
LIST_FILE=pop3-handler-uidlist
LOCK_FILE=pop3-handler-uidlist.lock
TEMP_FILE=pop3-handler-uidlist.tmp
NO_MAILBOX="-ERR [SYS/TEMP] Cannot open the mailbox"

setup() {
	setup_world
	# a hang fails the test instead of blocking the suite
	WRAPPER=(timeout -k 5 30 "${WRAPPER[@]}")
}

teardown() {
	if [ -n "${HOLDER:-}" ]; then
		exec {HOLDER}<&- || true
	fi
	cleanup_world
}

# own PATH...: gives paths in the Maildir to the test user (links themselves, not their targets).
own() {
	chown -h "$TEST_UID:$TEST_GID" "$@" 2>/dev/null || true
}

# files_left: everything in new/ and cur/, one per line, sorted.
files_left() {
	(cd "$(MD)" && find new cur -mindepth 1 | LC_ALL=C sort)
}

# expect_files PATH...: exactly these entries are in new/ and cur/.
expect_files() {
	local want
	want=$(printf '%s\n' "$@" | LC_ALL=C sort)
	[ $# -gt 0 ] || want=""
	if [ "$(files_left)" != "$want" ]; then
		echo "expected in the Maildir:"
		echo "$want"
		echo "got:"
		files_left
		return 1
	fi
}

# uid_of NAME: the UID the UID list gives the base name NAME (which may hold spaces).
uid_of() {
	LC_ALL=C awk -v b="$1" 'NR > 1 && $1 != "END" {
		line = $0
		for (i = 0; i < 5; i++) line = substr(line, index(line, " ") + 1)
		sub(/:.*/, "", line)
		if (line == b) { print $1; found = 1 }
	} END { exit !found }' "$(MD)/$LIST_FILE"
}

# need_root: mknod and chown need root.
need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
}

# outside_file: a readable message outside the Maildir, whose text must never be served.
outside_file() {
	printf 'Subject: outside\n\nOUTSIDE-SECRET\n' >"$T/outside"
	chmod 644 "$T/outside"
}

# expect_not_served: the output holds neither the outside file nor anything of /etc/shadow.
expect_not_served() {
	if grep -q 'OUTSIDE-SECRET' "$T/raw" || grep -q '^root:' "$T/raw"; then
		echo "served a file outside the Maildir:"
		cat "$T/raw"
		return 1
	fi
}

# --- unreadable message files ------------------------------------------------------

@test "an unreadable message file (mode 000) in new/ at the first session: skipped, logged, left alone" {
	add_user alice secret
	deliver alice "$U1" "$M1"
	deliver alice "$U2" "$M2"
	chmod 000 "$(MD)/new/$U2"
	session -- "${LOGIN[@]}" "STAT" "UIDL" "RETR 1" "RETR 2" "QUIT"
	[ "$status" -eq 0 ]
	local u1
	u1=$(list_uid alice "$U1")
	expect_increasing "$u1"
	expect_lines 2 "+OK Logged in, 1 message (22 octets)" "+OK 1 22" "+OK Unique-id listing follows" "1 $u1" "." \
		"+OK 22 octets" "Subject: one" "" "body" "." "-ERR No such message" "+OK Bye, 0 messages deleted"
	expect_logged ": warning: skipping new/$U2: Permission denied"
	# left where it was, with its mode, and not in the UID list
	expect_files "cur/$U1:2,S" "new/$U2"
	[ "$(stat -c %a "$(MD)/new/$U2")" = 0 ]
	if list_uid alice "$U2"; then echo "the UID list names $U2"; return 1; fi
	# readable again: the next session serves it, with a larger UID
	chmod 600 "$(MD)/new/$U2"
	session -- "${LOGIN[@]}" "STAT" "UIDL 2" "QUIT"
	local u2
	u2=$(list_uid alice "$U2")
	expect_increasing "$u1" "$u2"
	expect_lines 2 "+OK Logged in, 2 messages (41 octets)" "+OK 2 41" "+OK 2 $u2" "+OK Bye, 0 messages deleted"
}

@test "a message that becomes unreadable after the UID list knows it: RETR and TOP answer -ERR [SYS/TEMP], others are served" {
	add_user alice secret
	deliver alice "$U1" "$M1"
	deliver alice "$U2" "$M2"
	session -- "${LOGIN[@]}" "QUIT"
	expect_line 2 "+OK Logged in, 2 messages (41 octets)"
	chmod 000 "$(MD)/cur/$U1:2,"
	session -- "${LOGIN[@]}" "LIST" "RETR 1" "TOP 1 0" "RETR 2" "NOOP" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 2 "+OK Logged in, 2 messages (41 octets)" "+OK 2 messages (41 octets)" "1 22" "2 19" "." \
		"-ERR [SYS/TEMP] Cannot read message 1" "-ERR [SYS/TEMP] Cannot read message 1" \
		"+OK 19 octets" "Subject: two" "" "2" "." "+OK" "+OK Bye, 0 messages deleted"
	expect_logged ": error: cannot open cur/$U1:2,: Permission denied"
	# untouched (not marked seen: never retrieved); message 2 is seen
	expect_files "cur/$U1:2," "cur/$U2:2,S"
	[ "$(stat -c %a "$(MD)/cur/$U1:2,")" = 0 ]
}

# --- what is not a regular file, at login ------------------------------------------

@test "directories in cur/ and new/ are skipped at login and logged; nothing in them is served" {
	add_user alice secret
	deliver alice "$U2:2,S" "$M2" cur
	mkdir "$(MD)/cur/$U1:2,S" "$(MD)/new/$U3"
	printf 'Subject: inside a dir\n\nDIR-CONTENT\n' >"$(MD)/new/$U3/1700000004.nested.host"
	own "$(MD)/cur/$U1:2,S" "$(MD)/new/$U3" "$(MD)/new/$U3/1700000004.nested.host"
	session -- "${LOGIN[@]}" "STAT" "RETR 1" "RETR 2" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 2 "+OK Logged in, 1 message (19 octets)" "+OK 1 19" "+OK 19 octets" "Subject: two" "" "2" "." \
		"-ERR No such message" "+OK Bye, 0 messages deleted"
	expect_logged ": warning: skipping cur/$U1:2,S: not a regular file"
	expect_logged ": warning: skipping new/$U3: not a regular file"
	expect_files "cur/$U1:2,S" "cur/$U2:2,S" "new/$U3" "new/$U3/1700000004.nested.host"
	if grep -q DIR-CONTENT "$T/raw"; then echo 'served a file inside a directory'; return 1; fi
}

@test "symlinks in cur/ and new/ (to a message inside, to /etc/shadow, to a readable file outside) are skipped and logged, never followed" {
	add_user alice secret
	outside_file
	deliver alice "$U2:2,S" "$M2" cur
	ln -s "../cur/$U2:2,S" "$(MD)/new/$U1"
	ln -s /etc/shadow "$(MD)/cur/$U3:2,S"
	ln -s "$T/outside" "$(MD)/new/1700000004.outside.host"
	ln -s "$T/outside" "$(MD)/cur/1700000005.outside.host:2,"
	own "$(MD)"/new/* "$(MD)"/cur/*
	session -- "${LOGIN[@]}" "STAT" "LIST" "RETR 1" "RETR 2" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 2 "+OK Logged in, 1 message (19 octets)" "+OK 1 19" "+OK 1 message (19 octets)" "1 19" "." \
		"+OK 19 octets" "Subject: two" "" "2" "." "-ERR No such message" "+OK Bye, 0 messages deleted"
	expect_not_served
	local l
	for l in "new/$U1" "cur/$U3:2,S" "new/1700000004.outside.host" "cur/1700000005.outside.host:2,"; do
		expect_logged ": warning: skipping $l: not a regular file"
	done
	# the links are still links, their targets untouched, nothing moved
	[ -L "$(MD)/new/$U1" ]
	[ -L "$(MD)/cur/$U3:2,S" ]
	[ -L "$(MD)/new/1700000004.outside.host" ]
	[ "$(cat "$T/outside")" = "$(printf 'Subject: outside\n\nOUTSIDE-SECRET')" ]
	expect_files "cur/$U2:2,S" "new/$U1" "cur/$U3:2,S" "new/1700000004.outside.host" "cur/1700000005.outside.host:2,"
	[ "$(awk 'NR > 1 && $1 != "END" { b = $6; sub(/:.*/, "", b); print b }' "$(MD)/$LIST_FILE")" = "$U2" ]
}

@test "FIFOs in cur/ and new/, one with a writer holding it open, are skipped and logged without hanging" {
	add_user alice secret
	deliver alice "$U2:2,S" "$M2" cur
	mkfifo "$(MD)/cur/$U1:2,S" "$(MD)/new/$U3"
	own "$(MD)/cur/$U1:2,S" "$(MD)/new/$U3"
	# a writer (and reader) holding one FIFO open: opening it would not block, reading would
	exec {HOLDER}<>"$(MD)/new/$U3"
	local t0
	t0=$(date +%s)
	session -- "${LOGIN[@]}" "STAT" "RETR 1" "QUIT"
	[ "$status" -eq 0 ]
	[ $(($(date +%s) - t0)) -lt 5 ]
	expect_lines 2 "+OK Logged in, 1 message (19 octets)" "+OK 1 19" "+OK 19 octets" "Subject: two" "" "2" "." \
		"+OK Bye, 0 messages deleted"
	expect_logged ": warning: skipping cur/$U1:2,S: not a regular file"
	expect_logged ": warning: skipping new/$U3: not a regular file"
	[ -p "$(MD)/cur/$U1:2,S" ]
	[ -p "$(MD)/new/$U3" ]
}

@test "device files (like /dev/zero and /dev/null) in cur/ and new/ are skipped and logged, never read" {
	need_root
	add_user alice secret
	deliver alice "$U2:2,S" "$M2" cur
	mknod -m 666 "$(MD)/cur/$U1:2,S" c 1 5
	mknod -m 666 "$(MD)/new/$U3" c 1 3
	own "$(MD)/cur/$U1:2,S" "$(MD)/new/$U3"
	session -- "${LOGIN[@]}" "STAT" "LIST" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 2 "+OK Logged in, 1 message (19 octets)" "+OK 1 19" "+OK 1 message (19 octets)" "1 19" "." \
		"+OK Bye, 0 messages deleted"
	expect_logged ": warning: skipping cur/$U1:2,S: not a regular file"
	expect_logged ": warning: skipping new/$U3: not a regular file"
	[ -c "$(MD)/cur/$U1:2,S" ]
	[ -c "$(MD)/new/$U3" ]
}

# --- what is not a regular file, after the snapshot ----------------------------------

@test "a message replaced after login by a symlink to /etc/shadow or to a file outside: -ERR [SYS/TEMP], the target never served" {
	add_user alice secret
	outside_file
	deliver alice "$U1:2,S" "$M1" cur
	deliver alice "$U2:2,S" "$M2" cur
	deliver alice "$U3:2,S" 'Subject: three\n\n3\n' cur
	live_start
	live_send "${LOGIN[@]}"
	live_expect "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 3 messages (62 octets)"
	rm "$(MD)/cur/$U1:2,S" "$(MD)/cur/$U2:2,S"
	ln -s /etc/shadow "$(MD)/cur/$U1:2,S"
	ln -s "$T/outside" "$(MD)/cur/$U2:2,S"
	own "$(MD)/cur/$U1:2,S" "$(MD)/cur/$U2:2,S"
	live_send "RETR 1" "TOP 1 0" "RETR 2" "TOP 2 5" "RETR 3" "DELE 1" "DELE 2" "QUIT"
	live_expect "-ERR [SYS/TEMP] Cannot read message 1" "-ERR [SYS/TEMP] Cannot read message 1" \
		"-ERR [SYS/TEMP] Cannot read message 2" "-ERR [SYS/TEMP] Cannot read message 2" \
		"+OK 21 octets" "Subject: three" "" "3" "." "+OK Message 1 deleted" "+OK Message 2 deleted" \
		"+OK Bye, 2 messages deleted"
	live_end
	[ "$status" -eq 0 ]
	expect_logged ": warning: cur/$U1:2,S is no longer a regular file"
	expect_logged ": warning: cur/$U2:2,S is no longer a regular file"
	# QUIT removed the links themselves; the targets are untouched
	expect_files "cur/$U3:2,S"
	[ -s /etc/shadow ]
	[ "$(cat "$T/outside")" = "$(printf 'Subject: outside\n\nOUTSIDE-SECRET')" ]
}

@test "a message replaced after login by a FIFO (with and without a writer): -ERR [SYS/TEMP] at once, no hang" {
	add_user alice secret
	deliver alice "$U1:2,S" "$M1" cur
	deliver alice "$U2:2,S" "$M2" cur
	live_start
	live_send "${LOGIN[@]}"
	live_expect "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 2 messages (41 octets)"
	rm "$(MD)/cur/$U1:2,S" "$(MD)/cur/$U2:2,S"
	mkfifo "$(MD)/cur/$U1:2,S" "$(MD)/cur/$U2:2,S"
	own "$(MD)/cur/$U1:2,S" "$(MD)/cur/$U2:2,S"
	exec {HOLDER}<>"$(MD)/cur/$U2:2,S"
	live_send "RETR 1" "TOP 2 0" "RETR 2" "NOOP" "QUIT"
	live_expect "-ERR [SYS/TEMP] Cannot read message 1" "-ERR [SYS/TEMP] Cannot read message 2" \
		"-ERR [SYS/TEMP] Cannot read message 2" "+OK" "+OK Bye, 0 messages deleted"
	live_end
	[ "$status" -eq 0 ]
	expect_logged ": warning: cur/$U1:2,S is no longer a regular file"
	[ -p "$(MD)/cur/$U1:2,S" ]
	[ -p "$(MD)/cur/$U2:2,S" ]
}

@test "a message replaced after login by a /dev/zero device or a directory: -ERR [SYS/TEMP], never read" {
	need_root
	add_user alice secret
	deliver alice "$U1:2,S" "$M1" cur
	deliver alice "$U2:2,S" "$M2" cur
	live_start
	live_send "${LOGIN[@]}"
	live_expect "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 2 messages (41 octets)"
	rm "$(MD)/cur/$U1:2,S" "$(MD)/cur/$U2:2,S"
	mknod -m 666 "$(MD)/cur/$U1:2,S" c 1 5
	mkdir "$(MD)/cur/$U2:2,S"
	own "$(MD)/cur/$U1:2,S" "$(MD)/cur/$U2:2,S"
	live_send "RETR 1" "TOP 1 0" "RETR 2" "QUIT"
	live_expect "-ERR [SYS/TEMP] Cannot read message 1" "-ERR [SYS/TEMP] Cannot read message 1" \
		"-ERR [SYS/TEMP] Cannot read message 2" "+OK Bye, 0 messages deleted"
	live_end
	[ "$status" -eq 0 ]
	expect_logged ": warning: cur/$U1:2,S is no longer a regular file"
	expect_logged ": warning: cur/$U2:2,S is no longer a regular file"
}

# --- sizes ---------------------------------------------------------------------------

@test "zero-length messages in new/ and cur/: LIST 0, RETR and TOP give '+OK 0 octets' then '.', DELE removes them" {
	add_user alice secret
	deliver alice "$U1" ''
	deliver alice "$U2:2,S" '' cur
	deliver alice "1700000003.sized,S=0,W=0.host:2,RS" '' cur
	session -- "${LOGIN[@]}" "STAT" "LIST" "LIST 2" "RETR 1" "TOP 2 0" "TOP 3 10" "UIDL 3" "QUIT"
	[ "$status" -eq 0 ]
	local u3
	u3=$(list_uid alice "1700000003.sized,S=0,W=0.host")
	expect_lines 2 "+OK Logged in, 3 messages (0 octets)" "+OK 3 0" "+OK 3 messages (0 octets)" "1 0" "2 0" "3 0" "." \
		"+OK 2 0" "+OK 0 octets" "." "+OK 0 octets" "." "+OK 0 octets" "." "+OK 3 $u3" "+OK Bye, 0 messages deleted"
	expect_raw_crlf
	session -o exact_size=no -- "${LOGIN[@]}" "LIST" "RETR 3" "DELE 1" "DELE 2" "DELE 3" "QUIT"
	expect_lines 2 "+OK Logged in, 3 messages (0 octets)" "+OK 3 messages (0 octets)" "1 0" "2 0" "3 0" "." \
		"+OK 0 octets" "." "+OK Message 1 deleted" "+OK Message 2 deleted" "+OK Message 3 deleted" \
		"+OK Bye, 3 messages deleted"
	expect_files
}

@test "a sparse 5 GiB message: sizes in STAT, LIST and the UID list are exact, without overflow" {
	add_user alice secret
	local f="$(MD)/cur/$U1:2,S"
	if ! truncate -s 5G "$f" 2>/dev/null; then
		skip "cannot make a 5 GiB file here"
	fi
	if [ $(($(stat -c %b "$f") * $(stat -c %B "$f"))) -ge 1048576 ]; then
		rm -f "$f"
		skip "the file system does not make sparse files"
	fi
	own "$f"
	deliver alice "$U2:2,S" "$M2" cur
	# the first session reads the 5 GiB of zeros once for the CRLF size (some seconds)
	session -- "${LOGIN[@]}" "STAT" "LIST" "LIST 1" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 2 "+OK Logged in, 2 messages (5368709139 octets)" "+OK 2 5368709139" \
		"+OK 2 messages (5368709139 octets)" "1 5368709120" "2 19" "." "+OK 1 5368709120" "+OK Bye, 0 messages deleted"
	grep -q "^[0-9]* 5368709120 5368709120 0 - $U1\(:2,.*\)\?\$" "$(MD)/$LIST_FILE"
	# the next session takes the sizes from the list, at once
	local t0 uid1
	uid1=$(list_uid alice "$U1")
	t0=$(date +%s)
	session -o exact_size=no -- "${LOGIN[@]}" "STAT" "UIDL 1" "DELE 1" "QUIT"
	[ $(($(date +%s) - t0)) -le 2 ]
	expect_lines 2 "+OK Logged in, 2 messages (5368709136 octets)" "+OK 2 5368709136" \
		"+OK 1 $uid1" "+OK Message 1 deleted" "+OK Bye, 1 message deleted"
	expect_files "cur/$U2:2,S"
}

@test "sizes in file names are hints: a ,S= or ,W= the file cannot have is not announced; a possible ,W= is" {
	add_user alice secret
	# 19 stored, 22 exact: names claiming 2^64 - 1 octets
	deliver alice "$U1,S=18446744073709551615,W=18446744073709551615" "$M1"
	# 16 stored, 19 exact: ,W=20 is possible for 16 octets (16 to 32), so it is announced
	deliver alice "$U2,S=16,W=20" "$M2"
	# 18 stored, 21 exact: ,S= is not the file's size, so ,W= is not trusted either
	deliver alice "$U3,S=99,W=30" 'Subject: three\n\n3\n'
	session -- "${LOGIN[@]}" "STAT" "LIST" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 2 "+OK Logged in, 3 messages (63 octets)" "+OK 3 63" "+OK 3 messages (63 octets)" \
		"1 22" "2 20" "3 21" "." "+OK Bye, 0 messages deleted"
	session -o exact_size=no -- "${LOGIN[@]}" "STAT" "QUIT"
	expect_lines 2 "+OK Logged in, 3 messages (53 octets)" "+OK 3 53" "+OK Bye, 0 messages deleted"
}

# --- missing or misshapen directories ----------------------------------------------------

@test "a missing Maildir (and a missing home) is an empty mailbox, logged; nothing is created" {
	add_user alice secret
	rm -rf "$(MD)"
	session -- "${LOGIN[@]}" "UIDL" "RETR 1" "DELE 1" "RSET" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 2 "+OK Logged in, 0 messages (0 octets)" "+OK Unique-id listing follows" "." \
		"-ERR No such message" "-ERR No such message" "+OK 0 messages (0 octets)" "+OK Bye, 0 messages deleted"
	expect_logged ": notice: Maildir $(MD) does not exist: the mailbox is empty"
	[ ! -e "$(MD)" ]
	rm -rf "$T/home/alice"
	session -- "${LOGIN[@]}" "STAT" "QUIT"
	expect_lines 2 "+OK Logged in, 0 messages (0 octets)" "+OK 0 0" "+OK Bye, 0 messages deleted"
	expect_logged ": notice: Maildir $(MD) does not exist: the mailbox is empty"
	[ ! -e "$T/home/alice" ]
}

@test "a missing cur/: new/ is served, its messages stay in new/, cur/ is not created" {
	add_user alice secret
	deliver alice "$U1" "$M1"
	deliver alice "$U2" "$M2"
	rmdir "$(MD)/cur"
	session -- "${LOGIN[@]}" "STAT" "RETR 1" "DELE 2" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 2 "+OK Logged in, 2 messages (41 octets)" "+OK 2 41" "+OK 22 octets" "Subject: one" "" "body" "." \
		"+OK Message 2 deleted" "+OK Bye, 1 message deleted"
	[ ! -e "$(MD)/cur" ]
	[ "$(ls "$(MD)/new")" = "$U1" ]
	list_uid alice "$U1" >/dev/null
}

@test "a missing new/: cur/ is served, new/ is not created" {
	add_user alice secret
	deliver alice "$U1:2,S" "$M1" cur
	rmdir "$(MD)/new"
	session -- "${LOGIN[@]}" "STAT" "TOP 1 0" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 2 "+OK Logged in, 1 message (22 octets)" "+OK 1 22" "+OK 22 octets" "Subject: one" "" "." \
		"+OK Bye, 0 messages deleted"
	[ ! -e "$(MD)/new" ]
	[ "$(ls "$(MD)/cur")" = "$U1:2,S" ]
}

@test "the Maildir path is a regular file: login answers -ERR [SYS/TEMP] and closes, logged, the file untouched" {
	add_user alice secret
	rm -rf "$(MD)"
	printf 'not a Maildir\n' >"$(MD)"
	own "$(MD)"
	session -- "${LOGIN[@]}" "STAT" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "$NO_MAILBOX"
	expect_logged ": error: cannot open Maildir $(MD): Not a directory"
	[ "$(cat "$(MD)")" = "not a Maildir" ]
}

@test "cur/ that is a regular file or a symlink to a directory: login answers -ERR [SYS/TEMP], logged, new/ untouched" {
	add_user alice secret
	deliver alice "$U1" "$M1"
	rmdir "$(MD)/cur"
	printf 'x\n' >"$(MD)/cur"
	own "$(MD)/cur"
	session -- "${LOGIN[@]}" "STAT" "QUIT"
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "$NO_MAILBOX"
	expect_logged ": error: cannot open Maildir cur/: Not a directory"
	[ -f "$(MD)/cur" ]
	[ "$(ls "$(MD)/new")" = "$U1" ]
	rm "$(MD)/cur"
	mkdir "$T/elsewhere"
	own "$T/elsewhere"
	ln -s "$T/elsewhere" "$(MD)/cur"
	own "$(MD)/cur"
	session -- "${LOGIN[@]}" "STAT" "QUIT"
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "$NO_MAILBOX"
	# O_NOFOLLOW | O_DIRECTORY on a symlink: Linux says ENOTDIR
	[ "$(grep -c ': error: cannot open Maildir cur/: Not a directory' "$T/log")" -eq 1 ]
	[ -z "$(ls "$T/elsewhere")" ]
	[ "$(ls "$(MD)/new")" = "$U1" ]
}

# --- the UID list, its lock and its temporary file -------------------------------------------

@test "a FIFO as the UID list: login answers -ERR [SYS/TEMP] at once, logged, nothing changes" {
	add_user alice secret
	deliver alice "$U1" "$M1"
	mkfifo "$(MD)/$LIST_FILE"
	own "$(MD)/$LIST_FILE"
	session -- "${LOGIN[@]}" "STAT" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "$NO_MAILBOX"
	expect_logged ": error: $LIST_FILE is not a regular file"
	[ -p "$(MD)/$LIST_FILE" ]
	expect_files "new/$U1"
}

@test "a symlink as the UID list is never followed: -ERR [SYS/TEMP], logged, its target untouched" {
	add_user alice secret
	deliver alice "$U1" "$M1"
	session -- "${LOGIN[@]}" "QUIT"
	mv "$(MD)/$LIST_FILE" "$T/list-copy"
	cp "$T/list-copy" "$T/list-before"
	ln -s "$T/list-copy" "$(MD)/$LIST_FILE"
	own "$(MD)/$LIST_FILE" "$T/list-copy"
	session -- "${LOGIN[@]}" "STAT" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "$NO_MAILBOX"
	expect_logged ": error: cannot open $LIST_FILE: Too many levels of symbolic links"
	[ -L "$(MD)/$LIST_FILE" ]
	cmp "$T/list-copy" "$T/list-before"
}

@test "an unreadable UID list (mode 000): login answers -ERR [SYS/TEMP], logged, the list kept" {
	add_user alice secret
	deliver alice "$U1" "$M1"
	session -- "${LOGIN[@]}" "QUIT"
	cp "$(MD)/$LIST_FILE" "$T/list-before"
	chmod 000 "$(MD)/$LIST_FILE"
	session -- "${LOGIN[@]}" "STAT" "QUIT"
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "$NO_MAILBOX"
	expect_logged ": error: cannot open $LIST_FILE: Permission denied"
	chmod 600 "$(MD)/$LIST_FILE"
	cmp "$(MD)/$LIST_FILE" "$T/list-before"
}

# expect_oversized_list_rebuilt DAMAGE LOGGED: alice's list of one message,
# damaged by the shell snippet DAMAGE ($L its path), is treated as corrupt
# with the error LOGGED, the damage logged once, and rebuilt small with a
# new UID.
expect_oversized_list_rebuilt() {
	add_user alice secret
	deliver alice "$U1" "$M1"
	session -- "${LOGIN[@]}" "UIDL 1" "QUIT"
	local old new
	old=$(list_uid alice "$U1")
	L="$(MD)/$LIST_FILE"
	eval "$1"
	session -- "${LOGIN[@]}" "UIDL 1" "QUIT"
	[ "$status" -eq 0 ]
	new=$(list_uid alice "$U1")
	expect_increasing "$old" "$new"
	expect_lines 2 "+OK Logged in, 1 message (22 octets)" "+OK 1 $new" "+OK Bye, 0 messages deleted"
	expect_logged ": error: $LIST_FILE $2"
	[ "$(grep -c ": warning: $LIST_FILE is corrupt: rebuilt with new UIDs" "$T/log")" -eq 1 ]
	[ "$(stat -c %s "$L")" -lt 4096 ]
}

@test "a UID list over 1 GiB (sparse) is treated as corrupt, logged and rebuilt small" {
	expect_oversized_list_rebuilt 'truncate -s $((1024 * 1024 * 1024 + 1)) "$L"' \
		"is larger than any UID list: treated as corrupt"
}

# pad_list: a line of 64 MiB after the list's header.
pad_list() {
	python3 - "$L" <<'PY'
import sys
path = sys.argv[1]
lines = open(path, "rb").read().split(b"\n")
open(path, "wb").write(b"\n".join([lines[0], b"x" * (64 << 20)] + lines[1:]))
PY
}

@test "a UID list padded to 64 MiB beyond what its one entry can need is corrupt, logged, and not read whole" {
	expect_oversized_list_rebuilt pad_list \
		"is larger than the entries its END line counts can need, or has none: treated as corrupt"
}

@test "a UID list of 1 MiB of binary garbage without a newline is rebuilt, logged" {
	add_user alice secret
	deliver alice "$U1" "$M1"
	head -c 1048576 /dev/urandom | tr -d '\n' >"$(MD)/$LIST_FILE"
	own "$(MD)/$LIST_FILE"
	session -- "${LOGIN[@]}" "STAT" "UIDL 1" "QUIT"
	[ "$status" -eq 0 ]
	local u1
	u1=$(list_uid alice "$U1")
	expect_increasing "$u1"
	expect_lines 2 "+OK Logged in, 1 message (22 octets)" "+OK 1 22" "+OK 1 $u1" "+OK Bye, 0 messages deleted"
	expect_logged ": warning: $LIST_FILE is corrupt: rebuilt with new UIDs"
}

@test "a directory as the lock file: -ERR [SYS/TEMP] when the list must change, logged; a current list needs no lock" {
	add_user alice secret
	deliver alice "$U1" "$M1"
	mkdir "$(MD)/$LOCK_FILE"
	own "$(MD)/$LOCK_FILE"
	session -- "${LOGIN[@]}" "STAT" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "$NO_MAILBOX"
	expect_logged ": error: cannot open $LOCK_FILE: Is a directory"
	expect_files "new/$U1"
	[ ! -e "$(MD)/$LIST_FILE" ]
	# with a current list made while the lock file was a file, the directory is no obstacle
	rmdir "$(MD)/$LOCK_FILE"
	session -- "${LOGIN[@]}" "QUIT"
	rm "$(MD)/$LOCK_FILE"
	mkdir "$(MD)/$LOCK_FILE"
	own "$(MD)/$LOCK_FILE"
	session -- "${LOGIN[@]}" "RETR 1" "QUIT"
	expect_lines 2 "+OK Logged in, 1 message (22 octets)" "+OK 22 octets" "Subject: one" "" "body" "." \
		"+OK Bye, 0 messages deleted"
	[ -d "$(MD)/$LOCK_FILE" ]
}

@test "a symlink as the lock file is never followed: -ERR [SYS/TEMP], its target neither changed nor created" {
	add_user alice secret
	deliver alice "$U1" "$M1"
	printf 'precious\n' >"$T/victim"
	own "$T/victim"
	ln -s "$T/victim" "$(MD)/$LOCK_FILE"
	own "$(MD)/$LOCK_FILE"
	session -- "${LOGIN[@]}" "STAT" "QUIT"
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "$NO_MAILBOX"
	expect_logged ": error: cannot open $LOCK_FILE: Too many levels of symbolic links"
	[ "$(cat "$T/victim")" = precious ]
	# a dangling link: its target is not created
	rm "$(MD)/$LOCK_FILE"
	ln -s "$T/created" "$(MD)/$LOCK_FILE"
	own "$(MD)/$LOCK_FILE"
	session -- "${LOGIN[@]}" "STAT" "QUIT"
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "$NO_MAILBOX"
	[ ! -e "$T/created" ]
	expect_files "new/$U1"
}

@test "a symlink planted as the temporary UID list is never followed: -ERR [SYS/TEMP] once, the link removed, the target untouched" {
	add_user alice secret
	deliver alice "$U1" "$M1"
	printf 'precious\n' >"$T/victim"
	own "$T/victim"
	ln -s "$T/victim" "$(MD)/$TEMP_FILE"
	own "$(MD)/$TEMP_FILE"
	session -- "${LOGIN[@]}" "STAT" "QUIT"
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "$NO_MAILBOX"
	expect_logged ": error: cannot write $LIST_FILE: Too many levels of symbolic links"
	[ "$(cat "$T/victim")" = precious ]
	[ ! -e "$(MD)/$TEMP_FILE" ]
	[ ! -L "$(MD)/$TEMP_FILE" ]
	session -- "${LOGIN[@]}" "STAT" "QUIT"
	expect_lines 2 "+OK Logged in, 1 message (22 octets)" "+OK 1 22" "+OK Bye, 0 messages deleted"
	[ "$(cat "$T/victim")" = precious ]
}

# --- file names ---------------------------------------------------------------------------

@test "file names with spaces and 8-bit octets are served, keep their UIDs and are removed by DELE" {
	add_user alice secret
	local n1="1700000001.two  spaces.host" n2=$'1700000002.h\xc3\xa9llo\xff.host' n3="1700000003.trailing space "
	deliver alice "$n1" "$M1"
	deliver alice "$n2:2,S" "$M2" cur
	deliver alice "$n3" "$M1"
	session -- "${LOGIN[@]}" "STAT" "UIDL" "RETR 2" "QUIT"
	[ "$status" -eq 0 ]
	local u1 u2 u3
	u1=$(uid_of "$n1")
	u2=$(uid_of "$n2")
	u3=$(uid_of "$n3")
	expect_increasing "$u1" "$u2" "$u3"
	expect_lines 2 "+OK Logged in, 3 messages (63 octets)" "+OK 3 63" "+OK Unique-id listing follows" \
		"1 $u1" "2 $u2" "3 $u3" "." "+OK 19 octets" "Subject: two" "" "2" "." "+OK Bye, 0 messages deleted"
	expect_files "cur/$n1:2," "cur/$n2:2,S" "cur/$n3:2,"
	# the list reads back: same UIDs, no rebuild
	session -- "${LOGIN[@]}" "UIDL" "DELE 1" "DELE 2" "DELE 3" "QUIT"
	expect_lines 2 "+OK Logged in, 3 messages (63 octets)" "+OK Unique-id listing follows" \
		"1 $u1" "2 $u2" "3 $u3" "." "+OK Message 1 deleted" "+OK Message 2 deleted" "+OK Message 3 deleted" \
		"+OK Bye, 3 messages deleted"
	refute_logged "corrupt"
	expect_files
}

@test "255-octet file names: served from new/ when ':2,' does not fit (logged), and from cur/; UIDs kept" {
	add_user alice secret
	local a b
	a="1700000001.$(head -c 244 /dev/zero | tr '\0' a)"
	b="1700000002.$(head -c 241 /dev/zero | tr '\0' b):2,"
	[ ${#a} -eq 255 ]
	[ ${#b} -eq 255 ]
	deliver alice "$a" "$M1"
	deliver alice "$b" "$M2" cur
	session -- "${LOGIN[@]}" "STAT" "UIDL" "RETR 1" "RETR 2" "QUIT"
	[ "$status" -eq 0 ]
	local u1 u2
	u1=$(list_uid alice "$a")
	u2=$(list_uid alice "${b%:2,}")
	expect_increasing "$u1" "$u2"
	expect_lines 2 "+OK Logged in, 2 messages (41 octets)" "+OK 2 41" "+OK Unique-id listing follows" \
		"1 $u1" "2 $u2" "." "+OK 22 octets" "Subject: one" "" "body" "." "+OK 19 octets" "Subject: two" "" "2" "." \
		"+OK Bye, 0 messages deleted"
	expect_logged ": warning: cannot move new/$a to cur/: File name too long"
	# neither can take a longer name (":2," or "S"): both stay as they are
	expect_files "new/$a" "cur/$b"
	session -- "${LOGIN[@]}" "UIDL" "DELE 1" "DELE 2" "QUIT"
	expect_lines 2 "+OK Logged in, 2 messages (41 octets)" "+OK Unique-id listing follows" "1 $u1" "2 $u2" "." \
		"+OK Message 1 deleted" "+OK Message 2 deleted" "+OK Bye, 2 messages deleted"
	expect_files
}

@test "names with a newline, a tab, DEL or an empty base name get no UID: skipped with a log line, the rest served" {
	add_user alice secret
	local nl=$'1700000002.evil\nname.host' tab=$'1700000003.tab\there.host:2,' del=$'1700000004.del\x7f.host'
	deliver alice "$U1" "$M1"
	deliver alice "$nl" "$M2"
	deliver alice "$tab" "$M2" cur
	deliver alice "$del" "$M2"
	deliver alice ":2,S" "$M2" cur
	session -- "${LOGIN[@]}" "STAT" "UIDL" "RETR 2" "QUIT"
	[ "$status" -eq 0 ]
	local u1
	u1=$(list_uid alice "$U1")
	expect_lines 2 "+OK Logged in, 1 message (22 octets)" "+OK 1 22" "+OK Unique-id listing follows" "1 $u1" "." \
		"-ERR No such message" "+OK Bye, 0 messages deleted"
	[ "$(grep -c 'no UID could be given' "$T/log")" -eq 4 ]
	expect_logged ": warning: skipping new/1700000002.evil"
	expect_logged ": warning: skipping cur/${tab//$'\t'/?}: no UID could be given"
	expect_logged ": warning: skipping new/${del//$'\x7f'/?}: no UID could be given"
	expect_logged ": warning: skipping cur/:2,S: no UID could be given"
	# all left where they were; the UID list names only the good one
	expect_files "cur/$U1:2," "new/$nl" "cur/$tab" "new/$del" "cur/:2,S"
	[ "$(awk 'NR > 1 && $1 != "END" { b = $6; sub(/:.*/, "", b); print b }' "$(MD)/$LIST_FILE")" = "$U1" ]
	refute_logged "corrupt"
}

@test "two files with one base name in new/ and cur/: one is served, DELE removes only it, the twin is served next with its own size" {
	add_user alice secret
	deliver alice "1700000001.twin.host:2,S" 'Subject: cur copy\n\nA\n' cur
	deliver alice "1700000001.twin.host" 'Subject: new copy, longer\n\nBBBBBBBBBBBBBBBBBBBB\n'
	session -- "${LOGIN[@]}" "STAT" "DELE 1" "QUIT"
	[ "$status" -eq 0 ]
	# the cur/ copy (21 octets stored, 24 exact) stands for the base name
	expect_lines 2 "+OK Logged in, 1 message (24 octets)" "+OK 1 24" "+OK Message 1 deleted" "+OK Bye, 1 message deleted"
	expect_files "new/1700000001.twin.host"
	# nothing lost: the twin is served next; it is 51 octets with CRLFs, and
	# RETR must announce what it sends (clients read by the announced size)
	session -- "${LOGIN[@]}" "RETR 1" "QUIT"
	expect_lines 3 "+OK 51 octets" "Subject: new copy, longer" "" "BBBBBBBBBBBBBBBBBBBB" "." "+OK Bye, 0 messages deleted"
}
