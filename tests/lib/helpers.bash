# Shared set-up for the bats session tests.
#
# Each test gets a world in $T: a passwd file, a configuration ($T/conf)
# and users whose Maildirs live in $T/home/NAME/Maildir.  As root, users get
# uid/gid $TEST_UID (the handler must switch to them: uid 0 is refused);
# otherwise the caller's own ids, as a non-root handler serves only those.

# POP3_HANDLER picks another build (make check-sanitize); POP3_HANDLER_WRAPPER
# runs sessions under a tool such as valgrind (make check-valgrind).
HANDLER="${POP3_HANDLER:-$BATS_TEST_DIRNAME/../pop3-handler}"
WRAPPER=(${POP3_HANDLER_WRAPPER:-})

# Started as root the handler needs its privsep_dir, /var/empty by default
# (root's, mode 755, empty): made here when missing, as make install does.
ensure_privsep_dir() {
	if [ "$(id -u)" -eq 0 ] && [ ! -e /var/empty ]; then
		install -d -m 755 -o root -g root /var/empty
	fi
}

setup_world() {
	ensure_privsep_dir
	T=$(mktemp -d /tmp/pop3-test.XXXXXX)
	chmod 755 "$T"
	mkdir -p "$T/home"
	chmod 755 "$T/home"
	if [ "$(id -u)" -eq 0 ]; then
		TEST_UID=4242
		TEST_GID=4242
	else
		TEST_UID=$(id -u)
		TEST_GID=$(id -g)
	fi
	: >"$T/passwd"
	chmod 600 "$T/passwd"
	cat >"$T/conf" <<CONF
# written by tests/lib/helpers.bash
passwd_file = $T/passwd
maildir = %h/Maildir
log = stderr
auth_fail_delay = 0
CONF
	# valgrind (3.19) implements neither seccomp nor Landlock: it answers
	# ENOSYS with warnings on fd 2, which the tests read as the log, and
	# the session would log that the kernel lacks both.
	if [ ${#WRAPPER[@]} -gt 0 ]; then
		echo "confine = no" >>"$T/conf"
	fi
}

# setup_alice: setup_world without the client address of the suite's own
# environment (the plaintext policy must not depend on where the suite
# runs), and alice (password secret) holding MSG.
setup_alice() {
	unset REMOTE_ADDR REMOTE_HOST TCPREMOTEIP
	setup_world
	add_user alice secret
	deliver alice 1700000000.M1P1.host "$MSG"
}

teardown_world() {
	if [ -n "${T:-}" ]; then
		rm -rf "$T"
	fi
}

setup() { setup_world; }

# cleanup_world: stops a FIFO session left running by a failed test, makes
# everything removable again, and removes the world.
cleanup_world() {
	stop_process "${LIVE_PID:-}"
	if [ -n "${T:-}" ]; then
		chmod -R u+rwX "$T" 2>/dev/null || true
	fi
	teardown_world
}

teardown() { cleanup_world; }

# stop_process PID: ends a background process of the test, if PID is not
# empty, and reaps it.
stop_process() {
	if [ -n "$1" ]; then
		kill "$1" 2>/dev/null || true
		wait "$1" 2>/dev/null || true
	fi
}

# wait_for SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds;
# fails when SECONDS pass first.
wait_for() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		"${@:2}" && return 0
		sleep 0.1
	done
	return 1
}

# now_ns: the time in nanoseconds.
now_ns() { date +%s%N; }

# hash_password PASSWORD: a sha512crypt hash of it.
hash_password() {
	openssl passwd -6 -salt "$(openssl rand -hex 8)" "$1"
}

# add_user NAME PASSWORD [UID [GID]]: an entry in the passwd file and an empty Maildir.
add_user() {
	local name=$1 uid=${3:-$TEST_UID} gid=${4:-$TEST_GID}
	local home="$T/home/$name"
	printf '%s:%s:%s:%s:Test user:%s:/bin/sh\n' "$name" "$(hash_password "$2")" "$uid" "$gid" "$home" >>"$T/passwd"
	mkdir -p "$home/Maildir/cur" "$home/Maildir/new" "$home/Maildir/tmp"
	chown -R "$uid:$gid" "$home"
}

# add_user_hash NAME HASH [UID [GID]]: a passwd entry with the given hash field and an empty Maildir.
add_user_hash() {
	local name=$1 uid=${3:-$TEST_UID} gid=${4:-$TEST_GID}
	local home="$T/home/$name"
	printf '%s:%s:%s:%s:Test user:%s:/bin/sh\n' "$name" "$2" "$uid" "$gid" "$home" >>"$T/passwd"
	mkdir -p "$home/Maildir/cur" "$home/Maildir/new" "$home/Maildir/tmp"
	chown -R "$uid:$gid" "$home"
}

# add_hashed_user NAME HASH: add_user_hash with the test ids (the name the
# pop3-handler -H tests use).
add_hashed_user() { add_user_hash "$1" "$2"; }

# deliver USER FILENAME CONTENT [new|cur]: a message file, written with printf %b.
deliver() {
	local f="$T/home/$1/Maildir/${4:-new}/$2"
	printf '%b' "$3" >"$f"
	chown "$TEST_UID:$TEST_GID" "$f" 2>/dev/null || true
}

# conf KEY VALUE: appends a setting to the configuration.
conf() {
	printf '%s = %s\n' "$1" "$2" >>"$T/conf"
}

# session [-o key=value]... -- LINE...: runs one session with the lines sent
# CRLF-terminated in one write.  Sets $status, $output and $lines with the
# CRs removed; the raw reply bytes are in $T/raw, the log in $T/log.
session() {
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do opts+=("$1"); shift; done
	[ "${1:-}" = "--" ] && shift
	local input=""
	local l
	for l in "$@"; do input+="$l"$'\r\n'; done
	raw_session "${opts[@]}" -- "$input"
}

# raw_session [-o key=value]... -- BYTES: as session, with the input sent as is (printf %b).
raw_session() {
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do opts+=("$1"); shift; done
	[ "${1:-}" = "--" ] && shift
	printf '%b' "${1:-}" >"$T/in"
	status=0
	"${WRAPPER[@]}" "$HANDLER" -c "$T/conf" "${opts[@]}" <"$T/in" >"$T/raw" 2>"$T/log" || status=$?
	output=$(tr -d '\r' <"$T/raw")
	mapfile -t lines <<<"$output"
}

# expect_line INDEX TEXT: fails with a clear message unless ${lines[INDEX]} is TEXT.
expect_line() {
	if [ "${lines[$1]}" != "$2" ]; then
		echo "line $1: expected '$2'"
		echo "got: '${lines[$1]}'"
		echo "--- whole output ---"
		echo "$output"
		echo "--- log ---"
		cat "$T/log"
		return 1
	fi
}

# expect_match INDEX GLOB: as expect_line with a shell pattern.
expect_match() {
	# shellcheck disable=SC2053
	if [[ "${lines[$1]}" != $2 ]]; then
		echo "line $1: expected to match '$2'"
		echo "got: '${lines[$1]}'"
		echo "--- whole output ---"
		echo "$output"
		echo "--- log ---"
		cat "$T/log"
		return 1
	fi
}

# expect_raw_crlf: every line of the raw output ends in CRLF.
expect_raw_crlf() {
	if [ -s "$T/raw" ] && [ "$(tail -c 2 "$T/raw" | od -An -tx1 | tr -d ' \n')" != "0d0a" ]; then
		echo "output does not end in CRLF"
		return 1
	fi
	if grep -q $'[^\r]$' "$T/raw" 2>/dev/null || grep -qx '' "$T/raw"; then
		echo "a line of the raw output lacks its CR"
		od -c "$T/raw" | head -40
		return 1
	fi
}

# --- a session driven step by step over FIFOs ---

# live_start [-o key=value]...: starts the handler reading $T/to and writing
# $T/from; live_send writes command lines, live_expect reads replies.
live_start() {
	mkfifo "$T/to" "$T/from"
	"${WRAPPER[@]}" "$HANDLER" -c "$T/conf" "$@" <"$T/to" >"$T/from" 2>"$T/log" 3>&- &
	LIVE_PID=$!
	exec {LIVE_IN}>"$T/to" {LIVE_OUT}<"$T/from"
}

# live_send LINE...: sends each LINE with CRLF.
live_send() {
	printf '%s\r\n' "$@" >&"$LIVE_IN"
}

# live_expect TEXT...: reads one reply line per TEXT (within 5 s each); each must be TEXT followed by CRLF.
live_expect() {
	local want got
	for want in "$@"; do
		if ! IFS= read -r -t 5 -u "$LIVE_OUT" got; then
			echo "expected '$want', got nothing (timeout or end of output); partial: '$got'"
			cat "$T/log"
			return 1
		fi
		if [ "$got" != "$want"$'\r' ]; then
			echo "expected '$want'"
			echo "got      '${got%$'\r'}'"
			cat "$T/log"
			return 1
		fi
	done
}

# live_eof: the handler closes its output within 5 s without saying more (our input still open).
live_eof() {
	local extra
	if IFS= read -r -t 5 -u "$LIVE_OUT" extra || [ -n "$extra" ]; then
		echo "unexpected output: '$extra'"
		return 1
	fi
}

# live_end: closes our input, expects end of output, waits for the handler; sets $status.
live_end() {
	exec {LIVE_IN}>&-
	live_eof
	exec {LIVE_OUT}<&-
	status=0
	wait "$LIVE_PID" || status=$?
	LIVE_PID=
}

# expect_lines FIRST TEXT...: lines FIRST, FIRST+1, ... are the TEXTs, and nothing follows them.
expect_lines() {
	local i=$1
	shift
	local l
	for l in "$@"; do
		expect_line "$i" "$l"
		i=$((i + 1))
	done
	if [ "${#lines[@]}" -ne "$i" ]; then
		echo "expected $i lines of output, got ${#lines[@]}"
		echo "$output"
		return 1
	fi
}

# --- the UID list (Maildir store) ---

# list_uid USER BASE: the UID that USER's UID list (pop3-handler-uidlist in
# the Maildir root) records for the message base name BASE; fails when the
# list has no such entry.
list_uid() {
	awk -v b="$2" 'NR > 1 && $1 != "END" { base = $6; sub(/:.*/, "", base) }
		NR > 1 && $1 != "END" && base == b { print $1; found = 1 } END { exit !found }' \
		"$T/home/$1/Maildir/pop3-handler-uidlist"
}

# expect_increasing N...: every N is a decimal UID (digits, no leading zero)
# and each is larger than the one before it.
expect_increasing() {
	local prev="" n
	for n in "$@"; do
		if ! [[ $n =~ ^[1-9][0-9]{0,19}$ ]]; then
			echo "not a decimal UID: '$n' (in: $*)"
			return 1
		fi
		# without leading zeros, the shorter number is the smaller
		if [ -n "$prev" ] && ! { [ ${#prev} -lt ${#n} ] || { [ ${#prev} -eq ${#n} ] && [[ $prev < $n ]]; }; }; then
			echo "UIDs do not increase: $prev then $n (in: $*)"
			return 1
		fi
		prev=$n
	done
}

# --- SASL ---

# plain_b64 AUTHZID AUTHCID PASSWORD: the base64 of a SASL PLAIN message
# (RFC 4616: AUTHZID NUL AUTHCID NUL PASSWORD), on one line without newline.
plain_b64() {
	printf '%s\0%s\0%s' "$1" "$2" "$3" | base64 -w 0
}

# --- the handler behind a TCP listener, as inetd would start it ---

# listen [SYSTEMD-SOCKET-ACTIVATE-OPTION]...: serves the handler ($HANDLER) on a free
# port of 127.0.0.1, one process per connection; sets PORT and SSA_PID.
# The handler's log (stderr) goes to $T/ssa.log with the launcher's own
# lines.  A port taken between choosing and binding is retried.
listen() {
	local port
	for _ in 1 2 3 4 5; do
		port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
		: >"$T/ssa.log"
		systemd-socket-activate --inetd -a -l "127.0.0.1:$port" "$@" "$HANDLER" -c "$T/conf" 2>"$T/ssa.log" &
		SSA_PID=$!
		for _ in $(seq 100); do
			if grep -q '^Listening on' "$T/ssa.log"; then
				PORT=$port
				return 0
			fi
			kill -0 "$SSA_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill "$SSA_PID" 2>/dev/null || true
		wait "$SSA_PID" 2>/dev/null || true
		SSA_PID=
	done
	echo "systemd-socket-activate did not start:"
	cat "$T/ssa.log"
	return 1
}

# expect_server_logged TEXT: a handler wrote the log line "pop3-handler[PID]: TEXT"
# (waiting up to 2 s: the handler may still be ending when the client is done).
expect_server_logged() {
	for _ in $(seq 40); do
		sed -n 's/^pop3-handler\[[0-9]*\]: //p' "$T/ssa.log" | grep -qxF -- "$1" && return 0
		sleep 0.05
	done
	echo "log lacks the line: $1"
	echo "--- log ---"
	cat "$T/ssa.log"
	return 1
}

# --- expectations shared by several files ---

CONF_ERR='-ERR [SYS/PERM] Server configuration error:'

# A message, a login to a mailbox holding it alone, the replies of a
# refused login, and the SASL PLAIN response for alice/secret.
MSG='Subject: hi\n\nhello\n'	# 19 octets stored, 22 with CRLF line ends
LOGGED_IN='+OK Logged in, 1 message (22 octets)'
FAILED='-ERR [AUTH] Authentication failed'
NO_PLAINTEXT='-ERR [AUTH] Plaintext authentication is not allowed without TLS'
NOT_NOW='-ERR Command not valid in this state'
ALICE=AGFsaWNlAHNlY3JldA==	# "\0alice\0secret"
# a yescrypt hash as crypt(5) writes it: $y$, parameters, salt, 43 digits
YESCRYPT_RE='^\$y\$[./0-9A-Za-z]+\$[./0-9A-Za-z]+\$[./0-9A-Za-z]{43}$'

# expect_startup_error REASON: a non-zero exit and exactly one line,
# "-ERR [SYS/PERM] Server configuration error: REASON", no greeting.
expect_startup_error() {
	if [ "$status" -eq 0 ] || [ "$status" -ge 124 ] || [ "${#lines[@]}" -ne 1 ] ||
		[ "${lines[0]}" != "$CONF_ERR $1" ]; then
		echo "expected a non-zero exit and the one line: $CONF_ERR $1"
		echo "got status $status and:"
		echo "$output"
		echo "--- log ---"
		cat "$T/log"
		return 1
	fi
	expect_raw_crlf
}

# expect_logged TEXT: the log holds TEXT.
expect_logged() {
	grep -qF -- "$1" "$T/log" || {
		echo "log lacks: $1"
		echo "--- log ---"
		cat "$T/log"
		return 1
	}
}

# refute_logged TEXT: the log does not hold TEXT.
refute_logged() {
	! grep -qF -- "$1" "$T/log" || {
		echo "log should not hold: $1"
		echo "--- log ---"
		cat "$T/log"
		return 1
	}
}

# expect_log TEXT: the log has the line "pop3-handler[PID]: TEXT", exactly.
expect_log() {
	if ! sed 's/^pop3-handler\[[0-9]*\]: //' "$T/log" | grep -qxF -- "$1"; then
		echo "log lacks the line: $1"
		echo "--- log ---"
		cat "$T/log"
		return 1
	fi
}

# refute_log STRING...: no part of the log holds any STRING.
refute_log() {
	local s
	for s in "$@"; do
		if grep -qF -- "$s" "$T/log"; then
			echo "the log holds '$s':"
			cat "$T/log"
			return 1
		fi
	done
}

# expect_count N: the session wrote exactly N lines.
expect_count() {
	if [ "${#lines[@]}" -ne "$1" ]; then
		echo "expected $1 lines, got ${#lines[@]}:"
		echo "$output"
		echo "--- log ---"
		cat "$T/log"
		return 1
	fi
}

# expect_capa INDEX ITEM...: lines after the +OK at INDEX are exactly the
# ITEMs in any order, followed by a line ".".
expect_capa() {
	local start=$1
	shift
	local n=$#
	local want got
	want=$(printf '%s\n' "$@" | LC_ALL=C sort)
	got=$(printf '%s\n' "${lines[@]:$((start + 1)):$n}" | LC_ALL=C sort)
	if [ "$want" != "$got" ] || [ "${lines[$((start + 1 + n))]}" != "." ]; then
		echo "capability list after line $start: expected (sorted), then '.':"
		echo "$want"
		echo "--- whole output ---"
		echo "$output"
		return 1
	fi
}

# refute_grep GREP-ARGS...: fails (showing the lines) when grep finds a match.
# (A bare "! grep" would not fail a bats test: set -e ignores negations.)
refute_grep() {
	if grep "$@" >/dev/null; then
		echo "unexpected match: grep $*"
		grep "$@"
		return 1
	fi
}

# stop_listener: stops the listener listen started, if any.
stop_listener() {
	stop_process "${SSA_PID:-}"
	SSA_PID=
}

# add_nt_hash NAME PASSWORD: gives NAME's passwd entry the NT hash of
# PASSWORD (as `pop3-handler -H -N` prints it) in its eighth field.
add_nt_hash() {
	local nt
	nt=$(printf '%s\n' "$2" | "$HANDLER" -H -N | sed -n 2p)
	[ ${#nt} -eq 32 ] || return 1
	sed -i "s|^$1:.*\$|&:$nt|" "$T/passwd"
}
