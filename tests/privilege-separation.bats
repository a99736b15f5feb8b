#!/usr/bin/env bats
# Before login the client talks to no root process: started as root the
# handler forks at once, the child talks to the client until login as
# privsep_user, chrooted to privsep_dir, and the root parent holds nothing
# of the client and only decides logins; after a login the parent becomes
# the user and serves the rest.  Shown from /proc (ids, root directory,
# descriptors), by pipelined input that crosses the hand-over, by the
# failure delay and counter, and by the start-up checks of privsep_user and
# privsep_dir.  Started as another user there is one process, as before.
# The parent's side of the socket pair is tested directly in
# tests/unit/test-privsep.c.

load lib/helpers

CLOSING='-ERR [AUTH] Authentication failed; too many failures, closing connection'
NONROOT_ID=4243	# the uid/gid of the non-root handler runs

setup() {
	unset REMOTE_ADDR REMOTE_HOST TCPREMOTEIP
	setup_world
}

need_root() {
	[ "$(id -u)" -eq 0 ] || skip "privilege separation happens only when started as root"
}

# children_of PID: the pids of PID's children, one a line.
children_of() {
	cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | sed '/^$/d'
}

# only_child PID: the pid of PID's one child; fails unless there is exactly one.
only_child() {
	local kids
	kids=$(children_of "$1")
	if [ -z "$kids" ] || [ "$(wc -l <<<"$kids")" -ne 1 ]; then
		echo "expected one child of $1, got: '$kids'" >&2
		return 1
	fi
	echo "$kids"
}

# status_field PID FIELD: the value of a line of /proc/PID/status, blanks squeezed.
status_field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr -s '\t ' '  ' | sed 's/ $//'
}

# fd_targets PID: where each descriptor of PID points, one a line.
fd_targets() {
	local f
	for f in /proc/"$1"/fd/*; do
		readlink "$f" || true
	done
}

# client_readers: "PID UID" of each process of the live session (the handler
# and its children) holding the client's input ($T/to) open.
client_readers() {
	local pid
	for pid in "$LIVE_PID" $(children_of "$LIVE_PID"); do
		if fd_targets "$pid" | grep -qxF "$T/to"; then
			echo "$pid $(status_field "$pid" Uid | cut -d' ' -f1)"
		fi
	done
}

# expect_one_unprivileged_reader: exactly one process of the session holds
# the client's input, and it is not root.
expect_one_unprivileged_reader() {
	local readers
	readers=$(client_readers)
	if [ -z "$readers" ] || [ "$(wc -l <<<"$readers")" -ne 1 ] || [ "${readers#* }" = 0 ]; then
		echo "expected one non-root process holding the client's input, got (pid uid):"
		echo "${readers:-none}"
		return 1
	fi
}

# four_times VALUE: "VALUE VALUE VALUE VALUE" (real, effective, saved, fs ids).
four_times() {
	echo "$1 $1 $1 $1"
}

# as_nonroot: the handler runs as uid/gid $NONROOT_ID without supplementary groups.
as_nonroot() {
	chmod 644 "$T/passwd" "$T/conf"
	local real=$HANDLER
	printf '#!/bin/bash\nexec setpriv --reuid=%s --regid=%s --clear-groups %q "$@"\n' \
		"$NONROOT_ID" "$NONROOT_ID" "$real" >"$T/wrap"
	chmod 755 "$T/wrap"
	HANDLER="$T/wrap"
}

# --- the processes, from /proc -----------------------------------------------

@test "before login the client talks to privsep_user (nobody) chrooted to /var/empty; the root parent holds nothing of it" {
	need_root
	add_user alice secret
	live_start
	live_expect "+OK POP3 server ready"
	local child
	child=$(only_child "$LIVE_PID")
	# the child: nobody, no groups, no way back, in the empty directory
	[ "$(status_field "$child" Uid)" = "$(four_times "$(id -u nobody)")" ]
	[ "$(status_field "$child" Gid)" = "$(four_times "$(id -g nobody)")" ]
	[ -z "$(status_field "$child" Groups)" ]
	[ "$(status_field "$child" NoNewPrivs)" = 1 ]
	[ "$(status_field "$child" CapEff)" = 0000000000000000 ]
	[ "$(readlink "/proc/$child/root")" = /var/empty ]
	[ "$(readlink "/proc/$child/fd/0")" = "$T/to" ]
	[ "$(readlink "/proc/$child/fd/1")" = "$T/from" ]
	# the parent: root, with /dev/null where the client was
	[ "$(status_field "$LIVE_PID" Uid)" = "$(four_times 0)" ]
	[ "$(readlink "/proc/$LIVE_PID/root")" = / ]
	[ "$(readlink "/proc/$LIVE_PID/fd/0")" = /dev/null ]
	[ "$(readlink "/proc/$LIVE_PID/fd/1")" = /dev/null ]
	if fd_targets "$LIVE_PID" | grep -qxF -e "$T/to" -e "$T/from"; then
		echo "the root parent holds the client's input or output:"
		fd_targets "$LIVE_PID"
		return 1
	fi
	# after the login: one process, the user's, with the client
	live_send "USER alice" "PASS secret"
	live_expect "+OK Send your password" "+OK Logged in, 0 messages (0 octets)"
	[ -z "$(children_of "$LIVE_PID")" ]
	[ "$(status_field "$LIVE_PID" Uid)" = "$(four_times "$TEST_UID")" ]
	[ "$(status_field "$LIVE_PID" Gid)" = "$(four_times "$TEST_GID")" ]
	fd_targets "$LIVE_PID" | grep -qxF "$T/to"
	fd_targets "$LIVE_PID" | grep -qxF "$T/from"
	live_send "QUIT"
	live_expect "+OK Bye, 0 messages deleted"
	live_end
	[ "$status" -eq 0 ]
}

@test "no process that reads the client's bytes is root: after the greeting, a failed login, a refused PASS, and the login" {
	need_root
	add_user alice secret
	live_start -o max_auth_failures=5
	live_expect "+OK POP3 server ready"
	expect_one_unprivileged_reader
	live_send "USER alice" "PASS wrong"
	live_expect "+OK Send your password" "$FAILED"
	expect_one_unprivileged_reader
	live_send "PASS secret"
	live_expect "-ERR Send USER first"
	expect_one_unprivileged_reader
	live_send "USER alice" "PASS secret"
	live_expect "+OK Send your password" "+OK Logged in, 0 messages (0 octets)"
	expect_one_unprivileged_reader
	[ "$(client_readers)" = "$LIVE_PID $TEST_UID" ]
	live_end
}

@test "log = syslog: the root parent's fd 2 (the client's socket under inetd) is /dev/null too" {
	need_root
	live_start -o log=syslog
	live_expect "+OK POP3 server ready"
	[ "$(readlink "/proc/$LIVE_PID/fd/2")" = /dev/null ]
	[ "$(readlink "/proc/$(only_child "$LIVE_PID")/fd/2")" = "$T/log" ]
	live_end
	[ "$status" -eq 0 ]
}

@test "privsep_user and privsep_dir name the child's user and root directory" {
	need_root
	install -d -m 755 -o root -g root "$T/jail"
	live_start -o privsep_user=daemon -o privsep_dir="$T/jail"
	live_expect "+OK POP3 server ready"
	local child
	child=$(only_child "$LIVE_PID")
	[ "$(status_field "$child" Uid)" = "$(four_times "$(id -u daemon)")" ]
	[ "$(status_field "$child" Gid)" = "$(four_times "$(id -g daemon)")" ]
	[ "$(readlink "/proc/$child/root")" = "$T/jail" ]
	live_end
	[ "$status" -eq 0 ]
}

@test "the child runs under its own seccomp filter (Seccomp 2, one filter); confine = no leaves it without" {
	need_root
	[ ${#WRAPPER[@]} -eq 0 ] || skip "sessions run under ${WRAPPER[*]}, with confine = no"
	live_start
	live_expect "+OK POP3 server ready"
	local child
	child=$(only_child "$LIVE_PID")
	[ "$(status_field "$child" Seccomp)" = 2 ]
	[ "$(status_field "$child" Seccomp_filters)" = 1 ]
	[ "$(status_field "$LIVE_PID" Seccomp)" = 0 ]
	# what it is allowed does not end it: a failed login, then QUIT
	add_user alice secret
	live_send "USER alice" "PASS wrong" "QUIT"
	live_expect "+OK Send your password" "$FAILED" "+OK Bye"
	live_end
	[ "$status" -eq 0 ]
	rm "$T/to" "$T/from"
	live_start -o confine=no
	live_expect "+OK POP3 server ready"
	[ "$(status_field "$(only_child "$LIVE_PID")" Seccomp)" = 0 ]
	live_end
}

@test "a descriptor the launcher left open (fd 7 on a secret file) reaches neither the child nor the session" {
	need_root
	add_user alice secret
	echo "root:secret-hash" >"$T/secret"
	exec 7<"$T/secret"
	live_start
	exec 7<&-
	live_expect "+OK POP3 server ready"
	local pid
	for pid in "$LIVE_PID" "$(only_child "$LIVE_PID")"; do
		if fd_targets "$pid" | grep -qxF "$T/secret"; then
			echo "process $pid holds the launcher's descriptor:"
			fd_targets "$pid"
			return 1
		fi
	done
	live_send "USER alice" "PASS secret"
	live_expect "+OK Send your password" "+OK Logged in, 0 messages (0 octets)"
	! fd_targets "$LIVE_PID" | grep -qxF "$T/secret"
	live_end
}

@test "an account with privsep_user's uid or gid is refused: every client's pre-login process runs as it" {
	need_root
	add_user shareuid secret "$(id -u nobody)" "$TEST_GID"
	add_user sharegid secret "$TEST_UID" "$(id -g nobody)"
	add_user alice secret
	session -- "USER shareuid" "PASS secret" "USER sharegid" "PASS secret" "USER alice" "PASS secret" "QUIT"
	expect_lines 1 "+OK Send your password" "-ERR [SYS/PERM] This account cannot log in here" \
		"+OK Send your password" "-ERR [SYS/PERM] This account cannot log in here" \
		"+OK Send your password" "+OK Logged in, 0 messages (0 octets)" "+OK Bye, 0 messages deleted"
	expect_logged "user shareuid: uid $(id -u nobody) or gid $TEST_GID is privsep_user's"
	expect_logged "user sharegid: uid $TEST_UID or gid $(id -g nobody) is privsep_user's"
}

@test "the child dies with the parent: a killed handler leaves no process talking to the client" {
	need_root
	live_start
	live_expect "+OK POP3 server ready"
	local child
	child=$(only_child "$LIVE_PID")
	kill -KILL "$LIVE_PID"
	wait "$LIVE_PID" || true
	LIVE_PID=
	local i
	for ((i = 0; i < 50; i++)); do
		kill -0 "$child" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$child" 2>/dev/null; then
		echo "the child $child outlived its parent"
		return 1
	fi
	live_eof
}

@test "a child killed by a signal: the parent logs it and exits 1" {
	need_root
	live_start
	live_expect "+OK POP3 server ready"
	kill -KILL "$(only_child "$LIVE_PID")"
	live_eof
	exec {LIVE_IN}>&- {LIVE_OUT}<&-
	status=0
	wait "$LIVE_PID" || status=$?
	LIVE_PID=
	[ "$status" -eq 1 ]
	expect_logged ": error: the network process was killed by signal 9"
}

@test "a session that ends before login (QUIT, end of input, autologout) exits 0" {
	session -- "CAPA" "QUIT"
	[ "$status" -eq 0 ]
	expect_line 0 "+OK POP3 server ready"
	[ "${lines[-1]}" = "+OK Bye" ]
	session -- "USER alice"
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password"
	live_start -o timeout_unauth=1
	live_expect "+OK POP3 server ready" "-ERR Autologout: idle for too long, closing connection"
	live_end
	[ "$status" -eq 0 ]
}

# --- input across the hand-over -----------------------------------------------

@test "USER, PASS, STAT and LIST sent in one write all get their replies" {
	add_user alice secret
	deliver alice 1700000000.M1P1.host "$MSG"
	live_start
	# one printf, one write(): the child reads all four lines at once
	live_send "USER alice" "PASS secret" "STAT" "LIST"
	live_expect "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 1 message (22 octets)" \
		"+OK 1 22" "+OK 1 message (22 octets)" "1 22" "."
	live_send "QUIT"
	live_expect "+OK Bye, 0 messages deleted"
	live_end
	[ "$status" -eq 0 ]
	expect_logged ": info: login user=alice mechanism=USER client=local messages=1 octets=22"
}

@test "a line cut in two by the hand-over: its start read by the child, its end by the parent" {
	add_user alice secret
	deliver alice 1700000000.M1P1.host "$MSG"
	live_start
	printf 'USER alice\r\nPASS secret\r\nSTAT\r\nLI' >&"$LIVE_IN"
	live_expect "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 1 message (22 octets)" "+OK 1 22"
	sleep 0.2
	printf 'ST 1\r\nQUIT\r\n' >&"$LIVE_IN"
	live_expect "+OK 1 22" "+OK Bye, 0 messages deleted"
	live_end
	[ "$status" -eq 0 ]
}

@test "a full input buffer after PASS (700 pipelined NOOPs) and after AUTH PLAIN: every command answered" {
	add_user alice secret
	local noops=() i
	for ((i = 0; i < 700; i++)); do noops+=("NOOP"); done
	session -- "USER alice" "PASS secret" "${noops[@]}" "QUIT"
	expect_line 2 "+OK Logged in, 0 messages (0 octets)"
	[ "$(grep -cx '+OK' <<<"$output")" -eq 700 ]
	[ "${lines[-1]}" = "+OK Bye, 0 messages deleted" ]
	[ "${#lines[@]}" -eq 704 ]
	session -- "AUTH PLAIN $(plain_b64 '' alice secret)" "${noops[@]}" "QUIT"
	expect_line 1 "+OK Logged in, 0 messages (0 octets)"
	[ "$(grep -cx '+OK' <<<"$output")" -eq 700 ]
	[ "${#lines[@]}" -eq 703 ]
}

@test "AUTH PLAIN through the parent: initial response, continuation, a failure; pipelined commands after it" {
	add_user alice secret
	deliver alice 1700000000.M1P1.host "$MSG"
	session -o max_auth_failures=2 -- "AUTH PLAIN $(plain_b64 '' alice wrong)" "AUTH PLAIN" \
		"$(plain_b64 alice alice secret)" "STAT" "QUIT"
	expect_lines 0 "+OK POP3 server ready" "$FAILED" "+ " "+OK Logged in, 1 message (22 octets)" "+OK 1 22" \
		"+OK Bye, 0 messages deleted"
	expect_logged ": notice: failed login user=alice mechanism=PLAIN client=local"
	expect_logged ": info: login user=alice mechanism=PLAIN client=local messages=1 octets=22"
}

# --- the failure delay and counter live in the parent ----------------------------

@test "the failure delay and counter: two failures with auth_fail_delay=1 take 2 s and close; the root parent logs them" {
	add_user alice secret
	live_start -o auth_fail_delay=1 -o max_auth_failures=2
	local t0 t1 parent=$LIVE_PID
	t0=$(date +%s%N)
	live_send "USER alice" "PASS wrong" "AUTH PLAIN $(plain_b64 '' nobody wrong)" "USER alice" "PASS secret"
	live_expect "+OK POP3 server ready" "+OK Send your password" "$FAILED" "$CLOSING"
	t1=$(date +%s%N)
	live_eof
	live_end
	[ "$status" -eq 0 ]
	echo "two failures took $(((t1 - t0) / 1000000)) ms"
	[ $((t1 - t0)) -ge 2000000000 ]
	expect_log "notice: failed login user=alice mechanism=USER client=local"
	expect_log "notice: failed login: unknown user, mechanism=PLAIN client=local"
	refute_logged ": info: login user="
	expect_log "notice: failed login: too many failures (2), closing the session, client=local"
	# logged by the process that started (the parent), not by a child
	[ "$(grep -c "^pop3-handler\[$parent\]: notice: failed login" "$T/log")" -eq 3 ]
}

# --- start-up checks ---------------------------------------------------------------

@test "privsep_dir writable by group or others, not root's, not empty, missing, a file or a symlink: refused at start" {
	need_root
	install -d -m 755 -o root -g root "$T/good"
	install -d -m 757 -o root -g root "$T/other-writable"
	install -d -m 775 -o root -g root "$T/group-writable"
	install -d -m 755 -o "$TEST_UID" -g root "$T/not-root"
	install -d -m 755 -o root -g root "$T/full"
	: >"$T/full/file"
	: >"$T/plain-file"
	ln -s "$T/good" "$T/link"
	local dir reason
	while IFS='|' read -r dir reason; do
		session -o privsep_dir="$T/$dir" -- "QUIT"
		expect_startup_error "privsep_dir $T/$dir: $reason"
		expect_logged ": error: configuration error: privsep_dir $T/$dir: $reason"
	done <<-EOF
		other-writable|must not be writable by group or others
		group-writable|must not be writable by group or others
		not-root|must be owned by root
		full|must be an empty directory
		missing|No such file or directory
		plain-file|Not a directory
		link|a symbolic link, not a directory
	EOF
	# the control: the same checks pass a good one
	session -o privsep_dir="$T/good" -- "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "+OK Bye"
}

@test "an unknown privsep_user, or one with uid 0: refused at start" {
	need_root
	session -o privsep_user=no-such-user-here -- "QUIT"
	expect_startup_error "privsep_user no-such-user-here: no such user"
	session -o privsep_user=root -- "QUIT"
	expect_startup_error "privsep_user root: must not have uid or gid 0"
}

@test "privsep_user must be a user name and privsep_dir an absolute path" {
	session -o privsep_user=a/b -- "QUIT"
	expect_startup_error "privsep_user: not a valid user name"
	session -o privsep_user= -- "QUIT"
	expect_startup_error "privsep_user: not a valid user name"
	session -o privsep_dir=var/empty -- "QUIT"
	expect_startup_error "privsep_dir: must be an absolute path"
}

# --- started as another user: one process ---------------------------------------

@test "started as a non-root user: one process serves the whole session, and privsep_dir is not used" {
	need_root
	add_user bob secret "$NONROOT_ID" "$NONROOT_ID"
	as_nonroot
	live_start -o privsep_dir=/nonexistent
	live_expect "+OK POP3 server ready"
	[ -z "$(children_of "$LIVE_PID")" ]
	[ "$(status_field "$LIVE_PID" Uid)" = "$(four_times "$NONROOT_ID")" ]
	fd_targets "$LIVE_PID" | grep -qxF "$T/to"
	live_send "USER bob" "PASS secret" "STAT"
	live_expect "+OK Send your password" "+OK Logged in, 0 messages (0 octets)" "+OK 0 0"
	[ -z "$(children_of "$LIVE_PID")" ]
	live_send "QUIT"
	live_expect "+OK Bye, 0 messages deleted"
	live_end
	[ "$status" -eq 0 ]
}
