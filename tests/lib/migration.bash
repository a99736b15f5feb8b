# lib/migration.bash - what tests/uidl-migration.bats uses to serve a
# Maildir with the servers pop3-handler replaces: Dovecot's pop3 and
# Courier's courierpop3d pre-authenticated on standard input, a whole
# Dovecot behind a 127.0.0.1 port, and the UIDL replies compared.
# Loaded after helpers.bash, maildir.bash and clients.bash.

DOVECOT_POP3=/usr/lib/dovecot/pop3
DOVECOT=/usr/sbin/dovecot
# tests/install-deps unpacks courierpop3d and its libraries there.
COURIER_DIR=${COURIER_DIR:-/var/cache/pop3-handler-tests/courier}
COURIERPOP3D=$COURIER_DIR/usr/lib/courier/courier/courierpop3d

# need_dovecot: skips the test when Dovecot's pop3 is missing.
need_dovecot() {
	[ -x "$DOVECOT_POP3" ] ||
		skip "$DOVECOT_POP3 is missing (Debian package dovecot-pop3d; tests/install-deps installs it)"
}

# need_courier: skips the test when courierpop3d is not unpacked.
need_courier() {
	[ -x "$COURIERPOP3D" ] ||
		skip "$COURIERPOP3D is missing (tests/install-deps, run as root, unpacks it)"
}

# as_owner COMMAND...: runs COMMAND as the owner of the Maildirs ($TEST_UID),
# as the previous server ran (Dovecot refuses to serve mail as root).
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid "$TEST_UID" --regid "$TEST_GID" --clear-groups -- "$@"
	else
		"$@"
	fi
}

# other_session LINE...: sends the lines, CRLF-terminated in one write, to
# the command in OTHER (an array), run as the owner within 20 s; sets
# $status, $output and $lines as session does.  Its log is in $T/other.log.
other_session() {
	local input="" l
	for l in "$@"; do input+="$l"$'\r\n'; done
	# pipes, not files: Dovecot's pop3 polls its input and output with epoll
	printf '%s' "$input" | as_owner timeout 20 "${OTHER[@]}" 2>"$T/other.log" | cat >"$T/raw"
	status=${PIPESTATUS[1]}
	output=$(tr -d '\r' <"$T/raw")
	mapfile -t lines <<<"$output"
	if [ "$status" -ne 0 ]; then
		echo "${OTHER[0]} ended with status $status:"
		echo "$output"
		cat "$T/other.log"
		return 1
	fi
}

# dovecot_session [-o SETTING=VALUE]... -- LINE...: a session of Dovecot's
# pop3 in its pre-authenticated mode (it says +OK and serves) on alice's
# Maildir, as other_session.
dovecot_session() {
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do opts+=("$1"); shift; done
	[ "${1:-}" = "--" ] && shift
	OTHER=(env -i USER=alice "HOME=$T/home/alice" "$DOVECOT_POP3"
		-o "mail_location=maildir:$(MD)" ${opts[@]+"${opts[@]}"})
	other_session "$@"
}

# courier_session LINE...: a session of courierpop3d, pre-authenticated
# (AUTHENTICATED set, as courierpop3login leaves it), on alice's Maildir, as
# other_session.
courier_session() {
	OTHER=(env -i AUTHENTICATED=alice
		"LD_LIBRARY_PATH=$COURIER_DIR/usr/lib:$COURIER_DIR/usr/lib/x86_64-linux-gnu"
		"$COURIERPOP3D" "$(MD)")
	other_session "$@"
}

# uidl_reply: the unique-id listing of the last session, "N UIDL" per line
# (the lines of the form "digits, space, one word": a session showing them
# must not also send LIST or RETR).
uidl_reply() {
	printf '%s\n' "${lines[@]}" | grep -E '^[0-9]+ [^ ]+$' || true
}

# expect_same_file WANT GOT: the files are equal, else the difference shows.
expect_same_file() {
	if ! cmp -s "$1" "$2"; then
		echo "$2 differs from $1 (< $1, > $2):"
		diff "$1" "$2" || true
		echo "--- log ---"
		cat "$T/log"
		return 1
	fi
}

# expect_uidls WANT...: the last session logged in to alice's Maildir with
# one message per WANT, and its UIDL reply gives message n the n-th WANT:
# that exact UIDL, or a decimal UID where WANT is "decimal" (decimal UIDs
# increase with the message number); no UIDL is shown twice.
expect_uidls() {
	if [ "$status" -ne 0 ] || [[ "${lines[2]}" != "+OK Logged in, $# message"* ]]; then
		echo "expected a login to $# messages, got status $status and:"
		echo "$output"
		echo "--- log ---"
		cat "$T/log"
		return 1
	fi
	local got=() decimals=() n=1 want
	mapfile -t got < <(uidl_reply)
	for want in "$@"; do
		if [ "$want" = decimal ]; then
			decimals+=("${got[$((n - 1))]#"$n "}")
		elif [ "${got[$((n - 1))]:-}" != "$n $want" ]; then
			echo "message $n: expected UIDL '$want', got '${got[$((n - 1))]:-}'"
			echo "--- whole output ---"
			echo "$output"
			echo "--- log ---"
			cat "$T/log"
			return 1
		fi
		n=$((n + 1))
	done
	if [ "${#got[@]}" -ne $# ]; then
		echo "expected $# UIDL entries, got ${#got[@]}:"
		echo "$output"
		return 1
	fi
	expect_increasing ${decimals[@]+"${decimals[@]}"}
	expect_distinct
}

# expect_distinct: no UIDL of the last session's reply is shown twice.
expect_distinct() {
	local twice
	twice=$(uidl_reply | cut -d' ' -f2 | sort | uniq -d)
	if [ -n "$twice" ]; then
		echo "UIDLs shown twice: $twice"
		echo "$output"
		return 1
	fi
}

# --- a whole Dovecot on a port ------------------------------------------

# port_closed PORT: nothing accepts connections on 127.0.0.1:PORT.
port_closed() { ! port_open "$1"; }

# start_dovecot PORT: Dovecot's master (for serve) with a configuration of
# its own in $T/dovecot: POP3 alone on 127.0.0.1:PORT, no TLS, alice
# (password secret, from a passwd-file) served as $TEST_UID with her home
# in $T/home/alice; its log in $T/server.log.
start_dovecot() {
	local d=$T/dovecot
	mkdir -p "$d"
	chmod 755 "$d"
	# the auth process (user dovecot) reads the passwd-file
	printf 'alice:{SHA512-CRYPT}%s\n' "$(hash_password secret)" >"$d/users"
	chmod 644 "$d/users"
	cat >"$d/dovecot.conf" <<CONF
# written by tests/lib/migration.bash
base_dir = $d/run
state_dir = $d/state
log_path = $T/server.log
protocols = pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:$T/home/%u/Maildir
passdb {
  driver = passwd-file
  args = $d/users
}
userdb {
  driver = static
  args = uid=$TEST_UID gid=$TEST_GID home=$T/home/%u
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $1
  }
}
CONF
	"$DOVECOT" -F -c "$d/dovecot.conf" </dev/null >>"$T/server.log" 2>&1 3>&- &
	SERVER_PID=$!
}

# serve_port PORT START: as serve (lib/clients.bash), on PORT, the port a
# server just stopped left: the site moves the service, not the clients.
# Waits up to 10 s for the old server's last process to close the port;
# tried ten times, half a second apart, while the launcher cannot bind it.
serve_port() {
	local _try
	wait_for 10 port_closed "$1" || { echo "127.0.0.1:$1 is still served"; return 1; }
	for _try in $(seq 10); do
		if start_listening "$1" "$2"; then
			PORT=$1
			return 0
		fi
		sleep 0.5
	done
	echo "$2 did not listen on 127.0.0.1:$1; its log:"
	cat "$T/server.log"
	return 1
}
