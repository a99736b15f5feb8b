#!/usr/bin/env bats
# Directory accounts (passwd_file = pam) proven against a real directory:
# OpenLDAP's slapd on 127.0.0.1 with one posixAccount user, reached through
# nslcd by NSS (the account) and pam_ldap (the password), all inside a
# private mount namespace whose nsswitch.conf, nslcd.conf and PAM service
# are the test's (lib/ldap.bash, lib/namespace.bash).  The user exists
# only in the directory: it logs in with the uid, gid and home the
# directory gives, a wrong password fails, and once its entry is deleted
# it is unknown; with the directory down a login gets -ERR [SYS/TEMP].
# Needs root.

load lib/helpers
load lib/namespace
load lib/ldap

DIR_UID=5001
DIR_GID=5001

setup() {
	[ "$(id -u)" -eq 0 ] || skip "the directory tests need root (a private mount namespace)"
	[ -x "$NSLCD_DIR/usr/sbin/nslcd" ] || skip "nslcd is not unpacked in $NSLCD_DIR (tests/install-deps)"
	unset REMOTE_ADDR REMOTE_HOST TCPREMOTEIP
	setup_world
	ldap_start
	ns_start
	ns_nslcd_start
	ns_pam_service "auth required pam_ldap.so" "account required pam_ldap.so"
	conf passwd_file pam
	ldap_add_user diruser 'Dir-Pw 5' "$DIR_UID" "$DIR_GID" "$T/home/diruser"
	mkdir -p "$T/home/diruser/Maildir/cur" "$T/home/diruser/Maildir/new" "$T/home/diruser/Maildir/tmp"
	printf "$MSG" >"$T/home/diruser/Maildir/new/1700000000.M1P1.host"
	chown -R "$DIR_UID:$DIR_GID" "$T/home/diruser"
}

teardown() {
	ns_stop
	ldap_stop
	cleanup_world
}

@test "the directory user is unknown to the machine, and known inside the namespace through nslcd" {
	! getent passwd diruser
	run ns getent passwd diruser
	[ "$status" -eq 0 ]
	[ "$output" = "diruser:x:$DIR_UID:$DIR_GID:diruser:$T/home/diruser:/usr/sbin/nologin" ]
}

@test "a directory user logs in with the uid, gid and home the directory gives, and reads its Maildir" {
	session -- "USER diruser" "PASS Dir-Pw 5" "STAT" "RETR 1" "QUIT"
	expect_line 2 "+OK Logged in, 1 message (22 octets)"
	expect_line 4 "+OK 22 octets"
	expect_log "info: login user=diruser mechanism=USER client=local messages=1 octets=22"
	[ "$(stat -c %u:%g "$T/home/diruser/Maildir/pop3-handler-uidlist")" = "$DIR_UID:$DIR_GID" ]
	session -- "AUTH PLAIN $(plain_b64 '' diruser 'Dir-Pw 5')" "STAT" "QUIT"
	expect_line 1 "+OK Logged in, 1 message (22 octets)"
}

@test "a wrong password fails with -ERR [AUTH]" {
	session -- "USER diruser" "PASS Dir-Pw 6" "QUIT"
	expect_line 2 "-ERR [AUTH] Authentication failed"
	expect_log "notice: failed login user=diruser mechanism=USER client=local reason=authentication failure"
}

@test "after its entry is deleted from the directory, the next login fails as an unknown user" {
	session -- "USER diruser" "PASS Dir-Pw 5" "QUIT"
	expect_line 2 "+OK Logged in, 1 message (22 octets)"
	ldap_delete_user diruser
	session -- "USER diruser" "PASS Dir-Pw 5" "QUIT"
	expect_line 2 "-ERR [AUTH] Authentication failed"
	expect_log "notice: failed login: unknown user, mechanism=USER client=local"
}

@test "with the directory down a login gets -ERR [SYS/TEMP], logged, never [AUTH]" {
	ldap_stop
	session -- "USER diruser" "PASS Dir-Pw 5" "QUIT"
	expect_line 2 "-ERR [SYS/TEMP] Authentication is temporarily unavailable"
	expect_logged "error: PAM service pop3-handler: pam_authenticate for diruser: "
	refute_logged "failed login"
}
