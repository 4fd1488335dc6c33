"""send's destination health (send(8), "Dead destinations"): on a whole
test instance, 50 messages queued to a static route where nothing
listens, or where the server greets with 421, cost one remote run per
retry round (SIGALRM here), stay deferred, and are all delivered once,
none twice, when a server comes up there; a recipient's own 4xx or 5xx
leaves its destination alive."""
import os
import re
import time
import unittest

from harness import Instance, envelope, free_port, maildir_count, wait_for
from receiver import GreetingServer, Receiver

SENDER = "demo@example.test"
N = 50


def message(n, to):
    return (f"From: {SENDER}\nTo: {to}\nSubject: dest {n}\n"
            f"Message-ID: <{n}.dest@example.test>\n\nbody of {n}\n").encode()


class DestTest(unittest.TestCase):
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
        # no retry comes by itself during a test: rounds are SIGALRMs
        self.inst.control("retrybase", "100000\n")
        # nor a probe: a probe comes by SIGALRM only (a slow start-up
        # must not see the backoff pass and probe twice in one round)
        self.inst.control("backoffmin", "600\n")
        self.inst.control("backoffmax", "1200\n")
        self.port = free_port()
        self.inst.table("routes", f"dead.test [127.0.0.1]:{self.port}\ndead2.test [127.0.0.1]:{self.port}\n"
                                  f"live.test [127.0.0.1]:{self.port}\n")
        # domains routed to one host share its health (send(8))
        self.dest = re.escape(f"route [127.0.0.1]:{self.port}")

    def inject(self, n, to):
        rc, err = self.inst.inject(message(n, to), envelope(SENDER, [to]))
        self.assertEqual(rc, 0, err)

    def starts(self, *domains):
        alt = "|".join(re.escape(d) for d in domains)
        return len(re.findall(r"^starting delivery \d+: msg \S+ to remote \S*\s*\S+@(?:" + alt + ")$",
                              self.inst.log(), re.M))

    def count(self, pattern):
        return len(re.findall(pattern, self.inst.log(), re.M))

    def dead_rounds(self, rounds, domains=("dead.test",)):
        """50 queued before send starts: one probe, 49 held; then each
        SIGALRM round one more probe, never one run per message (nor
        per domain, when several are routed to the one dead host)"""
        for i in range(N):
            self.inject(i, f"u{i}@{domains[i % len(domains)]}")
        self.inst.start()
        self.assertTrue(wait_for(lambda: self.count(r"^destination dead: " + self.dest + ": ") == 1, 30),
                        self.inst.log()[-3000:])
        self.assertEqual(self.starts(*domains), 1, self.inst.log()[-3000:])
        for k in range(1, rounds + 1):
            self.inst.send.send_signal(14)
            self.assertTrue(wait_for(lambda: self.count(r"^destination probe failed: " + self.dest + ": ") == k, 30),
                            self.inst.log()[-3000:])
            self.assertEqual(self.starts(*domains), 1 + k, self.inst.log()[-3000:])
            self.assertEqual(self.count(r"^destination probe: " + self.dest + "$"), 1 + k)
        log = self.inst.log()
        self.assertIn(" [no usable host]", log)
        self.assertNotIn("failure", log)
        self.assertEqual(self.count(r"^destination dead: "), 1)
        self.assertEqual(len([f for f in self.inst.queue_files() if "/state/" in f]), N)
        self.assertFalse(os.path.exists(os.path.join(self.maildir, "new")) and maildir_count(self.maildir),
                         "a bounce came back")

    def comes_alive(self, domains=("dead.test",)):
        rx = Receiver(host="127.0.0.1", port=self.port).start()
        self.addCleanup(rx.stop)
        self.inst.send.send_signal(14)
        self.assertTrue(wait_for(lambda: len(rx.messages) >= N and not self.inst.queue_files(), 60),
                        f"{len(rx.messages)} received\n" + self.inst.log()[-3000:])
        ids = sorted(m.header("Message-ID") for m in rx.messages)
        self.assertEqual(ids, sorted(f"<{i}.dest@example.test>" for i in range(N)))
        self.assertEqual(self.count(r"^destination alive: " + self.dest + r": released \d+$"), 1)
        self.assertEqual(self.inst.stop(), 0)
        self.assertEqual(len(rx.messages), N, "a message was delivered twice")

    def test_closed_port_one_run_per_round_then_all_delivered_once(self):
        self.dead_rounds(3)
        self.assertIn("Connection refused [no usable host]", self.inst.log())
        self.comes_alive()

    def test_two_domains_routed_to_one_dead_host_cost_one_run_per_round(self):
        self.dead_rounds(2, ("dead.test", "dead2.test"))
        self.comes_alive()

    def test_421_greeting_one_connection_per_round_then_all_delivered_once(self):
        busy = GreetingServer("421 4.3.2 too busy", host="127.0.0.1", port=self.port).start()
        self.addCleanup(busy.stop)
        self.dead_rounds(2)
        self.assertEqual(busy.connections, 3)
        self.assertIn("421 4.3.2 too busy (in reply to greeting) [no usable host]", self.inst.log())
        busy.stop()
        self.comes_alive()

    def test_held_past_the_queue_lifetime_bounces_without_a_run(self):
        self.inst.control("queuelifetime", "1\n")
        for i in range(3):
            self.inject(i, f"u{i}@dead.test")
        time.sleep(2.5)
        self.inst.start()
        self.assertTrue(wait_for(lambda: not self.inst.queue_files()
                                 and maildir_count(self.maildir) >= 3, 60), self.inst.log()[-3000:])
        log = self.inst.log()
        self.assertEqual(self.starts("dead.test"), 1, log[-3000:])
        self.assertEqual(self.count(r"^expired msg \S+ to u\d@dead\.test: 4\.4\.7 queue lifetime exceeded: "
                                    r"destination dead: 4\.4\.1 connect to "), 2, log[-3000:])
        self.assertEqual(self.count(r"^delivery \d+: failure: 4\.4\.7 "), 1, log[-3000:])
        self.assertEqual(maildir_count(self.maildir), 3)

    def test_recipient_4xx_and_5xx_leave_the_destination_alive(self):
        rx = Receiver(host="127.0.0.1", port=self.port,
                      rcpt={"later@live.test": "451 4.2.1 try later", "gone@live.test": "550 5.1.1 no such user"}).start()
        self.addCleanup(rx.stop)
        self.inst.start()
        self.inject(1, "later@live.test")
        self.inject(2, "gone@live.test")
        self.assertTrue(wait_for(lambda: self.count(r"^delivery \d+: deferral: .*451") == 1
                                 and self.count(r"^delivery \d+: failure: .*550") == 1, 30), self.inst.log()[-3000:])
        for i in range(3, 8):
            self.inject(i, f"ok{i}@live.test")
        self.assertTrue(wait_for(lambda: len(rx.messages) >= 5, 30), self.inst.log()[-3000:])
        log = self.inst.log()
        self.assertNotIn("destination dead", log)
        self.assertNotIn("[no usable host]", log)
        self.assertEqual(self.starts("live.test"), 7)


if __name__ == "__main__":
    unittest.main()
