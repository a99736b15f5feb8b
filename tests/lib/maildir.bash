# lib/maildir.bash - what the UID list tests (mailbox-uids.bats,
# mailbox-fastpath.bats) share: alice's Maildir and list files, three
# messages, a UIDL session, and another process holding the list's lock.
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
