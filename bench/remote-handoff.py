"""remote-handoff.py: what a job handed to a running `remote -w` costs.
Starts one `remote -w` with a SOCK_SEQPACKET socket pair on its fds 0
and 1, as rspawn does, and hands it N jobs one after the other (domain
bench.test, one recipient, the body's descriptor by SCM_RIGHTS), each
answered before the next; prints wall and CPU (the child's user +
system from wait4) per job. Usage:
remote-handoff.py REMOTE HOME PORT N BODYFILE (HOME with control/routes
sending bench.test to the server on PORT; see bench/README.md)."""
import os, resource, socket, subprocess, sys, time, array
remote, home, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
body = sys.argv[5]
env = dict(os.environ, POSTERN_HOME=home)
# one remote -w, n jobs handed over its socket
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
t0 = time.monotonic()
p = subprocess.Popen([remote, "-w"], stdin=b, stdout=b, env=env, pass_fds=())
b.close()
msg = b"bench.test\0bench@bench.test\0rcpt1@bench.test\0"
for i in range(n):
    fd = os.open(body, os.O_RDONLY)
    a.sendmsg([msg], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
    os.close(fd)
    ans = a.recv(200000)
    if not ans.startswith(b"IK"):
        sys.exit(f"answer {ans[:200]!r}")
a.close()
p.wait()
t = time.monotonic() - t0
r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1000 / n
print(f"remote -w, {n} jobs handed one after the other: {t*1000/n:.3f} ms wall, {cpu:.3f} ms CPU per job")
