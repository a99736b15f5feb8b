#!/usr/bin/env bats
# Issue 8, SASL GSSAPI (RFC 4752) with Kerberos 5: tests/unit/test-gssapi
# drives whole exchanges between an MIT Kerberos client and gssapi.c
# against a throw-away realm (tests/krb5-lib.bash) whose KDC this file
# starts once for all its tests.

load krb5-lib

# The test program beside the handler under test: make check-sanitize
# gives POP3_HANDLER in its own build directory.  UNIT_WRAPPER runs it
# under a tool such as valgrind, as tests/run does.
HANDLER="${POP3_HANDLER:-$BATS_TEST_DIRNAME/../pop3-handler}"
TEST_GSSAPI="$(dirname "$HANDLER")/tests/unit/test-gssapi"
# A leak of MIT Kerberos itself, which an AddressSanitizer build reports.
export LSAN_OPTIONS="suppressions=$BATS_TEST_DIRNAME/lsan-krb5.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

setup_file() {
	krb5_realm_start "$BATS_FILE_TMPDIR/krb5"
	# One credential cache per client principal: alice's is KRB5CCNAME.
	export TEST_CCACHE_ALICE=$KRB5CCNAME
	export TEST_CCACHE_BOB=FILE:$KRB5_TEST_DIR/bob.ccache
	export TEST_CCACHE_ADMIN=FILE:$KRB5_TEST_DIR/admin.ccache
	KRB5CCNAME=$TEST_CCACHE_BOB krb5_kinit "$KRB5_TEST_USER2" "$KRB5_TEST_PASSWORD2"
	KRB5CCNAME=$TEST_CCACHE_ADMIN krb5_kinit "$KRB5_TEST_ADMIN" "$KRB5_TEST_PASSWORD"
}

teardown_file() {
	krb5_realm_stop
}

@test "GSSAPI exchanges against a test KDC (tests/unit/test-gssapi)" {
	# shellcheck disable=SC2086
	run ${UNIT_WRAPPER:-} "$TEST_GSSAPI"
	if [ "$status" -ne 0 ]; then
		printf '%s\n' "$output"
		echo "# the server's log:"
		cat "$KRB5_TEST_DIR/test-gssapi.log"
		return 1
	fi
}
