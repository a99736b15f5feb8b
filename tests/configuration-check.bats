#!/usr/bin/env bats
# pop3-handler -t (check the configuration and what it names, every problem
# with its file and line, exit 0 when a session would start) and -T (print
# the effective configuration so that it loads back).  The keytab checks use
# a throw-away MIT realm (lib/krb5.bash); the PAM service checks run in a
# private mount namespace (lib/namespace.bash).

bats_require_minimum_version 1.5.0

load lib/helpers
load lib/krb5
load lib/namespace

# Crypt hashes the check must never print.
HASH_A='$y$j9T$0123456789abcdefghijkl$ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij012345'
NT_HASH=8846F7EAEE8FB117AD06BDD830B7586C

setup_file() {
	krb5_realm_start "$BATS_FILE_TMPDIR/realm"
}

teardown_file() {
	krb5_realm_stop
}

teardown() {
	ns_stop
	cleanup_world
}

# check ARGS...: runs pop3-handler -t -c $T/conf ARGS..., keeping its
# standard error in $output and its status in $status.
check() {
	run --separate-stderr "${WRAPPER[@]}" "$HANDLER" -t -c "$T/conf" "$@" </dev/null
	output=$stderr
	echo "status $status; stdout: '${lines[*]:-}'; stderr:"
	echo "$stderr"
}

# expect_report TEXT: one line of the report holds TEXT.
expect_report() {
	grep -qF -- "$1" <<<"$output" || { echo "no line with: $1"; return 1; }
}

# refute_report TEXT: no line of the report holds TEXT.
refute_report() {
	! grep -qF -- "$1" <<<"$output" || { echo "a line with: $1"; return 1; }
}

@test "-t on a sound configuration: no problem, exit 0, nothing on standard output" {
	add_user alice secret
	check
	[ "$status" -eq 0 ]
	[ -z "$stdout" ]
	expect_report "0 errors, 0 warnings: a session would start"
	[ "$(wc -l <<<"$output")" -eq 1 ]
}

@test "-t reports every bad line of the file and every bad -o, with file and line; exit 1" {
	add_user alice secret
	printf 'color = red\ntls = perhaps\n# fine\ntimeout_auth = 600\nmaildir = Maildir\n' >>"$T/conf"
	check -o max_auth_failures=0 -o nosuchkey=1
	[ "$status" -eq 1 ]
	expect_report "error: $T/conf line 6: unknown key 'color'"
	expect_report "error: $T/conf line 7: tls: expected no or yes"
	expect_report "error: $T/conf line 10: maildir: must start with / or %h"
	expect_report "error: -o: max_auth_failures: expected a number from 1 to 100"
	expect_report "error: -o: unknown key 'nosuchkey'"
	expect_report "5 errors, 0 warnings: sessions would fail"
}

@test "-t on a missing, unreadable or untrusted configuration: a message naming the file, exit 1" {
	run "$HANDLER" -t -c "$T/missing"
	[ "$status" -eq 1 ]
	[ "$output" = "pop3-handler: error: cannot read $T/missing: No such file or directory" ]
	run "$HANDLER" -t -c "$T"
	[ "$status" -eq 1 ]
	[ "$output" = "pop3-handler: error: cannot read $T: not a regular file" ]
	add_user alice secret
	chmod 664 "$T/conf"
	check
	[ "$status" -eq 1 ]
	expect_report "error: refusing $T/conf: writable by group or others"
	if [ "$(id -u)" -eq 0 ]; then
		chmod 600 "$T/conf"
		chown 4243 "$T/conf"
		check
		[ "$status" -eq 1 ]
		expect_report "error: refusing $T/conf: owned by another user"
		# Unreadable to the user who runs it.
		chown root "$T/conf"
		run setpriv --reuid=4243 --regid=4243 --clear-groups "$HANDLER" -t -c "$T/conf"
		[ "$status" -eq 1 ]
		[ "$output" = "pop3-handler: error: cannot read $T/conf: Permission denied" ]
	fi
}

@test "-t names every problem of the passwd file by its line, never a hash, and still exits 0 for warnings" {
	add_user_hash alice "$HASH_A"
	add_user_hash alice "$HASH_A"
	printf 'broken line %s\n' "$HASH_A" >>"$T/passwd"
	printf 'bob:%s:4242:4242::%s/home/bob:/bin/sh:12345\n' "$HASH_A" "$T" >>"$T/passwd"
	printf 'carol:%s:4242:4242::/nonexistent/carol:/bin/sh\n' "$HASH_A" >>"$T/passwd"
	printf 'dave:%s:x:4242::%s/home/dave:/bin/sh\n' "$HASH_A" "$T" >>"$T/passwd"
	printf 'erin:%s:4242:4242::home/erin:/bin/sh\n' "$HASH_A" >>"$T/passwd"
	check
	[ "$status" -eq 0 ]
	expect_report "warning: $T/passwd line 2: user alice is also on line 1, which logins use: this line is never used"
	expect_report "warning: $T/passwd line 3: malformed entry skipped: expected 7 or 8 fields separated by ':'"
	expect_report "warning: $T/passwd line 4: malformed entry skipped: the NT hash (eighth field) is not 32 hexadecimal digits"
	expect_report "warning: $T/passwd line 5: user carol: home /nonexistent/carol: No such file or directory"
	expect_report "warning: $T/passwd line 6: malformed entry skipped: the uid is not a number"
	expect_report "warning: $T/passwd line 7: malformed entry skipped: the home is not an absolute path"
	expect_report "0 errors, 6 warnings: a session would start"
	refute_report '$y$'
	refute_report "ABCDEFGHIJ"
}

@test "-t: uid or gid 0, and privsep_user's ids, are users no session serves" {
	[ "$(id -u)" -eq 0 ] || skip "privilege separation and uid 0 need a root check"
	add_user alice secret
	add_user toor secret 0 4242
	add_user grp0 secret 4242 0
	add_user nob secret "$(id -u nobody)" "$(id -g nobody)"
	check
	[ "$status" -eq 0 ]
	expect_report "line 2: user toor: uid or gid 0, which is never served"
	expect_report "line 3: user grp0: uid or gid 0, which is never served"
	expect_report "line 4: user nob: uid or gid of privsep_user nobody"
	refute_report "user alice"
}

@test "-t: a passwd file that is missing, unsafe, or shows NT hashes to others is an error" {
	add_user alice secret
	check -o passwd_file="$T/none"
	[ "$status" -eq 1 ]
	expect_report "error: cannot open user database $T/none: No such file or directory"
	chmod 620 "$T/passwd"
	check
	[ "$status" -eq 1 ]
	expect_report "error: refusing $T/passwd: writable by group or others"
	chmod 644 "$T/passwd"
	check
	[ "$status" -eq 0 ]
	sed -i "s|:/bin/sh\$|:/bin/sh:$NT_HASH|" "$T/passwd"
	check
	[ "$status" -eq 1 ]
	expect_report "error: refusing $T/passwd: it holds NT hashes, which log in as the passwords do, and group or others can read it"
	refute_report "$NT_HASH"
}

@test "-t: ntlm = yes with no user that has an NT hash warns; with one it does not; with the host's accounts it is an error" {
	add_user alice secret
	check -o ntlm=yes
	[ "$status" -eq 0 ]
	expect_report "warning: ntlm = yes, but no user in $T/passwd has an NT hash (eighth field)"
	sed -i "s|:/bin/sh\$|:/bin/sh:$NT_HASH|" "$T/passwd"
	check -o ntlm=yes
	[ "$status" -eq 0 ]
	expect_report "0 errors, 0 warnings"
	refute_report "$NT_HASH"
	check -o ntlm=yes -o passwd_file=system
	[ "$status" -eq 1 ]
	expect_report "error: ntlm = yes needs a passwd_file with NT hashes"
}

@test "-t: a missing privsep_dir (/var/empty) or a privsep_user that is root or unknown is an error" {
	[ "$(id -u)" -eq 0 ] || skip "privsep_user and privsep_dir are checked only as root, which uses them"
	add_user alice secret
	check -o privsep_dir="$T/empty"
	[ "$status" -eq 1 ]
	expect_report "error: privsep_dir $T/empty: No such file or directory"
	mkdir -m 777 "$T/empty"
	check -o privsep_dir="$T/empty"
	[ "$status" -eq 1 ]
	expect_report "error: privsep_dir $T/empty:"
	check -o privsep_user=root
	[ "$status" -eq 1 ]
	expect_report "error: privsep_user root: must not have uid or gid 0"
	check -o privsep_user=no-such-user-here
	[ "$status" -eq 1 ]
	expect_report "error: privsep_user no-such-user-here: no such user"
}

@test "-t: a keytab without a usable pop/ key, one others may read, and a missing keytab the site named warn" {
	add_user alice secret
	check -o keytab="$KRB5_TEST_KEYTAB"
	[ "$status" -eq 0 ]
	refute_report "keytab"
	check -o keytab="$KRB5_TEST_OTHER_KEYTAB"
	[ "$status" -eq 0 ]
	expect_report "warning: keytab $KRB5_TEST_OTHER_KEYTAB has no usable pop/ key: GSSAPI is not offered"
	check -o keytab="$T/none.keytab"
	[ "$status" -eq 0 ]
	expect_report "warning: keytab $T/none.keytab: No such file or directory: GSSAPI is not offered"
	cp "$KRB5_TEST_KEYTAB" "$T/open.keytab"
	chmod 644 "$T/open.keytab"
	check -o keytab="$T/open.keytab"
	[ "$status" -eq 0 ]
	expect_report "warning: keytab $T/open.keytab: owned by uid"
	expect_report "it should be root's alone (chmod 600)"
}

@test "-t with passwd_file = pam: a missing service file warns, one others may change is an error" {
	[ "$(id -u)" -eq 0 ] || skip "the namespace that holds the PAM service needs root"
	setup_world
	ns_start
	check -o passwd_file=pam -o pam_service=pop3-handler-check
	[ "$status" -eq 0 ]
	expect_report "warning: pam_service pop3-handler-check: /etc/pam.d/pop3-handler-check: No such file or directory: PAM uses its service \"other\" instead"
	ns_pam_service "auth required pam_unix.so" "account required pam_unix.so"
	check -o passwd_file=pam
	[ "$status" -eq 0 ]
	expect_report "0 errors, 0 warnings"
	ns chmod 666 /etc/pam.d/pop3-handler
	check -o passwd_file=pam
	[ "$status" -eq 1 ]
	expect_report "error: pam_service pop3-handler: /etc/pam.d/pop3-handler: writable by group or others: it decides who logs in"
}

@test "-T prints every key once, the changed ones first, in lines that load back to the same settings" {
	add_user alice secret
	run --separate-stderr "$HANDLER" -T -c "$T/conf" -o expire_days=30 -o tls=yes -o client_workarounds=oe-ns-eoh,outlook-no-nuls
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	printf '%s\n' "${lines[@]}" >"$T/printed"
	cat "$T/printed"
	# Every key of the example configuration, once.
	local key
	for key in $(sed -n 's/^#\{0,1\} *\([a-z_0-9]*\) *=.*/\1/p' "$BATS_TEST_DIRNAME/../contrib/pop3-handler.conf" | sort -u); do
		[ "$(grep -cE "^(# )?$key =( |\$)" "$T/printed")" -eq 1 ] || { echo "key $key"; false; }
	done
	# The changed ones before the defaults.
	sed -n '1,/^# at their defaults$/p' "$T/printed" >"$T/changed"
	grep -qx "expire_days = 30" "$T/changed"
	grep -qx "tls = yes" "$T/changed"
	grep -qx "client_workarounds = outlook-no-nuls oe-ns-eoh" "$T/changed"
	grep -qx "passwd_file = $T/passwd" "$T/changed"
	grep -qx "log = stderr" "$T/changed"
	sed -n '/^# at their defaults$/,$p' "$T/printed" | grep -qx "timeout_unauth = 60"
	sed -n '/^# at their defaults$/,$p' "$T/printed" | grep -qx "# ntlm_domain = (unset: found at run time)"
	# Pasted back as a file, it prints the same.
	chmod 600 "$T/printed"
	run "$HANDLER" -T -c "$T/printed"
	[ "$status" -eq 0 ]
	diff <(printf '%s\n' "${lines[@]}") "$T/printed"
	run "$HANDLER" -T -c /dev/null -o expire_days=never
	grep -qx "expire_days = never" <<<"$output"
	grep -qx "client_workarounds =" <<<"$output"
}

@test "-T on a bad configuration prints nothing on standard output, the problems on standard error, exit 1" {
	printf 'tls = perhaps\n' >>"$T/conf"
	run --separate-stderr "$HANDLER" -T -c "$T/conf"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "pop3-handler: error: $T/conf line 6: tls: expected no or yes" ]
}

@test "-t and -T never start a session: no greeting, and the handler reads nothing from standard input" {
	add_user alice secret
	run --separate-stderr bash -c 'printf "USER alice\r\nPASS secret\r\nQUIT\r\n" | "$0" -t -T -c "$1"' "$HANDLER" "$T/conf"
	[ "$status" -eq 0 ]
	refute_grep '+OK' <<<"$output"
	grep -qx "passwd_file = $T/passwd" <<<"$output"
	grep -q "a session would start" <<<"$stderr"
}
