# lib/ldap.bash - a throw-away LDAP directory and nslcd in front of it, for
# the directory-account tests: OpenLDAP's slapd on a free port of 127.0.0.1
# with its configuration and database in $T/ldap, and nslcd (unpacked by
# tests/install-deps into NSLCD_DIR, never installed) inside the test's
# mount namespace (lib/namespace.bash), where NSS and PAM reach the
# directory through it.
#
#   ldap_start                 starts slapd with the base, ou=people and no user
#   ldap_add_user NAME PW UID GID HOME   a posixAccount/shadowAccount entry ({SSHA})
#   ldap_delete_user NAME      removes the entry
#   ldap_stop                  stops slapd
#   ns_nslcd_start             in the namespace: nslcd.conf, nsswitch.conf
#                              (passwd, group, shadow: files ldap), the NSS and
#                              PAM modules, and nslcd itself
#
# LDAP_PID and NSLCD_PID are the processes the test must stop (ldap_stop;
# ns_stop ends nslcd with the namespace).

LDAP_BASE=dc=pop3test,dc=local
LDAP_ADMIN=cn=admin,$LDAP_BASE
LDAP_ADMIN_PASSWORD=admin-pw-7
NSLCD_DIR=${NSLCD_DIR:-/var/cache/pop3-handler-tests/nslcd}

ldap_uri() { echo "ldap://127.0.0.1:$LDAP_PORT/"; }

# ldap_write_config DIR: the cn=config of a directory with the core, cosine,
# nis and inetorgperson schemas and one mdb database for LDAP_BASE.
ldap_write_config() {
	cat >"$1/config.ldif" <<EOF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $1/slapd.pid

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/nis.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcDbDirectory: $1/db
olcSuffix: $LDAP_BASE
olcRootDN: $LDAP_ADMIN
olcRootPW: $LDAP_ADMIN_PASSWORD
olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {1}to * by * read
EOF
	cat >"$1/base.ldif" <<EOF
dn: $LDAP_BASE
objectClass: dcObject
objectClass: organization
o: pop3-handler tests
dc: pop3test

dn: ou=people,$LDAP_BASE
objectClass: organizationalUnit
ou: people

dn: ou=groups,$LDAP_BASE
objectClass: organizationalUnit
ou: groups
EOF
}

ldap_start() {
	local d=$T/ldap
	mkdir -p "$d/slapd.d" "$d/db"
	ldap_write_config "$d"
	slapadd -q -n 0 -F "$d/slapd.d" -l "$d/config.ldif" >"$d/slapadd.log" 2>&1 || { cat "$d/slapadd.log"; return 1; }
	slapadd -q -n 1 -F "$d/slapd.d" -l "$d/base.ldif" >>"$d/slapadd.log" 2>&1 || { cat "$d/slapadd.log"; return 1; }
	LDAP_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	# -d 0: in the foreground, so that the test holds its PID.
	slapd -d 0 -F "$d/slapd.d" -h "$(ldap_uri)" >"$d/slapd.log" 2>&1 &
	LDAP_PID=$!
	wait_for 10 ldapsearch -x -LLL -H "$(ldap_uri)" -b "$LDAP_BASE" -s base dn >/dev/null 2>&1 ||
		{ echo "slapd did not start:"; cat "$d/slapd.log"; return 1; }
}

ldap_stop() {
	stop_process "${LDAP_PID:-}"
	LDAP_PID=
}

# ldap_admin TOOL ARG...: an ldap client tool bound as the directory's admin.
ldap_admin() {
	"$1" -x -H "$(ldap_uri)" -D "$LDAP_ADMIN" -w "$LDAP_ADMIN_PASSWORD" "${@:2}"
}

ldap_add_user() {
	local name=$1 hash
	hash=$(slappasswd -h '{SSHA}' -s "$2")
	ldap_admin ldapadd >/dev/null <<EOF
dn: uid=$name,ou=people,$LDAP_BASE
objectClass: inetOrgPerson
objectClass: posixAccount
objectClass: shadowAccount
uid: $name
cn: $name
sn: $name
uidNumber: $3
gidNumber: $4
homeDirectory: $5
loginShell: /usr/sbin/nologin
userPassword: $hash
EOF
}

ldap_delete_user() {
	ldap_admin ldapdelete "uid=$1,ou=people,$LDAP_BASE"
}

# ns_nslcd_start: NSS and PAM in the namespace reach the directory through nslcd.
ns_nslcd_start() {
	ns sh -c "cp '$NSLCD_DIR'/lib/x86_64-linux-gnu/libnss_ldap.so.2 /usr/lib/x86_64-linux-gnu/ &&
		cp '$NSLCD_DIR'/lib/x86_64-linux-gnu/security/pam_ldap.so /usr/lib/x86_64-linux-gnu/security/ &&
		sed -i -E 's/^(passwd|group|shadow):.*/\\1: files ldap/' /etc/nsswitch.conf &&
		mkdir -p /run/nslcd && chown nobody:nogroup /run/nslcd" || return 1
	ns tee /etc/nslcd.conf >/dev/null <<EOF
uid nobody
gid nogroup
uri $(ldap_uri)
base $LDAP_BASE
bind_timelimit 3
timelimit 3
reconnect_retrytime 2
EOF
	ns chmod 600 /etc/nslcd.conf
	ns "$NSLCD_DIR/usr/sbin/nslcd" -d >"$T/nslcd.log" 2>&1 &
	NSLCD_PID=$!
	wait_for 10 ns test -S /run/nslcd/socket || { echo "nslcd did not start:"; cat "$T/nslcd.log"; return 1; }
}
