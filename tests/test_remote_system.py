"""Remote delivery on a whole test instance (harness.Instance): send
started, rspawn and remote run by it (as root under the remote account
of conf-users), control/dnsservers at a real dnsmasq (tests/dnsserver.py)
whose MX records lead to aiosmtpd receivers (tests/receiver.py) on
127.x.y.z port 25. The local domain is example.test (the demo Maildir,
where bounces land); the remote test domains are not in locals. What
the receivers get, what the log says, what bounces, what is retried;
and 1,000 messages through smtpd under tcpserver, each delivered once."""
import email
import email.policy
import mailbox
import os
import re
import smtplib
import socket
import subprocess
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

import dnsserver
import harness
import receiver
from dnsserver import DNSServer
from harness import Instance, envelope, maildir_count, wait_for
from receiver import Receiver

SENDER = "demo@example.test"


def message(n, subject=None, to="someone@a.test"):
    subject = subject or f"remote {n}"
    return (f"From: {SENDER}\nTo: {to}\nSubject: {subject}\n"
            f"Message-ID: <{n}.remote@example.test>\n\nbody of {n}\n" + "line\n" * 10).encode()


@unittest.skipUnless(dnsserver.available(), "no /usr/sbin/dnsmasq (package dnsmasq-base)")
@unittest.skipUnless(receiver.can_listen_25(), "an MX is reached on port 25: needs root")
class RemoteSystemCase(unittest.TestCase):
    def setUp(self):
        self.inst = Instance()
        self.addCleanup(self.inst.cleanup)
        self.inst.table("locals", "example.test\n")
        self.demo = self.inst.mailbox_user("demo")
        self.inst.users({"demo": self.demo})
        self.maildir = os.path.join(self.demo[2], "Maildir")
        self.inst.control("me", "postern.test\n")
        self.inst.control("timeoutconnect", "2\n")
        self.inst.control("timeoutremote", "5\n")
        self.inst.control("timeoutdns", "5\n")
        self.dns = DNSServer()
        self.addCleanup(self.dns.cleanup)

    def receivers(self, **per_domain):
        """{domain: Receiver kwargs}: a receiver each, as the domain's MX;
        returns {domain: Receiver}; starts DNS"""
        out = {}
        for domain, kw in per_domain.items():
            domain = domain.replace("_", ".")
            rx = Receiver(name=domain.split(".")[0], **kw).start()
            self.addCleanup(rx.stop)
            self.dns.mx(domain, f"mx.{domain}", 10)
            self.dns.host(f"mx.{domain}", rx.ip)
            out[domain] = rx
        self.dns.start()
        self.dns.write_dnsservers(self.inst)
        return out

    def inject(self, msg, rcpts, sender=SENDER):
        rc, err = self.inst.inject(msg, envelope(sender, rcpts))
        self.assertEqual(rc, 0, err)

    def assertQueueEmpty(self, timeout=20):
        self.assertTrue(wait_for(lambda: not self.inst.queue_files(), timeout),
                        f"{self.inst.queue_files()}\n{self.inst.log()[-3000:]}")

    def log(self):
        return self.inst.log()


class RemoteSystemTest(RemoteSystemCase):
    def test_delivered_by_rspawn_and_remote_under_the_remote_account(self):
        # a slow end of data keeps remote running long enough for ps
        rx = self.receivers(a_test={"data_delay": 2}, b_test={})
        self.inst.start()
        self.inject(message(1), ["x@a.test", "y@a.test", "z@b.test", "demo@example.test"])
        procs = {}

        def seen():
            ps = subprocess.run(["ps", "-o", "user:20,args", "--no-headers", "-s", str(self.inst.send.pid)],
                                capture_output=True, text=True).stdout
            for line in ps.splitlines():
                user, args = line.split(None, 1)
                procs.setdefault(os.path.basename(args.split()[0]), set()).add(user)
            return "remote" in procs and "rspawn" in procs
        self.assertTrue(wait_for(seen, 10, 0.02), f"{procs}\n{self.log()}")
        if self.inst.root:
            u = harness.users()["remote"]
            self.assertEqual(procs["rspawn"], {u}, procs)
            self.assertEqual(procs["remote"], {u}, procs)
        self.assertTrue(rx["a.test"].wait(1, 20) and rx["b.test"].wait(1, 20), self.log())
        self.assertTrue(wait_for(lambda: maildir_count(self.maildir) >= 1, 20), self.log())
        a, b = rx["a.test"].messages, rx["b.test"].messages
        self.assertEqual([(m.sender, m.rcpts) for m in a], [(SENDER, ["x@a.test", "y@a.test"])])
        self.assertEqual([(m.sender, m.rcpts) for m in b], [(SENDER, ["z@b.test"])])
        # the body as queued: queue-inject's Received line, then the message
        data = a[0].data
        self.assertTrue(data.startswith(b"Received: "), data[:200])
        self.assertIn(message(1).replace(b"\n", b"\r\n"), data)
        self.assertEqual(b[0].data, data)
        self.assertEqual(a[0].helo, "postern.test")
        # the receiver has the data before remote's result reaches the log
        wait_for(lambda: len(re.findall(r"delivery \d+: success: mx\.[ab]\.test\[", self.log())) >= 3, 20)
        log = self.log()
        self.assertRegex(log, r"starting delivery \d+: msg \S+ to remote x@a\.test y@a\.test\n")
        self.assertRegex(log, r"starting delivery \d+: msg \S+ to remote z@b\.test\n")
        self.assertEqual(len(re.findall(r"delivery \d+: success: mx\.a\.test\[[0-9.]+\] \(no TLS\) accepted: 250 ", log)), 2, log)
        self.assertEqual(len(re.findall(r"delivery \d+: success: mx\.b\.test\[[0-9.]+\] \(no TLS\) accepted: 250 ", log)), 1, log)
        self.assertQueueEmpty()

    def test_451_recipient_retried_the_other_delivered_at_once(self):
        rx = self.receivers(a_test={"rcpt": {"later@a.test": ["451 4.2.1 try later", None]}})["a.test"]
        self.inst.start()
        self.inject(message(1), ["now@a.test", "later@a.test"])
        self.assertTrue(rx.wait(1, 20), self.log())
        self.assertEqual(rx.messages[0].rcpts, ["now@a.test"])
        self.assertTrue(rx.wait(2, 30), self.log())
        self.assertEqual([m.rcpts for m in rx.messages], [["now@a.test"], ["later@a.test"]])
        self.assertGreater(rx.messages[1].time, rx.messages[0].time)
        log = self.log()
        self.assertRegex(log, r"delivery \d+: deferral: mx\.a\.test\[[0-9.]+\] \(no TLS\) said: 451 4\.2\.1 try later "
                              r"\(in reply to RCPT TO\)")
        # the retry is for the deferred recipient alone
        self.assertRegex(log, r"starting delivery \d+: msg \S+ to remote later@a\.test\n")
        self.assertQueueEmpty()
        time.sleep(1)
        self.assertEqual(len(rx.messages), 2)

    def test_550_bounces_a_dsn_to_the_sender(self):
        rx = self.receivers(a_test={"rcpt": {"nobody@a.test": "550 5.1.1 no such user"}})["a.test"]
        self.inst.start()
        self.inject(message(1, "doomed"), ["nobody@a.test", "fine@a.test"])
        self.assertTrue(wait_for(lambda: maildir_count(self.maildir) >= 1, 30), self.log())
        md = mailbox.Maildir(self.maildir, create=False)
        dsn = email.message_from_bytes(md.get_bytes(next(iter(md.keys()))), policy=email.policy.default)
        self.assertEqual(dsn.get_content_type(), "multipart/report")
        self.assertEqual(dsn.get_param("report-type"), "delivery-status")
        self.assertEqual(dsn["Return-Path"], "<>")
        parts = list(dsn.iter_parts())
        status = parts[1]
        self.assertEqual(status.get_content_type(), "message/delivery-status")
        groups = status.get_payload()
        self.assertEqual([g["Final-Recipient"] for g in groups[1:]], ["rfc822; nobody@a.test"])
        self.assertEqual(groups[1]["Action"], "failed")
        # the server's own enhanced code, and its reply as an smtp diagnostic
        self.assertEqual(groups[1]["Status"], "5.1.1")
        self.assertTrue(groups[1]["Diagnostic-Code"].startswith("smtp;"), groups[1]["Diagnostic-Code"])
        self.assertIn("550 5.1.1 no such user", groups[1]["Diagnostic-Code"])
        self.assertIn("Subject: doomed", parts[2].as_string())
        self.assertEqual([m.rcpts for m in rx.messages], [["fine@a.test"]])
        self.assertRegex(self.log(), r"delivery \d+: failure: mx\.a\.test\[[0-9.]+\] \(no TLS\) said: 550 5\.1\.1 no such user")
        self.assertQueueEmpty()
        self.assertEqual(maildir_count(self.maildir), 1)

    def test_connection_dropped_mid_data_delivered_once_later(self):
        rx = self.receivers(a_test={"drop_data": 1, "drop_after": 100})["a.test"]
        self.inst.start()
        self.inject(message(1), ["x@a.test", "y@a.test"])
        self.assertTrue(rx.wait(1, 30), self.log())
        self.assertEqual(len(rx.dropped), 1)
        self.assertQueueEmpty()
        time.sleep(1.5)
        self.assertEqual([m.rcpts for m in rx.messages], [["x@a.test", "y@a.test"]])
        log = self.log()
        self.assertEqual(len(re.findall(r": deferral: ", log)), 2, log)
        self.assertEqual(len(re.findall(r": success: ", log)), 2, log)

    def test_one_transaction_per_message_and_domain(self):
        rx = self.receivers(a_test={}, b_test={})
        for n in range(5):
            self.inject(message(n), ["a1@a.test", "a2@a.test", "A3@A.test", "b1@b.test"])
        self.inst.start()
        self.assertTrue(rx["a.test"].wait(5, 30) and rx["b.test"].wait(5, 30), self.log())
        self.assertQueueEmpty()
        a, b = rx["a.test"], rx["b.test"]
        self.assertEqual([m.rcpts for m in a.messages], [["a1@a.test", "a2@a.test", "A3@A.test"]] * 5)
        self.assertEqual(sorted(m.header("Message-ID") for m in a.messages),
                         sorted(f"<{n}.remote@example.test>" for n in range(5)))
        self.assertEqual([m.rcpts for m in b.messages], [["b1@b.test"]] * 5)
        # one MAIL each; connections may carry several (test_remote_reuse)
        self.assertLessEqual(a.connections, 5)
        self.assertEqual(a.command_names().count("MAIL"), 5)
        self.assertEqual(len(re.findall(r"to remote a1@a\.test a2@a\.test A3@A\.test\n", self.log())), 5)

    def test_null_mx_and_nxdomain_bounce(self):
        self.dns.null_mx("null.test")
        self.receivers(a_test={})
        self.inst.start()
        self.inject(message(1, "nowhere"), ["x@null.test", "y@nosuch.test"])
        self.assertTrue(wait_for(lambda: maildir_count(self.maildir) >= 1, 30), self.log())
        md = mailbox.Maildir(self.maildir, create=False)
        dsn = email.message_from_bytes(md.get_bytes(next(iter(md.keys()))), policy=email.policy.default)
        groups = list(dsn.iter_parts())[1].get_payload()
        status = {g["Final-Recipient"]: g["Status"] for g in groups[1:]}
        self.assertEqual(status, {"rfc822; x@null.test": "5.1.10", "rfc822; y@nosuch.test": "5.1.2"})
        self.assertQueueEmpty()


class SmtpEndToEndTest(RemoteSystemCase):
    """SMTP in through smtpd under tcpserver (as the smtpd account when
    root), out through send, rspawn and remote"""

    DOMAINS = ("r1.test", "r2.test", "r3.test")
    MESSAGES = 1000
    CLIENTS = 8

    def start_smtpd(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        ids = []
        if self.inst.root:
            import pwd
            pw = pwd.getpwnam(harness.users()["smtpd"])
            ids = ["-u", str(pw.pw_uid), "-g", str(pw.pw_gid)]
        log = open(self.inst.path("smtpd.log"), "ab")
        self.addCleanup(log.close)
        proc = subprocess.Popen(["tcpserver", "-R", "-H", "-l", "0", "-c", "40", "-b", "100", *ids,
                                 "127.0.0.1", str(port), self.inst.path("bin", "smtpd")],
                                env=dict(self.inst.env, RELAYCLIENT=""), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)

        def stop():
            try:
                os.killpg(proc.pid, 15)
            except ProcessLookupError:
                pass
            proc.wait()
        self.addCleanup(stop)

        def greets():
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as c:
                    return c.recv(100).startswith(b"220")
            except OSError:
                return False
        self.assertTrue(wait_for(greets, 10), open(self.inst.path("smtpd.log"), "rb").read())
        return port

    def test_1000_messages_each_delivered_once(self):
        rx = self.receivers(**{d.replace(".", "_"): {} for d in self.DOMAINS})
        self.inst.start()
        port = self.start_smtpd()
        rcpts = [f"{u}@{d}" for d in self.DOMAINS for u in ("alice", "bob")]

        def client(k):
            s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=60)
            try:
                for n in range(k, self.MESSAGES, self.CLIENTS):
                    msg = message(n, to=", ".join(rcpts)).replace(b"\n", b"\r\n")
                    refused = s.sendmail(SENDER, rcpts, msg)
                    self.assertEqual(refused, {})
            finally:
                s.quit()
        with ThreadPoolExecutor(self.CLIENTS) as ex:
            list(ex.map(client, range(self.CLIENTS)))
        ok = wait_for(lambda: all(len(r.messages) >= self.MESSAGES for r in rx.values()), 150, 0.5)
        counts = {d: len(r.messages) for d, r in rx.items()}
        self.assertTrue(ok, f"{counts}\n{self.log()[-3000:]}")
        self.assertQueueEmpty(30)
        time.sleep(1)
        want = {f"<{n}.remote@example.test>" for n in range(self.MESSAGES)}
        for d, r in rx.items():
            with self.subTest(domain=d):
                ids = [m.header("Message-ID") for m in r.messages]
                self.assertEqual(len(ids), self.MESSAGES, "lost or duplicated")
                self.assertEqual(set(ids), want)
                # one job per message and domain: both recipients in one transaction
                self.assertTrue(all(m.rcpts == [f"alice@{d}", f"bob@{d}"] for m in r.messages))
                self.assertTrue(all(m.sender == SENDER for m in r.messages))
        log = self.log()
        self.assertEqual(len(re.findall(r": success: ", log)), self.MESSAGES * len(rcpts))
        self.assertNotIn(": failure: ", log)


if __name__ == "__main__":
    unittest.main()
