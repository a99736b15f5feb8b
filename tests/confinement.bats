#!/usr/bin/env bats
# After login the session is confined (confine = yes, the default): no
# new privileges, Landlock beneath the Maildir and the seccomp allow-list,
# seen from outside the session; a confined session doing all it does;
# syslog under the filter; and the login refused when a step the kernel
# supports fails.
# tests/unit/test-confine.c tries the forbidden things from inside.

load lib/helpers

MD() { printf '%s' "$T/home/alice/Maildir"; }

# need_plain_handler: skips when sessions run under a wrapper such as
# valgrind, which gets confine = no and whose PID $LIVE_PID would be.
need_plain_handler() {
	[ ${#WRAPPER[@]} -eq 0 ] || skip "sessions run under ${WRAPPER[*]}"
}

# status_field NAME: NAME's value in the live session's /proc/PID/status.
status_field() {
	awk -v k="$1:" '$1 == k { print $2 }' "/proc/$LIVE_PID/status"
}

# confinement: the live session's NoNewPrivs, Seccomp and Seccomp_filters.
confinement() {
	echo "$(status_field NoNewPrivs) $(status_field Seccomp) $(status_field Seccomp_filters)"
}

# live_login: a live session of alice's, logged in; $before holds its
# confinement() before login.
live_login() {
	live_start
	live_expect "+OK POP3 server ready"
	before=$(confinement)
	live_send "USER alice" "PASS secret"
	live_expect "+OK Send your password" "+OK Logged in, 3 messages (59 octets)"
}

# two_new_one_cur: alice with two messages in new/ and one in cur/.
two_new_one_cur() {
	add_user alice secret
	deliver alice 1700000001.a.host 'Subject: a\n\none\n'
	deliver alice 1700000002.b.host 'Subject: b\n\ntwo\n'
	deliver alice 1700000003.c.host:2, 'Subject: c\n\nthree\n' cur
}

# files_left: the message files in the Maildir, sorted, on one line.
files_left() {
	(cd "$(MD)" && find new cur tmp -type f | LC_ALL=C sort | tr '\n' ' ')
}

@test "login confines the session: NoNewPrivs 1, Seccomp 2, and one seccomp filter more than before login" {
	need_plain_handler
	two_new_one_cur
	live_login
	local nnp mode filters after
	after=$(confinement)
	read -r nnp mode filters <<<"$after"
	[ "$nnp" = 1 ] && [ "$mode" = 2 ] && [ "$filters" = $((${before##* } + 1)) ] || {
		echo "NoNewPrivs Seccomp Seccomp_filters before login: $before, after: $after"
		return 1
	}
	live_send "QUIT"
	live_expect "+OK Bye, 0 messages deleted"
	live_end
	[ "$status" -eq 0 ]
	# this kernel has every step: nothing is reported missing
	refute_logged "lacks"
}

@test "confine = no: login leaves NoNewPrivs and Seccomp as they were" {
	need_plain_handler
	two_new_one_cur
	conf confine no
	live_login
	[ "$(confinement)" = "$before" ] || { echo "before login: $before, after: $(confinement)"; return 1; }
	live_send "QUIT"
	live_expect "+OK Bye, 0 messages deleted"
	live_end
}

@test "a confined session does everything: STAT LIST UIDL TOP RETR DELE QUIT, new/ to cur/, the UID list, Seen flags, expire_days" {
	two_new_one_cur
	session -o expire_days=0 -- "USER alice" "PASS secret" "STAT" "LIST" "UIDL" "TOP 1 0" "RETR 2" "DELE 3" "QUIT"
	[ "$status" -eq 0 ]
	local u1=${lines[10]#1 } u2=${lines[11]#2 } u3=${lines[12]#3 }
	expect_increasing "$u1" "$u2" "$u3"
	expect_lines 2 "+OK Logged in, 3 messages (59 octets)" "+OK 3 59" \
		"+OK 3 messages (59 octets)" "1 19" "2 19" "3 21" "." \
		"+OK Unique-id listing follows" "1 $u1" "2 $u2" "3 $u3" "." \
		"+OK 19 octets" "Subject: a" "" "." \
		"+OK 19 octets" "Subject: b" "" "two" "." \
		"+OK Message 3 deleted" "+OK Bye, 1 message deleted"
	# new/ went to cur/; RETR 2 expired at once (expire_days = 0), DELE 3 is gone
	[ "$(files_left)" = "cur/1700000001.a.host:2, " ]
	[ "$(list_uid alice 1700000001.a.host)" = "$u1" ]
	[ -z "$(list_uid alice 1700000002.b.host)" ] && [ -z "$(list_uid alice 1700000003.c.host)" ]
	grep -q 'logout user=alice retrieved=2 .* deleted=1 .* expired=1 failed=0$' "$T/log"
	# a second session: RETR sets the Seen flag at QUIT; the list is kept
	session -- "USER alice" "PASS secret" "UIDL" "RETR 1" "QUIT"
	expect_lines 2 "+OK Logged in, 1 message (19 octets)" "+OK Unique-id listing follows" "1 $u1" "." \
		"+OK 19 octets" "Subject: a" "" "one" "." "+OK Bye, 0 messages deleted"
	[ "$(files_left)" = "cur/1700000001.a.host:2,S " ]
	refute_logged "error"
}

# landlock_full COMMAND...: runs COMMAND under as many Landlock rulesets as
# the kernel stacks (16), each forbidding only making character devices,
# so that the session cannot add its own; exits 77 where the kernel lacks
# Landlock.  System call numbers 444 and 446 are the same on every
# architecture.
LANDLOCK_FULL='
import ctypes, errno, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
    sys.exit("prctl: " + os.strerror(ctypes.get_errno()))
attr = struct.pack("Q", 1 << 6)  # LANDLOCK_ACCESS_FS_MAKE_CHAR
for _ in range(16):
    fd = libc.syscall(444, attr, len(attr), 0)
    if fd < 0:
        e = ctypes.get_errno()
        sys.exit(77 if e in (errno.ENOSYS, errno.EOPNOTSUPP) else "landlock_create_ruleset: " + os.strerror(e))
    if libc.syscall(446, fd, 0) != 0:
        sys.exit("landlock_restrict_self: " + os.strerror(ctypes.get_errno()))
    os.close(fd)
os.execv(sys.argv[1], sys.argv[1:])
'

# run_landlock_full [PREFIX...]: the session of $T/in under landlock_full,
# started through PREFIX (with the system python3, which any user may run);
# sets status, lines; skips where the kernel lacks Landlock.
run_landlock_full() {
	status=0
	"$@" /usr/bin/python3 -c "$LANDLOCK_FULL" "$HANDLER" -c "$T/conf" <"$T/in" >"$T/raw" 2>"$T/log" || status=$?
	[ "$status" -ne 77 ] || skip "the kernel lacks Landlock"
	output=$(tr -d '\r' <"$T/raw")
	mapfile -t lines <<<"$output"
}

@test "a step the kernel supports that fails (Landlock layers full) refuses the login: -ERR [SYS/TEMP], logged, closed" {
	need_plain_handler
	two_new_one_cur
	printf 'USER alice\r\nPASS secret\r\nSTAT\r\nQUIT\r\n' >"$T/in"
	# Started as the mail user: one process, whose session confines itself.
	chmod 644 "$T/conf"
	chown "$TEST_UID:$TEST_GID" "$T/passwd"
	run_landlock_full setpriv --reuid="$TEST_UID" --regid="$TEST_GID" --clear-groups
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "-ERR [SYS/TEMP] Mailbox temporarily unavailable"
	[ "$status" -eq 0 ]
	expect_logged "error: user alice: cannot confine the session to $(MD): Argument list too long"
	# the Maildir was never read: new/ is as delivered, no UID list
	[ "$(files_left)" = "cur/1700000003.c.host:2, new/1700000001.a.host new/1700000002.b.host " ]
	[ ! -e "$(MD)/pop3-handler-uidlist" ]
}

@test "started as root under full Landlock layers, the pre-login child cannot confine itself: no byte read, logged, status 1" {
	need_plain_handler
	[ "$(id -u)" -eq 0 ] || skip "the pre-login child exists only when started as root"
	two_new_one_cur
	printf 'USER alice\r\nPASS secret\r\nSTAT\r\nQUIT\r\n' >"$T/in"
	run_landlock_full
	[ -z "$output" ]
	[ "$status" -eq 1 ]
	expect_logged "error: privilege separation: cannot confine the network process: Argument list too long"
	[ "$(files_left)" = "cur/1700000003.c.host:2, new/1700000001.a.host new/1700000002.b.host " ]
}

# A syslog daemon's socket: each datagram on the Unix socket argv[1] is
# appended to the file argv[2] as a line.
SYSLOG_LISTENER='
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65536) + b"\n")
'

# start_syslog FILE: a listener on $T/dev/log writing FILE; sets LISTENER_PID.
start_syslog() {
	rm -f "$T/dev/log"
	python3 -c "$SYSLOG_LISTENER" "$T/dev/log" "$1" 3>&- &
	LISTENER_PID=$!
	wait_for 5 test -S "$T/dev/log" || { echo "the syslog listener did not start"; return 1; }
}

teardown() {
	stop_process "${LISTENER_PID:-}"
	cleanup_world
}

# expect_syslog FILE TEXT: FILE got a datagram holding TEXT within 5 s.
expect_syslog() {
	wait_for 5 grep -qF -- "$2" "$1" 2>/dev/null || {
		echo "syslog lacks: $2"
		cat "$1" 2>/dev/null
		return 1
	}
}

@test "log = syslog under confinement: lines reach /dev/log, and syslog reconnects when the daemon restarts" {
	need_plain_handler
	[ "$(id -u)" -eq 0 ] || skip "needs root for a private /dev/log (unshare --mount)"
	two_new_one_cur
	mkdir -m 755 "$T/dev"
	start_syslog "$T/syslog1"
	# the session sees $T/dev as /dev, in a mount namespace of its own,
	# with the real /dev/null (started as root, the handler's privileged
	# parent puts it on its standard input and output)
	touch "$T/dev/null"
	WRAPPER=(unshare --mount sh -c 'mount --bind /dev/null "$0/null" && mount --bind "$0" /dev && exec "$@"' "$T/dev")
	live_start -o log=syslog
	live_send "USER alice" "PASS secret"
	live_expect "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 3 messages (59 octets)"
	[ "$(status_field Seccomp)" = 2 ]
	expect_syslog "$T/syslog1" "login user=alice mechanism=USER"
	# the daemon restarts: the next line fails on the old connection, and
	# syslog() opens a new socket and connects again, under the filter
	stop_process "$LISTENER_PID"
	start_syslog "$T/syslog2"
	live_send "QUIT"
	live_expect "+OK Bye, 0 messages deleted"
	live_end
	[ "$status" -eq 0 ]
	expect_syslog "$T/syslog2" "logout user=alice retrieved=0"
	# log = syslog: nothing on fd 2
	[ ! -s "$T/log" ]
}

@test "a confined first session reads 1,200 unknown messages with its sizing threads: every one listed with its exact size" {
	add_user alice secret
	# 1,200 messages, above SIZING_PARALLEL_MIN (params.h), with bare LFs
	# (so the sizes counted are the CRLF sizes, not the file sizes).
	python3 - "$(MD)/new" <<'PY'
import os, sys
for i in range(1200):
    with open(os.path.join(sys.argv[1], "1700%06d.M%dP1.host" % (i, i)), "w") as f:
        f.write("Subject: %d\n\n%s\n" % (i, "x" * (i % 50)))
PY
	chown -R "$TEST_UID:$TEST_GID" "$(MD)"
	session -- "USER alice" "PASS secret" "STAT" "LIST 1" "LIST 1200" "QUIT"
	[ "$status" -eq 0 ]
	# message i: "Subject: i", "" and i % 50 x's, three lines with CRLF:
	# 9 + digits + 2, 2, i % 50 + 2 octets.
	local total=0 i
	for ((i = 0; i < 1200; i++)); do total=$((total + 9 + ${#i} + i % 50 + 6)); done
	expect_lines 2 "+OK Logged in, 1200 messages ($total octets)" "+OK 1200 $total" "+OK 1 16" \
		"+OK 1200 $((9 + 4 + 1199 % 50 + 6))" "+OK Bye, 0 messages deleted"
	refute_logged "skipping"
	[ "$(find "$(MD)/cur" -type f | wc -l)" -eq 1200 ]
}
