#!/usr/bin/python3
"""Queues N copies of one message with one envelope by running a
queue-inject N times, C at once: what inject-loop does, for any sender
and recipients (inject-loop's envelope is fixed to demo@example.test).

    bench/queue-many.py [-c conc] [-s size] [-f sender] N queue-inject rcpt [rcpt ...]

The message is size bytes (default 4096): a few header lines, one line
starting with a dot, then 71-byte lines, LF line ends. The environment
is passed on (POSTERN_HOME). Prints "N queued, X.XX s, Y msg/s"; exits
111 at the first failed run, with its exit code and standard error."""
import getopt
import os
import subprocess
import sys
import tempfile
import time


def die(code, text):
    sys.stderr.write("queue-many: fatal: " + text + "\n")
    sys.exit(code)


def message(size, sender, rcpts):
    head = (f"From: {sender}\nTo: {', '.join(rcpts)}\nSubject: remote bench\n"
            "Message-ID: <bench@bench.test>\n\n.a line that starts with a dot\n").encode()
    line = b"x" * 71 + b"\n"
    body = head
    while len(body) + len(line) <= size:
        body += line
    return body


def main():
    try:
        opts, args = getopt.getopt(sys.argv[1:], "c:s:f:")
        o = dict(opts)
        conc = int(o.get("-c", 4))
        size = int(o.get("-s", 4096))
        sender = o.get("-f", "bench@bench.test")
        n = int(args[0])
        prog, rcpts = args[1], args[2:]
        if conc < 1 or n < 1 or not rcpts:
            raise ValueError
    except (getopt.GetoptError, ValueError, IndexError):
        die(100, "usage: queue-many.py [-c conc] [-s size] [-f sender] N queue-inject rcpt ...")
    env = b"F" + sender.encode() + b"\0" + b"".join(b"T" + r.encode() + b"\0" for r in rcpts) + b"\0"
    with tempfile.TemporaryDirectory(prefix="queue-many.") as d:
        mpath, epath = os.path.join(d, "msg"), os.path.join(d, "env")
        with open(mpath, "wb") as f:
            f.write(message(size, sender, rcpts))
        with open(epath, "wb") as f:
            f.write(env)
        running = {}
        started = done = 0
        t0 = time.monotonic()
        while done < n:
            while started < n and len(running) < conc:
                with open(mpath, "rb") as m, open(epath, "rb") as e:
                    p = subprocess.Popen([prog], stdin=m, stdout=e, stderr=subprocess.PIPE)
                running[p.pid] = p
                started += 1
            pid, status = os.wait()
            p = running.pop(pid, None)
            if p is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            p.returncode = code
            if code != 0:
                err = p.stderr.read().decode(errors="replace").strip()
                die(111, f"{prog} exited {code}: {err}")
            p.stderr.close()
            done += 1
        took = time.monotonic() - t0
    print(f"{n} queued, {took:.2f} s, {n / took:.0f} msg/s")


if __name__ == "__main__":
    main()
