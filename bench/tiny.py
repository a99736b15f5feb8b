#!/usr/bin/env python3
"""The tiny session beside popa3d (issue 21), run by bench/load-run after bench/load.py.

Usage (as root): tiny.py HANDLER_BINARY

popa3d is the server of pop3-handler's design (inetd, a privilege-separation
fork, PAM).  The target: (ours - /bin/true) <= 0.6 x (popa3d - /bin/true)
for a tiny session (USER/PASS, STAT, QUIT on 3 messages), both logging in
against the same sha512crypt (rounds=5000) hashes, both under xinetd, with
/bin/true under the same xinetd as the floor; CPU per session (cgroup v2,
as bench/load.py counts it) and median wall time, one client.

Debian's popa3d conflicts with dovecot-pop3d, so it is not installed: the
package is fetched with apt-get download and unpacked (dpkg -x) into
BENCH_DIR/load/popa3d.  It needs its user popa3d, an empty /var/lib/popa3d,
the PAM service popa3d and mboxes in /var/mail; all of that, the test users
with their /etc/shadow hashes and the PAM files, exists only in a private
mount namespace (overlays on /etc and /var/lib, a directory of the
benchmark's bound on /var/mail): the machine's files are never changed.
pop3-handler runs there twice: with its passwd file (as bench/load.py runs
it) and with passwd_file = pam (pam_unix, as popa3d).

Environment: BENCH_DIR, BENCH_WORK as for bench/load.py; LOAD_TINY_SECONDS
(default 5) per server.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import load  # noqa: E402  (the benchmark's servers, cgroups and driver)
from bench import MountNamespace  # noqa: E402  (bench/bench.py, make bench's)

SECONDS = float(os.environ.get("LOAD_TINY_SECONDS", "5"))
POPA3D_DIR = os.path.join(load.CACHE, "popa3d")
POPA3D = os.path.join(POPA3D_DIR, "usr", "sbin", "popa3d")
USERS = [("tiny%d" % i, "tiny-%d-secret" % i, 20900 + i) for i in range(1, 5)]
TARGET = 0.6
PAM_FILE = b"auth required pam_unix.so nodelay\naccount required pam_unix.so\n"


class Skip(Exception):
    pass


def ensure_popa3d():
    """Debian's popa3d, unpacked once into the cache (its maintainer scripts are not run)."""
    if os.access(POPA3D, os.X_OK):
        return
    work = tempfile.mkdtemp(prefix="popa3d-deb.")
    try:
        get = ["apt-get", "download", "popa3d"]
        if subprocess.run(get, cwd=work, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True)
            if subprocess.run(get, cwd=work, capture_output=True).returncode != 0:
                raise Skip("apt-get download popa3d failed")
        partial = POPA3D_DIR + ".partial"
        shutil.rmtree(partial, ignore_errors=True)
        debs = [f for f in os.listdir(work) if f.endswith(".deb")]
        subprocess.run(["dpkg", "-x", os.path.join(work, debs[0]), partial], check=True)
        os.rename(partial, POPA3D_DIR)
    finally:
        shutil.rmtree(work, ignore_errors=True)


class Namespace(MountNamespace):
    """The namespace popa3d runs in: /etc and /var/lib overlays whose upper layers are in the
    benchmark's directory, and a directory of its own on /var/mail."""

    def __init__(self, work):
        super().__init__()
        try:
            for lower in ("/etc", "/var/lib"):
                self.overlay(lower, os.path.join(work, "overlay" + lower.replace("/", "-")))
            self.mail = os.path.join(work, "mail")
            os.mkdir(self.mail)
            os.chmod(self.mail, 0o2775)
            self.run(["mount", "--bind", self.mail, "/var/mail"])
        except BaseException:
            self.close()
            raise


class NsXinetd(load.Server):
    """xinetd inside the namespace (nsenter execs it: the PID stays the launcher's) running server_argv."""

    SESSION_COMMS = ("pop3-handler", "popa3d", "true")

    def __init__(self, name, label, ns, server_argv):
        super().__init__(name, label)
        self.ns, self.server_argv = ns, server_argv

    def argv(self):
        return self.ns.wrap(load.xinetd_argv(self.dir, self.port, self.server_argv))

    def logs(self):
        return load.xinetd_logs(self.dir)


def make_accounts(ns, work, crypt):
    """The users in the namespace's /etc (passwd, group, shadow), a 3-message Maildir and the same
    messages as an mbox each; popa3d's user and chroot; the PAM services; our passwd file."""
    ns.run(["useradd", "--system", "-M", "-U", "-d", "/var/lib/popa3d", "-s", "/usr/sbin/nologin", "popa3d"])
    ns.run(["install", "-d", "-m", "755", "-o", "root", "-g", "root", "/var/lib/popa3d"])
    for service in ("popa3d", "pop3-handler"):
        ns.run(["tee", "/etc/pam.d/" + service], PAM_FILE)
    lines = []
    for name, password, uid in USERS:
        hashed = crypt.crypt(password, crypt.setting("sha512crypt", name))
        home = os.path.join(work, "homes", name)
        ns.run(["groupadd", "-g", str(uid), name])
        ns.run(["useradd", "-M", "-u", str(uid), "-g", str(uid), "-d", home, "-s", "/usr/sbin/nologin",
                "-p", hashed, name])
        subprocess.run([sys.executable, os.path.join(load.HERE, "genmaildir.py"), os.path.join(home, "Maildir"),
                        "3", "2048", "3"], check=True)
        write_mbox(os.path.join(home, "Maildir"), os.path.join(ns.mail, name))
        subprocess.run(["chown", "-R", "%d:%d" % (uid, uid), home, os.path.join(ns.mail, name)], check=True)
        os.chmod(home, 0o700)
        lines.append("%s:%s:%d:%d::%s:/usr/sbin/nologin\n" % (name, hashed, uid, uid, home))
    load.write_file(os.path.join(work, "passwd"), "".join(lines), 0o600)
    return hashed


def write_mbox(maildir, path):
    """The Maildir's messages in delivery order as an mbox (From_ lines quoted)."""
    names = []
    for sub in ("cur", "new"):
        names += [(n.split(".")[0], os.path.join(maildir, sub, n)) for n in os.listdir(os.path.join(maildir, sub))]
    with open(path, "wb") as out:
        for _, p in sorted(names):
            with open(p, "rb") as f:
                body = f.read()
            out.write(b"From sender@example.org Tue Nov 14 00:00:00 2023\n")
            out.write(b"".join(b">" + x if x.startswith(b"From ") else x for x in body.splitlines(True)))
            out.write(b"\n")
    os.chmod(path, 0o600)


def measure(driver, server, mode):
    """One client for SECONDS after untimed sessions: (CPU per session, median wall time, sessions, errors,
    samples of them, the share of the machine other work used)."""
    server.start()
    try:
        users = [list(u) for u in USERS]
        driver.run(server, driver.job(server, mode, 1, users, seconds=0.5))
        r = driver.run(server, driver.job(server, mode, 1, users, seconds=SECONDS))
        troubles = server.log_troubles()
    finally:
        server.stop()
    if not r["ok"]:
        raise load.BenchError("%s: no session completed (%r %s)" % (server.label, r["errors"], r["samples"]))
    return (r["server_cpu"] / r["ok"], load.percentile(sorted(r["latencies"]), 0.5) / 1e3, r["ok"],
            sum(r["errors"].values()) + len(troubles), r["samples"] + troubles[:2], r["others"])


def report(results, true_key, ours, popa3d):
    say = load.say
    say("")
    say("Tiny session beside popa3d (USER/PASS, STAT, QUIT on 3 messages of ~2 KB; sha512crypt rounds=5000;")
    say("one client; every server under xinetd in a private mount namespace; CPU per session from its cgroup):")
    rows = []
    for label, (cpu, wall, n, bad, samples, others) in results.items():
        rows.append((label, n, load.ms(cpu), load.ms(wall), bad or "0", "%.0f%%" % (100 * others)))
    load.table(("server", "sessions", "CPU ms/sess", "p50 ms", "errors", "others"), (40, 8, 11, 8, 6, 6), rows)
    checks = []
    for label, (cpu, wall, n, bad, samples, others) in results.items():
        for s in samples[:2]:
            say("  %s: %s" % (label, s))
    t, p = results[true_key], results[popa3d]
    say("")
    for key in ours:
        o = results[key]
        for what, i in (("CPU", 0), ("wall time", 1)):
            ratio = (o[i] - t[i]) / (p[i] - t[i])
            checks.append(ratio <= TARGET)
            say("  (%s - /bin/true) / (popa3d - /bin/true), %-9s %.2f  target <= %.1f  %s" % (
                key, what + ":", ratio, TARGET, load.verdict(ratio <= TARGET)))
    say("Tiny targets: %d of %d met.%s" % (sum(checks), len(checks), "  Other work used over 10% of the machine"
                                          " meanwhile: rerun on a quiet machine." if max(r[5] for r in results.values())
                                          > 0.10 else ""))


def main():
    if len(sys.argv) != 2:
        raise load.BenchError("usage: tiny.py POP3_HANDLER_BINARY")
    binary = os.path.abspath(sys.argv[1])
    try:
        ensure_popa3d()
    except Skip as e:
        load.say("\nTiny session beside popa3d: not measured (%s)." % e)
        return
    load.CGROUP_ROOT = load.cgroup2_root()
    load.WORK = tempfile.mkdtemp(prefix="pop3-tiny.", dir=load.WORK_BASE)
    os.chmod(load.WORK, 0o755)
    ns = None
    try:
        ns = Namespace(load.WORK)
        make_accounts(ns, load.WORK, load.Crypt())
        conf_file = os.path.join(load.WORK, "file.conf")
        conf_pam = os.path.join(load.WORK, "pam.conf")
        common = "maildir = %h/Maildir\nplaintext_auth = yes\n"
        load.write_file(conf_file, "passwd_file = %s\n" % os.path.join(load.WORK, "passwd") + common, 0o644)
        load.write_file(conf_pam, "passwd_file = pam\npam_service = pop3-handler\n" + common, 0o644)
        servers = [("/bin/true", "true", ["/bin/true"], "floor"),
                   ("pop3-handler, passwd file", "file", [binary, "-c", conf_file], "tiny"),
                   ("pop3-handler, passwd_file = pam", "pam", [binary, "-c", conf_pam], "tiny"),
                   ("popa3d (Debian 1.0.3, PAM)", "popa3d", [POPA3D], "tiny")]
        driver = load.Driver()
        results = {}
        for label, name, argv, mode in servers:
            results[label] = measure(driver, NsXinetd(name, label, ns, argv), mode)
        report(results, servers[0][0], [servers[1][0], servers[2][0]], servers[3][0])
    finally:
        if ns:
            ns.close()
        shutil.rmtree(load.WORK, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except (load.BenchError, subprocess.CalledProcessError, KeyboardInterrupt) as e:
        print("bench-load (tiny): FAILED: %s" % (e if not isinstance(e, KeyboardInterrupt) else "interrupted"),
              file=sys.stderr)
        sys.exit(1)
