# lib/maildir.bash - what the Maildir tests (mailbox-uids.bats,
# mailbox-changes.bats, mailbox-fastpath.bats) share: alice's Maildir and
# list files, three messages, the message files left, a UIDL session, an
# entry of the UID list, a hand-edited list sealed again, another process
# holding the list's lock, and a session with its clock moved.
# Loaded after helpers.bash.

MD() { printf '%s' "$T/home/alice/Maildir"; }
LIST_FILE=pop3-handler-uidlist
LOCK_FILE=pop3-handler-uidlist.lock

LOGIN=("USER alice" "PASS secret")

M1='Subject: one\n\nbody one\n'		# 23 octets stored, 26 exact
M2='Subject: two\r\n\r\ntwo\r\n'	# 21 octets stored, 21 exact
M3='Subject: three\n\na\nb\n'		# 20 octets stored, 24 exact
B1=1700000001.M1P1.host
B2=1700000002.M2P2.host
B3=1700000003.M3P3.host

# alice_with_three_messages: alice (password secret) and M1, M2, M3 as B1,
# B2, B3 in her new/.
alice_with_three_messages() {
	add_user alice secret
	deliver alice "$B1" "$M1"
	deliver alice "$B2" "$M2"
	deliver alice "$B3" "$M3"
}

# three_messages: alice_with_three_messages, by the name mailbox-uids.bats
# and mailbox-changes.bats use.
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

# list_field BASE N: field N (1 uid, 2 exact, 3 stored, 4 retrieved) of BASE's entry.
list_field() {
	awk -v b="$1" -v n="$2" 'NR > 1 && $1 != "END" { base = $6; sub(/:.*/, "", base) }
		NR > 1 && $1 != "END" && base == b { print $n; found = 1 } END { exit !found }' \
		"$(MD)/$LIST_FILE"
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

# uidl_session [-o key=value]...: a session "UIDL" "QUIT"; checks its shape
# and sets UIDS to the unique-ids in message order (message n is ${UIDS[n-1]}).
uidl_session() {
	session "$@" -- "${LOGIN[@]}" "UIDL" "QUIT"
	[ "$status" -eq 0 ] || { echo "the session ended with status $status; its log:"; cat "$T/log"; return 1; }
	expect_line 3 "+OK Unique-id listing follows"
	UIDS=()
	local i=4 n=1
	while [ "${lines[$i]}" != "." ]; do
		if [ "${lines[$i]%% *}" != "$n" ]; then
			echo "line $i: expected message $n, got '${lines[$i]}'"
			return 1
		fi
		UIDS+=("${lines[$i]#* }")
		i=$((i + 1))
		n=$((n + 1))
	done
	expect_lines "$((i + 1))" "+OK Bye, 0 messages deleted"
}

# list_seal [check]: recomputes the END line of a hand-edited list (entry
# count and FNV-1a 64 of every octet before it, as uidlist.c does), in
# place; with "check", only tells whether the END line is right.
list_seal() {
	python3 - "$(MD)/$LIST_FILE" "${1:-seal}" <<'PY'
import sys
path, mode = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
body = data[:data.rstrip(b"\n").rfind(b"\n") + 1]
h = 0xcbf29ce484222325
for b in body:
    h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
sealed = body + b"END %d %016x\n" % (body.count(b"\n") - 1, h)
if mode == "check":
    sys.exit(0 if data == sealed else 1)
open(path, "wb").write(sealed)
PY
}

# hold_lock: another process takes an fcntl write lock on the list's lock
# file and keeps it (30 s); its pid is HOLDER_PID.  A lock file it would
# create as root is made the user's first, as the handler would make it.
hold_lock() {
	local lock
	lock="$(MD)/$LOCK_FILE"
	if [ ! -e "$lock" ]; then
		: >"$lock"
		chown "$TEST_UID:$TEST_GID" "$lock"
		chmod 600 "$lock"
	fi
	rm -f "$T/ready"
	python3 -c 'import fcntl,os,sys,time; fd=os.open(sys.argv[1],os.O_RDWR|os.O_CREAT); fcntl.lockf(fd,fcntl.LOCK_EX); open(sys.argv[2],"w").close(); time.sleep(30)' \
		"$lock" "$T/ready" 3>&- &
	HOLDER_PID=$!
	local i
	for ((i = 0; i < 200; i++)); do
		[ -e "$T/ready" ] && return 0
		sleep 0.05
	done
	echo "the lock holder did not start"
	return 1
}

# kill_holder: ends the lock holder with SIGKILL (the kernel drops its lock).
kill_holder() {
	kill -9 "$HOLDER_PID"
	wait "$HOLDER_PID" 2>/dev/null || true
	HOLDER_PID=
}
