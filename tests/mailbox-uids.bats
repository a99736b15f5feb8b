#!/usr/bin/env bats
# UIDs are decimal, kept in the UID list file and never given twice: they
# persist across sessions, flag changes and moves; a corrupt, lost or
# restored list is rebuilt above every earlier UID; concurrent sessions
# agree on them; the list's lock is taken only when the list must change;
# and the sizes the list keeps spare reading the messages.

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
# "POP3-HANDLER-UIDLIST 3 <next> <new/ stamp> <cur/ stamp>" (four numbers
# each), entries "<uid> <exact> <stored> <retrieved> <uidl> <file name>"
# (<uidl> "-", or "=" and a UIDL taken over from another server) with UIDs
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
m = re.fullmatch(rb"POP3-HANDLER-UIDLIST 3 ([1-9][0-9]*)(?: (?:0|[1-9][0-9]*)){8}", lines[0])
if not m or len(lines) < 2:
    fail("header")
next_uid = int(m.group(1))
last = 0
names = set()
for l in lines[1:-1]:
    m = re.fullmatch(rb"([1-9][0-9]*) (0|[1-9][0-9]*) (0|[1-9][0-9]*) (0|[1-9][0-9]*) (?:-|=[\x21-\x7e]{1,70}) ([^\x00-\x20\x7f/:]+)(:[^\x00-\x20\x7f/]*)?", l)
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

# refute_log PATTERN: the session log has no line matching PATTERN (grep -E;
# lib/helpers.bash's refute_log, which this replaces here, takes fixed strings).
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
		"${UIDS[0]} 26 23 0 - $B1:2," "${UIDS[1]} 20 17 0 - 1700000004.M4P4.host")" ]
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
	[ "$(cat "$T/listed")" = "$(printf '%s\n' "next $((u[3] + 1))" "${u[0]} 26 23 0 - $B1" "${u[1]} 21 21 0 - $B2" \
		"${u[2]} 24 20 0 - $B3" "${u[3]} 26 23 0 - 1700000004.M4.host,S=23,W=26:2,S")" ]
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
	# logged once, though the list is read twice (before the scan, and under the lock)
	[ "$(grep -c "$LIST_FILE is corrupt: rebuilt with new UIDs" "$T/log")" -eq 1 ]
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
	corrupt_then_check 'sed -i "2s/^\\([0-9]*\\) 26 /\\1 36 /" "$L"; grep -q " 36 23 0 - $B1" "$L"'
}

@test "an empty UID list file is detected as corrupt and rebuilt" {
	corrupt_then_check ': >"$L"'
}

@test "a UID list of garbage with the lock file gone too: rebuilt above every earlier UID (clock floor)" {
	corrupt_then_check 'printf "garbage\\n" >"$L"; rm "$(MD)/$LOCK_FILE"'
}

# expect_uids_near_clock UID...: each UID lies below the clock floor plus ten
# years (UID_CLOCK_MARGIN): no damaged number raised the next UID.
expect_uids_near_clock() {
	local ceiling=$(($(now_us) + 10 * 366 * 24 * 3600 * 1000000)) u
	for u in "$@"; do
		[ "$u" -lt "$ceiling" ] || { echo "UID $u beyond the clock floor plus ten years"; return 1; }
	done
}

@test "a damaged list naming a UID just under the limit: every message and every later delivery still gets a UID" {
	# B1's UID becomes 2^63 - 2, the checksum fails
	corrupt_then_check 'sed -i "2s/^[0-9]*/9223372036854775806/" "$L"'
	expect_uids_near_clock "${UIDS[@]}"
	refute_log "no UID could be given"
	deliver alice 1700000004.M4P4.host "$M1"
	uidl_session
	[ "${#UIDS[@]}" -eq 4 ]
	expect_increasing "${UIDS[@]}"
	expect_uids_near_clock "${UIDS[@]}"
}

@test "a sealed list and a lock file mark just under the UID limit are not trusted; the mailbox recovers by itself" {
	three_messages
	uidl_session
	local old=("${UIDS[@]}")
	sed -i "1s/^\(POP3-HANDLER-UIDLIST 3 \)[0-9]*/\19223372036854775806/" "$(MD)/$LIST_FILE"
	list_seal
	printf '%020d\n' 9223372036854775806 >"$(MD)/$LOCK_FILE"
	uidl_session
	[ "${#UIDS[@]}" -eq 3 ]
	expect_increasing "${UIDS[@]}"
	larger_than_all "$(max_of "${old[@]}")" "${UIDS[@]}"
	expect_uids_near_clock "${UIDS[@]}"
	[ "$(grep -c "$LIST_FILE is corrupt: rebuilt with new UIDs" "$T/log")" -eq 1 ]
	check_list >/dev/null
	# the list removed, the mark alone does not poison it either
	rm "$(MD)/$LIST_FILE"
	deliver alice 1700000004.M4P4.host "$M1"
	uidl_session
	[ "${#UIDS[@]}" -eq 4 ]
	expect_uids_near_clock "${UIDS[@]}"
	refute_log "no UID could be given"
}

@test "a UID list claiming sizes of 2^64 - 1: each is announced as at most 4 TiB, and STAT's total does not wrap" {
	three_messages
	uidl_session
	sed -i "2,3s/^\([0-9]*\) [0-9]* [0-9]* /\1 18446744073709551615 18446744073709551615 /" "$(MD)/$LIST_FILE"
	list_seal
	session -- "${LOGIN[@]}" "STAT" "LIST" "QUIT"
	# UINT64_MAX / MESSAGES_MAX (4,000,000) = 4611686018427
	expect_lines 2 "+OK Logged in, 3 messages (9223372036878 octets)" "+OK 3 9223372036878" \
		"+OK 3 messages (9223372036878 octets)" "1 4611686018427" "2 4611686018427" "3 24" "." \
		"+OK Bye, 0 messages deleted"
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

# runs_as_test_user PID: the process runs as the test's user.
runs_as_test_user() { [ "$(ps -o uid= -p "$1" | tr -d ' ')" = "$TEST_UID" ]; }

@test "a message another session gives a UID and deletes while a login waits for the lock gets no second UID" {
	three_messages
	uidl_session
	local before=("${UIDS[@]}") session_pid m4=1700000004.M4P4.host
	deliver alice "$m4" "$M1"
	hold_lock
	# A logs in: it reads the list, scans and sizes the new message, and
	# waits for the lock, where it is stopped.
	printf 'USER alice\r\nPASS secret\r\nUIDL\r\nQUIT\r\n' >"$T/in-a"
	"$HANDLER" -c "$T/conf" <"$T/in-a" >"$T/out-a" 2>"$T/log-a" 3>&- &
	BG_PIDS=($!)
	# Once logged in, the process runs as alice.
	session_pid=${BG_PIDS[0]}
	wait_for 5 runs_as_test_user "$session_pid"
	sleep 0.5
	kill -STOP "$session_pid"
	kill_holder
	# Meanwhile another session gives the message its UID and deletes it.
	session -- "${LOGIN[@]}" "DELE 4" "QUIT"
	expect_line 4 "+OK Bye, 1 message deleted"
	kill -CONT "$session_pid"
	wait "${BG_PIDS[0]}"
	BG_PIDS=()
	# A lists the three messages left under their UIDs, and no fourth.
	output=$(tr -d '\r' <"$T/out-a")
	mapfile -t lines <<<"$output"
	expect_lines 2 "+OK Logged in, 3 messages (71 octets)" "+OK Unique-id listing follows" \
		"1 ${before[0]}" "2 ${before[1]}" "3 ${before[2]}" "." "+OK Bye, 0 messages deleted" ||
		{ cat "$T/log-a"; return 1; }
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
