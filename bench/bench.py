#!/usr/bin/env python3
"""pop3-handler beside Dovecot's pop3 and beside `cat`: see bench/run.

Usage (as root, from bench/run): bench.py HANDLER_BINARY

Environment:
  BENCH_DIR     cache of pristine Maildirs and the passwd file
                (default /var/tmp/pop3-bench; reused across runs)
  BENCH_WORK    where the fresh copies the servers run on are made: a
                directory pop3-bench-work.* in it (default /dev/shm, a tmpfs),
                removed at the end
  BENCH_USER    the plain system user owning the Maildirs (default pop3bench)
  BENCH_RUNS    timed runs per measurement (default 5; the tiny session 31)
  BENCH_LARGE=1 also the 1,000,000-message Maildir (minutes, ~5 GB of disk
                for the cache and ~5 GB of RAM for its copy in BENCH_WORK)
  BENCH_BASELINE another pop3-handler binary (an earlier build) measured beside
                this one on the 50,000-message sessions and the migration
"""
import ctypes
import ctypes.util
import fcntl
import os
import platform
import pwd
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.environ.get("BENCH_DIR", "/var/tmp/pop3-bench")
WORK_BASE = os.environ.get("BENCH_WORK", "/dev/shm")
WORK = None                                   # a fresh directory in WORK_BASE, made by main()
USER = os.environ.get("BENCH_USER", "pop3bench")
RUNS = max(1, int(os.environ.get("BENCH_RUNS", "5")))
TINY_RUNS = max(RUNS, 31)
LARGE = os.environ.get("BENCH_LARGE", "") not in ("", "0", "no")
BASELINE = os.environ.get("BENCH_BASELINE", "")
DOVECOT = "/usr/lib/dovecot/pop3"
PASSWORD = "bench-password"
HASH_SETTING = "$6$rounds=1000$pop3bench"    # sha512crypt, 1000 rounds: cheap
GEN_VERSION = 1                               # bump when genmaildir.py changes
PATH_ENV = "/usr/sbin:/usr/bin:/sbin:/bin"

# name: (messages, octets each, seed)
SETS = {
    "tiny": (3, 2048, 3),
    "small10k": (10000, 2048, 10),
    "small50k": (50000, 2048, 50),
    "small100k": (100000, 2048, 100),
    "small1m": (1000000, 2048, 1000),
    "large": (2000, 51200, 2),
}

TARGETS = {"first": 0.3, "repeat": 0.2, "retr": 1.3, "memory": 0.5,
           "migrate": 1.5,          # issue 17: first session taking over Dovecot's UIDLs / plain first session
           "baseline": 1.1,         # this build's repeat session / BENCH_BASELINE's
           # issue 21, BENCH_LARGE: the 1,000,000-message mailbox
           "huge_first": 0.3, "huge_repeat": 0.1, "huge_bytes_per_msg": 64}


class BenchError(Exception):
    pass


def say(*args):
    print(*args, flush=True)


def say_table(head, widths, rows):
    """The head, a line of dashes and the rows, each cell padded to its column's width."""
    for r in [head, ["-" * w for w in widths]] + list(rows):
        say("  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip())


# The columns of the tables that set a measurement beside Dovecot's, with its target.
MEASUREMENT_HEAD = ("measurement", "pop3-handler", "Dovecot", "ratio", "target", "result")
MEASUREMENT_WIDTHS = (32, 13, 13, 7, 18, 6)


def note(text):
    print("  " + text, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------
# Set-up: the user, the passwd file, the pristine Maildirs

def sha512crypt(password, setting):
    """crypt(3) through libcrypt itself: Python's crypt module is deprecated."""
    lib = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1")
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = (ctypes.c_char_p, ctypes.c_char_p)
    out = lib.crypt(password.encode(), setting.encode())
    if not out or not out.startswith(b"$6$rounds=1000$"):
        raise BenchError("libcrypt did not make a sha512crypt hash")
    return out.decode()


def write_config(pw):
    passwd = os.path.join(CACHE, "passwd")
    conf = os.path.join(CACHE, "pop3-handler.conf")
    line = "%s:%s:%d:%d:pop3 benchmark:%s:/usr/sbin/nologin\n" % (
        USER, sha512crypt(PASSWORD, HASH_SETTING), pw.pw_uid, pw.pw_gid, CACHE)
    fd = os.open(passwd + ".new", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(line)
    os.chmod(passwd + ".new", 0o600)
    os.rename(passwd + ".new", passwd)
    with open(conf + ".new", "w") as f:
        f.write("passwd_file = %s\n" % passwd)
        f.write("maildir = %h/Maildir\n")     # every run gives -o maildir=<copy>
        f.write("log = stderr\n")
        f.write("plaintext_auth = yes\n")
        f.write("auth_fail_delay = 0\n")
    os.rename(conf + ".new", conf)
    return conf


class MountNamespace:
    """A private mount namespace kept by a sleeping process (killed by close()); what is mounted in
    it (overlay(): a writable layer over a system directory) the machine never sees."""

    def __init__(self):
        self.proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sleep", "infinity"],
                                     start_new_session=True)
        for _ in range(250):
            if os.readlink("/proc/%d/ns/mnt" % self.proc.pid) != os.readlink("/proc/self/ns/mnt"):
                break
            time.sleep(0.02)
        else:
            self.close()
            raise BenchError("no private mount namespace")

    def overlay(self, lower, top):
        """lower (/etc, ...) made writable in the namespace, the changes kept in top/upper."""
        for d in ("upper", "work"):
            os.makedirs(os.path.join(top, d))
        self.run(["mount", "-t", "overlay", "overlay", "-o", "lowerdir=%s,upperdir=%s/upper,workdir=%s/work"
                  % (lower, top, top), lower])

    def wrap(self, argv):
        return ["nsenter", "-t", str(self.proc.pid), "-m", "--"] + argv

    def run(self, argv, data=None):
        subprocess.run(self.wrap(argv), input=data, stdout=subprocess.DEVNULL, check=True)

    def close(self):
        self.proc.kill()
        self.proc.wait()


class PamNamespace(MountNamespace):
    """A private mount namespace whose /etc is an overlay: in it the bench user has the
    benchmark's password (the same sha512crypt hash as the passwd file's) in /etc/shadow, and
    /etc/pam.d/pop3-handler checks it with pam_unix.  The machine's own /etc is never changed."""

    def __init__(self, home):
        super().__init__()
        self.overlay("/etc", tempfile.mkdtemp(prefix="pam-ns.", dir=WORK))
        self.run(["usermod", "-d", home, "-p", sha512crypt(PASSWORD, HASH_SETTING), USER])
        self.run(["tee", "/etc/pam.d/pop3-handler"],
                 b"auth required pam_unix.so nodelay\naccount required pam_unix.so\n")


def set_path(name):
    count, size, seed = SETS[name]
    return os.path.join(CACHE, "sets", "%s-%dx%d-s%d-v%d" % (name, count, size, seed, GEN_VERSION))


def ensure_set(name, pw):
    """The pristine Maildir of a set, generated once (into a temporary name, renamed when complete)."""
    final = set_path(name)
    if os.path.isdir(os.path.join(final, "Maildir")):
        st = os.stat(os.path.join(final, "Maildir"))
        if (st.st_uid, st.st_gid) != (pw.pw_uid, pw.pw_gid):
            say("  %s: giving the cached Maildir to %s (uid %d) ..." % (name, USER, pw.pw_uid))
            subprocess.run(["chown", "-R", "%d:%d" % (pw.pw_uid, pw.pw_gid), final], check=True)
        return os.path.join(final, "Maildir")
    count, size, seed = SETS[name]
    tmp = final + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    say("  generating %s: %d messages of about %d octets in %s ..." % (name, count, size, final))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, os.path.join(HERE, "genmaildir.py"),
                    os.path.join(tmp, "Maildir"), str(count), str(size), str(seed)], check=True)
    subprocess.run(["chown", "-R", "%d:%d" % (pw.pw_uid, pw.pw_gid), tmp], check=True)
    os.chmod(tmp, 0o755)
    os.rename(tmp, final)
    say("  generated %s in %.0f s" % (name, time.perf_counter() - t0))
    return os.path.join(final, "Maildir")


class Copies:
    """Fresh copies (cp -a) of pristine Maildirs under WORK, one home directory each."""

    def __init__(self, pw):
        self.pw = pw
        self.serial = 0

    def make(self, pristine, label):
        self.serial += 1
        home = os.path.join(WORK, "%s-%d" % (label, self.serial))
        os.mkdir(home, 0o700)
        os.chown(home, self.pw.pw_uid, self.pw.pw_gid)
        subprocess.run(["cp", "-a", pristine, os.path.join(home, "Maildir")], check=True)
        return home

    @staticmethod
    def remove(*homes):
        for h in homes:
            shutil.rmtree(h, ignore_errors=True)


# ----------------------------------------------------------------------
# Running one session

class Server:
    """pop3-handler, Dovecot as the issue runs it, or Dovecot on its built-in defaults (-O)."""

    def __init__(self, name, conf=None, wrap=None, options=(), binary=None):
        self.name = name
        self.conf = conf
        self.handler = name.startswith("pop3-handler")
        self.binary = binary                          # None: HANDLER
        self.wrap = wrap or (lambda argv: argv)       # the PAM measurement runs in a namespace
        self.options = list(options)
        self.log = os.path.join(WORK, "%s.log" % name)

    def argv(self, home):
        maildir = os.path.join(home, "Maildir")
        if self.handler:
            return self.wrap([self.binary or HANDLER, "-c", self.conf, "-o", "maildir=" + maildir] + self.options)
        # Pre-authenticated stdin mode.  Without -O it reads the installed
        # configuration (/etc/dovecot, through an exec of doveconf), as the
        # issue's command line does; -O: built-in defaults only.
        return [DOVECOT] + (["-O"] if self.name == "dovecot-O" else []) + [
            "-o", "mail_location=maildir:" + maildir, "-o", "mail_uid=" + USER, "-o", "mail_gid=" + USER]

    def env(self, home):
        if self.handler:
            return {"PATH": PATH_ENV}
        return {"PATH": PATH_ENV, "USER": USER, "HOME": home}

    def session(self, commands):
        """The session's input: pop3-handler logs in with USER/PASS, Dovecot is already logged in."""
        if self.handler:
            commands = ["USER " + USER, "PASS " + PASSWORD] + commands
        return "".join(c + "\r\n" for c in commands).encode()

    def plan(self, kinds):
        """What each response looks like: 's' single line, 'm' multi-line (greeting, USER, PASS first)."""
        return (["s", "s", "s"] if self.handler else []) + kinds


def build_spawn():
    """Compiles bench/spawn.c (the launcher that times the processes) into the cache."""
    src = os.path.join(HERE, "spawn.c")
    exe = os.path.join(CACHE, "spawn")
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
        subprocess.run([os.environ.get("CC", "cc"), "-O2", "-Wall", "-o", exe + ".new", src], check=True)
        os.rename(exe + ".new", exe)
    return exe


def spawn(argv, env, stdin_path, out_path, err_path, cwd="/"):
    """Runs argv as a client on a pipe would see it: stdin a pipe that already
    holds the whole session (the file's contents, as if pipelined), stdout a
    pipe into `cat > out_path` (Dovecot polls both, so neither may be a
    regular file).  Returns (seconds from fork to the exit of both, ru_maxrss
    in KiB of argv's process, exit status), as measured by bench/spawn.c.
    """
    with open(stdin_path, "rb") as f:
        data = f.read()
    rfd, wfd = os.pipe()
    try:
        if len(data) > 65536:
            fcntl.fcntl(wfd, fcntl.F_SETPIPE_SZ, 1 << 20)
        if os.write(wfd, data) != len(data):
            raise BenchError("session input does not fit in a pipe")
    finally:
        os.close(wfd)
    with os.fdopen(rfd, "rb") as fin, open(err_path, "ab") as ferr:
        r = subprocess.run([SPAWN, out_path] + argv, stdin=fin, stdout=subprocess.PIPE, stderr=ferr,
                           env=env, cwd=cwd)
    fields = r.stdout.split()
    if r.returncode != 0 or len(fields) != 3:
        raise BenchError("spawn %s failed (see %s)" % (argv[0], err_path))
    return int(fields[0]) / 1e9, int(fields[1]), int(fields[2])


def responses(data, plan):
    """Splits a server's output into (status line, body) by the plan; raises on anything unexpected."""
    out, pos = [], 0
    for kind in plan:
        end = data.find(b"\r\n", pos)
        if end < 0:
            raise BenchError("output ends early (%d responses of %d)" % (len(out), len(plan)))
        status = data[pos:end]
        pos = end + 2
        body = None
        if kind == "m" and status.startswith(b"+OK"):
            stop = data.find(b"\r\n.\r\n", pos - 2)
            if stop < 0:
                raise BenchError("unterminated multi-line response after %r" % status[:60])
            body = data[pos:stop + 2]
            pos = stop + 5
        out.append((status, body))
    if pos != len(data):
        raise BenchError("%d unexpected octets after the last response" % (len(data) - pos))
    return out


class Result:
    def __init__(self):
        self.times, self.rss = [], []

    def add(self, t, rss):
        self.times.append(t)
        self.rss.append(rss)

    def t(self):
        return statistics.median(self.times)

    def m(self):
        return statistics.median(self.rss)


def check_list_session(server, out_path, expect_count):
    """Checks a login/STAT/LIST/UIDL/QUIT session; returns (count, octets, uidl body)."""
    with open(out_path, "rb") as f:
        data = f.read()
    try:
        rs = responses(data, server.plan(["s", "m", "m", "s"]))
        for status, _ in rs:
            if not status.startswith(b"+OK"):
                raise BenchError("negative response %r" % status[:100])
        stat, lst, uidl, quit_ = rs[-4:]
        m = re.fullmatch(rb"\+OK (\d+) (\d+)", stat[0])
        if not m:
            raise BenchError("unexpected STAT answer %r" % stat[0])
        count, octets = int(m.group(1)), int(m.group(2))
        list_lines = lst[1].split(b"\r\n")[:-1]
        uidl_lines = uidl[1].split(b"\r\n")[:-1]
        if count != expect_count or len(list_lines) != count or len(uidl_lines) != count:
            raise BenchError("STAT says %d, LIST %d lines, UIDL %d lines; %d expected" % (
                count, len(list_lines), len(uidl_lines), expect_count))
        if sum(int(x.split()[1]) for x in list_lines) != octets:
            raise BenchError("LIST sizes do not add up to the STAT total")
        if len(set(x.split()[1] for x in uidl_lines)) != count:
            raise BenchError("UIDL gives duplicate unique-ids")
        return count, octets, uidl[1]
    except BenchError as e:
        raise BenchError("%s session %s: %s (output %s, log %s)" % (server.name, out_path, e, out_path, server.log))


def check_quit(server, out_path, plan):
    with open(out_path, "rb") as f:
        data = f.read()
    try:
        rs = responses(data, plan)
    except BenchError as e:
        raise BenchError("%s: %s (output %s, log %s)" % (server.name, e, out_path, server.log))
    bad = [s for s, _ in rs if not s.startswith(b"+OK")]
    if bad:
        raise BenchError("%s: negative response %r (output %s, log %s)" % (server.name, bad[0][:100], out_path, server.log))
    return rs


def run_session(server, home, in_path, out_path):
    t, rss, status = spawn(server.argv(home), server.env(home), in_path, out_path, server.log)
    if status != 0:
        raise BenchError("%s exited with status %d (output %s, log %s)" % (server.name, status, out_path, server.log))
    return t, rss


# ----------------------------------------------------------------------
# The measurements

def write_input(name, data):
    path = os.path.join(WORK, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def measure_spawn_floor():
    r = Result()
    inp = write_input("empty.in", b"")
    out = os.path.join(WORK, "true.out")
    for _ in range(TINY_RUNS):
        t, rss, _ = spawn(["/bin/true"], {"PATH": PATH_ENV}, inp, out, os.path.join(WORK, "true.log"))
        r.add(t, rss)
    return r


def measure_tiny(servers, copies, pristine):
    res = {}
    homes = {}
    for s in servers:
        homes[s.name] = copies.make(pristine, "tiny-" + s.name)
        inp = write_input("%s-tiny.in" % s.name, s.session(["STAT", "QUIT"]))
        out = os.path.join(WORK, "%s-tiny.out" % s.name)
        run_session(s, homes[s.name], inp, out)    # first session: builds the caches
        res[s.name] = Result()
    stats = {}
    for i in range(TINY_RUNS):
        for s in (servers if i % 2 == 0 else servers[::-1]):
            inp = os.path.join(WORK, "%s-tiny.in" % s.name)
            out = os.path.join(WORK, "%s-tiny.out" % s.name)
            res[s.name].add(*run_session(s, homes[s.name], inp, out))
    for s in servers:
        rs = check_quit(s, os.path.join(WORK, "%s-tiny.out" % s.name), s.plan(["s", "s"]))
        stats[s.name] = rs[-2][0]
    answers = set(stats.values())
    if len(answers) != 1 or not re.fullmatch(rb"\+OK %d \d+" % SETS["tiny"][0], answers.pop()):
        raise BenchError("tiny session: STAT answers differ or are wrong: %r" % stats)
    copies.remove(*homes.values())
    return res


def measure_sessions(servers, copies, pristine, count, rounds, repeats, label):
    """Per round: fresh copies, the first session of each server, then `repeats` repeat sessions on the same copy."""
    first = {s.name: Result() for s in servers}
    repeat = {s.name: Result() for s in servers}
    totals = {}
    for s in servers:
        write_input("%s-list.in" % s.name, s.session(["STAT", "LIST", "UIDL", "QUIT"]))
    for rnd in range(rounds):
        order = servers if rnd % 2 == 0 else servers[::-1]
        homes = {s.name: copies.make(pristine, "%s-%s" % (label, s.name)) for s in servers}
        subprocess.run(["sync", "-f", WORK], check=False)
        for s in order:
            inp = os.path.join(WORK, "%s-list.in" % s.name)
            out = os.path.join(WORK, "%s-%s-first.out" % (s.name, label))
            first[s.name].add(*run_session(s, homes[s.name], inp, out))
            c, o, _ = check_list_session(s, out, count)
            totals.setdefault(s.name, (c, o))
        for k in range(repeats):
            for s in (order if k % 2 == 0 else order[::-1]):
                inp = os.path.join(WORK, "%s-list.in" % s.name)
                out = os.path.join(WORK, "%s-%s-repeat.out" % (s.name, label))
                repeat[s.name].add(*run_session(s, homes[s.name], inp, out))
        for s in servers:
            c, o, uidl = check_list_session(s, os.path.join(WORK, "%s-%s-repeat.out" % (s.name, label)), count)
            if (c, o) != totals[s.name]:
                raise BenchError("%s: STAT changed between sessions on %s" % (s.name, label))
            with open(os.path.join(WORK, "%s-%s-first.out" % (s.name, label)), "rb") as f:
                if rs_uidl(s, f.read()) != uidl:
                    raise BenchError("%s: UIDL changed between the first and a repeat session on %s" % (s.name, label))
        copies.remove(*homes.values())
    if len(set(totals.values())) != 1:
        raise BenchError("%s: the servers' STAT answers differ: %r" % (label, totals))
    return first, repeat, totals


def rs_uidl(server, data):
    return responses(data, server.plan(["s", "m", "m", "s"]))[-2][1]


def sizes_by_uidl(server, out_path):
    """Each UIDL of a login/STAT/LIST/UIDL/QUIT session with its message's LIST size: the same
    messages under the same UIDLs, whatever order each server numbers them in."""
    with open(out_path, "rb") as f:
        lst, uidl = responses(f.read(), server.plan(["s", "m", "m", "s"]))[-3:-1]
    size = dict(x.split() for x in lst[1].split(b"\r\n")[:-1])
    return {u: size[n] for n, u in (x.split() for x in uidl[1].split(b"\r\n")[:-1])}


def measure_migration(importer, others, dovecot, copies, pristine, count):
    """Taking over Dovecot's UIDLs (issue 17): Dovecot serves a copy once, which writes its
    dovecot-uidlist; then, per round, the first and the second session of each server on its own
    fresh copy of that Maildir.  `importer` takes the UIDLs over, and they must be exactly
    Dovecot's, each on a message of the same size (the servers number messages in different
    orders: Dovecot by its UIDs, pop3-handler by delivery time); `others` (the same build with uidl_migrate = no, an earlier build) serve the same
    mailbox as pop3-handler did before."""
    servers = [importer] + others
    write_input("%s-list.in" % dovecot.name, dovecot.session(["STAT", "LIST", "UIDL", "QUIT"]))
    served_home = copies.make(pristine, "migrate-served")
    out = os.path.join(WORK, "dovecot-migrate.out")
    run_session(dovecot, served_home, os.path.join(WORK, "%s-list.in" % dovecot.name), out)
    check_list_session(dovecot, out, count)
    dovecot_sizes = sizes_by_uidl(dovecot, out)
    served = os.path.join(served_home, "Maildir")
    first = {s.name: Result() for s in servers}
    second = {s.name: Result() for s in servers}
    for s in servers:
        write_input("%s-list.in" % s.name, s.session(["STAT", "LIST", "UIDL", "QUIT"]))
    for rnd in range(RUNS):
        for s in (servers if rnd % 2 == 0 else servers[::-1]):
            home = copies.make(served, "migrate-%s" % s.name)
            subprocess.run(["sync", "-f", WORK], check=False)
            inp = os.path.join(WORK, "%s-list.in" % s.name)
            out = os.path.join(WORK, "%s-migrate.out" % s.name)
            first[s.name].add(*run_session(s, home, inp, out))
            check_list_session(s, out, count)
            if s is importer and sizes_by_uidl(s, out) != dovecot_sizes:
                raise BenchError("%s: the UIDLs taken over differ from Dovecot's (%s)" % (s.name, out))
            second[s.name].add(*run_session(s, home, inp, out))
            copies.remove(home)
    copies.remove(served_home)
    return first, second


def measure_retr(servers, copies, pristine, count):
    """RETR of every message in one session, output through a pipe into `cat > file`; beside it cat files | cat > file."""
    res = {s.name: Result() for s in servers}
    homes, sizes = {}, {}
    for s in servers:
        homes[s.name] = copies.make(pristine, "retr-" + s.name)
        inp = write_input("%s-retr.in" % s.name,
                          s.session(["RETR %d" % i for i in range(1, count + 1)] + ["QUIT"]))
        write_input("%s-list-retr.in" % s.name, s.session(["STAT", "LIST", "UIDL", "QUIT"]))
        out = os.path.join(WORK, "%s-retr.out" % s.name)
        run_session(s, homes[s.name], os.path.join(WORK, "%s-list-retr.in" % s.name), out)
        # A first RETR session, untimed: sets the Seen flags (renames), warms the page cache.
        run_session(s, homes[s.name], inp, out)
        rs = check_quit(s, out, s.plan(["m"] * count + ["s"]))
        sizes[s.name] = (os.path.getsize(out), sum(len(b) for _, b in rs if b is not None))
    bodies = [v[1] for v in sizes.values()]
    if len(set(bodies)) != 1:
        raise BenchError("RETR: the servers sent different amounts of message data: %r" % sizes)
    # The floor: the same files (pop3-handler's copy, on the same file
    # system) through a pipe, consumed the same way.
    src = os.path.join(homes[servers[0].name], "Maildir")
    names = []
    for sub in ("cur", "new"):
        names += [os.path.join(sub, n) for n in sorted(os.listdir(os.path.join(src, sub)))]
    if len(names) != count:
        raise BenchError("RETR: %d files in %s, %d expected" % (len(names), src, count))
    floor = Result()
    fin = write_input("empty.in", b"")
    fout = os.path.join(WORK, "cat-retr.out")
    flog = os.path.join(WORK, "cat.log")

    def cat_once():
        t, rss, st = spawn(["cat"] + names, {"PATH": PATH_ENV}, fin, fout, flog, cwd=src)
        if st != 0:
            raise BenchError("cat failed: see %s" % flog)
        return t, rss

    cat_once()
    raw = os.path.getsize(fout)
    for i in range(RUNS):
        for s in (servers if i % 2 == 0 else servers[::-1]):
            out = os.path.join(WORK, "%s-retr.out" % s.name)
            res[s.name].add(*run_session(s, homes[s.name], os.path.join(WORK, "%s-retr.in" % s.name), out))
            if os.path.getsize(out) != sizes[s.name][0]:
                raise BenchError("%s: RETR output size changed between runs (%s)" % (s.name, out))
        floor.add(*cat_once())
    copies.remove(*homes.values())
    return res, floor, raw, bodies[0]


# ----------------------------------------------------------------------
# Report

def ms(t):
    return "%.1f ms" % (t * 1000) if t < 1 else "%.2f s" % t


def spread(r):
    return "%s..%s" % (ms(min(r.times)).split()[0], ms(max(r.times)).replace(" ", ""))


def verdict(ratio, limit):
    return "PASS" if ratio <= limit else "FAIL"


def report_huge(sessions, n, empty_rss, H, D, checks):
    """Issue 21's huge mailbox: first and repeat session beside Dovecot, and the peak RSS of the repeat
    session, ours beside Dovecot's and ours per message above an (almost) empty mailbox's."""
    first, repeat = sessions
    say("")
    say("Huge mailbox, %s messages (peak RSS: the repeat session's; the empty mailbox's: the tiny" % "{:,}".format(n))
    say("session's, 3 messages, %.0f KiB):" % empty_rss)
    per_msg = (repeat[H].m() - empty_rss) * 1024 / n
    rows = []
    for what, key, hv, dv in (("first session", "huge_first", first[H].t(), first[D].t()),
                              ("repeat session", "huge_repeat", repeat[H].t(), repeat[D].t())):
        res = verdict(hv / dv, TARGETS[key])
        checks.append(("%s, %s msgs" % (what, "{:,}".format(n)), res))
        rows.append((what, ms(hv), ms(dv), "%.3f" % (hv / dv), "<= %.1f x Dovecot" % TARGETS[key], res))
    rows.append(("peak RSS", "%.0f KiB" % repeat[H].m(), "%.0f KiB" % repeat[D].m(),
                 "%.3f" % (repeat[H].m() / repeat[D].m()), "(information)", ""))
    res = "PASS" if per_msg <= TARGETS["huge_bytes_per_msg"] else "FAIL"
    checks.append(("peak RSS per message, %s msgs" % "{:,}".format(n), res))
    rows.append(("  above the empty mailbox's", "%.0f B/msg" % per_msg, "", "",
                 "<= %d B/msg" % TARGETS["huge_bytes_per_msg"], res))
    say_table(MEASUREMENT_HEAD, MEASUREMENT_WIDTHS, rows)


def main():
    global HANDLER, SPAWN, WORK
    if len(sys.argv) != 2:
        sys.exit("usage: bench.py POP3_HANDLER_BINARY")
    HANDLER = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0:
        sys.exit("bench.py: run as root (through bench/run)")
    pw = pwd.getpwnam(USER)
    os.makedirs(os.path.join(CACHE, "sets"), exist_ok=True)
    os.chmod(CACHE, 0o755)
    wanted = ["tiny", "small10k", "small50k", "small100k", "large"] + (["small1m"] if LARGE else [])
    say("Maildirs (generated once, cached in %s):" % os.path.join(CACHE, "sets"))
    with open(os.path.join(CACHE, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)        # another bench run may be setting up
        conf = write_config(pw)
        SPAWN = build_spawn()
        pristine = {name: ensure_set(name, pw) for name in wanted}
    WORK = tempfile.mkdtemp(prefix="pop3-bench-work.", dir=WORK_BASE)
    os.chmod(WORK, 0o755)
    for name in wanted:
        say("  %-10s %9s messages  %s" % (name, "{:,}".format(SETS[name][0]), pristine[name]))
    copies = Copies(pw)
    h = Server("pop3-handler", conf)
    d = Server("dovecot")
    d_defaults = Server("dovecot-O")
    no_migration = Server("pop3-handler-no-migration", conf, options=["-o", "uidl_migrate=no"])
    baseline = [Server("pop3-handler-baseline", conf, binary=os.path.abspath(BASELINE))] if BASELINE else []
    both = [h, d]
    load0 = os.getloadavg()
    t_start = time.perf_counter()

    say("measuring (fresh copies in %s; %d runs per figure, medians) ..." % (WORK, RUNS))
    note("process start floor (/bin/true) ...")
    spawn_floor = measure_spawn_floor()
    note("tiny session ...")
    tiny = measure_tiny([h, d, d_defaults], copies, pristine["tiny"])
    note("tiny session through PAM ...")
    pam_ns = PamNamespace(CACHE)
    try:
        file_ns = Server("pop3-handler-file", conf, pam_ns.wrap)
        pam = Server("pop3-handler-pam", conf, pam_ns.wrap, ["-o", "passwd_file=pam"])
        tiny_pam = measure_tiny([file_ns, pam], copies, pristine["tiny"])
    finally:
        pam_ns.close()
    note("50,000 messages: first and repeat sessions ...")
    n50 = SETS["small50k"][0]
    first, repeat, totals = measure_sessions(both + baseline, copies, pristine["small50k"], n50, RUNS, 3, "50k")
    note("100,000 messages: taking over Dovecot's UIDLs ...")
    n100 = SETS["small100k"][0]
    mig_first, mig_second = measure_migration(h, [no_migration] + baseline, d, copies, pristine["small100k"], n100)
    note("RETR of 2,000 messages of 50 KB ...")
    retr, floor, raw, body_octets = measure_retr(both, copies, pristine["large"], SETS["large"][0])
    growth = {n50: (first, repeat)}
    for name in ["small10k", "small100k"] + (["small1m"] if LARGE else []):
        n = SETS[name][0]
        note("growth: %s messages ..." % "{:,}".format(n))
        if n >= 1000000:
            # One program at a time: two copies of a million files at once would crowd the tmpfs.
            gf, gr, t1 = measure_sessions([h], copies, pristine[name], n, 1, RUNS, name)
            df, dr, t2 = measure_sessions([d], copies, pristine[name], n, 1, RUNS, name)
            if t1[h.name] != t2[d.name]:
                raise BenchError("%s: the servers' STAT answers differ: %r %r" % (name, t1, t2))
            gf.update(df)
            gr.update(dr)
        else:
            gf, gr, _ = measure_sessions(both, copies, pristine[name], n, 1, RUNS, name)
        growth[n] = (gf, gr)
    elapsed = time.perf_counter() - t_start
    load1 = os.getloadavg()
    shutil.rmtree(WORK, ignore_errors=True)

    # -- the report
    H, D = h.name, d.name
    rows, checks = [], []

    def compare(what, key, hv, dv, fmt=None):
        fmt = fmt or ms
        ratio = hv / dv
        res = verdict(ratio, TARGETS[key])
        checks.append((what, res))
        rows.append((what, fmt(hv), fmt(dv), "%.3f" % ratio, "<= %.1f x Dovecot" % TARGETS[key], res))

    compare("first session, 50,000 msgs", "first", first[H].t(), first[D].t())
    compare("repeat session, 50,000 msgs", "repeat", repeat[H].t(), repeat[D].t())
    compare("peak RSS, repeat 50,000", "memory", repeat[H].m(), repeat[D].m(), fmt=lambda v: "%.0f KiB" % v)
    # Issue 21 withdrew "tiny <= 0.2 x Dovecot" (privilege separation stays): the tiny session's
    # target is now beside popa3d, in make bench-load (bench/tiny.py).
    rows.append(("tiny session (3 msgs)", ms(tiny[H].t()), ms(tiny[D].t()), "%.3f" % (tiny[H].t() / tiny[D].t()),
                 "(target: bench-load)", ""))
    rows.append(("  (Dovecot -O: no config read)", "", ms(tiny[d_defaults.name].t()),
                 "%.3f" % (tiny[H].t() / tiny[d_defaults.name].t()), "(information)", ""))
    tf, tp = tiny_pam[file_ns.name].t(), tiny_pam[pam.name].t()
    rows.append(("tiny, passwd file (namespace)", ms(tf), "", "", "(information)", ""))
    rows.append(("tiny, PAM pam_unix (namespace)", ms(tp), "", "%.3f" % (tp / tf), "(PAM / file)", ""))
    if baseline:
        B = baseline[0].name
        rows.append(("repeat, 50,000: baseline build", ms(repeat[B].t()), "", "", "(BENCH_BASELINE)", ""))
        ratio = repeat[H].t() / repeat[B].t()
        res = verdict(ratio, TARGETS["baseline"])
        checks.append(("repeat session / baseline build", res))
        rows.append(("  this build / baseline", "%.3f" % ratio, "", "", "<= 1.1 x baseline", res))
    rh, rd, rf = retr[H].t(), retr[D].t(), floor.t()
    rows.append(("RETR all 2,000 x 50 KB", ms(rh), ms(rd), "%.3f" % (rh / rd), "(information)", ""))
    rows.append(("  floor: cat files | cat > file", ms(rf), ms(rf), "", "", ""))
    res = verdict(rh / rf, TARGETS["retr"])
    checks.append(("RETR / cat", res))
    rows.append(("  RETR / cat", "%.3f" % (rh / rf), "%.3f" % (rd / rf), "", "<= 1.3 x cat", res))

    say("")
    say("pop3-handler %s vs Dovecot %s pop3 (Debian dovecot-pop3d); %s, %d cores, Linux %s" % (
        version([HANDLER, "-V"]), version(["/usr/sbin/dovecot", "--version"]).split()[0],
        cpu_model(), os.cpu_count(), platform.release()))
    say("Wall time of whole processes (CLOCK_MONOTONIC from fork to exit, bench/spawn.c), median")
    say("of %d runs (repeat: %d; tiny: %d); peak memory: ru_maxrss of the server process." % (
        RUNS, len(repeat[H].times), TINY_RUNS))
    say("pop3-handler runs as root, as inetd starts it, and logs in with USER/PASS against a")
    say("sha512crypt hash of only 1000 rounds ($6$rounds=1000$...), so the figures show the server,")
    say("not the password hash.  Dovecot runs pre-authenticated (no login at all), as")
    say("  USER=%s %s -o mail_location=maildir:DIR -o mail_uid=%s -o mail_gid=%s" % (USER, DOVECOT, USER, USER))
    say("reading the installed /etc/dovecot configuration (doveconf), UIDL format %08Xu%08Xv.")
    say("The two PAM rows run inside a mount namespace (nsenter) where pam_unix checks the same")
    say("sha512crypt hash in /etc/shadow: the passwd file and passwd_file = pam side by side.")
    say("Both find the whole session waiting in a pipe on stdin (pipelined) and write into a pipe")
    say("read by `cat > file`, like the floor.  Each program runs on its own fresh cp -a copy in")
    say("%s; \"first\" = no UID list / no Dovecot index yet (page cache warm)." % WORK)
    say("Both agree on STAT for the 50,000: %d messages, %d octets." % totals[H])
    say("")
    say_table(MEASUREMENT_HEAD, MEASUREMENT_WIDTHS, rows)
    say("")
    say("ratio = pop3-handler / Dovecot.  RETR sent %.1f MB of message data (files: %.1f MB)." % (
        body_octets / 1e6, raw / 1e6))
    say("Spread, min..max (pop3-handler / Dovecot): first %s / %s; repeat %s / %s;" % (
        spread(first[H]), spread(first[D]), spread(repeat[H]), spread(repeat[D])))
    say("  tiny %s / %s; RETR %s / %s; cat %s." % (
        spread(tiny[H]), spread(tiny[D]), spread(retr[H]), spread(retr[D]), spread(floor)))
    say("Process start floor (/bin/true, same harness): %s, peak RSS %d KiB." % (
        ms(spawn_floor.t()), spawn_floor.m()))
    say("")
    say("How the cost grows (login, STAT, LIST, UIDL, QUIT; first = no caches; us/msg of the repeat):")
    grows = []
    for n in sorted(growth):
        gf, gr = growth[n]
        hr, dr = gr[H].t(), gr[D].t()
        grows.append(("{:,}".format(n), ms(gf[H].t()), ms(hr), "%.2f" % (hr / n * 1e6),
                      ms(gf[D].t()), ms(dr), "%.2f" % (dr / n * 1e6), "%.3f" % (hr / dr)))
    say_table(("messages", "handler first", "handler rep.", "us/msg", "Dovecot first", "Dovecot rep.", "us/msg",
               "ratio"), (10, 13, 13, 7, 13, 13, 7, 6), grows)
    ns = sorted(growth)
    a, b = ns[0], ns[-1]
    for who, label in ((H, "pop3-handler"), (D, "Dovecot")):
        say("Marginal cost, %s to %s messages, %s: repeat %.2f us/msg, first %.2f us/msg." % (
            "{:,}".format(a), "{:,}".format(b), label,
            (growth[b][1][who].t() - growth[a][1][who].t()) / (b - a) * 1e6,
            (growth[b][0][who].t() - growth[a][0][who].t()) / (b - a) * 1e6))
    if LARGE:
        report_huge(growth[SETS["small1m"][0]], SETS["small1m"][0], tiny[H].m(), H, D, checks)
    else:
        say("(1,000,000 messages: BENCH_LARGE=1 make bench; generating it once takes minutes and ~5 GB.)")
    say("")
    say("Taking over Dovecot's UIDLs, %s messages: Dovecot served the Maildir once (its dovecot-uidlist" %
        "{:,}".format(n100))
    say("names them all); then each row's first session (no UID list of ours yet) and the one after it")
    say("(which reads the directories again: the first moved new/ to cur/):")
    nm = no_migration.name
    mrows = []
    for srv, label in [(h, "pop3-handler, taking them over"), (no_migration, "pop3-handler, uidl_migrate = no")] + \
            [(b, "baseline build (BENCH_BASELINE)") for b in baseline]:
        ratio, target, res = "", "", ""
        if srv is h:
            ratio = "%.3f" % (mig_first[h.name].t() / mig_first[nm].t())
            target = "<= 1.5 x no"
            res = verdict(mig_first[h.name].t() / mig_first[nm].t(), TARGETS["migrate"])
            checks.append(("first session taking over Dovecot's UIDLs", res))
        mrows.append((label, ms(mig_first[srv.name].t()), ms(mig_second[srv.name].t()), ratio, target, res))
    say_table(("server", "first", "second", "ratio", "target", "result"), (34, 13, 13, 7, 18, 6), mrows)
    say("Every UIDL taken over was checked equal to Dovecot's own answer, on a message of the same size.")
    say("")
    failed = [w for w, r in checks if r != "PASS"]
    say("Targets: %d of %d met%s." % (len(checks) - len(failed), len(checks),
                                     "" if not failed else "; FAIL: " + "; ".join(failed)))
    busy = max(load0[0], load1[0]) > 1.5
    say("Measuring took %.0f s; load average %.2f at the start, %.2f at the end%s." % (
        elapsed, load0[0], load1[0], " (other work on the machine: if figures look noisy, rerun)" if busy else ""))


def version(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip().split("\n")[0].replace(
            "pop3-handler ", "")
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


if __name__ == "__main__":
    try:
        main()
    except (BenchError, subprocess.CalledProcessError, KeyboardInterrupt) as e:
        # The copies go (they may be large, and in RAM); outputs and logs stay.
        if WORK and os.path.isdir(WORK):
            for entry in os.listdir(WORK):
                if os.path.isdir(os.path.join(WORK, entry)):
                    shutil.rmtree(os.path.join(WORK, entry), ignore_errors=True)
        print("bench: FAILED: %s" % (e if not isinstance(e, KeyboardInterrupt) else "interrupted"),
              file=sys.stderr)
        sys.exit(1)
