"""smtpd's bad input: SMTP smuggling (only CR LF . CR LF ends DATA),
bare CR and LF, NUL, long lines, dot-unstuffing, 8-bit."""
import unittest

from test_smtpd import SmtpdCase, stored

ENVELOPE = b"EHLO client.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n"
SMUGGLED = (b"MAIL FROM:<ceo@example.test>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n"
            b"From: ceo@example.test\r\nSubject: smuggled\r\n\r\nsend money\r\n")

# the published end-of-data look-alikes (SEC Consult 2023 and later
# write-ups): none of them ends DATA
SEQUENCES = [
    b"\n.\n", b"\n.\r\n", b"\r\n.\n", b"\r.\r", b"\r.\r\n", b"\r\n.\r", b"\n.\r",
    b"\r.\n", b"\n..\n", b"\r\n\x00.\r\n", b"\r\n.\x00\r\n", b"\n.\r\r\n", b"\r\n.\r\r\n",
]


class SmugglingTest(SmtpdCase):
    def session(self, data):
        """one transaction: envelope, then data as the message; returns
        the replies after 354, up to QUIT's"""
        r = self.srv.raw()
        try:
            self.assertEqual(r.reply()[0], 220)
            r.send(ENVELOPE)
            self.assertEqual(r.codes(4), [250, 250, 250, 354])
            r.send(data + b"QUIT\r\n")
            out = []
            while True:
                code, text = r.reply()
                if code is None:
                    return out
                out.append((code, text))
                if code == 221:
                    return out
        finally:
            r.close()

    def test_each_sequence_queues_nothing_and_smuggles_nothing(self):
        """bare LF is taken as a line end but never ends DATA; bare CR and
        NUL refuse the message: either way the smuggled transaction is
        at most text of the first message"""
        for seq in SEQUENCES:
            with self.subTest(seq=seq):
                before = len(self.srv.queued())
                body = b"Subject: first\r\n\r\nhello" + seq + SMUGGLED + b".\r\n"
                replies = self.session(body)
                self.assertEqual(replies[-1][0], 221)
                self.assertEqual(len(replies), 2, "no command was read from inside the message")
                if b"\r" in seq.replace(b"\r\n", b"") or b"\x00" in seq:
                    self.assertEqual(replies[0][0], 554, replies)
                    self.assertTrue(replies[0][1][0].startswith("5.6.0 "), replies)
                    self.assertEqual(len(self.srv.queued()), before)
                else:
                    self.assertEqual(replies[0][0], 250, replies)
                    self.assertEqual(len(self.srv.queued()), before + 1)
        for sender, rcpts, body in self.srv.queued():
            self.assertEqual((sender, rcpts), (b"a@client.test", [b"demo@example.test"]))
            self.assertIn(b"\nsend money\n", stored(body), "the smuggled lines are text of the message")
        self.assertNotIn("ceo@example.test", self.srv.logtext().replace("from <a@client.test>", ""))
        self.assertEqual(len(self.srv.queued()), 4, "LF . LF, LF . CR LF, CR LF . LF, LF .. LF")

    def test_lf_dot_lf_is_text_unstuffed(self):
        """a "." line ended or preceded by a bare LF is no end: it is kept
        as an empty line, its dot removed as any leading dot is"""
        replies = self.session(b"Subject: x\r\n\r\na\n.\nb\r\n.\nc\n.\r\nd\n..\ne\r\n.\r\n")
        self.assertEqual(replies[0][0], 250)
        (_, _, body), = self.assertQueued(1)
        self.assertEqual(stored(body), b"Subject: x\n\na\n\nb\n\nc\n\nd\n.\ne\n")

    def test_the_real_end_does_end_data(self):
        """the control: with a real CR LF . CR LF the second transaction is
        pipelined commands, and both are queued, so counting works"""
        replies = self.session(b"Subject: first\r\n\r\nhello\r\n.\r\n" + SMUGGLED + b".\r\n")
        self.assertEqual([c for c, _ in replies], [250, 250, 250, 354, 250, 221])
        q = self.assertQueued(2)
        self.assertEqual(sorted(s for s, _, _ in q), [b"a@client.test", b"ceo@example.test"])

    def test_bare_lf_in_data_is_a_line_end(self):
        replies = self.session(b"Subject: x\nX-Two: y\r\n\nbody one\nbody two\r\nthree\n\r\n.\r\n")
        self.assertEqual(replies[0][0], 250, replies)
        (_, _, body), = self.assertQueued(1)
        self.assertEqual(stored(body), b"Subject: x\nX-Two: y\n\nbody one\nbody two\nthree\n\n")

    def test_bare_cr_in_data_rejects_the_message_whole(self):
        for body in (b"Subject: x\r\n\r\none\rtwo\r\n.\r\n", b"Subject: x\r\n\r\nbody\r\r\n.\r\n",
                     b"Subject: x\r\n\r\nbody\r\n.\r\r\n.\r\n"):
            with self.subTest(body=body):
                replies = self.session(body)
                self.assertEqual(replies[0], (554, ["5.6.0 bare CR not allowed"]))
        self.assertQueued(0)
        self.assertEqual(self.srv.home.files("body"), {})
        log = self.srv.logtext()
        self.assertRegex(log, r"reject pid \d+ from <a@client\.test> rcpts 1 bytes \d+: bare CR")
        # the refusal is smtpd's to tell: queue-inject, stopped, says nothing
        self.assertNotIn("queue-inject", log)
        self.assertNotIn("envelope format error", log)

    def test_nul_in_data_rejects_the_message(self):
        replies = self.session(b"Subject: x\r\n\r\nnul\x00here\r\n.\r\n")
        self.assertEqual(replies[0], (554, ["5.6.0 NUL characters not allowed"]))
        self.assertQueued(0)

    def test_long_lines_are_taken_up_to_64k(self):
        """swaks' To: for 50 recipients is 1,200 bytes: taken, as are
        lines up to 65536 bytes; a longer one refuses the message"""
        to = b"To: " + b", ".join(b"user%02d@example.test" % i for i in range(50))
        self.assertGreater(len(to), 1000)
        top = b"x" * 65536
        replies = self.session(b"Subject: x\r\n" + to + b"\r\n\r\n" + top + b"\r\n." + top[1:] + b"\r\n.\r\n")
        self.assertEqual(replies[0][0], 250)
        (_, _, body), = self.assertQueued(1)
        self.assertEqual(stored(body), b"Subject: x\n" + to + b"\n\n" + top + b"\n" + top[1:] + b"\n")
        replies = self.session(b"Subject: x\r\n\r\n" + top + b"y\r\nmore\r\n.\r\n")
        self.assertEqual(replies[0], (554, ["5.6.0 line longer than 65536 bytes"]))
        self.assertQueued(1)
        log = self.srv.logtext()
        self.assertRegex(log, r"reject pid \d+ from <a@client\.test> rcpts 1 bytes \d+: line too long")
        self.assertNotIn("queue-inject", log)

    def test_dot_unstuffing(self):
        data = b"Subject: dots\r\n\r\n..\r\n...x\r\n.y\r\n. \r\nend.\r\n.\r\n"
        self.assertEqual(self.session(data)[0][0], 250)
        (_, _, body), = self.assertQueued(1)
        self.assertEqual(stored(body), b"Subject: dots\n\n.\n..x\ny\n \nend.\n")

    def test_empty_message(self):
        self.assertEqual(self.session(b".\r\n")[0][0], 250)
        (_, _, body), = self.assertQueued(1)
        self.assertEqual(stored(body), b"")

    def test_eight_bit_headers_and_body_kept(self):
        data = "Subject: caf\u00e9 \u00fcber\r\nX-Latin1: ".encode() + b"\xe9\xff\r\n\r\n\x80\x81\r\n.\r\n"
        self.assertEqual(self.session(data)[0][0], 250)
        (_, _, body), = self.assertQueued(1)
        self.assertEqual(stored(body), "Subject: caf\u00e9 \u00fcber\nX-Latin1: ".encode() + b"\xe9\xff\n\n\x80\x81\n")

    def test_large_message_streams_intact(self):
        lines = [b"line %06d " % i + b"y" * 60 for i in range(30000)]
        data = b"Subject: big\r\n\r\n" + b"\r\n".join(lines) + b"\r\n.\r\n"
        self.assertEqual(self.session(data)[0][0], 250)
        (_, _, body), = self.assertQueued(1)
        self.assertEqual(stored(body), b"Subject: big\n\n" + b"\n".join(lines) + b"\n")


class RefusalLogTest(SmtpdCase):
    """a normal refusal is told once, by smtpd: the queue-inject it
    stopped writes no warning (issue 15 item 12)"""

    def quiet(self, want):
        import harness
        self.assertTrue(harness.wait_for(lambda: want in self.srv.logtext(), 10), self.srv.logtext())
        log = self.srv.logtext()
        self.assertNotIn("envelope format error", log)
        self.assertNotIn("queue-inject:", log)
        # no warning but smtpd's note that this home has no recipients table
        self.assertEqual([x for x in log.splitlines() if "warning" in x and "recipients.cdb" not in x], [])
        self.assertNotIn("envelope format", log)
        self.assertTrue(harness.wait_for(lambda: not self.srv.home.files("body"), 10))
        self.assertQueued(0)

    def test_bare_cr(self):
        self.assertEqual(SmugglingTest.session(self, b"Subject: x\r\n\r\na\rb\r\n.\r\n")[0][0], 554)
        self.quiet("rcpts 1 bytes ")
        self.assertRegex(self.srv.logtext(), r"reject pid \d+ .*: bare CR\n")

    def test_long_line(self):
        self.assertEqual(SmugglingTest.session(self, b"Subject: x\r\n\r\n" + b"x" * 70000 + b"\r\n.\r\n")[0][0], 554)
        self.quiet("rcpts 1 bytes ")
        self.assertRegex(self.srv.logtext(), r"reject pid \d+ .*: line too long\n")

    def test_client_gone_in_data(self):
        r = self.srv.raw()
        r.reply()
        r.send(ENVELOPE)
        self.assertEqual(r.codes(4), [250, 250, 250, 354])
        r.send(b"Subject: cut\r\n\r\nhalf a mess")
        r.close()
        self.quiet("client gone in DATA")
        self.assertRegex(self.srv.logtext(), r"end pid \d+: client gone in DATA\n")


class CommandLineTest(SmtpdCase):
    def test_bare_cr_in_a_command_is_500(self):
        r = self.srv.raw()
        self.addCleanup(r.close)
        r.reply()
        # LF ends a command line as CR LF does; a CR elsewhere spoils it
        r.send(b"NOOP\nNOOP\r\nNO\rOP\r\nNOOP\r\r\nEHLO client.test\n")
        replies = r.replies(5)
        self.assertEqual([c for c, _ in replies], [250, 250, 500, 500, 250])
        self.assertEqual(replies[2], (500, ["5.5.2 bare CR not allowed, lines end with CR LF"]))

    def test_bare_cr_cannot_smuggle_a_command(self):
        r = self.srv.raw()
        self.addCleanup(r.close)
        r.reply()
        r.send(b"EHLO client.test\r\nMAIL FROM:<a@client.test>\rRCPT TO:<x@other.test>\r\n")
        self.assertEqual(r.codes(2), [250, 500])
        r.send(b"RCPT TO:<demo@example.test>\r\n")
        self.assertEqual(r.reply()[0], 503, "the MAIL line was never taken")
        r.send(b"NOOP\r\n")
        self.assertEqual(r.reply()[0], 250, "and the RCPT after the bare CR was no command")

    def test_lf_only_client(self):
        """printf 'EHLO x\\nQUIT\\n' | nc: every command answered"""
        r = self.srv.raw()
        self.addCleanup(r.close)
        self.assertEqual(r.reply()[0], 220)
        r.send(b"EHLO x\nMAIL FROM:<a@client.test>\nRCPT TO:<demo@example.test>\nDATA\n")
        self.assertEqual(r.codes(4), [250, 250, 250, 354])
        # LF . LF is no end of data; the end must be CR LF . CR LF
        r.send(b"Subject: lf\n\nbody\n.\nstill body\r\n.\r\nQUIT\n")
        self.assertEqual(r.codes(2), [250, 221])
        (_, _, body), = self.assertQueued(1)
        self.assertEqual(stored(body), b"Subject: lf\n\nbody\n\nstill body\n")

    def test_command_line_bound_with_bare_lf(self):
        """512 bytes counted as if the line ended in CR LF"""
        r = self.srv.raw()
        self.addCleanup(r.close)
        r.reply()
        r.send(b"NOOP " + b"x" * (512 - 7) + b"\n")
        self.assertEqual(r.reply()[0], 250)
        r.send(b"NOOP " + b"x" * (512 - 6) + b"\n")
        self.assertEqual(r.reply(), (500, ["5.5.2 line too long"]))

    def test_nul_in_a_command_is_500(self):
        r = self.srv.raw()
        self.addCleanup(r.close)
        r.reply()
        r.send(b"NOOP\x00\r\nNOOP\r\n")
        self.assertEqual(r.replies(2), [(500, ["5.5.2 NUL characters not allowed"]), (250, ["2.0.0 ok"])])

    def test_helo_argument_is_cleaned_for_the_received_line(self):
        r = self.srv.raw()
        self.addCleanup(r.close)
        r.reply()
        r.send(b"HELO evil(x)\xff\\\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n")
        self.assertEqual(r.codes(4), [250, 250, 250, 354])
        r.send(b"x\r\n.\r\n")
        self.assertEqual(r.reply()[0], 250)
        (_, _, body), = self.assertQueued(1)
        self.assertTrue(body.split(b"\n")[1].startswith(b"Received: from evil?x??? (127.0.0.1) by test.me"),
                        body[:300])


if __name__ == "__main__":
    unittest.main()


class HopsTest(SmtpdCase):
    """a looping message (too many Received:/Delivered-To: fields) is
    refused at DATA; the count is local's, so what smtpd takes, local
    does not bounce for hops"""
    controls = {"maxhops": "10\n"}
    session = SmugglingTest.session

    def message(self, received, delivered=0, extra=b""):
        head = b"".join(b"Received: from hop%d by x; Mon, 1 Jan 2026 00:00:00 +0000\r\n" % i
                        for i in range(received))
        head += b"".join(b"delivered-TO: u%d@example.test\r\n" % i for i in range(delivered))
        return head + extra + b"Subject: loop\r\n\r\nbody\r\n.\r\n"

    def test_limit_counts_ours_and_queue_injects(self):
        # ours and queue-inject's make 2: 8 more are the most maxhops 10 lets in
        self.assertEqual(self.session(self.message(8))[0][0], 250)
        self.assertEqual(self.session(self.message(9))[0],
                         (554, ["5.4.6 too many hops, this message is looping"]))
        self.assertEqual(self.session(self.message(5, 4))[0][0], 554)
        self.assertQueued(1)
        self.assertRegex(self.srv.logtext(), r"reject pid \d+ from <a@client\.test> rcpts 1 bytes \d+: too many hops")

    def test_only_trace_fields_of_the_header_count(self):
        # continuation lines, look-alikes and the body's lines do not count
        extra = (b"X-Received: no\r\n  Received: folded, no\r\nReceived-SPF: pass\r\n")
        body = self.message(8, extra=extra).replace(
            b"body\r\n", b"Received: in the body\r\n" * 20)
        self.assertEqual(self.session(body)[0][0], 250)
        (_, _, stored_body), = self.assertQueued(1)
        self.assertIn(b"Received: in the body\n" * 20, stored(stored_body))
