#!/usr/bin/python3
"""remote-tls.py: what STARTTLS costs remote per message. Runs remote
(build/bin/remote, or the one given with -r) N times one after the
other (default 200) against aiosmtpd receivers on 127.0.0.1 (the test
receivers of tests/receiver.py) in three set-ups: a server without
STARTTLS (clear text), one with STARTTLS under the default policy may
(encrypted, not verified), and the same under verify (chain and name
checked against a test CA, alone or added to the system's bundle). Prints the CPU (user + system, from each
child's rusage) and wall time per run, and for comparison the cost of
starting the program alone (remote exiting 100 on a usage error).
Another binary given with -b (e.g. remote before STARTTLS was built in)
is measured the same way in clear text, interleaved, to compare. Root
or not; needs openssl, dnsmasq-base and python3-aiosmtpd."""
import argparse
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests"))
import receiver  # noqa: E402
from dnsserver import DNSServer  # noqa: E402
from test_remote_tls import make_ca, make_cert  # noqa: E402

SYSTEM_CA = "/etc/ssl/certs/ca-certificates.crt"
SYSTEM_CA_DIR = "/etc/ssl/certs"
BODY = b"From: a@src.test\nTo: b@d.test\nSubject: bench\n\n" + b"x" * 4000 + b"\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("-r", default=os.path.join(TOP, "build/bin/remote"))
    ap.add_argument("-b", help="another remote binary to compare in clear text")
    ap.add_argument("--rounds", type=int, default=5, help="set-ups taken in turn, n/rounds runs each time")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="postern-bench-tls-")
    dns = None
    servers = []
    try:
        ca = make_ca(tmp, "benchca")
        crt, key = make_cert(tmp, "benchca", "mx.bench.test")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        clear = receiver.Receiver("127.0.0.1", 0, name="clear").start()
        tls = receiver.Receiver("127.0.0.1", 0, name="tls", tls_context=ctx).start()
        servers = [clear, tls]
        home = os.path.join(tmp, "home")
        control = os.path.join(home, "control")
        os.makedirs(control)
        dns = DNSServer()
        dns.host("mx.bench.test", "127.0.0.1")
        dns.start()
        with open(os.path.join(control, "dnsservers"), "w") as f:
            f.write(f"127.0.0.1:{dns.port}\n")
        tc = os.path.join(TOP, "build/bin/table-compile")
        for name, text in (("routes", f"clear.test [mx.bench.test]:{clear.port}\n"
                                      f"may.test [mx.bench.test]:{tls.port}\n"
                                      f"verify.test [mx.bench.test]:{tls.port}\n"),
                           ("tlsroutes", "verify.test verify\n"), ("me", "bench.test\n"),
                           ("tlscafile", ca + "\n")):
            with open(os.path.join(control, name), "w") as f:
                f.write(text)
            if name.endswith("routes"):
                subprocess.run([tc, os.path.join(control, name)], check=True)
        body = os.path.join(tmp, "body")
        with open(body, "wb") as f:
            f.write(BODY)
        env = dict(os.environ, POSTERN_HOME=home)
        null = os.open(os.devnull, os.O_WRONLY)

        def runs(prog, args, n, want):
            cpu = wall = 0.0
            for _ in range(n):
                fd = os.open(body, os.O_RDONLY)
                t0 = time.monotonic()
                pid = os.posix_spawn(prog, [prog] + args, env,
                                     file_actions=[(os.POSIX_SPAWN_DUP2, fd, 0), (os.POSIX_SPAWN_DUP2, null, 1),
                                                   (os.POSIX_SPAWN_DUP2, null, 2)])
                os.close(fd)
                _, st, ru = os.wait4(pid, 0)
                wall += time.monotonic() - t0
                if os.waitstatus_to_exitcode(st) != want:
                    sys.exit(f"remote-tls.py: {prog} {' '.join(args)}: exit status {st}")
                cpu += ru.ru_utime + ru.ru_stime
            return cpu, wall

        # verify against the system's CA bundle with the test CA added:
        # what reading a real bundle costs
        bundle = os.path.join(tmp, "bundle.crt")
        with open(bundle, "wb") as f:
            if os.path.exists(SYSTEM_CA):
                with open(SYSTEM_CA, "rb") as g:
                    f.write(g.read())
            with open(ca, "rb") as g:
                f.write(g.read())
        # and the same as a directory of hashed names (openssl rehash)
        cadir = os.path.join(tmp, "certs")
        os.mkdir(cadir)
        for n in os.listdir(SYSTEM_CA_DIR) if os.path.isdir(SYSTEM_CA_DIR) else ():
            if n.endswith(".pem"):
                os.symlink(os.path.join(SYSTEM_CA_DIR, n), os.path.join(cadir, n))
        shutil.copy(ca, os.path.join(cadir, "benchca.pem"))
        subprocess.run([shutil.which("openssl") or "/usr/bin/openssl", "rehash", cadir], check=True)
        setups = [("start only (exit 100)", a.r, [], 100),
                  ("clear text (no STARTTLS offered)", a.r, ["clear.test", "a@src.test", "b@clear.test"], 0),
                  ("STARTTLS, may (not verified)", a.r, ["may.test", "a@src.test", "b@may.test"], 0),
                  ("STARTTLS, verify (CA file: 1 CA)", a.r, ["verify.test", "a@src.test", "b@verify.test"], 0),
                  ("STARTTLS, verify (CA file: system bundle)", a.r, ["verify.test", "a@src.test", "b@verify.test"], 0),
                  ("STARTTLS, verify (CA file: system directory)", a.r, ["verify.test", "a@src.test", "b@verify.test"], 0)]
        if a.b:
            setups[1:1] = [("other binary: start only", a.b, [], 100),
                           ("other binary: clear text", a.b, ["clear.test", "a@src.test", "b@clear.test"], 0)]
        tot = {s[0]: [0.0, 0.0, 0] for s in setups}
        per = max(1, a.n // a.rounds)
        for _ in range(a.rounds):
            for label, prog, args, want in setups:
                with open(os.path.join(control, "tlscafile"), "w") as f:
                    f.write((bundle if "bundle" in label else cadir if "directory" in label else ca) + "\n")
                c, w = runs(prog, args, per, want)
                t = tot[label]
                t[0] += c
                t[1] += w
                t[2] += per
        print(f"nproc {os.cpu_count()}, load {open('/proc/loadavg').read().split()[0]},"
              f" {per * a.rounds} runs each, interleaved in {a.rounds} rounds, body {len(BODY)} bytes")
        print("| set-up | CPU ms/run | wall ms/run |")
        print("|---|---|---|")
        for label, _, _, _ in setups:
            c, w, n = tot[label]
            print(f"| {label} | {1000 * c / n:.2f} | {1000 * w / n:.2f} |")
        if len(tls.messages) == 0 or any(m.tls is None for m in tls.messages):
            sys.exit("remote-tls.py: the TLS receiver got a message in clear text")
    finally:
        for s in servers:
            s.stop()
        if dns:
            dns.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
