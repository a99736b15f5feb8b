#!/usr/bin/env python3
"""make bench-load: many clients at once (issue 21), pop3-handler beside Dovecot.

Usage (as root, from bench/load-run): load.py HANDLER_BINARY

pop3-handler runs behind two real launchers, xinetd and
systemd-socket-activate --inetd -a, and Dovecot as a whole daemon (master,
pop3-login, auth, pop3), each on its own 127.0.0.1 port, in a session (setsid)
and a cgroup of its own, so the CPU of everything a server ran is counted.
The load driver (bench/loaddriver.py) runs in a third session and cgroup.
All serve the same users with the same hashes, each server on its own copy of
the Maildirs.  Printed: sessions/s, p50/p99 latency, errors and CPU per
session for the "poll" and "download" scenarios at each client count; the
floor (the launcher starting /bin/true, plus one crypt(3)); PSS per idle
logged-in client; the correctness checks after every run; the targets.

Environment:
  BENCH_DIR       cache of the generated Maildirs (default /var/tmp/pop3-bench;
                  the load set is BENCH_DIR/load, about 1 GB of disk)
  BENCH_WORK      where the copies the servers use are made (default /dev/shm,
                  a tmpfs: about 1 GB of RAM per server), removed at the end
  LOAD_SECONDS    seconds per timed run (default 10)
  LOAD_CLIENTS    client counts (default "1 16 64")
  LOAD_YESCRYPT   client counts of the yescrypt poll runs (default "16 64";
                  "" skips yescrypt)
  LOAD_IDLE       idle logged-in clients for the memory figure (default 1000)
  LOAD_USERS, LOAD_MESSAGES   the mailboxes (default 200 users x 1000 messages)
"""
import ctypes
import ctypes.util
import hashlib
import json
import math
import os
import platform
import re
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from bench import BenchError, cpu_model, note, say, version   # bench/bench.py, make bench's

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(os.environ.get("BENCH_DIR", "/var/tmp/pop3-bench"), "load")
WORK_BASE = os.environ.get("BENCH_WORK", "/dev/shm")
SECONDS = float(os.environ.get("LOAD_SECONDS", "10"))
CLIENTS = [int(x) for x in os.environ.get("LOAD_CLIENTS", "1 16 64").split()]
YESCRYPT_CLIENTS = [int(x) for x in os.environ.get("LOAD_YESCRYPT", "16 64").split()]
IDLE = int(os.environ.get("LOAD_IDLE", "1000"))
USERS = int(os.environ.get("LOAD_USERS", "200"))
MESSAGES = int(os.environ.get("LOAD_MESSAGES", "1000"))
MESSAGE_SIZE = 2048
UID_BASE = 20000
RETR = 20                       # messages a "download" session fetches and deletes
SESSION_TIMEOUT = 30.0          # seconds one session may take before it counts as a timeout
FLOOR_SECONDS = max(3.0, SECONDS / 2)
FLOOR_CLIENTS = 16
GEN_VERSION = 1                 # bump when the generated set changes
PATH_ENV = "/usr/sbin:/usr/bin:/sbin:/bin"
DOVECOT = "/usr/sbin/dovecot"
POP3_PROCESS_LIMIT = 1024       # Dovecot's default for service pop3 (one process per logged-in client)
DEFAULT_CLIENT_LIMIT = 1000     # Dovecot's default_client_limit (stats and anvil take one from each process)
USERIP_LIMIT = 10               # Dovecot's default mail_max_userip_connections (the idle clients share users)
TARGETS = {"rate": 3.0, "p99": 0.4, "cpu": 0.3, "floor": 1.5, "pss": 0.35}
HASHES = {"sha512crypt": "sha512crypt, rounds=5000", "yescrypt": "yescrypt, libxcrypt's default cost"}
WORK = None


# ----------------------------------------------------------------------
# Accounts and hashes: libcrypt itself, through ctypes (Python's crypt
# module is deprecated), so the hash cost measured is the servers' libxcrypt.

class Crypt:
    def __init__(self):
        self.lib = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1")
        self.lib.crypt.restype = ctypes.c_char_p
        self.lib.crypt.argtypes = (ctypes.c_char_p, ctypes.c_char_p)
        self.lib.crypt_gensalt.restype = ctypes.c_char_p
        self.lib.crypt_gensalt.argtypes = (ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int)

    def crypt(self, password, setting):
        out = self.lib.crypt(password.encode(), setting.encode())
        if not out or out.startswith(b"*"):
            raise BenchError("libcrypt refused the setting %r" % setting)
        return out.decode()

    def setting(self, method, name):
        """A salt derived from the user name: the same hashes every run, different per user."""
        seed = hashlib.sha256(("pop3-load-" + name).encode()).digest()
        if method == "sha512crypt":
            alphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
            return "$6$rounds=5000$" + "".join(alphabet[b % 64] for b in seed[:16])
        out = self.lib.crypt_gensalt(b"$y$", 0, seed[:16], 16)
        if not out:
            raise BenchError("libcrypt has no yescrypt (crypt_gensalt $y$)")
        return out.decode()

    def cpu_seconds(self, password, hashed):
        """CPU of one crypt(3) check of this hash: the thread's CPU time per call, the least of 5 batches
        of at least 0.1 s (a floor: a virtual machine's CPU time also counts what its host took away)."""
        best = float("inf")
        for _ in range(5):
            n, t0 = 0, time.thread_time()
            while n < 3 or time.thread_time() - t0 < 0.1:
                if self.crypt(password, hashed) != hashed:
                    raise BenchError("crypt(3) does not verify its own hash")
                n += 1
            best = min(best, (time.thread_time() - t0) / n)
        return best


def accounts():
    """[(name, password, uid)]: plain numeric uids without system accounts (the passwd files name them)."""
    return [("lb%03d" % i, "load-%03d-secret" % i, UID_BASE + i) for i in range(1, USERS + 1)]


# ----------------------------------------------------------------------
# The Maildirs: generated once into the cache (bench/genmaildir.py, a seed
# per user), with the Message-ID of every file recorded for the checks.

def set_dir():
    return os.path.join(CACHE, "set-%dx%dx%d-v%d" % (USERS, MESSAGES, MESSAGE_SIZE, GEN_VERSION))


def ensure_maildirs(users):
    final = set_dir()
    if os.path.exists(os.path.join(final, "msgids.json")):
        with open(os.path.join(final, "msgids.json")) as f:
            return os.path.join(final, "homes"), json.load(f)
    tmp = final + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(tmp, "homes"))
    say("  generating %d Maildirs of %d messages of about %d octets in %s (once) ..." % (
        len(users), MESSAGES, MESSAGE_SIZE, final))
    t0 = time.perf_counter()
    running = []
    for i, (name, _, uid) in enumerate(users):
        if len(running) >= (os.cpu_count() or 2):
            wait_ok(running.pop(0))
        home = os.path.join(tmp, "homes", name)
        running.append(subprocess.Popen([sys.executable, os.path.join(HERE, "genmaildir.py"),
                                         os.path.join(home, "Maildir"), str(MESSAGES), str(MESSAGE_SIZE),
                                         str(1000 + i)]))
    for p in running:
        wait_ok(p)
    msgids = {}
    for name, _, uid in users:
        home = os.path.join(tmp, "homes", name)
        subprocess.run(["chown", "-R", "%d:%d" % (uid, uid), home], check=True)
        os.chmod(home, 0o700)
        msgids[name] = read_msgids(os.path.join(home, "Maildir"))
    with open(os.path.join(tmp, "msgids.json"), "w") as f:
        json.dump(msgids, f)
    os.rename(tmp, final)
    say("  generated in %.0f s" % (time.perf_counter() - t0))
    return os.path.join(final, "homes"), msgids


def wait_ok(proc):
    if proc.wait() != 0:
        raise BenchError("%s failed" % " ".join(proc.args[:2]))


def read_msgids(maildir):
    ids = {}
    for sub in ("cur", "new"):
        for entry in os.scandir(os.path.join(maildir, sub)):
            with open(entry.path, "rb") as f:
                m = re.search(rb"(?im)^Message-ID:[ \t]*(<[^>\r\n]*>)", f.read(4096))
            if not m:
                raise BenchError("generated message without Message-ID: %s" % entry.path)
            ids[entry.name.split(":")[0]] = m.group(1).decode()
    return ids


# ----------------------------------------------------------------------
# Where a server's CPU and memory are counted: a cgroup v2 of its own, or,
# without a writable cgroup2 hierarchy, its process tree in /proc.

def cgroup2_root():
    """The cgroup v2 hierarchy (/sys/fs/cgroup, or /sys/fs/cgroup/unified beside v1) if a cgroup can be made in it."""
    try:
        with open("/proc/self/mounts") as f:
            mounts = [line.split()[1] for line in f if line.split()[2] == "cgroup2"]
    except OSError:
        return None
    for root in mounts:
        probe = os.path.join(root, "pop3bench-probe-%d" % os.getpid())
        try:
            os.mkdir(probe)
            os.rmdir(probe)
            return root
        except OSError:
            continue
    return None


CGROUP_ROOT = None


class Group:
    """The processes of one server (or of the driver) and the CPU they used."""

    def __init__(self, name):
        self.name = name
        self.path = os.path.join(CGROUP_ROOT, "pop3bench-" + name) if CGROUP_ROOT else None
        self.leader = None
        if self.path:
            if os.path.isdir(self.path) and not self.try_remove():
                raise BenchError("%s exists and holds processes (another bench-load?)" % self.path)
            os.mkdir(self.path)

    def join(self):
        """Runs in the child between fork and exec (preexec_fn): into the cgroup before anything starts."""
        if self.path:
            with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))

    def pids(self):
        if self.path:
            with open(os.path.join(self.path, "cgroup.procs")) as f:
                return [int(x) for x in f.read().split()]
        return process_tree(self.leader) if self.leader else []

    def cpu_usec(self):
        if self.path:
            with open(os.path.join(self.path, "cpu.stat")) as f:
                for line in f:
                    key, value = line.split()
                    if key == "usage_usec":
                        return int(value)
            raise BenchError("no usage_usec in %s/cpu.stat" % self.path)
        return tree_cpu_usec(self.pids())

    def pss_kib(self):
        total = 0
        for pid in self.pids():
            try:
                with open("/proc/%d/smaps_rollup" % pid) as f:
                    total += sum(int(line.split()[1]) for line in f if line.startswith("Pss:"))
            except (FileNotFoundError, ProcessLookupError):
                pass
        return total

    def settle(self, leftover, limit):
        """Waits (at most limit seconds) until leftover(pids) is empty; returns what is left."""
        deadline = time.monotonic() + limit
        while leftover(self.pids()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return leftover(self.pids())

    def steady(self, limit=30.0):
        """Waits until the process count has not changed for a second (logins handed over)."""
        deadline = time.monotonic() + limit
        last, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            n = len(self.pids())
            if n != last:
                last, since = n, time.monotonic()
            elif time.monotonic() - since >= 1.0:
                break
            time.sleep(0.1)
        return last

    def kill_rest(self):
        """After the leader was stopped by its PID: what it left (sessions of its clients)."""
        if self.path:
            if self.pids() and os.path.exists(os.path.join(self.path, "cgroup.kill")):
                with open(os.path.join(self.path, "cgroup.kill"), "w") as f:
                    f.write("1")
            for pid in self.pids():
                kill(pid, signal.SIGKILL)
            self.settle(lambda pids: pids, 5.0)
            self.try_remove()

    def try_remove(self):
        try:
            os.rmdir(self.path)
            return True
        except OSError:
            return False


def process_tree(root):
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def tree_cpu_usec(pids):
    """utime+stime of the living processes plus cutime+cstime (the sessions they reaped)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15])
        except (OSError, IndexError):
            pass
    return total * 1000000 // tick


def auth_cpu_usec(pids):
    """CPU (utime+stime) of the living processes whose title is dovecot/auth*: where Dovecot checks passwords."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for pid in pids:
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                if not f.read().startswith(b"dovecot/auth"):
                    continue
            with open("/proc/%d/stat" % pid) as f:
                total += sum(int(x) for x in f.read().rsplit(")", 1)[1].split()[11:13])
        except (OSError, IndexError):
            pass
    return total * 1000000 // tick


def machine_busy_usec():
    """CPU time the whole machine spent not idle (/proc/stat: user, nice, system, irq, softirq, steal)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:9]]
    return (sum(fields[0:3]) + sum(fields[5:8])) * 1000000 // os.sysconf("SC_CLK_TCK")


def kill(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def raise_fd_limit():
    """The soft limit of open files up to the hard one (1,000 idle clients need more than 1,024)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    want = "0100007F:%04X" % port
    with open("/proc/net/tcp") as f:
        return any(line.split()[1] == want and line.split()[3] == "0A" for line in f.readlines()[1:])


# ----------------------------------------------------------------------
# The servers

class Server:
    """One launcher (or Dovecot's master) on 127.0.0.1:port in its own session and cgroup, stopped by its PID."""

    def __init__(self, name, label):
        self.name, self.label = name, label
        self.dir = os.path.join(WORK, name)
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.homes = os.path.join(self.dir, "homes")
        self.proc = None
        self.group = None
        self.port = None
        self.log_offsets = {}

    def argv(self):
        raise NotImplementedError

    def configure(self, users, hashes):
        raise NotImplementedError

    def start(self):
        self.port = free_port()
        self.group = Group(self.name)
        argv = self.argv()
        log = open(os.path.join(self.dir, "launcher.log"), "ab")

        def child():
            raise_fd_limit()
            self.group.join()

        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd="/",
                                     env=self.env(), start_new_session=True, preexec_fn=child)
        log.close()
        self.group.leader = self.proc.pid
        deadline = time.monotonic() + 15
        while not listening(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise BenchError("%s did not start listening on 127.0.0.1:%d (see %s/launcher.log)" % (
                    self.label, self.port, self.dir))
            time.sleep(0.05)

    def env(self):
        return {"PATH": PATH_ENV}

    def logs(self):
        """[(path, is_trouble(line))]: the logs the launcher or the server writes."""
        return []

    def log_troubles(self):
        """The trouble lines logged since the last call."""
        out = []
        for path, trouble in self.logs():
            try:
                with open(path, "rb") as f:
                    f.seek(self.log_offsets.get(path, 0))
                    data = f.read()
            except FileNotFoundError:
                continue
            data = data[:data.rfind(b"\n") + 1]
            self.log_offsets[path] = self.log_offsets.get(path, 0) + len(data)
            out += [x for x in data.decode("utf-8", "replace").split("\n") if x and trouble(x)]
        return out

    def settle(self):
        """Waits (at most 10 s) until the last session's processes have exited; returns how many have not."""
        return len(self.group.settle(lambda pids: [p for p in pids if comm(p) in self.SESSION_COMMS], 10.0))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.group:
            self.group.kill_rest()
            self.group = None
        self.log_troubles()         # what stopping it logged is no run's trouble


class Handler(Server):
    """pop3-handler, started as root by its launcher (privilege separation), one process pair per session."""

    SESSION_COMMS = ("pop3-handler",)

    def __init__(self, name, label, binary, launcher):
        super().__init__(name, label)
        self.binary = binary
        self.launcher = launcher                # which /bin/true floor applies
        self.conf = os.path.join(self.dir, "pop3-handler.conf")

    def configure(self, users, hashes):
        passwd = os.path.join(self.dir, "passwd")
        write_file(passwd, "".join("%s:%s:%d:%d::%s:/usr/sbin/nologin\n" % (
            name, hashes[name], uid, uid, os.path.join(self.homes, name)) for name, _, uid in users), 0o600)
        write_file(self.conf, "passwd_file = %s\nmaildir = %%h/Maildir\nplaintext_auth = yes\n" % passwd, 0o644)

    def server_argv(self):
        return [self.binary, "-c", self.conf]


class XinetdHandler(Handler):
    def argv(self):
        return xinetd_argv(self.dir, self.port, self.server_argv())

    def logs(self):
        return xinetd_logs(self.dir)


class SocketActivateHandler(Handler):
    def argv(self):
        return ["systemd-socket-activate", "--inetd", "-a", "-l", "127.0.0.1:%d" % self.port] + self.server_argv()

    def logs(self):
        return socket_activate_logs(self.dir)


def xinetd_argv(directory, port, server_argv):
    """xinetd in the foreground, its configuration, pid file and logs in directory."""
    conf = os.path.join(directory, "xinetd.conf")
    write_file(conf, xinetd_conf(port, server_argv, directory), 0o644)
    return ["/usr/sbin/xinetd", "-dontfork", "-f", conf, "-pidfile", os.path.join(directory, "xinetd.pid"),
            "-filelog", os.path.join(directory, "xinetd-self.log")]


def xinetd_logs(directory):
    """The service log (a FAIL line per refused connection) and xinetd's own messages (errors only)."""
    return [(os.path.join(directory, "xinetd.log"), lambda line: line.startswith("FAIL")),
            (os.path.join(directory, "xinetd-self.log"), lambda line: re.search(r"\b(ERROR|CRITICAL|ALERT)\b", line))]


SOCKET_ACTIVATE_CHATTER = re.compile(r"^(Listening on |Communication attempt on fd |Connection from |Spawned |"
                                     r"Execing |Child \d+ died with code 0$)")


def socket_activate_logs(directory):
    """systemd-socket-activate logs five lines per connection on stderr: anything else (a session's
    non-zero exit status) is trouble."""
    return [(os.path.join(directory, "launcher.log"), lambda line: not SOCKET_ACTIVATE_CHATTER.match(line))]


def xinetd_conf(port, server_argv, logdir):
    """One service on 127.0.0.1:port, every xinetd limit raised out of the benchmark's way."""
    return ("defaults\n{\n\tinstances = UNLIMITED\n\tper_source = UNLIMITED\n\tcps = 100000 1\n}\n"
            "service pop3-load\n{\n\ttype = UNLISTED\n\tid = pop3-load\n\tport = %d\n\tbind = 127.0.0.1\n"
            "\tsocket_type = stream\n\tprotocol = tcp\n\twait = no\n\tuser = root\n\tserver = %s\n%s"
            "\tpassenv =\n\tinstances = UNLIMITED\n\tper_source = UNLIMITED\n\tcps = 100000 1\n"
            "\tlog_type = FILE %s/xinetd.log\n\tlog_on_success =\n\tlog_on_failure = HOST\n\tdisable = no\n}\n") % (
        port, server_argv[0], ("\tserver_args = %s\n" % " ".join(server_argv[1:])) if server_argv[1:] else "",
        logdir)


class TrueFloor(Server):
    """A launcher running /bin/true per connection: what starting a process costs that launcher."""

    SESSION_COMMS = ("true",)

    def __init__(self, name, label, launcher):
        super().__init__(name, label)
        self.launcher = launcher

    def argv(self):
        if self.launcher == "xinetd":
            return xinetd_argv(self.dir, self.port, ["/bin/true"])
        return ["systemd-socket-activate", "--inetd", "-a", "-l", "127.0.0.1:%d" % self.port, "/bin/true"]

    def logs(self):
        return xinetd_logs(self.dir) if self.launcher == "xinetd" else socket_activate_logs(self.dir)


class Dovecot(Server):
    """Dovecot as a daemon: its own configuration only (-c), built-in defaults but for CHANGED."""

    CHANGED = [
        ("protocols", "pop3", "only POP3"),
        ("listen", "127.0.0.1", "loopback only"),
        ("base_dir, state_dir", "in the benchmark's directory", "not the machine's /run/dovecot"),
        ("log_path", "a file in the benchmark's directory", "no syslog here; errors are checked"),
        ("ssl", "no", "plain POP3 like the handler's launchers"),
        ("disable_plaintext_auth", "no", "USER/PASS on 127.0.0.1"),
        ("mail_location", "maildir:~/Maildir", "the same Maildirs"),
        ("passdb, userdb", "passwd-file (the same hashes; uid, gid, home per user)", ""),
        ("service pop3-login inet_listener pop3", "127.0.0.1, a free port", ""),
    ]

    @staticmethod
    def raised():
        """[(setting, value, configuration text)]: Dovecot's limits the idle clients would hit, raised."""
        out = []
        per_user = -(-IDLE // USERS)
        if per_user > USERIP_LIMIT:
            out.append(("mail_max_userip_connections", per_user,
                        "mail_max_userip_connections = %d\n" % per_user))
        if IDLE + 24 > POP3_PROCESS_LIMIT:
            out.append(("service pop3 process_limit", IDLE + 24,
                        "service pop3 {\n  process_limit = %d\n}\n" % (IDLE + 24)))
        if IDLE + 24 > DEFAULT_CLIENT_LIMIT:        # every pop3 process is a client of stats and anvil
            for service in ("stats", "anvil"):
                out.append(("service %s client_limit" % service, IDLE + 100,
                            "service %s {\n  client_limit = %d\n}\n" % (service, IDLE + 100)))
        return out

    SESSION_COMMS = ("pop3", "pop3-login")

    def configure(self, users, hashes):
        run = os.path.join(self.dir, "run")
        os.makedirs(run, exist_ok=True)
        os.makedirs(os.path.join(self.dir, "state"), exist_ok=True)
        self.passwd = os.path.join(self.dir, "passwd")
        write_file(self.passwd, "".join("%s:%s:%d:%d::%s::\n" % (
            name, hashes[name], uid, uid, os.path.join(self.homes, name)) for name, _, uid in users), 0o640)
        os.chown(self.passwd, 0, _dovecot_gid())
        self.run_dir = run

    def argv(self):
        conf = os.path.join(self.dir, "dovecot.conf")
        write_file(conf, (
            "protocols = pop3\nlisten = 127.0.0.1\nbase_dir = %s\nstate_dir = %s\nlog_path = %s\n"
            "ssl = no\ndisable_plaintext_auth = no\nmail_location = maildir:~/Maildir\n"
            "passdb {\n  driver = passwd-file\n  args = %s\n}\nuserdb {\n  driver = passwd-file\n  args = %s\n}\n"
            "service pop3-login {\n  inet_listener pop3 {\n    address = 127.0.0.1\n    port = %d\n  }\n}\n%s") % (
            self.run_dir, os.path.join(self.dir, "state"), os.path.join(self.dir, "dovecot.log"),
            self.passwd, self.passwd, self.port,
            "".join(text for _, _, text in self.raised())),
                   0o644)
        return [DOVECOT, "-F", "-c", conf]

    def logs(self):
        return [(os.path.join(self.dir, "dovecot.log"), lambda line: re.search(r" (Warning|Error|Fatal|Panic): ", line)),
                (os.path.join(self.dir, "launcher.log"), lambda line: True)]

    def stop(self):
        pidfile = os.path.join(self.dir, "run", "master.pid")
        if self.proc and os.path.exists(pidfile):
            with open(pidfile) as f:
                if f.read().strip() != str(self.proc.pid):
                    note("dovecot: master.pid is not the master started (%d)" % self.proc.pid)
        super().stop()


def _dovecot_gid():
    import grp
    return grp.getgrnam("dovecot").gr_gid


def write_file(path, text, mode):
    fd = os.open(path + ".new", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path + ".new", mode)
    os.rename(path + ".new", path)


# ----------------------------------------------------------------------
# Running the driver

class Driver:
    def __init__(self):
        self.serial = 0

    def job(self, server, mode, clients, users, **extra):
        self.serial += 1
        job = {"mode": mode, "port": server.port, "clients": clients, "seconds": SECONDS,
               "timeout": SESSION_TIMEOUT, "retr": RETR, "tag": "r%d" % self.serial,
               "users": [[name, pw, os.path.join(server.homes, name, "Maildir"), uid, uid]
                         for name, pw, uid in users]}
        job.update(extra)
        return job

    def start(self, job):
        group = Group("driver")
        proc = subprocess.Popen([sys.executable, os.path.join(HERE, "loaddriver.py")],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd="/",
                                start_new_session=True, preexec_fn=group.join)
        group.leader = proc.pid
        proc.stdin.write((json.dumps(job) + "\n").encode())
        proc.stdin.flush()
        return proc, group

    def run(self, server, job):
        """A timed run: the server's CPU from before the driver starts until its last session has exited."""
        cpu0, auth0 = server.group.cpu_usec(), auth_cpu_usec(server.group.pids())
        busy0, t0 = machine_busy_usec(), time.monotonic()
        proc, group = self.start(job)
        try:
            out, _ = proc.communicate(timeout=job["seconds"] + SESSION_TIMEOUT + 60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise BenchError("the load driver did not finish (%s)" % server.label)
        finally:
            group.kill_rest()
        if proc.returncode != 0:
            raise BenchError("the load driver failed (status %d) against %s" % (proc.returncode, server.label))
        left = server.settle()
        result = json.loads(out.decode().strip().split("\n")[-1])
        result["server_cpu"] = (server.group.cpu_usec() - cpu0) / 1e6
        result["auth_cpu"] = (auth_cpu_usec(server.group.pids()) - auth0) / 1e6
        # Whatever else ran meanwhile (other people's work on a shared machine), as a share of all cores.
        others = (machine_busy_usec() - busy0) / 1e6 - result["server_cpu"] - result["cpu"]
        result["others"] = max(0.0, others / ((time.monotonic() - t0) * os.cpu_count()))
        result["left"] = left
        return result

    def idle(self, server, job):
        """IDLE clients logged in at once: PSS of every process of the server, per client."""
        proc, group = self.start(job)
        try:
            ready = read_line(proc, SESSION_TIMEOUT + IDLE / 10)
            server.group.steady()
            pss = server.group.pss_kib()
            nprocs = len(server.group.pids())
            proc.stdin.write(b"quit\n")
            proc.stdin.flush()
            out, _ = proc.communicate(timeout=SESSION_TIMEOUT + 30)
        except subprocess.TimeoutExpired:
            raise BenchError("the idle clients did not finish (%s)" % server.label)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            group.kill_rest()
        server.settle()
        final = json.loads(out.decode().strip().split("\n")[-1])
        return {"ready": ready["ready"], "login_errors": ready["errors"], "samples": ready["samples"],
                "pss_kib": pss, "procs": nprocs, "quit_ok": final["quit_ok"], "quit_errors": final["errors"],
                "seconds": ready["seconds"]}


def read_line(proc, limit):
    deadline = time.monotonic() + limit
    buf = b""
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([proc.stdout], [], [], left)[0]:
            raise BenchError("no answer from the load driver within %.0f s" % limit)
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            raise BenchError("the load driver ended early (status %s)" % proc.wait())
        buf += chunk
    return json.loads(buf.decode())


# ----------------------------------------------------------------------
# Correctness under load: what each server's mailboxes must hold

class Ledger:
    """Every message a server's users had or were delivered, what a QUIT +OK deleted, the UIDLs seen.

    After every run: each message is in its Maildir or was deleted by a QUIT that answered +OK
    (or by a QUIT whose answer never came: those may be either way); nothing deleted is back;
    no file is there twice; a message keeps its UIDL and no UIDL names two messages (per user);
    a poll session's UIDL list stays the same while no mail arrives, and lists every file.
    """

    def __init__(self, msgids):
        self.expected = {u: dict(ids) for u, ids in msgids.items()}      # base name -> Message-ID
        self.base_of = {u: {m: b for b, m in ids.items()} for u, ids in msgids.items()}
        self.initial = {u: set(ids.values()) for u, ids in msgids.items()}
        self.deleted = {u: set() for u in msgids}
        self.uncertain = {u: set() for u in msgids}
        self.uidl_of = {u: {} for u in msgids}        # Message-ID -> UIDL
        self.msg_of = {u: {} for u in msgids}         # UIDL -> Message-ID
        self.listing0 = {}                            # the first poll listing, before any mail arrived
        self.listing = {}                             # the last poll listing while nothing arrived

    def absorb(self, result, problems):
        for user, pairs in result["delivered"].items():
            for base, msgid in pairs:
                self.expected[user][base] = msgid
                self.base_of[user][msgid] = base
        for user, pairs in result["seen"].items():
            for msgid, uidl in pairs:
                self.check_uidl(user, msgid, uidl, problems)
        for user, pairs in result["deleted"].items():
            for msgid, _ in pairs:
                base = self.base_of[user].get(msgid)
                if base is None:
                    problems.add("unknown message", "%s: RETR showed %s, never delivered" % (user, msgid))
                elif base in self.deleted[user]:
                    problems.add("deleted twice", "%s: %s was deleted by two QUITs" % (user, msgid))
                self.deleted[user].add(base)
        for user, msgids in result["uncertain"].items():
            self.uncertain[user].update(self.base_of[user][m] for m in msgids if m in self.base_of[user])
        for user, uidls in result["uidls"].items():
            if user in self.listing and self.listing[user] != uidls:
                problems.add("UIDL list changed", "%s: another UIDL list than the last run's, no mail came" % user)
            self.listing[user] = uidls
            self.listing0.setdefault(user, set(uidls))
        if result["delivered"]:
            self.listing = {}

    def check_uidl(self, user, msgid, uidl, problems):
        if self.uidl_of[user].setdefault(msgid, uidl) != uidl:
            problems.add("UIDL changed", "%s: %s was %s, now %s" % (user, msgid, self.uidl_of[user][msgid], uidl))
        if self.msg_of[user].setdefault(uidl, msgid) != msgid:
            problems.add("UIDL reused", "%s: UIDL %s named %s and %s" % (user, uidl, self.msg_of[user][uidl], msgid))
        first = self.listing0.get(user)
        if first is not None and (msgid in self.initial[user]) != (uidl in first):
            problems.add("UIDL reused" if uidl in first else "UIDL changed",
                         "%s: %s has UIDL %s, %s the first poll's list" % (
                             user, msgid, uidl, "in" if uidl in first else "not in"))

    def check_maildirs(self, homes, poll, problems):
        for user, expected in self.expected.items():
            present = {}
            maildir = os.path.join(homes, user, "Maildir")
            for sub in ("new", "cur"):
                for name in os.listdir(os.path.join(maildir, sub)):
                    base = name.split(":")[0]
                    if base in present:
                        problems.add("file twice", "%s: %s/%s and %s" % (user, sub, name, present[base]))
                    present[base] = "%s/%s" % (sub, name)
            deleted, maybe = self.deleted[user], self.uncertain[user]
            for base in expected.keys() - deleted - maybe - present.keys():
                problems.add("lost", "%s: %s (%s) is gone, no QUIT deleted it" % (user, base, expected[base]))
            for base in deleted & present.keys():
                problems.add("deleted but there", "%s: %s deleted by a QUIT +OK, still %s" % (user, base, present[base]))
            for base in present.keys() - expected.keys():
                problems.add("unknown file", "%s: %s" % (user, present[base]))
            if poll and user in self.listing and len(self.listing[user]) != len(present):
                problems.add("UIDL misses files", "%s: UIDL lists %d messages, the Maildir holds %d" % (
                    user, len(self.listing[user]), len(present)))


class Problems:
    SAMPLES = 3

    def __init__(self):
        self.count, self.samples = {}, []

    def add(self, kind, text):
        self.count[kind] = self.count.get(kind, 0) + 1
        if sum(1 for k, _ in self.samples if k == kind) < self.SAMPLES:
            self.samples.append((kind, text))

    def summary(self):
        return ", ".join("%s %d" % kv for kv in sorted(self.count.items())) or "ok"


UNEXPLAINED = ("err", "proto", "closed")      # a refused connection or a timeout the load explains


# ----------------------------------------------------------------------
# The measurements

class Row:
    """One timed run of one server."""

    def __init__(self, server, scenario, clients, result, problems):
        self.server, self.scenario, self.clients = server, scenario, clients
        self.ok = result["ok"]
        self.rate = result["ok"] / result["elapsed"] if result["elapsed"] else 0.0
        lat = sorted(result["latencies"])
        self.p50 = percentile(lat, 0.50)
        self.p99 = percentile(lat, 0.99)
        self.errors = result["errors"]
        self.cpu = result["server_cpu"] / result["ok"] if result["ok"] else float("nan")
        self.driver_cpu = result["cpu"] / result["ok"] if result["ok"] else float("nan")
        self.auth_cpu = result["auth_cpu"] / result["ok"] if result["ok"] else float("nan")
        self.others = result["others"]
        self.problems = problems
        self.samples = result["samples"]
        self.left = result["left"]


def percentile(values, q):
    """The nearest-rank percentile of sorted values."""
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


def timed_run(driver, server, ledger, scenario, clients, users, once=False):
    job = driver.job(server, scenario, clients, users, once=once)
    result = driver.run(server, job)
    problems = Problems()
    ledger.absorb(result, problems)
    ledger.check_maildirs(server.homes, scenario == "poll", problems)
    for kind in UNEXPLAINED:
        if result["errors"].get(kind):
            problems.add("session " + kind, "%d sessions: %s" % (
                result["errors"][kind], "; ".join(s for s in result["samples"] if (" %s:" % kind) in s)[:300]))
    for line in server.log_troubles():
        problems.add("logged", line[:200])
    if result["left"] > 0:
        problems.add("processes left", "%d session processes still there 10 s after the run" % result["left"])
    return Row(server, scenario, clients, result, problems)


def floor_cpu(driver, floor_server, users):
    """CPU per connection of a launcher starting /bin/true, FLOOR_CLIENTS clients for FLOOR_SECONDS."""
    job = driver.job(floor_server, "floor", FLOOR_CLIENTS, users, seconds=FLOOR_SECONDS)
    result = driver.run(floor_server, job)
    bad = sum(result["errors"].values()) + len(floor_server.log_troubles())
    if not result["ok"]:
        raise BenchError("%s: no connection completed (%r)" % (floor_server.label, result["errors"]))
    return result["server_cpu"] / result["ok"], result["ok"], bad


def make_copies(servers, pristine):
    """One cp -a of the cached Maildirs per server, in BENCH_WORK: the first from the disk cache, the
    others at once from that first copy (before any server touched it)."""
    t0 = time.perf_counter()
    subprocess.run(["cp", "-a", pristine, servers[0].homes], check=True)
    for p in [subprocess.Popen(["cp", "-a", servers[0].homes, s.homes]) for s in servers[1:]]:
        wait_ok(p)
    note("copies of the Maildirs for %d servers in %.0f s" % (len(servers), time.perf_counter() - t0))


class Phase:
    """Everything measured with one hash method."""

    def __init__(self, method):
        self.method = method
        self.rows = []
        self.crypt_cpu = None
        self.idle = {}


def run_phase(phase, servers, ledgers, driver, users, crypt, clients, scenarios, warm, idle):
    hashes = {name: crypt.crypt(pw, crypt.setting(phase.method, name)) for name, pw, _ in users}
    phase.crypt_cpu = crypt.cpu_seconds(users[0][1], hashes[users[0][0]])
    for s in servers:
        s.configure(users, hashes)
        s.start()
    try:
        if warm:
            # One session per user and server, not timed: each makes its UID list or index, as a site's
            # servers have them; its UIDL lists become the reference of the checks.
            for s in servers:
                row = timed_run(driver, s, ledgers[s.name], "poll", min(16, len(users)), users, once=True)
                if row.problems.count or row.ok != len(users):
                    raise BenchError("%s: the first session of each user failed: %s; %s" % (
                        s.label, row.problems.summary(), "; ".join(row.samples)))
        k = 0
        for scenario in scenarios:
            for n in clients:
                k += 1
                order = servers[k % len(servers):] + servers[:k % len(servers)]
                for s in order:
                    row = timed_run(driver, s, ledgers[s.name], scenario, n, users)
                    phase.rows.append(row)
                    note("%-8s %-6s N=%-3d %-30s %7.1f sessions/s  p99 %7.1f ms  CPU %6.2f ms  %s" % (
                        phase.method, scenario, n, s.label, row.rate, row.p99, row.cpu * 1e3,
                        row.problems.summary()))
        if idle:
            for s in servers:
                job = driver.job(s, "idle", 0, users, connections=IDLE, ramp=32)
                phase.idle[s.name] = driver.idle(s, job)
                phase.idle[s.name]["logged"] = s.log_troubles()
                note("idle %-30s %d logged in, PSS %.0f KiB per client" % (
                    s.label, phase.idle[s.name]["ready"], phase.idle[s.name]["pss_kib"] / max(1, IDLE)))
    finally:
        for s in servers:
            s.stop()


def measure_floors(driver, users):
    out = {}
    for name, label, launcher in (("xinetd-true", "xinetd + /bin/true", "xinetd"),
                                  ("socket-activate-true", "systemd-socket-activate + /bin/true", "sa")):
        f = TrueFloor(name, label, launcher)
        try:
            f.start()
            out[launcher] = floor_cpu(driver, f, users)
        finally:
            f.stop()
    return out


# ----------------------------------------------------------------------
# The report

def ms(seconds):
    return "%.2f" % (seconds * 1e3)


def verdict(ok):
    return "PASS" if ok else "FAIL"


def errors_text(errors):
    return ", ".join("%s %d" % kv for kv in sorted(errors.items()) if kv[1]) or "0"


def table(head, widths, rows):
    say("  " + "  ".join(str(x).ljust(w) for x, w in zip(head, widths)).rstrip())
    say("  " + "  ".join("-" * w for w in widths))
    for r in rows:
        say("  " + "  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip())


def print_runs(phase):
    rows = []
    for r in phase.rows:
        rows.append((r.scenario, r.clients, r.server.label, "%.1f" % r.rate, "%.1f" % r.p50,
                     "%.1f" % r.p99, errors_text(r.errors), ms(r.cpu), ms(r.driver_cpu), "%.0f%%" % (100 * r.others),
                     r.problems.summary()))
    table(("scenario", "N", "server", "sess/s", "p50 ms", "p99 ms", "errors", "CPU ms/sess", "driver ms", "others",
           "checks"), (8, 3, 28, 7, 7, 7, 10, 11, 9, 6, 10), rows)


def find(phase, server, scenario, n):
    for r in phase.rows:
        if r.server is server and r.scenario == scenario and r.clients == n:
            return r
    return None


def print_targets(phase, handlers, dovecot, floors, checks):
    """The issue's targets, for each launcher of pop3-handler, beside Dovecot in the same run."""
    rows = []

    def add(what, values, target, key):
        cells = []
        for v, ok in values:
            cells.append("%.2fx %s" % (v, verdict(ok)) if v == v else "n/a")
            checks.append((what, ok))
        rows.append((what,) + tuple(cells) + (target,))

    for n in [n for n in CLIENTS if n >= 16]:
        ours = [find(phase, h, "poll", n) for h in handlers]
        theirs = find(phase, dovecot, "poll", n)
        add("poll N=%d: sessions/s" % n, [(o.rate / theirs.rate, o.rate / theirs.rate >= TARGETS["rate"])
                                          for o in ours], ">= 3x Dovecot", "rate")
        add("poll N=%d: p99 latency" % n, [(o.p99 / theirs.p99, o.p99 / theirs.p99 <= TARGETS["p99"])
                                           for o in ours], "<= 0.4x Dovecot", "p99")
        add("poll N=%d: CPU per session" % n, [(o.cpu / theirs.cpu, o.cpu / theirs.cpu <= TARGETS["cpu"])
                                               for o in ours], "<= 0.3x Dovecot", "cpu")
        add("poll N=%d: CPU / floor" % n, [(o.cpu / floor_of(h, floors, phase), o.cpu / floor_of(h, floors, phase)
                                            <= TARGETS["floor"]) for o, h in zip(ours, handlers)],
            "<= 1.5x floor", "floor")
    if phase.idle:
        d = phase.idle[dovecot.name]["pss_kib"] / IDLE
        add("PSS per idle logged-in client", [(phase.idle[h.name]["pss_kib"] / IDLE / d,
                                               phase.idle[h.name]["pss_kib"] / IDLE / d <= TARGETS["pss"])
                                              for h in handlers], "<= 0.35x Dovecot", "pss")
    table(("target",) + tuple(h.label for h in handlers) + ("target",), (30, 28, 30, 16), rows)


def floor_of(handler, floors, phase):
    return floors[handler.launcher][0] + phase.crypt_cpu


def print_floor(phase, floors):
    for key, label in (("xinetd", "xinetd"), ("sa", "systemd-socket-activate")):
        cpu, n, bad = floors[key]
        say("  %-24s /bin/true %s ms + crypt(3) %s ms = floor %s ms CPU per session  (%d connections%s)" % (
            label, ms(cpu), ms(phase.crypt_cpu), ms(cpu + phase.crypt_cpu), n,
            ", %d failed" % bad if bad else ""))


def print_idle(phase, servers):
    for s in servers:
        i = phase.idle[s.name]
        say("  %-30s %4d of %d logged in (%.1f s), %4d processes, PSS %7.1f MiB = %6.0f KiB per client%s" % (
            s.label, i["ready"], IDLE, i["seconds"], i["procs"], i["pss_kib"] / 1024, i["pss_kib"] / IDLE,
            "; login errors: %s (%s)" % (errors_text(i["login_errors"]), "; ".join(i["samples"])[:200])
            if i["login_errors"] else ""))
        for line in i["logged"][:3]:
            say("      logged: %s" % line[:200])


def print_crypt_share(phase, base, servers):
    say("  crypt(3) of one %s hash: %s ms CPU (this machine, the servers' libxcrypt)." % (
        phase.method, ms(phase.crypt_cpu)))
    for r in phase.rows:
        prev = find(base, r.server, r.scenario, r.clients) if base else None
        grew = "; %s ms more than with sha512crypt (whose crypt(3) is %s ms)" % (
            ms(r.cpu - prev.cpu), ms(base.crypt_cpu)) if prev else ""
        say("  %-8s N=%-3d %-28s session %s ms CPU, crypt(3) %.0f%% of it%s" % (
            r.scenario, r.clients, r.server.label, ms(r.cpu), 100 * phase.crypt_cpu / r.cpu, grew))
    for r in phase.rows:
        if isinstance(r.server, Dovecot):
            say("  %-8s N=%-3d Dovecot's auth processes (dovecot/auth*) used %s ms CPU per session" % (
                r.scenario, r.clients, ms(r.auth_cpu)))
    say("  Dovecot checks every password in its one auth process (passwd-file: no auth workers);")
    say("  pop3-handler in each connection's root parent: with a costly hash Dovecot's logins queue")
    say("  behind one process on one core, ours spread over every core.")


def print_correctness(servers, phases):
    bad_ours = 0
    for s in servers:
        total = Problems()
        for p in phases:
            for r in p.rows:
                if r.server is s:
                    for kind, n in r.problems.count.items():
                        total.count[kind] = total.count.get(kind, 0) + n
                    total.samples.extend(r.problems.samples)
        say("  %-30s %s" % (s.label, "PASS: every check held after every run" if not total.count
                              else "FAIL: " + total.summary()))
        for kind, text in total.samples[:8]:
            say("      %s: %s" % (kind, text))
        if total.count and isinstance(s, Handler):
            bad_ours += 1
    return bad_ours


def report(phases, floors, servers, elapsed, loads):
    handlers = [s for s in servers if isinstance(s, Handler)]
    dovecot = [s for s in servers if isinstance(s, Dovecot)][0]
    say("")
    say("pop3-handler %s vs Dovecot %s (Debian dovecot-core, dovecot-pop3d), under load" % (
        version([handlers[0].binary, "-V"]), version([DOVECOT, "--version"]).split(" ")[0]))
    say("%s, %d cores, Linux %s.  %d users x %s messages (~%d octets) per server, own copies in %s." % (
        cpu_model(), os.cpu_count(), platform.release(), USERS, "{:,}".format(MESSAGES), MESSAGE_SIZE, WORK_BASE))
    say("Clients on 127.0.0.1, each run %g s of N clients working back to back (client c on users c, c+N, ...)." %
        SECONDS)
    say("poll = USER/PASS, STAT, UIDL, QUIT; download = USER/PASS, STAT, %d x (UIDL n, RETR n, DELE n), QUIT," % RETR)
    say("with one message delivered during each session and as many as it deleted after it (tmp/ -> new/).")
    say("Each server and the driver run in their own session (setsid) and %s;" % (
        "cgroup v2 (%s/pop3bench-*): CPU = cpu.stat usage_usec of every process the server ran" % CGROUP_ROOT
        if CGROUP_ROOT else "process tree (no writable cgroup2 here): CPU = utime+stime+cutime+cstime from /proc"))
    say("(launcher, handler processes; Dovecot's master, login, auth, pop3, log ...), from before the driver")
    say("starts until the last session has exited, divided by the sessions completed.  Latency: connect to")
    say("QUIT's +OK.  pop3-handler starts as root (privilege separation), log = syslog (no syslog daemon")
    say("here: each log line is a failed connect); Dovecot writes its log to a file.")
    say("\"driver ms\" is the load driver's own CPU per session (it shares the %d cores); \"others\" is the" %
        os.cpu_count())
    say("share of the machine's CPU that anything else used during the run (other people's work: over")
    say("10%, that run's figures are disturbed).")
    say("Dovecot settings changed from its built-in defaults (dovecot -F -c <own file>, nothing else):")
    for key, value, why in Dovecot.CHANGED:
        say("  %-38s %s%s" % (key, value, "  (%s)" % why if why else ""))
    for key, value, _ in Dovecot.raised():
        say("  %-38s %d  (for the %d idle clients only)" % (key, value, IDLE))
    checks = []
    base = phases[0]
    for p in phases:
        say("")
        say("== %s ==" % HASHES[p.method])
        print_runs(p)
        say("")
        if p is base:
            say("Floor: the same launcher starting /bin/true for each of the same connections (%d clients, %g s)," % (
                FLOOR_CLIENTS, FLOOR_SECONDS))
            say("plus one crypt(3) of the same hash:")
            print_floor(p, floors)
            if p.idle:
                say("")
                say("Memory at rest: %d clients logged in (USER/PASS) and idle at once; PSS (smaps_rollup) of" % IDLE)
                say("every process of the server, / %d.  Dovecot's limits (service pop3 process_limit %d," % (
                    IDLE, POP3_PROCESS_LIMIT))
                say("default_client_limit %d, mail_max_userip_connections %d) %s:" % (
                    DEFAULT_CLIENT_LIMIT, USERIP_LIMIT, "; ".join(
                    "%s raised to %d" % (k, v) for k, v, _ in Dovecot.raised()) or "are enough: nothing raised"))
                print_idle(p, servers)
            say("")
            print_targets(p, handlers, dovecot, floors, checks)
        else:
            print_crypt_share(p, base, servers)
    say("")
    say("Correctness under load (after every run: each message in its Maildir or deleted by a QUIT +OK;")
    say("no file twice; UIDLs stable and never given to two messages; no -ERR, no dropped session):")
    bad = print_correctness(servers, phases)
    say("")
    failed = [w for w, ok in checks if not ok]
    say("Targets: %d of %d met%s." % (len(checks) - len(failed), len(checks),
                                     "" if not failed else "; FAIL: " + "; ".join(sorted(set(failed)))))
    busy = [r for p in phases for r in p.rows if r.others > 0.10]
    say("The benchmark took %.0f s.  Load average before it started: %.2f (1 min), %.2f (15 min)." % (
        elapsed, loads[0], loads[2]))
    if busy:
        say("Other work used over 10%% of the machine during %d of %d runs (up to %.0f%%): the figures are" % (
            len(busy), sum(len(p.rows) for p in phases), 100 * max(r.others for r in busy)))
        say("disturbed; rerun on a quiet machine.")
    return bad


# ----------------------------------------------------------------------

def stop_on_signal(signum, frame):
    raise KeyboardInterrupt


def main():
    global WORK, CGROUP_ROOT
    if len(sys.argv) != 2:
        raise BenchError("usage: load.py POP3_HANDLER_BINARY")
    binary = os.path.abspath(sys.argv[1])
    t0 = time.perf_counter()
    if os.geteuid() != 0:
        raise BenchError("run as root")
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop_on_signal)
    CGROUP_ROOT = cgroup2_root()
    if not CGROUP_ROOT:
        note("no writable cgroup2 hierarchy: CPU and PSS are summed over each server's process tree in /proc")
    users = accounts()
    crypt = Crypt()
    os.makedirs(CACHE, exist_ok=True)
    pristine, msgids = ensure_maildirs(users)
    WORK = tempfile.mkdtemp(prefix="pop3-load.", dir=WORK_BASE)
    os.chmod(WORK, 0o755)
    servers = []
    loads = os.getloadavg()
    try:
        servers = [XinetdHandler("xinetd", "pop3-handler/xinetd", binary, "xinetd"),
                   SocketActivateHandler("socket-activate", "pop3-handler/socket-activate", binary, "sa"),
                   Dovecot("dovecot", "Dovecot")]
        make_copies(servers, pristine)
        ledgers = {s.name: Ledger(msgids) for s in servers}
        driver = Driver()
        floors = measure_floors(driver, users)
        phases = [Phase("sha512crypt")]
        run_phase(phases[0], servers, ledgers, driver, users, crypt, CLIENTS, ("poll", "download"),
                  warm=True, idle=IDLE > 0)
        if YESCRYPT_CLIENTS:
            phases.append(Phase("yescrypt"))
            run_phase(phases[1], servers, ledgers, driver, users, crypt, YESCRYPT_CLIENTS, ("poll",),
                      warm=False, idle=False)
        bad = report(phases, floors, servers, time.perf_counter() - t0, loads)
    finally:
        for s in servers:
            s.stop()
        for s in servers:
            shutil.rmtree(s.homes, ignore_errors=True)
    shutil.rmtree(WORK, ignore_errors=True)
    if bad:
        say("pop3-handler failed a correctness check under load: exit status 1.")
        sys.exit(1)


if __name__ == "__main__":
    try:
        main()
    except (BenchError, subprocess.CalledProcessError, KeyboardInterrupt) as e:
        print("bench-load: FAILED: %s%s" % (e if not isinstance(e, KeyboardInterrupt) else "interrupted",
                                            " (logs in %s)" % WORK if WORK else ""), file=sys.stderr)
        sys.exit(1)
