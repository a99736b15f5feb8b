#!/usr/bin/env bats
# The Maildir store (issue 3): decimal UIDs kept in the UID list file and
# never reused, sizes from the list or the file name, the new/ -> cur/ move
# and the Seen flag, the list's lock, corrupt and lost lists, concurrent
# sessions, and retention (expire_days).

load lib/helpers
load lib/maildir

# Stops what a failed test left running (lock holders, background
# sessions, a FIFO session), then removes the world as helpers.bash does.
teardown() {
	local p
	for p in ${HOLDER_PID:-} ${BG_PIDS[@]+"${BG_PIDS[@]}"}; do
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	cleanup_world
}

# three_messages: alice with B1 B2 B3 in new/, delivered in that order.
three_messages() {
	alice_with_three_messages
}

# files_left: the message files in new/ and cur/, one per line, sorted.
files_left() {
	(cd "$(MD)" && find new cur -type f | LC_ALL=C sort)
}

# expect_files PATH...: the message files are exactly these (relative to the Maildir, any order).
expect_files() {
	local want got
	want=$(printf '%s\n' "$@" | LC_ALL=C sort)
	[ $# -gt 0 ] || want=""
	got=$(files_left)
	if [ "$want" != "$got" ]; then
		echo "expected message files:"
		echo "$want"
		echo "got:"
		echo "$got"
		echo "--- log ---"
		cat "$T/log"
		return 1
	fi
}


# larger_than_all OLD_MAX UID...: every UID is larger than OLD_MAX (all decimal).
larger_than_all() {
	local max=$1 u
	shift
	for u in "$@"; do
		expect_increasing "$max" "$u"
	done
}

# max_of UID...: the largest.
max_of() {
	printf '%s\n' "$@" | sort -n | tail -n 1
}

# check_list: the UID list parses as uidlist.c writes it: the header
# "POP3-HANDLER-UIDLIST 2 <next> <new/ stamp> <cur/ stamp>" (four numbers
# each), entries "<uid> <exact> <stored> <retrieved> <file name>" with UIDs
# increasing and below <next>, base names (before ':') distinct, and the trailer
# "END <count> <FNV-1a 64 of everything before it, 16 hex digits>" ending
# the file.  Prints "next <next>" and then the entry lines.
check_list() {
	python3 - "$(MD)/$LIST_FILE" <<'PY'
import re, sys
data = open(sys.argv[1], "rb").read()
def fail(why):
    sys.stderr.write("the UID list does not parse: %s\n%r\n" % (why, data[:3000]))
    sys.exit(1)
if not data.endswith(b"\n"):
    fail("no final LF")
lines = data[:-1].split(b"\n")
m = re.fullmatch(rb"POP3-HANDLER-UIDLIST 2 ([1-9][0-9]*)(?: (?:0|[1-9][0-9]*)){8}", lines[0])
if not m or len(lines) < 2:
    fail("header")
next_uid = int(m.group(1))
last = 0
names = set()
for l in lines[1:-1]:
    m = re.fullmatch(rb"([1-9][0-9]*) (0|[1-9][0-9]*) (0|[1-9][0-9]*) (0|[1-9][0-9]*) ([^\x00-\x20\x7f/:]+)(:[^\x00-\x20\x7f/]*)?", l)
    if not m:
        fail("entry %r" % l)
    uid = int(m.group(1))
    if uid <= last or uid >= next_uid or m.group(5) in names:
        fail("UID order, range or duplicate base name: %r" % l)
    last = uid
    names.add(m.group(5))
h = 0xcbf29ce484222325
for b in data[:len(data) - len(lines[-1]) - 1]:
    h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
want = b"END %d %016x" % (len(lines) - 2, h)
if lines[-1] != want:
    fail("trailer %r, expected %r" % (lines[-1], want))
out = sys.stdout.buffer
out.write(b"next %d\n" % next_uid)
for l in lines[1:-1]:
    out.write(l + b"\n")
PY
}

# list_field BASE N: field N (1 uid, 2 exact, 3 stored, 4 retrieved) of BASE's entry.
list_field() {
	awk -v b="$1" -v n="$2" 'NR > 1 && $1 != "END" { base = $5; sub(/:.*/, "", base) }
		NR > 1 && $1 != "END" && base == b { print $n; found = 1 } END { exit !found }' \
		"$(MD)/$LIST_FILE"
}

# now_us, now_ms: the clock in microseconds, milliseconds.
now_us() { date +%s%6N; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }



# live_silent SECONDS: the handler says nothing for SECONDS.
live_silent() {
	local got
	if IFS= read -r -t "$1" -u "$LIVE_OUT" got; then
		echo "expected no reply for $1 s, got '${got%$'\r'}'"
		cat "$T/log"
		return 1
	fi
}

# need_faketime: skips the test when faketime (Debian package faketime) is missing.
need_faketime() {
	command -v faketime >/dev/null 2>&1 ||
		skip "faketime is not installed (Debian package faketime; tests/install-deps installs it)"
}

# faked_session OFFSET [-o key=value]... -- LINE...: as session, with the
# handler's clock moved by OFFSET (faketime -f, e.g. -2d).
faked_session() {
	local offset=$1 real=$HANDLER
	shift
	printf '#!/bin/sh\nexec faketime -f %q %q "$@"\n' "$offset" "$real" >"$T/faked"
	chmod 755 "$T/faked"
	HANDLER="$T/faked"
	session "$@"
	HANDLER=$real
}

# refute_log PATTERN: the session log has no line matching PATTERN (grep -E).
refute_log() {
	if grep -E -- "$1" "$T/log"; then
		echo "unexpected in the log: $1"
		return 1
	fi
}

# --- UIDs ---------------------------------------------------------------------

@test "UIDs are decimal, start at the clock floor, grow by one in delivery order, and persist" {
	add_user alice secret
	# created out of order: delivery order is the leading timestamp of the name
	deliver alice "$B3" "$M3"
	deliver alice "$B1" "$M1"
	deliver alice "$B2" "$M2"
	local t0 t1
	t0=$(now_us)
	uidl_session
	t1=$(now_us)
	[ "${#UIDS[@]}" -eq 3 ]
	expect_increasing "${UIDS[@]}"
	# a new mailbox starts at the clock (microseconds since 1970)
	[ "${UIDS[0]}" -ge "$t0" ]
	[ "${UIDS[0]}" -le "$t1" ]
	[ "${UIDS[1]}" -eq $((UIDS[0] + 1)) ]
	[ "${UIDS[2]}" -eq $((UIDS[0] + 2)) ]
	[ "$(list_uid alice "$B1")" = "${UIDS[0]}" ]
	[ "$(list_uid alice "$B3")" = "${UIDS[2]}" ]
	local first=("${UIDS[@]}") before=$output
	# a second session answers the same, UIDL n too
	uidl_session
	[ "$output" = "$before" ]
	session -- "${LOGIN[@]}" "UIDL 3" "UIDL 1" "QUIT"
	expect_lines 3 "+OK 3 ${first[2]}" "+OK 1 ${first[0]}" "+OK Bye, 0 messages deleted"
}

@test "a UID survives a flag change by another program and the new/ -> cur/ moves" {
	three_messages
	# cur/ read-only at the first login: B1..B3 stay in new/ with their UIDs
	chmod 555 "$(MD)/cur"
	uidl_session
	chmod 755 "$(MD)/cur"
	local first=("${UIDS[@]}")
	expect_files "new/$B1" "new/$B2" "new/$B3"
	# another program (an IMAP server) moves B1 to cur/ and flags it; B2 is left
	mv "$(MD)/new/$B1" "$(MD)/cur/$B1:2,RS"
	uidl_session
	[ "${UIDS[*]}" = "${first[*]}" ]
	expect_files "cur/$B1:2,RS" "cur/$B2:2," "cur/$B3:2,"
	# after this session's own move: flags changed again
	mv "$(MD)/cur/$B2:2," "$(MD)/cur/$B2:2,FS"
	mv "$(MD)/cur/$B3:2," "$(MD)/cur/$B3:2,T"
	uidl_session
	[ "${UIDS[*]}" = "${first[*]}" ]
	expect_files "cur/$B1:2,RS" "cur/$B2:2,FS" "cur/$B3:2,T"
}

@test "a message delivered later gets a larger UID, even with an earlier name" {
	three_messages
	uidl_session
	local first=("${UIDS[@]}")
	deliver alice 1600000000.early.host 'Subject: early\n\n\n'
	deliver alice 1700000009.late.host 'Subject: late\n\n\n'
	uidl_session
	# message 1 is the early one by its name, but it is the newest
	[ "${#UIDS[@]}" -eq 5 ]
	[ "${UIDS[*]:1:3}" = "${first[*]}" ]
	expect_increasing "${first[@]}" "${UIDS[0]}" "${UIDS[4]}"
}

@test "a deleted message's UID is never given again" {
	three_messages
	session -- "${LOGIN[@]}" "UIDL" "DELE 3" "DELE 2" "QUIT"
	expect_lines 8 "+OK Message 3 deleted" "+OK Message 2 deleted" "+OK Bye, 2 messages deleted"
	local old=("${lines[@]:4:3}")
	old=("${old[@]#* }")
	expect_increasing "${old[@]}"
	deliver alice 1700000004.M4P4.host 'Subject: four\n\n4\n'
	uidl_session
	[ "${#UIDS[@]}" -eq 2 ]
	[ "${UIDS[0]}" = "${old[0]}" ]
	expect_increasing "${old[@]}" "${UIDS[1]}"
	# the list forgot the removed ones but not the next UID
	check_list >"$T/listed"
	[ "$(cat "$T/listed")" = "$(printf '%s\n' "next $((UIDS[1] + 1))" \
		"${UIDS[0]} 26 23 0 $B1:2," "${UIDS[1]} 20 17 0 1700000004.M4P4.host")" ]
}

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

# --- the UID list file --------------------------------------------------------

@test "after a session the UID list exists and parses, with UIDs, sizes and names" {
	three_messages
	deliver alice "1700000004.M4.host,S=23,W=26:2,S" "$M1" cur
	uidl_session
	[ -f "$(MD)/$LIST_FILE" ]
	[ -f "$(MD)/$LOCK_FILE" ]
	[ ! -e "$(MD)/$LIST_FILE.tmp" ]
	local u=("${UIDS[@]}")
	check_list >"$T/listed"
	[ "$(cat "$T/listed")" = "$(printf '%s\n' "next $((u[3] + 1))" "${u[0]} 26 23 0 $B1" "${u[1]} 21 21 0 $B2" \
		"${u[2]} 24 20 0 $B3" "${u[3]} 26 23 0 1700000004.M4.host,S=23,W=26:2,S")" ]
	# no retention: RETR records no retrieval time
	session -- "${LOGIN[@]}" "RETR 1" "QUIT"
	check_list >"$T/listed"
	[ "$(sed -n 2p "$T/listed" | cut -d' ' -f1-4)" = "${u[0]} 26 23 0" ]
}

# corrupt_then_check HOW: a first session lists B1 and B2; the list is then
# damaged by HOW (a shell snippet run with $L the list's path); B3 arrives;
# the next session logs the damage, works, gives every message a UID larger
# than any before, and writes a list that parses.
corrupt_then_check() {
	add_user alice secret
	deliver alice "$B1" "$M1"
	deliver alice "$B2" "$M2"
	uidl_session
	local old=("${UIDS[@]}")
	L="$(MD)/$LIST_FILE"
	eval "$1"
	deliver alice "$B3" "$M3"
	session -- "${LOGIN[@]}" "STAT" "UIDL" "RETR 3" "QUIT"
	expect_lines 2 "+OK Logged in, 3 messages (71 octets)" "+OK 3 71" "+OK Unique-id listing follows" \
		"1 ${lines[5]#1 }" "2 ${lines[6]#2 }" "3 ${lines[7]#3 }" "." \
		"+OK 24 octets" "Subject: three" "" "a" "b" "." "+OK Bye, 0 messages deleted"
	grep -q "$LIST_FILE is corrupt: rebuilt with new UIDs" "$T/log"
	local new=("${lines[5]#1 }" "${lines[6]#2 }" "${lines[7]#3 }")
	expect_increasing "${new[@]}"
	larger_than_all "$(max_of "${old[@]}")" "${new[@]}"
	check_list >/dev/null
	# and they stay
	uidl_session
	[ "${UIDS[*]}" = "${new[*]}" ]
}

@test "a UID list of garbage is detected, logged and rebuilt above every earlier UID" {
	corrupt_then_check 'printf "garbage\\0\\377 not a list\\n" >"$L"'
}

@test "a UID list truncated in the middle is detected, logged and rebuilt above every earlier UID" {
	corrupt_then_check 'truncate -s $(($(stat -c %s "$L") / 2)) "$L"'
}

@test "a UID list with a flipped digit (checksum mismatch) is detected, logged and rebuilt" {
	# the exact size of B1 (26) becomes 36: the line still reads, the checksum fails
	corrupt_then_check 'sed -i "2s/^\\([0-9]*\\) 26 /\\1 36 /" "$L"; grep -q " 36 23 0 $B1" "$L"'
}

@test "an empty UID list file is detected as corrupt and rebuilt" {
	corrupt_then_check ': >"$L"'
}

@test "a UID list of garbage with the lock file gone too: rebuilt above every earlier UID (clock floor)" {
	corrupt_then_check 'printf "garbage\\n" >"$L"; rm "$(MD)/$LOCK_FILE"'
}

@test "a directory in place of the UID list: login answers -ERR [SYS/TEMP] and nothing changes" {
	three_messages
	mkdir "$(MD)/$LIST_FILE"
	chown "$TEST_UID:$TEST_GID" "$(MD)/$LIST_FILE"
	session -- "${LOGIN[@]}" "STAT" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "-ERR [SYS/TEMP] Cannot open the mailbox"
	grep -q "$LIST_FILE is not a regular file" "$T/log"
	[ -d "$(MD)/$LIST_FILE" ]
	expect_files "new/$B1" "new/$B2" "new/$B3"
}

@test "a removed UID list (lock file kept): new UIDs are larger than before" {
	three_messages
	uidl_session
	local old=("${UIDS[@]}")
	rm "$(MD)/$LIST_FILE"
	[ -f "$(MD)/$LOCK_FILE" ]
	deliver alice 1700000004.M4P4.host "$M1"
	uidl_session
	[ "${#UIDS[@]}" -eq 4 ]
	expect_increasing "${UIDS[@]}"
	larger_than_all "$(max_of "${old[@]}")" "${UIDS[@]}"
	refute_log 'corrupt'
	check_list >/dev/null
}

@test "a removed UID list with the clock set back a day: the lock file's mark keeps new UIDs larger" {
	need_faketime
	three_messages
	uidl_session
	local old=("${UIDS[@]}")
	rm "$(MD)/$LIST_FILE"
	faked_session -1d -- "${LOGIN[@]}" "UIDL" "QUIT"
	expect_lines 3 "+OK Unique-id listing follows" "1 ${lines[4]#1 }" "2 ${lines[5]#2 }" "3 ${lines[6]#3 }" "." \
		"+OK Bye, 0 messages deleted"
	local new=("${lines[4]#1 }" "${lines[5]#2 }" "${lines[6]#3 }")
	expect_increasing "${new[@]}"
	larger_than_all "$(max_of "${old[@]}")" "${new[@]}"
}

@test "a UID list restored from an old copy gives no UID again (the lock file's mark)" {
	three_messages
	uidl_session
	local first=("${UIDS[@]}")
	cp -p "$(MD)/$LIST_FILE" "$T/old-list"
	deliver alice 1700000004.M4P4.host "$M1"
	uidl_session
	local u4=${UIDS[3]}
	expect_increasing "${first[@]}" "$u4"
	cp -p "$T/old-list" "$(MD)/$LIST_FILE"
	deliver alice 1700000005.M5P5.host "$M2"
	uidl_session
	[ "${#UIDS[@]}" -eq 5 ]
	[ "${UIDS[*]:0:3}" = "${first[*]}" ]
	# message 4, unknown to the old copy, gets a new UID: above every UID issued before
	expect_increasing "$u4" "${UIDS[3]}" "${UIDS[4]}"
	refute_log 'corrupt'
}

@test "UID list and lock file both removed: new UIDs are still larger (clock floor)" {
	three_messages
	uidl_session
	local old=("${UIDS[@]}")
	rm "$(MD)/$LIST_FILE" "$(MD)/$LOCK_FILE"
	local t0
	t0=$(now_us)
	uidl_session
	[ "${#UIDS[@]}" -eq 3 ]
	expect_increasing "${UIDS[@]}"
	larger_than_all "$(max_of "${old[@]}")" "${UIDS[@]}"
	[ "${UIDS[0]}" -ge "$t0" ]
}

# --- sizes ------------------------------------------------------------------------

@test "sizes from ',S=' and ',W=' in the name: an unreadable message is still listed" {
	add_user alice secret
	# M1: 23 octets stored, 26 exact; M3: 20 stored, 24 exact
	deliver alice "1700000001.M1.host,S=23,W=26" "$M1"
	deliver alice "1700000002.M3.host,S=20:2,S" "$M3" cur
	chmod 000 "$(MD)/new/1700000001.M1.host,S=23,W=26"
	session -- "${LOGIN[@]}" "STAT" "LIST" "QUIT"
	expect_lines 2 "+OK Logged in, 2 messages (50 octets)" "+OK 2 50" "+OK 2 messages (50 octets)" "1 26" "2 24" "." \
		"+OK Bye, 0 messages deleted"
	refute_log 'warning|error'
	[ "$(list_field 1700000001.M1.host,S=23,W=26 2)" = 26 ]
	[ "$(list_field 1700000001.M1.host,S=23,W=26 3)" = 23 ]
	session -o exact_size=no -- "${LOGIN[@]}" "LIST" "QUIT"
	expect_lines 3 "+OK 2 messages (43 octets)" "1 23" "2 20" "." "+OK Bye, 0 messages deleted"
	# the file really is unreadable for the session
	session -- "${LOGIN[@]}" "RETR 1" "QUIT"
	expect_lines 3 "-ERR [SYS/TEMP] Cannot read message 1" "+OK Bye, 0 messages deleted"
}

@test "a session on a mailbox whose list is current reads no message file" {
	three_messages
	deliver alice "1700000004.old.host:2,S" "$M2" cur
	session -- "${LOGIN[@]}" "STAT" "LIST" "UIDL" "QUIT"
	local first=$output
	expect_line 2 "+OK Logged in, 4 messages (92 octets)"
	chmod 000 "$(MD)"/cur/*
	session -- "${LOGIN[@]}" "STAT" "LIST" "UIDL" "QUIT"
	[ "$output" = "$first" ]
	refute_log 'warning|error'
	# exact_size = no: the stored sizes, from the list
	session -o exact_size=no -- "${LOGIN[@]}" "STAT" "LIST" "QUIT"
	expect_lines 2 "+OK Logged in, 4 messages (85 octets)" "+OK 4 85" "+OK 4 messages (85 octets)" \
		"1 23" "2 21" "3 20" "4 21" "." "+OK Bye, 0 messages deleted"
	refute_log 'warning|error'
	# the files really are unreadable for the session
	session -- "${LOGIN[@]}" "TOP 2 0" "QUIT"
	expect_lines 3 "-ERR [SYS/TEMP] Cannot read message 2" "+OK Bye, 0 messages deleted"
}

# --- concurrency --------------------------------------------------------------

@test "sessions that wait for the lock and then see the same new messages report identical UIDLs" {
	three_messages
	local round n pids want
	for round in 1 2; do
		# round 2: one more message, in a mailbox whose list exists
		[ "$round" -eq 1 ] || deliver alice 1700000004.M4P4.host "$M1"
		hold_lock
		pids=()
		for n in 1 2 3; do
			printf 'USER alice\r\nPASS secret\r\nUIDL\r\nQUIT\r\n' >"$T/in$n"
			"$HANDLER" -c "$T/conf" <"$T/in$n" >"$T/out$n" 2>"$T/log$n" 3>&- &
			pids+=($!)
			BG_PIDS=("${pids[@]}")
		done
		sleep 0.7
		# all three are waiting for the lock
		kill -0 "${pids[0]}" && kill -0 "${pids[1]}" && kill -0 "${pids[2]}"
		kill_holder
		for n in 0 1 2; do wait "${pids[$n]}"; done
		BG_PIDS=()
		cmp "$T/out1" "$T/out2" && cmp "$T/out1" "$T/out3" || { cat "$T"/out* "$T"/log*; return 1; }
		output=$(tr -d '\r' <"$T/out1")
		mapfile -t lines <<<"$output"
		want=("1 $(list_uid alice "$B1")" "2 $(list_uid alice "$B2")" "3 $(list_uid alice "$B3")")
		[ "$round" -eq 1 ] || want+=("4 $(list_uid alice 1700000004.M4P4.host)")
		expect_lines 2 "+OK Logged in, $((round + 2)) messages ($((round * 26 + 45)) octets)" \
			"+OK Unique-id listing follows" "${want[@]}" "." "+OK Bye, 0 messages deleted"
	done
	local all=$output
	uidl_session
	[ "$output" = "$all" ]
	expect_increasing "${UIDS[@]}"
	check_list >/dev/null
}

@test "sessions started at the same moment agree on the UIDs of the messages they both see" {
	add_user alice secret
	local round n pids
	for round in 1 2 3 4 5; do
		deliver alice "170000000$round.a$round.host" "$M1"
		deliver alice "170000000$round.b$round.host" "$M2"
		for n in 1 2 3; do
			printf 'USER alice\r\nPASS secret\r\nUIDL\r\nQUIT\r\n' >"$T/in$n"
		done
		pids=()
		for n in 1 2 3; do
			"$HANDLER" -c "$T/conf" <"$T/in$n" >"$T/out$n" 2>"$T/log$n" 3>&- &
			pids+=($!)
		done
		BG_PIDS=("${pids[@]}")
		for n in 0 1 2; do wait "${pids[$n]}"; done
		BG_PIDS=()
		cmp "$T/out1" "$T/out2" && cmp "$T/out1" "$T/out3" || { cat "$T"/out* "$T"/log*; return 1; }
		grep -q "^+OK Logged in, $((round * 2)) messages" "$T/out1"
	done
	uidl_session
	[ "${#UIDS[@]}" -eq 10 ]
	expect_increasing "${UIDS[@]}"
	[ "$(tr -d '\r' <"$T/out1")" = "$output" ]
	check_list >/dev/null
}

# --- the lock -------------------------------------------------------------------

@test "a session that must update the list waits for the lock, and goes on within seconds when its holder is killed" {
	three_messages
	hold_lock
	live_start
	live_expect "+OK POP3 server ready"
	live_send "USER alice"
	live_expect "+OK Send your password"
	live_send "PASS secret"
	live_silent 1.5
	expect_files "new/$B1" "new/$B2" "new/$B3"
	local t0 t1
	t0=$(now_ms)
	kill_holder
	live_expect "+OK Logged in, 3 messages (71 octets)"
	t1=$(now_ms)
	echo "logged in $((t1 - t0)) ms after the holder died"
	[ $((t1 - t0)) -le 3000 ]
	live_send "UIDL 3" "QUIT"
	live_expect "+OK 3 $(list_uid alice "$B3")" "+OK Bye, 0 messages deleted"
	live_end
	expect_files "cur/$B1:2," "cur/$B2:2," "cur/$B3:2,"
}

@test "a lock holder that never lets go: login answers -ERR [SYS/TEMP] after the bounded wait" {
	three_messages
	hold_lock
	local t0 t1
	t0=$(now_ms)
	session -- "${LOGIN[@]}" "STAT" "QUIT"
	t1=$(now_ms)
	kill_holder
	echo "answered after $((t1 - t0)) ms"
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "-ERR [SYS/TEMP] Cannot open the mailbox"
	[ $((t1 - t0)) -ge 9500 ]
	[ $((t1 - t0)) -le 15000 ]
	grep -q "cannot lock $LOCK_FILE: held too long by another session" "$T/log"
	expect_files "new/$B1" "new/$B2" "new/$B3"
	[ ! -e "$(MD)/$LIST_FILE" ]
}

@test "sessions on a mailbox whose list is current do not need the lock" {
	three_messages
	uidl_session
	local first=("${UIDS[@]}")
	hold_lock
	local t0 t1
	t0=$(now_ms)
	session -- "${LOGIN[@]}" "UIDL 2" "RETR 2" "QUIT"
	t1=$(now_ms)
	echo "session took $((t1 - t0)) ms"
	expect_lines 2 "+OK Logged in, 3 messages (71 octets)" "+OK 2 ${first[1]}" \
		"+OK 21 octets" "Subject: two" "" "two" "." "+OK Bye, 0 messages deleted"
	[ $((t1 - t0)) -le 2000 ]
	expect_files "cur/$B1:2," "cur/$B2:2,S" "cur/$B3:2,"
	kill_holder
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

@test "expire_days and expire_days_unread: ranges and words" {
	local kv
	for kv in expire_days=-1 expire_days=36501 expire_days=1x expire_days= expire_days=4294967295; do
		session -o "$kv" -- "QUIT"
		[ "$status" -ne 0 ]
		expect_lines 0 "-ERR [SYS/PERM] Server configuration error: expire_days: expected a number from 0 to 36500 or never"
	done
	for kv in expire_days_unread=maybe expire_days_unread=; do
		session -o "$kv" -- "QUIT"
		[ "$status" -ne 0 ]
		expect_lines 0 "-ERR [SYS/PERM] Server configuration error: expire_days_unread: expected no or yes"
	done
	for kv in expire_days=0 expire_days=36500 expire_days=never expire_days_unread=yes expire_days_unread=no; do
		session -o "$kv" -- "QUIT"
		[ "$status" -eq 0 ]
		expect_lines 0 "+OK POP3 server ready" "+OK Bye"
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
