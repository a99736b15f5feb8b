#!/usr/bin/env bats
# The snapshot may come from the UID list alone, and only while it is
# current (the fast path): a session that read new/ and cur/ and found them
# settled records their stamps (inode, size, change time) in the list's
# header; a later session whose directories still have those stamps takes
# its snapshot from the list alone, without reading them.  Any change to
# either directory (delivery, removal, renames by us or by others, a
# restored copy, a touch, DELE) must send the next session back to the
# directories; a damaged list, a stale name, a held lock or a missing
# directory must not cost a message.
#
# Timing: a stamp is recorded only when the directory's change time lay at
# least 50 ms back at the scan (STAMP_SETTLE_NS in params.h; 2 s on a file
# system without sub-second times).  settle pauses past that margin, so the
# sessions that must record do, deterministically.

load lib/helpers
load lib/maildir

B4=1700000004.M4P4.host

setup() {
	setup_world
	# a hang fails the test instead of blocking the suite
	WRAPPER=(timeout -k 5 30 "${WRAPPER[@]}")
}

teardown() {
	if [ -n "${HOLDER_PID:-}" ]; then
		kill -9 "$HOLDER_PID" 2>/dev/null || true
		wait "$HOLDER_PID" 2>/dev/null || true
	fi
	cleanup_world
}

# --- helpers ----------------------------------------------------------------------

# settle [DIR]: waits until the last change to new/ and cur/ lies beyond
# the settle margin: 0.1 s (twice the 50 ms), or 2.1 s when the file system
# gives DIR (default cur) no sub-second change time.
settle() {
	if [ "$(dir_stamp "${1:-cur}" | cut -d' ' -f4)" = 0 ]; then
		sleep 2.1
	else
		sleep 0.1
	fi
}

# dir_stamp new|cur: the directory's stamp as the list records it:
# "inode size ctime-seconds ctime-nanoseconds" (%z gives the fraction).
dir_stamp() {
	local ino size sec day time zone frac
	read -r ino size sec day time zone < <(stat -c '%i %s %Z %z' "$(MD)/$1")
	frac=0
	[[ $time == *.* ]] && frac=$((10#${time#*.}))
	printf '%s %s %s %s\n' "$ino" "$size" "$sec" "$frac"
}

# header_stamps: the eight stamp numbers of the list's header (new/, then cur/).
header_stamps() {
	head -n 1 "$(MD)/$LIST_FILE" | cut -d' ' -f4-11
}

# expect_stamps_current: the header records exactly the stamps new/ and cur/ have now.
expect_stamps_current() {
	local want got
	want="$(dir_stamp new) $(dir_stamp cur)"
	got=$(header_stamps)
	if [ "$got" != "$want" ]; then
		echo "header stamps: '$got'"
		echo "directories:   '$want'"
		cat "$(MD)/$LIST_FILE"
		return 1
	fi
}

# expect_no_stamps: the header records no stamp (all eight numbers 0).
expect_no_stamps() {
	if [ "$(header_stamps)" != "0 0 0 0 0 0 0 0" ]; then
		echo "expected no stamps, got: $(header_stamps)"
		cat "$(MD)/$LIST_FILE"
		return 1
	fi
}

# list_entries: the list's entry lines (without header and END line).
list_entries() {
	sed '1d;$d' "$(MD)/$LIST_FILE"
}

# refute COMMAND...: fails when COMMAND succeeds (a bare "!" never fails a bats test).
refute() {
	if "$@"; then
		echo "expected to fail: $*"
		return 1
	fi
}

# list_uid_of BASE: the UID the list gives BASE (fails when it names no such base name).
list_uid_of() {
	list_uid alice "$1"
}

# settled_mailbox: alice with B1 B2 B3 delivered to new/; a first session
# moves them to cur/ (recording nothing: it changed cur/), and after settle
# a second one records the stamps.  OLD holds their UIDs.
settled_mailbox() {
	alice_with_three_messages
	uidl_session
	expect_line 2 "+OK Logged in, 3 messages (71 octets)"
	OLD=("${UIDS[@]}")
	settle
	uidl_session
	[ "${UIDS[*]}" = "${OLD[*]}" ]
	expect_stamps_current
}

# expect_uids_above_old UID...: each UID is larger than every UID in OLD.
expect_uids_above_old() {
	local u
	for u in "$@"; do
		expect_increasing "${OLD[2]}" "$u"
	done
}

# need_strace: skips unless strace can trace a program here.
need_strace() {
	command -v strace >/dev/null 2>&1 || skip "strace is not installed"
	strace -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace here (ptrace refused)"
}

# trace_session ARGS...: as session, run under strace (directory reads
# and opens of every process) into $T/trace.
trace_session() {
	local saved=("${WRAPPER[@]}")
	WRAPPER=(timeout -k 5 30 strace -f -qq -e trace=getdents64,openat -o "$T/trace")
	session "$@"
	WRAPPER=("${saved[@]}")
	# the trace is real: it shows the handler opening the list
	grep -q "openat(.*\"$LIST_FILE\"" "$T/trace" || { echo "no trace:"; cat "$T/trace"; return 1; }
}

# maildir_reads: the directory reads in $T/trace from the opening of the
# Maildir on (started as root, the handler reads its empty privsep_dir
# before that, to check it).
maildir_reads() {
	awk -v md="\"$(MD)\"" 'index($0, "openat(") && index($0, md) { open = 1 } open && /getdents64/' "$T/trace" | grep .
}

# --- recording the stamps -------------------------------------------------------------

@test "a session after a pause records the stamps of new/ and cur/ and the full cur/ names" {
	alice_with_three_messages
	uidl_session
	local u=("${UIDS[@]}")
	# the first session moved new/ -> cur/ after its scan: nothing to record
	expect_no_stamps
	settle
	uidl_session
	[ "${UIDS[*]}" = "${u[*]}" ]
	[ "$(head -n 1 "$(MD)/$LIST_FILE")" = \
		"POP3-HANDLER-UIDLIST 3 $((u[2] + 1)) $(dir_stamp new) $(dir_stamp cur)" ]
	[ "$(list_entries)" = "$(printf '%s\n' "${u[0]} 26 23 0 - $B1:2," "${u[1]} 21 21 0 - $B2:2," \
		"${u[2]} 24 20 0 - $B3:2,")" ]
	list_seal check
	# the stamps are real ones, not zeros
	[ "$(header_stamps | cut -d' ' -f1)" -gt 0 ]
	[ "$(header_stamps | cut -d' ' -f5)" -gt 0 ]
}

@test "with current stamps a session reads no directory and answers as the one that read them" {
	need_strace
	alice_with_three_messages
	uidl_session
	settle
	# the recording session reads the directories: the trace shows it
	trace_session -- "${LOGIN[@]}" "STAT" "LIST" "UIDL" "QUIT"
	local second=$output
	expect_lines 2 "+OK Logged in, 3 messages (71 octets)" "+OK 3 71" "+OK 3 messages (71 octets)" \
		"1 26" "2 21" "3 24" "." "+OK Unique-id listing follows" \
		"1 $(list_uid_of "$B1")" "2 $(list_uid_of "$B2")" "3 $(list_uid_of "$B3")" "." \
		"+OK Bye, 0 messages deleted"
	maildir_reads >/dev/null
	expect_stamps_current
	trace_session -- "${LOGIN[@]}" "STAT" "LIST" "UIDL" "QUIT"
	refute maildir_reads
	# nor did it open a message file
	refute grep -E "$B1|$B2|$B3" "$T/trace"
	[ "$output" = "$second" ]
}

@test "client_workarounds: outlook-no-nuls keeps the fast path; oe-ns-eoh reads each header, not the directories" {
	need_strace
	settled_mailbox
	trace_session -o client_workarounds=outlook-no-nuls -- "${LOGIN[@]}" "LIST" "QUIT"
	expect_lines 2 "+OK Logged in, 3 messages (71 octets)" "+OK 3 messages (71 octets)" "1 26" "2 21" "3 24" "." \
		"+OK Bye, 0 messages deleted"
	refute maildir_reads
	refute grep -E "$B1|$B2|$B3" "$T/trace"
	# where each header ends decides the size: every message is opened,
	# and these three end theirs with a blank line (sizes unchanged)
	trace_session -o client_workarounds=oe-ns-eoh -- "${LOGIN[@]}" "LIST" "QUIT"
	expect_lines 2 "+OK Logged in, 3 messages (71 octets)" "+OK 3 messages (71 octets)" "1 26" "2 21" "3 24" "." \
		"+OK Bye, 0 messages deleted"
	refute maildir_reads
	grep -q "$B1" "$T/trace" && grep -q "$B2" "$T/trace" && grep -q "$B3" "$T/trace"
	expect_stamps_current
}

@test "a change younger than the settle margin is not recorded (the handler's clock 5 s back)" {
	command -v faketime >/dev/null 2>&1 || skip "faketime is not installed"
	settled_mailbox
	deliver alice "$B4:2," "$M1" cur
	settle
	# the clock only: libfaketime would move the times fstat gives as well
	local saved=("${WRAPPER[@]}")
	WRAPPER=(timeout -k 5 30 env NO_FAKE_STAT=1 faketime -f -5s)
	uidl_session
	WRAPPER=("${saved[@]}")
	expect_line 2 "+OK Logged in, 4 messages (97 octets)"
	# to that session cur/ changed in its future: too recent to record
	expect_no_stamps
	# the same session on the real clock records
	uidl_session
	expect_stamps_current
}

# --- every change sends the next session back to the directories ------------------------

@test "a delivery to new/ is seen by the next session" {
	settled_mailbox
	deliver alice "$B4" "$M1"
	uidl_session
	expect_line 2 "+OK Logged in, 4 messages (97 octets)"
	[ "${UIDS[*]:0:3}" = "${OLD[*]}" ]
	expect_uids_above_old "${UIDS[3]}"
	[ -f "$(MD)/cur/$B4:2," ]
}

@test "a delivery straight into cur/ is seen by the next session" {
	settled_mailbox
	deliver alice "$B4:2,S" "$M1" cur
	uidl_session
	expect_line 2 "+OK Logged in, 4 messages (97 octets)"
	[ "${UIDS[*]:0:3}" = "${OLD[*]}" ]
	expect_uids_above_old "${UIDS[3]}"
}

@test "a message removed from cur/ by another program is gone for the next session" {
	settled_mailbox
	rm "$(MD)/cur/$B2:2,"
	uidl_session
	expect_line 2 "+OK Logged in, 2 messages (50 octets)"
	[ "${UIDS[*]}" = "${OLD[0]} ${OLD[2]}" ]
	# and from the list
	refute list_uid_of "$B2"
}

@test "a flag rename by another program is seen, and RETR of that message works" {
	settled_mailbox
	mv "$(MD)/cur/$B2:2," "$(MD)/cur/$B2:2,S"
	# the pause lets this session record again, which shows it read cur/
	settle
	session -- "${LOGIN[@]}" "UIDL" "RETR 2" "QUIT"
	expect_lines 2 "+OK Logged in, 3 messages (71 octets)" "+OK Unique-id listing follows" \
		"1 ${OLD[0]}" "2 ${OLD[1]}" "3 ${OLD[2]}" "." \
		"+OK 21 octets" "Subject: two" "" "two" "." "+OK Bye, 0 messages deleted"
	grep -qx "${OLD[1]} 21 21 0 - $B2:2,S" <(list_entries)
	expect_stamps_current
	[ -f "$(MD)/cur/$B2:2,S" ]
}

@test "our own Seen-flag rename after RETR sends the next session back to cur/" {
	settled_mailbox
	session -- "${LOGIN[@]}" "RETR 1" "QUIT"
	expect_line 3 "+OK 26 octets"
	[ -f "$(MD)/cur/$B1:2,S" ]
	settle
	uidl_session
	[ "${UIDS[*]}" = "${OLD[*]}" ]
	grep -qx "${OLD[0]} 26 23 0 - $B1:2,S" <(list_entries)
	expect_stamps_current
}

@test "a message file replaced by a different one under another base name is a new message" {
	settled_mailbox
	# 17 octets stored, 20 exact
	deliver alice 1700000002.M9P9.host:2, 'Subject: nine\n\n9\n' cur
	rm "$(MD)/cur/$B2:2,"
	session -- "${LOGIN[@]}" "LIST" "UIDL" "QUIT"
	expect_line 2 "+OK Logged in, 3 messages (70 octets)"
	expect_lines 3 "+OK 3 messages (70 octets)" "1 26" "2 20" "3 24" "." "+OK Unique-id listing follows" \
		"1 ${OLD[0]}" "2 ${lines[10]#2 }" "3 ${OLD[2]}" "." "+OK Bye, 0 messages deleted"
	expect_uids_above_old "${lines[10]#2 }"
}

@test "cur/ replaced by a copy restored with cp -a (same mtime) is read again" {
	settled_mailbox
	local mtime
	mtime=$(stat -c %Y "$(MD)/cur")
	# a copy holding one more message, its mtime set back to cur/'s
	cp -a "$(MD)/cur" "$T/backup"
	cp -p "$(MD)/cur/$B1:2," "$T/backup/$B4:2,"
	touch -r "$(MD)/cur" "$T/backup"
	rm -rf "$(MD)/cur"
	cp -a "$T/backup" "$(MD)/cur"
	[ "$(stat -c %Y "$(MD)/cur")" = "$mtime" ]
	uidl_session
	expect_line 2 "+OK Logged in, 4 messages (97 octets)"
	[ "${UIDS[*]:0:3}" = "${OLD[*]}" ]
	expect_uids_above_old "${UIDS[3]}"
}

@test "touching cur/ alone sends the next session back to it and loses nothing" {
	settled_mailbox
	local before
	before=$(header_stamps)
	touch "$(MD)/cur"
	settle
	uidl_session
	expect_line 2 "+OK Logged in, 3 messages (71 octets)"
	[ "${UIDS[*]}" = "${OLD[*]}" ]
	# re-recorded: the session read cur/ again
	expect_stamps_current
	[ "$(header_stamps)" != "$before" ]
	[ "$(list_entries | wc -l)" -eq 3 ]
}

# --- a list that cannot be trusted --------------------------------------------------

@test "a corrupt list with current stamps is logged and rebuilt; every message is listed" {
	settled_mailbox
	# the exact size of B1 (26) becomes 36: the line still reads, the checksum fails
	sed -i "2s/^\\([0-9]*\\) 26 /\\1 36 /" "$(MD)/$LIST_FILE"
	grep -q " 36 23 0 - $B1:2,\$" "$(MD)/$LIST_FILE"
	chown "$TEST_UID:$TEST_GID" "$(MD)/$LIST_FILE"
	refute list_seal check
	expect_stamps_current
	session -- "${LOGIN[@]}" "STAT" "LIST" "UIDL" "QUIT"
	expect_lines 2 "+OK Logged in, 3 messages (71 octets)" "+OK 3 71" "+OK 3 messages (71 octets)" \
		"1 26" "2 21" "3 24" "." "+OK Unique-id listing follows" \
		"1 ${lines[10]#1 }" "2 ${lines[11]#2 }" "3 ${lines[12]#3 }" "." "+OK Bye, 0 messages deleted"
	expect_logged "$LIST_FILE is corrupt: rebuilt with new UIDs"
	local new=("${lines[10]#1 }" "${lines[11]#2 }" "${lines[12]#3 }")
	expect_increasing "${new[@]}"
	expect_uids_above_old "${new[@]}"
	list_seal check
	[ "$(list_entries | wc -l)" -eq 3 ]
}

@test "a sealed list with current stamps naming one base name twice is corrupt: logged once, each message listed once" {
	settled_mailbox
	# B1's entry again under a higher UID, as the last entry: UIDs still increase
	local next dup
	next=$(head -1 "$(MD)/$LIST_FILE" | cut -d' ' -f3)
	dup=$(sed -n 2p "$(MD)/$LIST_FILE" | cut -d' ' -f2-)
	sed -i "4a $((next - 1)) $dup" "$(MD)/$LIST_FILE"
	list_seal
	chown "$TEST_UID:$TEST_GID" "$(MD)/$LIST_FILE"
	expect_stamps_current
	session -- "${LOGIN[@]}" "STAT" "LIST" "QUIT"
	expect_lines 2 "+OK Logged in, 3 messages (71 octets)" "+OK 3 71" "+OK 3 messages (71 octets)" \
		"1 26" "2 21" "3 24" "." "+OK Bye, 0 messages deleted"
	[ "$(grep -c "$LIST_FILE is corrupt: rebuilt with new UIDs" "$T/log")" -eq 1 ]
	list_seal check
	[ "$(list_entries | wc -l)" -eq 3 ]
}

@test "a list with current stamps naming a message's old name: RETR finds it by base name" {
	need_strace
	settled_mailbox
	mv "$(MD)/cur/$B2:2," "$(MD)/cur/$B2:2,S"
	# the list keeps naming $B2:2, but gets the stamps cur/ has now
	sed -i "1s/^\\(POP3-HANDLER-UIDLIST 3 [0-9]*\\) .*/\\1 $(dir_stamp new) $(dir_stamp cur)/" "$(MD)/$LIST_FILE"
	list_seal
	chown "$TEST_UID:$TEST_GID" "$(MD)/$LIST_FILE"
	grep -q " $B2:2,\$" "$(MD)/$LIST_FILE"
	expect_stamps_current
	# the list is taken as current: no directory read
	trace_session -- "${LOGIN[@]}" "STAT" "QUIT"
	expect_lines 2 "+OK Logged in, 3 messages (71 octets)" "+OK 3 71" "+OK Bye, 0 messages deleted"
	refute maildir_reads
	session -- "${LOGIN[@]}" "UIDL 2" "RETR 2" "QUIT"
	expect_lines 2 "+OK Logged in, 3 messages (71 octets)" "+OK 2 ${OLD[1]}" \
		"+OK 21 octets" "Subject: two" "" "two" "." "+OK Bye, 0 messages deleted"
	[ -f "$(MD)/cur/$B2:2,S" ]
	[ "$(find "$(MD)/cur" -type f | wc -l)" -eq 3 ]
}

# --- recording never waits; changes we make clear the stamps -----------------------------

@test "with the lock held elsewhere a session that would record answers at once and records nothing" {
	alice_with_three_messages
	uidl_session
	local u=("${UIDS[@]}")
	settle
	cp -p "$(MD)/$LIST_FILE" "$T/list-before"
	hold_lock
	local t0 t1
	t0=$(date +%s%3N)
	session -- "${LOGIN[@]}" "UIDL" "QUIT"
	t1=$(date +%s%3N)
	echo "session took $((t1 - t0)) ms"
	expect_lines 2 "+OK Logged in, 3 messages (71 octets)" "+OK Unique-id listing follows" \
		"1 ${u[0]}" "2 ${u[1]}" "3 ${u[2]}" "." "+OK Bye, 0 messages deleted"
	[ $((t1 - t0)) -lt 2000 ]
	cmp "$T/list-before" "$(MD)/$LIST_FILE"
	expect_no_stamps
	refute_logged "cannot lock"
	kill_holder
	# without the holder, the same session records
	uidl_session
	[ "${UIDS[*]}" = "${u[*]}" ]
	expect_stamps_current
}

@test "DELE and QUIT leave the list without stamps; the next session lists the rest" {
	settled_mailbox
	session -- "${LOGIN[@]}" "DELE 2" "QUIT"
	expect_lines 2 "+OK Logged in, 3 messages (71 octets)" "+OK Message 2 deleted" "+OK Bye, 1 message deleted"
	[ ! -e "$(MD)/cur/$B2:2," ]
	expect_no_stamps
	[ "$(list_entries)" = "$(printf '%s\n' "${OLD[0]} 26 23 0 - $B1:2," "${OLD[2]} 24 20 0 - $B3:2,")" ]
	list_seal check
	session -- "${LOGIN[@]}" "STAT" "LIST" "UIDL" "QUIT"
	expect_lines 2 "+OK Logged in, 2 messages (50 octets)" "+OK 2 50" "+OK 2 messages (50 octets)" \
		"1 26" "2 24" "." "+OK Unique-id listing follows" "1 ${OLD[0]}" "2 ${OLD[2]}" "." \
		"+OK Bye, 0 messages deleted"
}

# --- missing directories ---------------------------------------------------------------

@test "without new/ sessions work and record no stamps" {
	add_user alice secret
	rmdir "$(MD)/new"
	deliver alice "$B1:2," "$M1" cur
	deliver alice "$B2:2,S" "$M2" cur
	uidl_session
	expect_line 2 "+OK Logged in, 2 messages (47 octets)"
	local u=("${UIDS[@]}")
	settle
	uidl_session
	[ "${UIDS[*]}" = "${u[*]}" ]
	expect_no_stamps
	# a later delivery to cur/ is seen
	deliver alice "$B3:2," "$M3" cur
	uidl_session
	expect_line 2 "+OK Logged in, 3 messages (71 octets)"
	[ "${UIDS[*]:0:2}" = "${u[*]}" ]
	expect_no_stamps
}

@test "without cur/ sessions work and record no stamps" {
	add_user alice secret
	rmdir "$(MD)/cur"
	# an empty new/: only the missing cur/ keeps the stamps out
	session -- "${LOGIN[@]}" "STAT" "QUIT"
	expect_lines 2 "+OK Logged in, 0 messages (0 octets)" "+OK 0 0" "+OK Bye, 0 messages deleted"
	settle new
	session -- "${LOGIN[@]}" "STAT" "QUIT"
	expect_lines 2 "+OK Logged in, 0 messages (0 octets)" "+OK 0 0" "+OK Bye, 0 messages deleted"
	expect_no_stamps
	# a delivery is seen, and stays in new/ (nowhere to move it)
	deliver alice "$B1" "$M1"
	uidl_session
	expect_line 2 "+OK Logged in, 1 message (26 octets)"
	[ -f "$(MD)/new/$B1" ]
	settle new
	uidl_session
	expect_line 2 "+OK Logged in, 1 message (26 octets)"
	expect_no_stamps
}
