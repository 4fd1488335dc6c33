#!/usr/bin/python3
"""Local delivery throughput: inject N messages (4 KiB) into a stopped
instance, start send, time until all N are in the Maildir. Prints
messages/s, CPU ms per message (every process of the run), disk flushes
per message, and from a separate strace'd run the fsync, rename, link
and unlink calls per delivered message. Uses the test instance
home in /var/tmp/postern-bench run by build/bin (run `make bench` first).

    bench/deliver.py [N ...]        default 10000; BENCH_C: injectors (4)
    BENCH_WORKERS: control/localworkers (unset: lspawn's default; 0: one
    local per delivery, as before delivery workers)"""
import os
import re
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import harness  # noqa: E402
from harness import Instance, maildir_count, wait_for  # noqa: E402

LOOP = os.path.join(harness.TOP, "build", "bench", "inject-loop")
CONC = os.environ.get("BENCH_C", "4")


def disk_flushes():
    dev = os.stat(harness.TOP).st_dev
    major, minor = os.major(dev), os.minor(dev)
    for name in os.listdir("/sys/block"):
        try:
            if open(f"/sys/block/{name}/dev").read().strip() == f"{major}:{minor}":
                return int(open(f"/sys/block/{name}/stat").read().split()[15])
        except (OSError, IndexError):
            pass
    return None


BENCH_HOME = os.environ.get("BENCH_HOME", "/var/tmp/postern-bench")


def setup(n):
    inst = Instance(BENCH_HOME, os.path.join(harness.TOP, "build", "bin"))
    inst.table("locals", "example.test\n")
    if os.environ.get("BENCH_WORKERS") is not None:
        inst.control("localworkers", os.environ["BENCH_WORKERS"] + "\n")
    demo = inst.mailbox_user("demo")
    inst.users({"demo": demo})
    md = os.path.join(demo[2], "Maildir")
    p = subprocess.run([LOOP, "-c", CONC, str(n), os.path.join(inst.bin, "queue-inject")],
                       env=inst.env, capture_output=True, text=True)
    if p.returncode:
        sys.exit("inject-loop failed: " + p.stdout + p.stderr)
    return inst, md


def timed(n):
    inst, md = setup(n)
    subprocess.run(["sync"])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    flush0 = disk_flushes()
    t0 = time.monotonic()
    inst.start()
    ok = wait_for(lambda: maildir_count(md) >= n, 3600, step=0.05)
    took = time.monotonic() - t0
    flush1 = disk_flushes()
    inst.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    inst.cleanup()
    if not ok:
        sys.exit(f"only {maildir_count(md)} of {n} delivered")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    flushes = (flush1 - flush0) / n if flush0 is not None else float("nan")
    return n / took, 1000 * cpu / n, flushes


def traced(n):
    inst, md = setup(n)
    log = os.path.join(harness.TOP, "build", "bench-strace.log")
    calls = "fsync,fdatasync,rename,renameat,renameat2,link,linkat,unlink,unlinkat,syncfs"
    inst.logfile = open(inst.logpath, "ab")
    inst.send = subprocess.Popen(["strace", "-f", "-c", "-o", log, "-e", "trace=" + calls,
                                  os.path.join(inst.bin, "send-start")], stdout=inst.logfile,
                                 stderr=subprocess.STDOUT, env=inst.env, start_new_session=True)
    inst.sessions.append(inst.send.pid)
    wait_for(lambda: maildir_count(md) >= n, 3600, step=0.1)
    time.sleep(2)  # let the last removals finish
    # SIGTERM to send-start itself (strace's child): strace would only detach
    os.kill(next(p for p in harness.children(inst.send.pid) if harness.comm(p) == "send-start"), 15)
    inst.send.wait(120)
    inst.send = None
    inst.cleanup()
    counts = {}
    for line in open(log):
        w = line.split()
        if len(w) >= 5 and w[-1] in calls.split(","):
            name = re.sub(r"(at|at2)$", "", w[-1])
            name = "fsync" if name in ("fdatasync", "syncfs") else name
            counts[name] = counts.get(name, 0) + int(w[3])
    return {k: counts.get(k, 0) / n for k in ("fsync", "rename", "link", "unlink")}


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [10000]
    print(f"# local delivery, {os.cpu_count()} CPUs, injected first with {CONC} injectors,"
          f" concurrencylocal 10, uid {os.getuid()},"
          f" localworkers {os.environ.get('BENCH_WORKERS', 'default')}")
    print("| N | msg/s | CPU ms/msg | disk flushes/msg | fsync/msg | rename/msg | link/msg | unlink/msg |")
    print("|---|---|---|---|---|---|---|---|")
    for n in sizes:
        rate, cpu, fl = timed(n)
        print(f"| {n} | {rate:.0f} | {cpu:.2f} | {fl:.2f} |", end="", flush=True)
        sc = traced(min(n, 1000))
        print(f" {sc['fsync']:.2f} | {sc['rename']:.2f} | {sc['link']:.2f} | {sc['unlink']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
