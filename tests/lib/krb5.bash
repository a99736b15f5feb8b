# lib/krb5.bash - a throw-away MIT Kerberos realm for the GSSAPI tests:
# its KDC listens on 127.0.0.1 only, on a free port, and everything it
# writes (database, stash, logs, keytabs, credential caches, the replay
# cache) lives in one directory.  Load it from a bats file and call:
#
#   krb5_realm_start DIR   creates the realm in DIR (e.g. $BATS_FILE_TMPDIR,
#                          from setup_file), starts its KDC and waits for it
#   krb5_realm_stop        stops the KDC (from teardown_file)
#   krb5_add_user NAME PASSWORD   adds one more principal NAME@realm
#   krb5_add_service_keytab PRINCIPAL KEYTAB   adds PRINCIPAL (random key)
#                          and writes its key to the keytab file KEYTAB
#   krb5_kinit NAME PASSWORD   gets a ticket for NAME into KRB5CCNAME
#   krb5_kdestroy          empties KRB5CCNAME
#
# After krb5_realm_start these are set (and exported where libkrb5 or a
# test program reads them):
#
#   KRB5_TEST_REALM      the realm, POP3TEST.LOCAL (the default realm)
#   KRB5_TEST_PORT       the KDC's port on 127.0.0.1
#   KRB5_TEST_DIR        the directory given to krb5_realm_start
#   KRB5_TEST_KEYTAB     the keytab with the key of pop/localhost
#   KRB5_TEST_OTHER_KEYTAB   a keytab with imap/localhost only (no pop/ key)
#   KRB5_TEST_USER, KRB5_TEST_PASSWORD     alice and her password
#   KRB5_TEST_USER2, KRB5_TEST_PASSWORD2   bob and his password
#   KRB5_TEST_ADMIN      alice/admin (a principal with an instance); its
#                        password is KRB5_TEST_PASSWORD too
#   KRB5_CONFIG, KRB5_KDC_PROFILE   the realm's krb5.conf and kdc.conf
#   KRB5CCNAME           a credential cache file in the directory
#   KRB5RCACHEDIR        the acceptor's replay cache directory
#   KRB5_TRACE           unset; set it to a file to debug libkrb5

KRB5_TEST_REALM=POP3TEST.LOCAL
KRB5_TEST_USER=alice
KRB5_TEST_PASSWORD=alice-secret-1
KRB5_TEST_USER2=bob
KRB5_TEST_PASSWORD2=bob-secret-2
KRB5_TEST_ADMIN=alice/admin
# The seconds krb5_realm_start waits for the KDC to answer.
KRB5_START_WAIT=10

# krb5_free_port: prints a TCP port on 127.0.0.1 that nothing listens on
# (the kernel picks it; the KDC binds it a moment later).
krb5_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# krb5_write_config: writes krb5.conf (clients: the realm and its KDC,
# no DNS) and kdc.conf (the KDC: its address, database, stash, ACL) into
# KRB5_TEST_DIR.
krb5_write_config() {
	local d=$KRB5_TEST_DIR
	cat >"$d/krb5.conf" <<EOF
[libdefaults]
	default_realm = $KRB5_TEST_REALM
	dns_lookup_kdc = false
	dns_lookup_realm = false
	rdns = false
	dns_canonicalize_hostname = false
	udp_preference_limit = 1
[realms]
	$KRB5_TEST_REALM = {
		kdc = 127.0.0.1:$KRB5_TEST_PORT
	}
[domain_realm]
	localhost = $KRB5_TEST_REALM
[logging]
	kdc = FILE:$d/kdc.log
EOF
	cat >"$d/kdc.conf" <<EOF
[kdcdefaults]
	kdc_listen = 127.0.0.1:$KRB5_TEST_PORT
	kdc_tcp_listen = 127.0.0.1:$KRB5_TEST_PORT
[realms]
	$KRB5_TEST_REALM = {
		database_name = $d/principal
		key_stash_file = $d/stash
		acl_file = $d/kadm5.acl
		kdc_listen = 127.0.0.1:$KRB5_TEST_PORT
		kdc_tcp_listen = 127.0.0.1:$KRB5_TEST_PORT
		max_life = 1h
	}
[logging]
	kdc = FILE:$d/kdc.log
EOF
	: >"$d/kadm5.acl"
}

# krb5_kadmin QUERY: runs one kadmin.local query on the test realm; its
# output is shown only when it fails.
krb5_kadmin() {
	local out
	out=$(kadmin.local -r "$KRB5_TEST_REALM" -q "$1" 2>&1) || { echo "kadmin.local -q '$1': $out" >&2; return 1; }
	if grep -q -i -e 'error' -e 'failed' -e 'unable' <<<"$out"; then
		echo "kadmin.local -q '$1': $out" >&2
		return 1
	fi
}

# krb5_add_user NAME PASSWORD: adds the principal NAME@realm with a password.
krb5_add_user() {
	krb5_kadmin "addprinc -pw $2 $1"
}

# krb5_add_service_keytab PRINCIPAL KEYTAB: adds PRINCIPAL@realm with a
# random key and writes that key to KEYTAB.
krb5_add_service_keytab() {
	krb5_kadmin "addprinc -randkey $1" && krb5_kadmin "ktadd -k $2 $1"
}

# krb5_wait_kdc: waits up to KRB5_START_WAIT seconds until the KDC gives
# alice a ticket; fails, showing the KDC log, when it never does.
krb5_wait_kdc() {
	local tries=$((KRB5_START_WAIT * 10))
	while [ "$tries" -gt 0 ]; do
		krb5_kinit "$KRB5_TEST_USER" "$KRB5_TEST_PASSWORD" 2>/dev/null && return 0
		kill -0 "$KRB5_KDC_PID" 2>/dev/null || break
		sleep 0.1
		tries=$((tries - 1))
	done
	echo "the test KDC did not answer; its log:" >&2
	cat "$KRB5_TEST_DIR/kdc.log" "$KRB5_TEST_DIR/krb5kdc.out" >&2 2>/dev/null
	return 1
}

# krb5_open_to_helper: lets the handler's GSSAPI helper, which runs as
# privsep_user (nobody) when the handler is started as root, read the
# realm's krb5.conf and keep its replay cache in KRB5RCACHEDIR, as it keeps
# it in /var/tmp on a real host: the directories above KRB5_TEST_DIR (the
# test runner's, private) become traversable and the cache directory sticky
# and writable by all, like /var/tmp.  Not root, the helper runs as the
# test's user, who needs nothing more.
krb5_open_to_helper() {
	[ "$(id -u)" -eq 0 ] || return 0
	local d=$KRB5_TEST_DIR
	while [ "$d" != / ] && [ "$d" != . ]; do
		chmod o+x "$d"
		d=$(dirname "$d")
	done
	chmod 1777 "$KRB5RCACHEDIR"
	chmod o+r "$KRB5_CONFIG"
}

# krb5_realm_start DIR: creates the realm in DIR with its principals
# (alice, bob, alice/admin, pop/localhost, imap/localhost) and keytabs,
# starts krb5kdc in the foreground as a background job (KRB5_KDC_PID),
# and waits until alice can get a ticket (she has one then).
krb5_realm_start() {
	KRB5_TEST_DIR=$1
	mkdir -p "$KRB5_TEST_DIR/rcache"
	KRB5_TEST_PORT=$(krb5_free_port) || return 1
	KRB5_TEST_KEYTAB=$KRB5_TEST_DIR/pop.keytab
	KRB5_TEST_OTHER_KEYTAB=$KRB5_TEST_DIR/imap.keytab
	export KRB5_CONFIG=$KRB5_TEST_DIR/krb5.conf
	export KRB5_KDC_PROFILE=$KRB5_TEST_DIR/kdc.conf
	export KRB5CCNAME=FILE:$KRB5_TEST_DIR/ccache
	export KRB5RCACHEDIR=$KRB5_TEST_DIR/rcache
	export KRB5_TEST_DIR KRB5_TEST_PORT KRB5_TEST_REALM KRB5_TEST_KEYTAB KRB5_TEST_OTHER_KEYTAB KRB5_TEST_USER KRB5_TEST_PASSWORD \
		KRB5_TEST_USER2 KRB5_TEST_PASSWORD2 KRB5_TEST_ADMIN
	krb5_write_config
	krb5_open_to_helper
	kdb5_util create -s -P "master-$RANDOM$RANDOM" -r "$KRB5_TEST_REALM" >"$KRB5_TEST_DIR/kdb5_util.out" 2>&1 ||
		{ cat "$KRB5_TEST_DIR/kdb5_util.out" >&2; return 1; }
	krb5_add_user "$KRB5_TEST_USER" "$KRB5_TEST_PASSWORD" &&
		krb5_add_user "$KRB5_TEST_USER2" "$KRB5_TEST_PASSWORD2" &&
		krb5_add_user "$KRB5_TEST_ADMIN" "$KRB5_TEST_PASSWORD" &&
		krb5_add_service_keytab pop/localhost "$KRB5_TEST_KEYTAB" &&
		krb5_add_service_keytab imap/localhost "$KRB5_TEST_OTHER_KEYTAB" || return 1
	krb5kdc -n -r "$KRB5_TEST_REALM" -P "$KRB5_TEST_DIR/krb5kdc.pid" >"$KRB5_TEST_DIR/krb5kdc.out" 2>&1 &
	export KRB5_KDC_PID=$!
	krb5_wait_kdc
}

# krb5_realm_stop: stops the KDC that krb5_realm_start started and reaps it.
krb5_realm_stop() {
	if [ -n "${KRB5_KDC_PID:-}" ]; then
		kill "$KRB5_KDC_PID" 2>/dev/null || true
		wait "$KRB5_KDC_PID" 2>/dev/null || true
		KRB5_KDC_PID=
	fi
}

# krb5_kinit NAME PASSWORD: gets a ticket for NAME@realm into KRB5CCNAME
# (MIT kinit reads the password from standard input when it is no terminal).
krb5_kinit() {
	kinit "$1@$KRB5_TEST_REALM" <<<"$2" >/dev/null
}

# krb5_kdestroy: removes the tickets in KRB5CCNAME.
krb5_kdestroy() {
	kdestroy -q 2>/dev/null || true
}
