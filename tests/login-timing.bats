#!/usr/bin/env bats
# Which names exist cannot be told by timing: a failed login of an unknown
# user costs what a known user's wrong password costs, whatever method the
# user database's hashes use.  The dummy check of an unknown user follows the
# method and cost most used in the database: a passwd file of sha512crypt,
# one of yescrypt, a mixed one (mostly sha512crypt with 15,000 rounds, with
# entries of other methods and locked or password-less ones, which do not
# count), and the host's accounts (passwd_file = system) in a private mount
# namespace (lib/namespace.bash, root only) whose shadow entries are
# sha512crypt.  Each test times 30 failed logins of each kind, interleaved,
# in one session with auth_fail_delay = 0, and wants the medians within 20%
# of each other.  login-password.bats times the default method with whole
# sessions, a locked account and a session without any check.

load lib/helpers
load lib/namespace

setup() {
	unset REMOTE_ADDR REMOTE_HOST TCPREMOTEIP
	setup_world
}

teardown() {
	ns_stop
	cleanup_world
}

# sha512_hash PASSWORD [ROUNDS]: a sha512crypt hash, with rounds=ROUNDS in
# its setting when given (perl's crypt is libxcrypt's crypt).
sha512_hash() {
	local setting="\$6\$"
	[ -z "${2:-}" ] || setting+="rounds=$2\$"
	perl -e 'print crypt($ARGV[0], $ARGV[1])' "$1" "$setting$(openssl rand -hex 8)\$"
}

# yescrypt_hash PASSWORD: a hash of libxcrypt's default method, made by -H.
yescrypt_hash() {
	printf '%s\n' "$1" | "$HANDLER" -H
}

# locked_hash HASH-COMMAND...: the hash HASH-COMMAND prints, locked ('!').
locked_hash() {
	echo "!$("$@")"
}

# add_users PREFIX N HASH-COMMAND...: N passwd entries PREFIX1..PREFIXN, each
# with a hash HASH-COMMAND prints (a fresh salt each).
add_users() {
	local i
	for ((i = 1; i <= $2; i++)); do
		add_user_hash "$1$i" "$("${@:3}")"
	done
}

# time_pass USER: in the live session, USER and a wrong PASS; appends to
# TIMES the microseconds between sending PASS and reading its -ERR.
time_pass() {
	local t0 t1
	live_send "USER $1"
	live_expect "+OK Send your password" || return 1
	t0=$EPOCHREALTIME
	live_send "PASS wrong-password"
	live_expect "$FAILED" || return 1
	t1=$EPOCHREALTIME
	TIMES+=($((${t1/./} - ${t0/./})))
}

# median N...: the middle of the numbers (the upper one of an even count).
median() {
	printf '%s\n' "$@" | sort -n | sed -n "$(($# / 2 + 1))p"
}

# expect_same_cost KNOWN: 30 failed logins of KNOWN and 30 of an unknown
# user, interleaved in one session (so that a slow spell of the machine
# hits both alike); their medians within 20% of each other.  A loaded
# machine can push one round out, so up to 3 rounds are run and one inside
# suffices; a dummy of another method or cost is outside in every round.
expect_same_cost() {
	local round i known unknown
	local -a k u
	for round in 1 2 3; do
		k=() u=()
		live_start -o max_auth_failures=61
		live_expect "+OK POP3 server ready"
		for ((i = 0; i < 30; i++)); do
			TIMES=()
			time_pass "$1" && time_pass nosuchuser || return 1
			k+=("${TIMES[0]}") u+=("${TIMES[1]}")
		done
		live_send QUIT
		live_expect "+OK Bye"
		live_end
		known=$(median "${k[@]}") unknown=$(median "${u[@]}")
		echo "# round $round: known user median $known us, unknown user median $unknown us" >&3
		[ $((unknown * 100)) -ge $((known * 80)) ] && [ $((unknown * 100)) -le $((known * 120)) ] && return 0
		rm -f "$T/to" "$T/from"
	done
	echo "known: ${k[*]}"
	echo "unknown: ${u[*]}"
	return 1
}

@test "timing, a passwd file of sha512crypt: an unknown user costs what a wrong password costs" {
	add_users user 3 sha512_hash secret
	expect_same_cost user1
}

@test "timing, a passwd file of yescrypt: an unknown user costs what a wrong password costs" {
	add_users user 3 yescrypt_hash secret
	expect_same_cost user2
}

@test "timing, a mixed passwd file: the dummy follows the method and cost most used, locked entries not counted" {
	add_users sha 4 sha512_hash secret 15000
	add_users yes 2 yescrypt_hash secret
	# locked and password-less entries would make yescrypt the most used
	add_users locked 4 locked_hash yescrypt_hash secret
	add_users nopw 2 echo '*'
	expect_same_cost sha3
}

@test "timing, passwd_file = system: the dummy follows the method of the shadow entries" {
	[ "$(id -u)" -eq 0 ] || skip "the host's accounts in a private mount namespace need root"
	ns_start
	local i
	for i in 1 2 3; do
		ns_add_user "sysuser$i" unused || return 1
		printf 'sysuser%s:%s\n' "$i" "$(sha512_hash secret)" | ns chpasswd -e || return 1
	done
	conf passwd_file system
	expect_same_cost sysuser2
}
