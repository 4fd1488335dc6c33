"""send with its children (record, clean, lspawn, local, bounce) on a
whole test instance: what lands in Maildirs, what bounces, how retries
and lanes behave, what survives kill -9 and SIGTERM."""
import email
import email.policy
import mailbox
import os
import pwd
import re
import subprocess
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

import harness
from harness import Instance, envelope, maildir_count, wait_for


def message(n, subject=None, extra=""):
    subject = subject or f"test {n}"
    return (f"From: sender@example.test\nTo: demo@example.test\nSubject: {subject}\n"
            f"Message-ID: <{n}@example.test>\n{extra}\nbody of {n}\n" + "line\n" * 20).encode()


class SendTest(unittest.TestCase):
    def setUp(self):
        self.inst = Instance()
        self.inst.table("locals", "example.test\n")
        self.demo = self.inst.mailbox_user("demo")
        self.inst.users({"demo": self.demo})
        self.maildir = os.path.join(self.demo[2], "Maildir")

    def tearDown(self):
        self.inst.cleanup()

    def inject_many(self, msgs, rcpt="demo@example.test", sender="sender@example.test"):
        def one(m):
            rc, err = self.inst.inject(m, envelope(sender, [rcpt]))
            self.assertEqual(rc, 0, err)
        with ThreadPoolExecutor(8) as ex:
            list(ex.map(one, msgs))

    def delivered_subjects(self):
        md = mailbox.Maildir(self.maildir, create=False)
        return [m["Subject"] for m in md]

    def assertQueueEmpty(self):
        self.assertTrue(wait_for(lambda: not self.inst.queue_files(), 20), self.inst.queue_files())

    def test_1000_messages_land_intact(self):
        self.inst.start()
        self.inject_many([message(i) for i in range(1000)])
        n = wait_for(lambda: maildir_count(self.maildir) >= 1000, 180)
        self.assertTrue(n, f"{maildir_count(self.maildir)} of 1000 delivered\n" + self.inst.log()[-3000:])
        md = mailbox.Maildir(self.maildir, create=False)
        seen = {}
        for key, m in md.items():
            self.assertEqual(m["Return-Path"], "<sender@example.test>")
            self.assertEqual(m["Delivered-To"], "demo@example.test")
            n = int(m["Subject"].split()[1])
            self.assertEqual(m.get_payload(), f"body of {n}\n" + "line\n" * 20)
            seen[n] = seen.get(n, 0) + 1
            if self.inst.root:
                self.assertEqual(os.stat(os.path.join(self.maildir, md._toc[key])).st_uid, self.demo[0])
        self.assertEqual(sorted(seen), list(range(1000)))
        self.assertEqual(max(seen.values()), 1)
        self.assertQueueEmpty()
        self.assertEqual(len(re.findall(r"^end msg ", self.inst.log(), re.M)), 1000)
        self.assertEqual(self.inst.stop(), 0)

    def test_backlog_found_at_start_is_sorted_without_waiting(self):
        # record sorts 1000 a scan; the rest must not wait for the
        # 60-second rescan (3 scans would take over 2 minutes)
        self.inject_many([message(i) for i in range(2500)])
        self.inst.start()
        self.assertTrue(wait_for(lambda: maildir_count(self.maildir) >= 2500, 50),
                        f"{maildir_count(self.maildir)} of 2500 delivered")

    def test_program_deferral_is_retried_and_succeeds(self):
        flag = os.path.join(self.demo[2], "tried")
        self.inst.write_as(os.path.join(self.demo[2], ".postern-retry"),
                           f"|if [ -e {flag} ]; then exit 0; fi; touch {flag}; echo not yet; exit 111\n",
                           self.demo[0])
        self.inst.start()
        rc, err = self.inst.inject(message(1), envelope("sender@example.test", ["demo-retry@example.test"]))
        self.assertEqual(rc, 0, err)
        ok = wait_for(lambda: re.search(r"delivery \d+: success", self.inst.log()), 30)
        log = self.inst.log()
        self.assertTrue(ok, log)
        self.assertRegex(log, r"delivery \d+: deferral: .*not yet")
        self.assertLess(log.index("deferral"), log.index("success"))
        self.assertQueueEmpty()

    def test_permanent_failure_bounces_a_dsn(self):
        self.inst.write_as(os.path.join(self.demo[2], ".postern-fail"),
                           "|echo 5.2.2 mailbox full; exit 100\n", self.demo[0])
        self.inst.start()
        rc, err = self.inst.inject(message(1, "doomed"),
                                   envelope("demo@example.test", ["demo-fail@example.test"]))
        self.assertEqual(rc, 0, err)
        self.assertTrue(wait_for(lambda: maildir_count(self.maildir) >= 1, 30), self.inst.log())
        md = mailbox.Maildir(self.maildir, create=False)
        dsn = email.message_from_bytes(md.get_bytes(next(iter(md.keys()))), policy=email.policy.default)
        self.assertEqual(dsn.get_content_type(), "multipart/report")
        self.assertEqual(dsn.get_param("report-type"), "delivery-status")
        self.assertEqual(dsn["Return-Path"], "<>")
        parts = list(dsn.iter_parts())
        status = parts[1]
        self.assertEqual(status.get_content_type(), "message/delivery-status")
        text = status.as_string()
        self.assertIn("Final-Recipient: rfc822; demo-fail@example.test", text)
        self.assertIn("Status: 5.2.2", text)
        self.assertIn("Subject: doomed", parts[2].as_string())
        self.assertQueueEmpty()
        self.assertRegex(self.inst.log(), r"bounce msg \S+: done")

    def test_bounce_to_failing_sender_ends_as_double_bounce(self):
        self.inst.control("doublebounceto", "demo@example.test\n")
        self.inst.start()
        rc, err = self.inst.inject(message(1, "to nobody"),
                                   envelope("ghost@example.test", ["no-such-user-here@example.test"]))
        self.assertEqual(rc, 0, err)
        self.assertTrue(wait_for(lambda: maildir_count(self.maildir) >= 1, 30), self.inst.log())
        md = mailbox.Maildir(self.maildir, create=False)
        dsn = email.message_from_bytes(md.get_bytes(next(iter(md.keys()))), policy=email.policy.default)
        self.assertEqual(dsn["Return-Path"], "<#@[]>")
        self.assertIn("Final-Recipient: rfc822; ghost@example.test", dsn.as_string())
        self.assertQueueEmpty()
        self.assertEqual(maildir_count(self.maildir), 1)

    def test_fresh_mail_passes_a_slow_lane_backlog(self):
        self.inst.control("slowafter", "1\n")
        self.inst.control("slowretry", "1\n")
        self.inst.control("concurrencyslow", "2\n")
        self.inst.write_as(os.path.join(self.demo[2], ".postern-dead"), "|exit 111\n", self.demo[0])
        self.inst.start()
        self.inject_many([message(i) for i in range(2000)], rcpt="demo-dead@example.test")
        # every one tried once and now in the slow lane, retried there
        self.assertTrue(wait_for(lambda: len(re.findall(r": deferral: ", self.inst.log())) >= 2000, 180),
                        self.inst.log()[-2000:])
        self.assertTrue(wait_for(lambda: " to local (slow) " in self.inst.log(), 30))
        start = time.monotonic()
        rc, err = self.inst.inject(message(9999, "fresh"), envelope("sender@example.test", ["demo@example.test"]))
        self.assertEqual(rc, 0, err)
        self.assertTrue(wait_for(lambda: maildir_count(self.maildir) >= 1, 10),
                        "fresh mail waited behind the slow lane")
        self.assertLess(time.monotonic() - start, 10)
        self.assertEqual(self.delivered_subjects(), ["fresh"])
        status = re.findall(r"status: local (\d+)/(\d+) slow (\d+)/(\d+)", self.inst.log())
        self.assertTrue(status)
        self.assertTrue(all(int(s[2]) <= 2 for s in status))

    def test_kill9_and_restart_loses_nothing(self):
        n = 5000
        # queued before send starts: delivery keeps pace with injection,
        # so the kill must come while a full queue is being delivered
        self.inject_many([message(i) for i in range(n)])
        self.inst.start()
        wait_for(lambda: maildir_count(self.maildir) >= n // 3, 120)
        self.inst.kill9()
        at_kill = maildir_count(self.maildir)
        self.assertLess(at_kill, n, "the kill came too late to test anything")
        time.sleep(1)
        self.inst.start()
        self.assertTrue(wait_for(lambda: len(set(self.delivered_subjects())) >= n, 300),
                        self.inst.log()[-3000:])
        subjects = self.delivered_subjects()
        self.assertEqual(len(set(subjects)), n)
        # duplicates only for deliveries running or unrecorded at the kill
        self.assertLessEqual(len(subjects) - n, 50)
        self.assertQueueEmpty()

    def test_kill9_lspawn_is_restarted_send_keeps_running(self):
        # send-start restarts lspawn and hands send the new pipes: send
        # keeps its queue in memory and repeats only the deliveries that
        # lspawn had in hand (at most concurrencylocal + concurrencyslow)
        n = 3000
        self.inject_many([message(i) for i in range(n)])
        self.inst.start()
        send = self.inst.send_pid()
        wait_for(lambda: maildir_count(self.maildir) >= n // 3, 120, 0.05)
        lspawn = self.inst.send_pid("lspawn")
        self.inst.kill9("lspawn")
        at_kill = maildir_count(self.maildir)
        self.assertLess(at_kill, n, "the kill came too late to test anything")
        self.assertTrue(wait_for(lambda: len(set(self.delivered_subjects())) >= n, 300),
                        self.inst.log()[-3000:])
        log = self.inst.log()
        self.assertRegex(log, r"send-start: warning: lspawn killed by signal 9: restarting it")
        self.assertRegex(log, r"send: warning: lspawn died: its \d+ deliveries in hand go again")
        self.assertEqual(self.inst.send_pid(), send, "send was restarted")
        self.assertNotIn(self.inst.send_pid("lspawn"), (None, lspawn))
        self.assertEqual(log.count("status: send started"), 1)
        subjects = self.delivered_subjects()
        self.assertEqual(len(set(subjects)), n)
        self.assertLessEqual(len(subjects) - n, 12)
        self.assertQueueEmpty()
        self.assertEqual(self.inst.stop(), 0)

    def test_kill9_record_ends_the_set(self):
        # record holds requests send cannot replay: send exits, and
        # send-start once every child has finished; the service restarts
        self.inst.start()
        self.inst.kill9("record")
        self.assertEqual(self.inst.send.wait(60), 111)
        self.assertIn("send: fatal: record closed its pipe", self.inst.log())
        # send-start waited for them: nothing of the set is left
        self.assertEqual(harness.session_pids(self.inst.send.pid), [])

    def test_sigterm_stops_cleanly_and_restart_finishes(self):
        self.inst.start()
        self.inject_many([message(i) for i in range(300)])
        wait_for(lambda: maildir_count(self.maildir) >= 50, 60)
        self.assertEqual(self.inst.stop(), 0)
        self.assertIn("status: send exiting", self.inst.log())
        self.inst.start()
        self.assertTrue(wait_for(lambda: maildir_count(self.maildir) >= 300, 120))
        self.assertEqual(sorted(self.delivered_subjects()), sorted(f"test {i}" for i in range(300)))
        self.assertQueueEmpty()

    def test_sigalrm_retries_deferred_now(self):
        self.inst.control("retrybase", "1000\n")
        flag = os.path.join(self.demo[2], "tried")
        self.inst.write_as(os.path.join(self.demo[2], ".postern-later"),
                           f"|if [ -e {flag} ]; then exit 0; fi; touch {flag}; exit 111\n", self.demo[0])
        self.inst.start()
        rc, err = self.inst.inject(message(1), envelope("sender@example.test", ["demo-later@example.test"]))
        self.assertEqual(rc, 0, err)
        self.assertTrue(wait_for(lambda: ": deferral: " in self.inst.log(), 30), self.inst.log())
        time.sleep(1)
        self.assertNotIn(": success: ", self.inst.log(), "retried before its time")
        self.inst.send.send_signal(14)  # SIGALRM, as s6-svc -a
        self.assertTrue(wait_for(lambda: ": success: " in self.inst.log(), 10), self.inst.log())
        self.assertIn("status: retrying every deferred recipient now", self.inst.log())

    def test_sighup_rereads_control(self):
        self.inst.start()
        self.assertTrue(wait_for(lambda: "status: local 0/10 " in self.inst.log(), 10), self.inst.log())
        self.inst.control("concurrencylocal", "3\n")
        self.inst.send.send_signal(1)  # SIGHUP, as s6-svc -h
        self.assertTrue(wait_for(lambda: "status: local 0/3 " in self.inst.log(), 10), self.inst.log())

    def test_remote_recipient_goes_to_rspawn_and_is_deferred(self):
        """a remote recipient whose DNS fails is deferred, the local one
        delivered; the message stays queued for the remote one"""
        self.inst.start()
        rc, err = self.inst.inject(message(1), envelope("sender@example.test",
                                                        ["demo@example.test", "someone@elsewhere.test"]))
        self.assertEqual(rc, 0, err)
        self.assertTrue(wait_for(lambda: maildir_count(self.maildir) >= 1, 30))
        self.assertTrue(wait_for(lambda: re.search(r"delivery \d+: deferral: 4\.4\.3 DNS", self.inst.log()), 20),
                        self.inst.log())
        self.assertRegex(self.inst.log(), r"starting delivery \d+: msg \S+ to remote someone@elsewhere.test")
        files = self.inst.queue_files()
        self.assertEqual(len([f for f in files if "/state/" in f]), 1)
        self.assertEqual(len([f for f in files if "/body/" in f]), 1)

    def test_kill9_rspawn_is_restarted_and_remote_mail_goes_on(self):
        self.inst.start()
        send, rspawn = self.inst.send_pid(), self.inst.send_pid("rspawn")
        self.inst.kill9("rspawn")
        self.assertTrue(wait_for(lambda: self.inst.send_pid("rspawn") not in (None, rspawn), 20),
                        self.inst.log())
        rc, err = self.inst.inject(message(1), envelope("sender@example.test", ["someone@elsewhere.test"]))
        self.assertEqual(rc, 0, err)
        self.assertTrue(wait_for(lambda: re.search(r"delivery \d+: deferral: 4\.4\.3 DNS", self.inst.log()), 30),
                        self.inst.log())
        self.assertIn("send-start: warning: rspawn killed by signal 9: restarting it", self.inst.log())
        self.assertEqual(self.inst.send_pid(), send)

    def test_alias_forwards_and_loop_is_bounced(self):
        self.inst.table("aliases", "postmaster demo@example.test\n")
        self.inst.start()
        rc, err = self.inst.inject(message(1, "to postmaster"),
                                   envelope("sender@example.test", ["postmaster@example.test"]))
        self.assertEqual(rc, 0, err)
        self.assertTrue(wait_for(lambda: maildir_count(self.maildir) >= 1, 30), self.inst.log())
        self.assertEqual(self.delivered_subjects(), ["to postmaster"])
        # a message that already went through this recipient is a loop
        looped = message(2, "looped", extra="Delivered-To: demo@example.test\n")
        rc, err = self.inst.inject(looped, envelope("sender@example.test", ["demo@example.test"]))
        self.assertEqual(rc, 0, err)
        self.assertTrue(wait_for(lambda: re.search(r"failure: 5\.4\.6", self.inst.log()), 30), self.inst.log())


@unittest.skipUnless(os.getuid() == 0, "privilege separation needs root")
class PrivilegeTest(unittest.TestCase):
    def setUp(self):
        self.inst = Instance()
        self.inst.table("locals", "example.test\n")
        self.demo = self.inst.mailbox_user("demo")
        self.inst.users({"demo": self.demo, "boss": (0, 0, self.demo[2])})

    def tearDown(self):
        self.inst.cleanup()

    def test_each_process_under_its_account(self):
        self.inst.start()
        time.sleep(1)
        ps = subprocess.run(["ps", "-o", "user:20,args", "--no-headers", "-s", str(self.inst.send.pid)],
                            capture_output=True, text=True).stdout
        users = {}
        for line in ps.splitlines():
            user, args = line.split(None, 1)
            users[os.path.basename(args.split()[0])] = user
        u = harness.users()
        self.assertEqual(users.get("send"), u["send"], ps)
        self.assertEqual(users.get("record"), u["send"], ps)
        self.assertEqual(users.get("clean"), u["queue"], ps)
        self.assertEqual(users.get("lspawn"), "root", ps)
        self.assertEqual(users.get("rspawn"), u["remote"], ps)
        self.assertEqual(users.get("send-start"), "root", ps)
        # send never held root: it is exec'd already under its account,
        # every uid (real, effective, saved, filesystem) its own
        send = self.inst.send_pid()
        with open(f"/proc/{send}/status") as f:
            uids = next(line.split()[1:] for line in f if line.startswith("Uid:"))
        self.assertEqual(set(uids), {str(pwd.getpwnam(u["send"]).pw_uid)})

    def test_lspawn_refuses_root(self):
        self.inst.start()
        rc, err = self.inst.inject(message(1), envelope("sender@example.test", ["boss@example.test"]))
        self.assertEqual(rc, 0, err)
        self.assertTrue(wait_for(lambda: re.search(r"deferral: .*root", self.inst.log()), 30), self.inst.log())

    def test_queue_files_owners(self):
        rc, err = self.inst.inject(message(1), envelope("sender@example.test", ["x@elsewhere.test"]))
        self.assertEqual(rc, 0, err)
        import grp
        import pwd
        u = harness.users()
        body = [f for f in self.inst.queue_files() if "/body/" in f][0]
        st = os.stat(body)
        self.assertEqual(pwd.getpwuid(st.st_uid).pw_name, u["queue"])
        self.assertEqual(grp.getgrgid(st.st_gid).gr_name, u["group"])
        self.assertEqual(st.st_mode & 0o777, 0o640)
        self.inst.start()
        self.assertTrue(wait_for(lambda: [f for f in self.inst.queue_files() if "/state/" in f], 20))
        state = [f for f in self.inst.queue_files() if "/state/" in f][0]
        self.assertEqual(pwd.getpwuid(os.stat(state).st_uid).pw_name, u["send"])


if __name__ == "__main__":
    unittest.main()
