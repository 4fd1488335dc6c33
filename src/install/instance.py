#!/usr/bin/python3
"""instance.py: a self-contained postern instance run by s6-svscan, as
`make run`, `make stop` and `make check` use it (./run) and the service
tests do (build/testhome). Python 3, stdlib only.

  instance.py setup HOME BINDIR PORT [SUBPORT SMTPSPORT]
                                       lay out HOME: queue, control, services,
                                       the demo recipient, a self-signed
                                       certificate, the demo login
                                       (idempotent); smtpd on PORT,
                                       submission on SUBPORT and smtps on
                                       SMTPSPORT (free ports if not given)
  instance.py start HOME               start s6-svscan on HOME/service (or
                                       restart the services of a running one),
                                       wait until send is ready and smtpd,
                                       submission and smtps greet
  instance.py stop HOME                stop it; wait until none of its
                                       processes is left
  instance.py demo HOME                send one message by SMTP to
                                       demo@example.test and show its path,
                                       then the demo login and how to submit
"""
import os
import pwd
import re
import secrets
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INSTALL = os.path.join(TOP, "src", "install")
DOMAIN = "example.test"
DEMO_ACCOUNT = "postern-demo"
# aliased to demo: nothing sent to them waits for a week as undeliverable
ADMIN_ALIASES = ("postmaster", "root", "MAILER-DAEMON", "abuse")
SERVICES = ("send", "smtpd", "submission", "smtps", "queue-writer", "tlsd")
# the demo login of submission (CONTRACTS.md): its password in HOME/demo-password
DEMO_LOGIN = "demo@" + DOMAIN
# the quick start's self-signed certificate (tlsd reads tls/default.*)
CERT_DAYS = 825
TICKETKEY_BYTES = 48
PATH = "/usr/bin:/bin:/usr/sbin:/sbin"
# what an instance runs: supervision, ucspi-tcp (the tcpserver mode) and ours
PROGRAMS = {"s6-svscan", "s6-supervise", "s6-setuidgid", "tcpserver", "smtpd-listen", "send-start", "send", "record",
            "clean", "lspawn", "local", "bounce", "cyclog", "smtpd", "queue-inject",
            "rspawn", "remote", "queue-writer", "tlsd", "checkpw"}
START_TIMEOUT = 30
STOP_TIMEOUT = 60
SESSION_GRACE = 10


def say(*words):
    print("instance:", *words, flush=True)


def die(*words):
    print("instance: fatal:", *words, file=sys.stderr, flush=True)
    sys.exit(111)


def users():
    out = {}
    for line in open(os.path.join(TOP, "conf-users")):
        w = line.split()
        if not w:
            break
        out[w[0]] = w[1]
    return out


def account(name):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def owned():
    """root, with every account of conf-users: one account per role"""
    if os.getuid() != 0:
        return False
    u = users()
    return all(account(u[r]) for r in ("queue", "send", "remote", "smtpd", "log", "alias"))


def control_value(home, name, default):
    try:
        with open(os.path.join(home, "control", name)) as f:
            v = f.readline().strip()
    except FileNotFoundError:
        v = ""
    return v or default


def write_if_missing(path, text, mode=0o644):
    if os.path.exists(path):
        return
    with open(path + ".new", "w") as f:
        f.write(text)
    os.chmod(path + ".new", mode)
    os.rename(path + ".new", path)


def ensure_aliases(path, names, target):
    """an aliases line "name target" for each of names the file lacks
    (its other lines kept; the file made if missing)"""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        text = ""
    have = {ln.split()[0].lower() for ln in text.splitlines() if ln.split() and not ln.lstrip().startswith("#")}
    missing = [n for n in names if n.lower() not in have]
    if not missing:
        return
    if text and not text.endswith("\n"):
        text += "\n"
    text += "".join(f"{n} {target}\n" for n in missing)
    with open(path + ".new", "w") as f:
        f.write(text)
    os.chmod(path + ".new", 0o644)
    os.rename(path + ".new", path)


def check_reachable(home):
    """every directory above home must let the accounts through"""
    d = os.path.dirname(home)
    while True:
        if not os.stat(d).st_mode & 0o001:
            die(f"{d} is not searchable by others (mode o+x missing): the postern accounts "
                f"cannot reach {home}; chmod o+x {d} or use a checkout elsewhere")
        if d == "/":
            return
        d = os.path.dirname(d)


def demo_recipient(home):
    """the demo recipient: as root a system account of its own, its home
    under HOME/mail/demo; otherwise the caller. Returns (name, uid, gid, dir)."""
    mail = os.path.join(home, "mail")
    demo = os.path.join(mail, "demo")
    os.makedirs(demo, exist_ok=True)
    os.chmod(mail, 0o755)
    if owned():
        if not account(DEMO_ACCOUNT):
            subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                            "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
                            "--comment", "postern quick-start demo recipient", DEMO_ACCOUNT],
                           check=True)
        pw = account(DEMO_ACCOUNT)
    else:
        pw = pwd.getpwuid(os.getuid())
    os.chown(demo, pw.pw_uid, pw.pw_gid)
    os.chmod(demo, 0o700)
    return pw.pw_name, pw.pw_uid, pw.pw_gid, demo


def free_port(addr="127.0.0.1"):
    with socket.socket() as s:
        s.bind((addr, 0))
        return s.getsockname()[1]


def write_secret(path, data, owner, mode=0o400):
    """data into path (made afresh with mode, never readable by others
    meanwhile, renamed into place), owned by owner (a passwd entry or
    None) when root"""
    tmp = path + ".new"
    if os.path.exists(tmp):
        os.unlink(tmp)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    if owner and os.getuid() == 0:
        os.chown(tmp, owner.pw_uid, owner.pw_gid)
    os.rename(tmp, path)


def tls_files(home):
    """the quick start's TLS: a self-signed certificate for example.test
    (and localhost) in tls/default.crt (0644) and its key in
    tls/default.key (0400, the tls account's: tlsd alone reads it), and
    a session ticket key tls/ticketkey (0400, the tls account's); each
    made only if missing, so make run keeps them"""
    tls = os.path.join(home, "tls")
    crt, key = os.path.join(tls, "default.crt"), os.path.join(tls, "default.key")
    owner = account(users().get("tls", "")) if os.getuid() == 0 else None
    if not (os.path.exists(crt) and os.path.exists(key)):
        tmpc, tmpk = crt + ".new", key + ".new"
        for t in (tmpc, tmpk):
            if os.path.exists(t):
                os.unlink(t)
        old = os.umask(0o077)
        try:
            r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                "ec_paramgen_curve:P-256", "-nodes", "-days", str(CERT_DAYS),
                                "-subj", f"/CN={DOMAIN}",
                                "-addext", f"subjectAltName=DNS:{DOMAIN},DNS:localhost",
                                "-keyout", tmpk, "-out", tmpc], capture_output=True, text=True)
        finally:
            os.umask(old)
        if r.returncode:
            die(f"openssl req could not make the certificate: {r.stderr.strip()}")
        os.chmod(tmpk, 0o400)
        os.chmod(tmpc, 0o644)
        if owner:
            os.chown(tmpk, owner.pw_uid, owner.pw_gid)
            os.chown(tmpc, 0, 0)
        # the key first: smtpd offers TLS once default.crt exists
        os.rename(tmpk, key)
        os.rename(tmpc, crt)
        say(f"{crt}: a self-signed certificate for {DOMAIN} and localhost, {CERT_DAYS} days")
    tk = os.path.join(tls, "ticketkey")
    if not os.path.exists(tk):
        write_secret(tk, secrets.token_bytes(TICKETKEY_BYTES), owner)


def demo_login(home):
    """the submission login demo@example.test with a random password,
    set with bin/auth-passwd (the password on its stdin) and left in
    HOME/demo-password (0600) for people and scripts; only if that file
    is missing"""
    pwfile = os.path.join(home, "demo-password")
    if os.path.exists(pwfile):
        return
    tool = os.path.join(home, "bin", "auth-passwd")
    if not os.access(tool, os.X_OK):
        say(f"no {tool}: no demo login for submission")
        return
    password = secrets.token_urlsafe(18)
    r = subprocess.run([tool, DEMO_LOGIN], input=password + "\n", capture_output=True, text=True,
                       env={"PATH": PATH, "POSTERN_HOME": home})
    if r.returncode:
        die(f"auth-passwd {DEMO_LOGIN}: exit {r.returncode}: {r.stderr.strip()}")
    write_secret(pwfile, (password + "\n").encode(), None, 0o600)
    say(f"submission login {DEMO_LOGIN}, password {password} (in {pwfile})")


def setup(home, bindir, port, subport=None, smtpsport=None):
    home = os.path.abspath(home)
    if os.getuid() == 0:
        check_reachable(home)
    subprocess.run(["sh", os.path.join(INSTALL, "mkhome.sh"), home, os.path.abspath(bindir)],
                   check=True)
    name, uid, gid, demo = demo_recipient(home)
    c = os.path.join(home, "control")
    # the instance's settings; like an install, a file that exists is kept
    write_if_missing(os.path.join(c, "me"), DOMAIN + "\n")
    write_if_missing(os.path.join(c, "locals"), DOMAIN + "\n")
    write_if_missing(os.path.join(c, "rcpthosts"), DOMAIN + "\n")
    write_if_missing(os.path.join(c, "users"), f"demo {name}:{uid}:{gid}:{demo}\n")
    # mail and bounces for these reach a person, demo (CONTRACTS.md);
    # an older instance's aliases get the names it lacks
    ensure_aliases(os.path.join(c, "aliases"), ADMIN_ALIASES, f"demo@{DOMAIN}")
    write_if_missing(os.path.join(c, "smtpdaddress"), "127.0.0.1\n")
    write_if_missing(os.path.join(c, "smtpdport"), f"{port}\n")
    # submission (STARTTLS, then AUTH) and smtps (implicit TLS); a test
    # instance that names no ports gets free ones, kept from then on
    write_if_missing(os.path.join(c, "submissionport"), f"{subport or free_port()}\n")
    write_if_missing(os.path.join(c, "smtpsport"), f"{smtpsport or free_port()}\n")
    # first retry within 60 s: (5 x 1)^2 = 25 s (send(8))
    write_if_missing(os.path.join(c, "retrybase"), "5\n")
    # 127.0.0.1 relays; 127.0.0.2 and up are the outside world
    write_if_missing(os.path.join(c, "tcp.smtp"), '127.0.0.1:allow,RELAYCLIENT=""\n:allow\n')
    subprocess.run(["sh", os.path.join(INSTALL, "control.sh"), home], check=True)
    # before services.sh, which leaves submission and smtps down without it
    tls_files(home)
    subprocess.run(["sh", os.path.join(INSTALL, "services.sh"), home], check=True)
    demo_login(home)
    if owned():
        u = users()
        say(f"{home}: one account per role ({', '.join(f'{r} {u[r]}' for r in ('queue', 'send', 'remote', 'smtpd', 'log'))}); "
            f"demo@{DOMAIN} is {name}")
    else:
        say(f"{home}: not root: every process of the instance runs as {pwd.getpwuid(os.getuid()).pw_name}, "
            f"and so do deliveries to demo@{DOMAIN}")


def scandir(home):
    return os.path.join(home, "service")


def svscan_running(home):
    """s6-svscanctl exits 100 when no s6-svscan reads the scan directory"""
    r = subprocess.run(["s6-svscanctl", "-a", scandir(home)], capture_output=True)
    return r.returncode == 0


def svstat(home, svc):
    """{'up': bool, 'pid': int, 'ready': bool, 'exitcode': int} of a
    supervised service, or None without a supervisor"""
    r = subprocess.run(["s6-svstat", "-o", "up,pid,ready,exitcode", os.path.join(scandir(home), svc)],
                       capture_output=True, text=True)
    if r.returncode:
        return None
    up, pid, ready, code = r.stdout.split()
    return {"up": up == "true", "pid": int(pid), "ready": ready == "true", "exitcode": int(code)}


def wait_for(cond, timeout, step=0.1):
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() > end:
            return v
        time.sleep(step)


# the listeners: service, its port's control file and default
LISTENERS = {"smtpd": ("smtpdport", "25"), "submission": ("submissionport", "587"),
             "smtps": ("smtpsport", "465")}


def smtp_address(home, svc="smtpd"):
    addr = control_value(home, "smtpdaddress", "0.0.0.0")
    if addr in ("0", "0.0.0.0"):
        addr = "127.0.0.1"
    return addr, int(control_value(home, *LISTENERS[svc]))


def greeting(home, svc="smtpd"):
    """the listener's first reply line (smtps: after the TLS handshake),
    or None"""
    try:
        with socket.create_connection(smtp_address(home, svc), timeout=5) as raw:
            s = raw
            if svc == "smtps":
                # the certificate is the instance's self-signed one
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                s = ctx.wrap_socket(raw)
            s.settimeout(5)
            data = b""
            while b"\n" not in data:
                chunk = s.recv(512)
                if not chunk:
                    break
                data += chunk
            return data.split(b"\n")[0].decode(errors="replace").strip() or None
    except (OSError, ssl.SSLError):
        return None


def listeners(home):
    """the listening services that are meant to run (not marked down)"""
    return [s for s in LISTENERS if not os.path.exists(os.path.join(scandir(home), s, "down"))]


def port_free(addr, port):
    """whether a listener could bind addr:port now"""
    with socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as smtpd-listen does
        try:
            s.bind((addr, port))
        except OSError:
            return False
    return True


def start(home):
    home = os.path.abspath(home)
    if not os.path.isdir(scandir(home)):
        die(f"no {scandir(home)}: set the instance up first")
    if svscan_running(home):
        # already up: restart each service, so the programs and settings
        # just installed are the ones running (s6-svc -t: a clean restart)
        say(f"s6-svscan already runs on {scandir(home)}: restarting its services")
        # a service new to this set-up (submission, smtps in an older
        # instance) is supervised once the rescan svscan_running asked for
        # is done
        if not wait_for(lambda: all(svstat(home, s) for s in SERVICES), START_TIMEOUT):
            die(f"s6-svscan did not pick up the new services; see {home}/log/svscan.log")
        old = {}
        for svc in SERVICES:
            for d in (svc, os.path.join(svc, "log")):
                st = svstat(home, d)
                old[d] = st["pid"] if st else 0
                # -u too: a service someone took down comes up again
                subprocess.run(["s6-svc", "-t", "-u", os.path.join(scandir(home), d)], check=True)
        if not wait_for(lambda: all((svstat(home, d) or {}).get("pid") not in (0, p)
                                    for d, p in old.items()), START_TIMEOUT):
            die(f"the services did not restart; see {home}/log/svscan.log")
    else:
        # another instance (another checkout's make run, a system MTA)
        # holding the port would answer our greeting check: refuse instead
        for svc in listeners(home):
            addr, port = smtp_address(home, svc)
            if not port_free(addr, port):
                die(f"{addr}:{port} is already in use by another program; stop it "
                    f"(make stop in the checkout that runs it) or set "
                    f"{home}/control/{LISTENERS[svc][0]}")
        logf = open(os.path.join(home, "log", "svscan.log"), "ab")
        # its own session, no terminal, a clean environment: it outlives make
        subprocess.Popen(["s6-svscan", scandir(home)], stdin=subprocess.DEVNULL, stdout=logf,
                         stderr=subprocess.STDOUT, start_new_session=True, cwd="/",
                         env={"PATH": PATH})
        logf.close()
        if not wait_for(lambda: all(svstat(home, s) for s in SERVICES), START_TIMEOUT):
            die(f"s6-svscan did not start the services; see {home}/log/svscan.log")
    # send's readiness (notification-fd), polled: s6-svwait would leave
    # its s6-ftrigrd helper to init
    if not wait_for(lambda: (svstat(home, "send") or {}).get("ready"), START_TIMEOUT):
        die(f"send is not ready after {START_TIMEOUT} s; see {home}/log/send/current")
    say(f"send is up (pid {svstat(home, 'send')['pid']})")
    # queue-writer's readiness: its socket listens (smtpd falls back to
    # queue-inject without it, but the instance runs the fast path)
    if not wait_for(lambda: (svstat(home, "queue-writer") or {}).get("ready"), START_TIMEOUT):
        die(f"queue-writer is not ready after {START_TIMEOUT} s; see {home}/log/queue-writer/current")
    say(f"queue-writer is up (pid {svstat(home, 'queue-writer')['pid']})")
    # tlsd's socket (smtpd starts an engine itself without it)
    if not wait_for(lambda: os.path.exists(os.path.join(home, "tlsd", "socket")), START_TIMEOUT):
        die(f"tlsd has no socket after {START_TIMEOUT} s; see {home}/log/tlsd/current")
    for svc in listeners(home):
        addr, port = smtp_address(home, svc)
        line = wait_for(lambda: greeting(home, svc), START_TIMEOUT, 0.2)
        if not line or not line.startswith("220"):
            hint = "" if os.path.exists(os.path.join(home, "bin", "smtpd")) else \
                f" ({home}/bin/smtpd is not built yet)"
            die(f"{svc} does not answer on {addr}:{port}{hint}; see {home}/log/{svc}/current")
        say(f"{svc} answers on {addr}:{port}{' (TLS)' if svc == 'smtps' else ''}: {line}")


def instance_pids(home):
    """the processes of the instance: one of its programs, running from
    home/bin or with its working directory in home"""
    home = os.path.realpath(home)
    mine = set()
    p = os.getpid()
    while p > 1:  # never ourselves or our callers
        mine.add(p)
        try:
            with open(f"/proc/{p}/stat") as f:
                p = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            break
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) in mine:
            continue
        try:
            with open(f"/proc/{d}/comm") as f:
                comm = f.read().strip()
            exe = os.readlink(f"/proc/{d}/exe")
            cwd = os.readlink(f"/proc/{d}/cwd")
        except OSError:
            continue
        if comm not in PROGRAMS and os.path.basename(exe) not in PROGRAMS:
            continue
        if exe.startswith(home + "/") or cwd == home or cwd.startswith(home + "/"):
            found.append((int(d), comm))
    return found


def stop(home):
    home = os.path.abspath(home)
    if svscan_running(home):
        # services get SIGTERM, loggers end at end of input: no log lost
        subprocess.run(["s6-svscanctl", "-t", scandir(home)], check=True)
    # an open SMTP session outlives its listener and holds smtpd's log
    # open; after a grace its smtpd is ended (its client has no 250 for
    # what it was sending, so it sends it again later)
    if not wait_for(lambda: not instance_pids(home), SESSION_GRACE, 0.2):
        for p, comm in instance_pids(home):
            if comm == "smtpd":
                try:
                    os.kill(p, signal.SIGTERM)
                except ProcessLookupError:
                    pass
    if not wait_for(lambda: not instance_pids(home), STOP_TIMEOUT, 0.2):
        left = instance_pids(home)
        say(f"still running after {STOP_TIMEOUT} s, sent SIGTERM:",
            " ".join(f"{c}[{p}]" for p, c in left))
        for p, _ in left:
            try:
                os.kill(p, signal.SIGTERM)
            except ProcessLookupError:
                pass
        if not wait_for(lambda: not instance_pids(home), 5, 0.2):
            for p, _ in instance_pids(home):
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            wait_for(lambda: not instance_pids(home), 5, 0.2)
    if instance_pids(home):
        die("processes left:", " ".join(f"{c}[{p}]" for p, c in instance_pids(home)))
    say(f"stopped: no process of {home} is left")


def maildir_files(path):
    out = []
    for sub in ("new", "cur"):
        try:
            out += [os.path.join(path, sub, n) for n in os.listdir(os.path.join(path, sub))]
        except FileNotFoundError:
            pass
    return out


def log_tail(path, since):
    """the lines of a log's current written since offset since"""
    try:
        with open(path, "rb") as f:
            f.seek(since)
            return f.read().decode(errors="replace").splitlines()
    except FileNotFoundError:
        return []


def local_time(lines):
    if not lines:
        return []
    r = subprocess.run(["s6-tai64nlocal"], input="\n".join(lines) + "\n", capture_output=True,
                       text=True)
    return r.stdout.splitlines() if r.returncode == 0 else lines


def demo(home):
    home = os.path.abspath(home)
    maildir = os.path.join(home, "mail", "demo", "Maildir")
    logs = {s: os.path.join(home, "log", s, "current") for s in SERVICES}
    since = {s: os.path.getsize(p) if os.path.exists(p) else 0 for s, p in logs.items()}
    before = set(maildir_files(maildir))
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    msgid = f"<demo.{time.time_ns()}.{os.getpid()}@{DOMAIN}>"
    text = (f"From: you@{DOMAIN}\r\nTo: demo@{DOMAIN}\r\nSubject: hello from make run, {stamp}\r\n"
            f"Message-ID: {msgid}\r\n\r\nThis message went through smtpd, queue-inject, send,\r\n"
            "lspawn and local.\r\n")
    addr, port = smtp_address(home)
    tls = ""
    with smtplib.SMTP(addr, port, timeout=30) as s:
        s.ehlo("quickstart.example.test")
        if s.has_extn("starttls"):
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE  # the instance's self-signed certificate
            s.starttls(context=ctx)
            s.ehlo("quickstart.example.test")
            tls = f" with STARTTLS ({s.sock.version()})"
        refused = s.sendmail(f"you@{DOMAIN}", [f"demo@{DOMAIN}"], text)
    if refused:
        die("smtpd refused", refused)
    say(f"sent one message to demo@{DOMAIN} through smtpd on {addr}:{port}{tls}")
    if not wait_for(lambda: set(maildir_files(maildir)) - before, 30):
        die(f"the message did not land in {maildir} within 30 s; see {logs['send']}")
    landed = sorted(set(maildir_files(maildir)) - before)[0]
    say(f"it landed in {landed}")
    # its queue id ends with the pid queue-inject wrote in its Received line
    with open(landed, "rb") as f:
        head = f.read(8192).decode(errors="replace")
    m = re.search(r"Received: \(postern (\d+) invoked", head)
    qid = None
    lines = log_tail(logs["send"], since["send"])
    if m:
        for ln in lines:
            mm = re.search(r"new msg ([0-9a-f]{16}\." + m.group(1) + r"):", ln)
            if mm:
                qid = mm.group(1)
    wait_for(lambda: qid is None or any(f"end msg {qid}" in ln for ln in log_tail(logs["send"], since["send"])), 10)
    lines = log_tail(logs["send"], since["send"])
    deliveries = set()
    path = []
    for ln in lines:
        if qid and qid in ln:
            path.append(ln)
            d = re.search(r"starting delivery (\d+):", ln)
            if d:
                deliveries.add(d.group(1))
        elif any(re.search(rf"delivery {d}: ", ln) for d in deliveries):
            path.append(ln)
            deliveries.clear()
    print(f"\n{logs['smtpd']} (through s6-tai64nlocal):")
    for ln in local_time(log_tail(logs["smtpd"], since["smtpd"])):
        print("  " + ln)
    print(f"\n{logs['send']}, the lines of message {qid or '?'}:")
    for ln in local_time(path):
        print("  " + ln)
    print(f"\nRead it: cat {landed}")
    submission_help(home)
    print("Stop the instance: make stop\n", flush=True)


def submission_help(home):
    """the demo login and a swaks line that submits with it"""
    pwfile = os.path.join(home, "demo-password")
    try:
        with open(pwfile) as f:
            password = f.readline().strip()
    except OSError:
        say(f"no {pwfile}: no demo login for submission")
        return
    rel = os.path.relpath(pwfile)
    shown = pwfile if rel.startswith("..") else rel
    addr, port = smtp_address(home, "submission")
    saddr, sport = smtp_address(home, "smtps")
    print(f"\nSubmission (mail clients): {addr}:{port} with STARTTLS, {saddr}:{sport} with TLS at once;"
          f"\nlogin {DEMO_LOGIN}, password {password} (in {shown}). Send with:"
          f"\n  swaks --server {addr}:{port} --tls --auth PLAIN --auth-user {DEMO_LOGIN} "
          f"--auth-password \"$(cat {shown})\" --to {DEMO_LOGIN}")


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(100)
    cmd, home = argv[1], argv[2]
    if cmd == "setup" and len(argv) == 5:
        setup(home, argv[3], int(argv[4]))
    elif cmd == "setup" and len(argv) == 7:
        setup(home, argv[3], int(argv[4]), int(argv[5]), int(argv[6]))
    elif cmd == "start" and len(argv) == 3:
        start(home)
    elif cmd == "stop" and len(argv) == 3:
        stop(home)
    elif cmd == "demo" and len(argv) == 3:
        demo(home)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(100)


if __name__ == "__main__":
    main(sys.argv)
