# lib/namespace.bash - a private mount namespace for one test, so that what
# the test changes in the system's files (users and their shadow entries,
# nsswitch.conf, PAM's services, NSS and PAM modules, nslcd's socket
# directory) never touches the machine.  /etc, /run and the library
# directory get an overlay whose upper half lives in $T/ns and vanishes
# with the namespace.  Needs root (unshare, mount).
#
#   ns_start      makes the namespace, held by a sleeping process ($NS_PID),
#                 and runs the handler's sessions in it (WRAPPER)
#   ns CMD...     runs CMD inside the namespace
#   ns_stop       ends the namespace and everything ns started in it
#
# The test's teardown must call ns_stop, whether the test passed or not.

NS_DIRS=(/etc /run /usr/lib/x86_64-linux-gnu)

# ns_mount_ns PID: the mount namespace of a process.
ns_mount_ns() { readlink "/proc/$1/ns/mnt" 2>/dev/null; }

ns_start() {
	local dir up
	mkdir -p "$T/ns"
	unshare --mount --propagation private sleep infinity &
	NS_PID=$!
	# unshare makes the namespace before it becomes sleep.
	wait_for 5 ns_is_private || { echo "no private mount namespace"; return 1; }
	for dir in "${NS_DIRS[@]}"; do
		up="$T/ns/$(echo "$dir" | tr / _)"
		mkdir -p "$up/upper" "$up/work"
		ns mount -t overlay overlay -o "lowerdir=$dir,upperdir=$up/upper,workdir=$up/work" "$dir" || return 1
	done
	WRAPPER=(nsenter -t "$NS_PID" -m -- "${WRAPPER[@]}")
}

ns_is_private() { [ -n "$(ns_mount_ns "$NS_PID")" ] && [ "$(ns_mount_ns "$NS_PID")" != "$(ns_mount_ns $$)" ]; }

ns() { nsenter -t "$NS_PID" -m -- "$@"; }

# ns_stop: kills every process in the namespace (nslcd, a session left
# running), then its holder; the overlays go with the namespace.
ns_stop() {
	local pid
	[ -n "${NS_PID:-}" ] || return 0
	for pid in $(ls /proc | grep -E '^[0-9]+$'); do
		[ "$pid" != "$NS_PID" ] && [ "$(ns_mount_ns "$pid")" = "$(ns_mount_ns "$NS_PID")" ] &&
			kill -9 "$pid" 2>/dev/null
	done
	stop_process "$NS_PID"
	NS_PID=
}

# ns_dev_log SOCKET: /dev/log inside the namespace is the syslog socket
# SOCKET (a path the namespace sees): /dev gets an overlay as NS_DIRS do
# (it hides the mounts beneath /dev, such as /dev/pts and /dev/shm, which
# no session needs), and SOCKET is bind-mounted on a /dev/log of its own.
ns_dev_log() {
	local up="$T/ns/_dev"
	mkdir -p "$up/upper" "$up/work"
	ns mount -t overlay overlay -o "lowerdir=/dev,upperdir=$up/upper,workdir=$up/work" /dev || return 1
	ns rm -f /dev/log
	ns touch /dev/log
	ns mount --bind "$1" /dev/log
}

# ns_add_user NAME PASSWORD: a host account inside the namespace (useradd,
# chpasswd) with an empty Maildir at $T/home/NAME/Maildir that it owns.
ns_add_user() {
	local home="$T/home/$1"
	ns useradd -M -d "$home" -s /usr/sbin/nologin "$1" || return 1
	printf '%s:%s\n' "$1" "$2" | ns chpasswd || return 1
	mkdir -p "$home/Maildir/cur" "$home/Maildir/new" "$home/Maildir/tmp"
	ns chown -R "$1:" "$home"
}

# ns_pam_service LINE...: the PAM service pop3-handler inside the namespace.
ns_pam_service() {
	printf '%s\n' "$@" | ns tee /etc/pam.d/pop3-handler >/dev/null
}
