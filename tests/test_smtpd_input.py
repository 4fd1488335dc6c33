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
        for seq in SEQUENCES:
            with self.subTest(seq=seq):
                before = len(self.srv.queued())
                body = b"Subject: first\r\n\r\nhello" + seq + SMUGGLED + b".\r\n"
                replies = self.session(body)
                self.assertEqual(replies[0][0], 554, replies)
                self.assertTrue(replies[0][1][0].startswith("5.6.0 "), replies)
                self.assertEqual(replies[-1][0], 221)
                self.assertEqual(len(replies), 2, "no command was read from inside the message")
                self.assertEqual(len(self.srv.queued()), before)
        self.assertQueued(0)
        self.assertNotIn("ceo@example.test", self.srv.logtext().replace("from <a@client.test>", ""))

    def test_the_real_end_does_end_data(self):
        """the control: with a real CR LF . CR LF the second transaction is
        pipelined commands, and both are queued, so counting works"""
        replies = self.session(b"Subject: first\r\n\r\nhello\r\n.\r\n" + SMUGGLED + b".\r\n")
        self.assertEqual([c for c, _ in replies], [250, 250, 250, 354, 250, 221])
        q = self.assertQueued(2)
        self.assertEqual(sorted(s for s, _, _ in q), [b"a@client.test", b"ceo@example.test"])

    def test_bare_lf_in_data_rejects_the_message_whole(self):
        for body in (b"Subject: x\r\n\r\none\ntwo\r\n.\r\n", b"Subject: x\r\n\r\none\rtwo\r\n.\r\n",
                     b"Subject: x\n\r\nbody\r\n.\r\n", b"Subject: x\r\n\r\nbody\r\r\n.\r\n"):
            with self.subTest(body=body):
                replies = self.session(body)
                self.assertEqual(replies[0], (554, ["5.6.0 bare CR or LF not allowed"]))
        self.assertQueued(0)
        self.assertEqual(self.srv.home.files("body"), {})
        self.assertRegex(self.srv.logtext(), r"reject pid \d+ from <a@client\.test> rcpts 1 bytes \d+: bare CR or LF")

    def test_nul_in_data_rejects_the_message(self):
        replies = self.session(b"Subject: x\r\n\r\nnul\x00here\r\n.\r\n")
        self.assertEqual(replies[0], (554, ["5.6.0 NUL characters not allowed"]))
        self.assertQueued(0)

    def test_text_line_limit_is_1000(self):
        ok = b"x" * 998 + b"\r\n"
        replies = self.session(b"Subject: x\r\n\r\n" + ok + b"." + ok[1:] + b".\r\n")
        self.assertEqual(replies[0][0], 250)
        replies = self.session(b"Subject: x\r\n\r\n" + b"x" * 999 + b"\r\nmore\r\n.\r\n")
        self.assertEqual(replies[0], (554, ["5.6.0 line longer than 1000 bytes"]))
        (_, _, body), = self.assertQueued(1)
        self.assertEqual(stored(body), b"Subject: x\n\n" + b"x" * 998 + b"\n" + b"x" * 997 + b"\n")

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


class CommandLineTest(SmtpdCase):
    def test_bare_cr_or_lf_in_a_command_is_500(self):
        r = self.srv.raw()
        self.addCleanup(r.close)
        r.reply()
        # only CR LF ends a line: "NOOP LF NOOP CR LF" is one bad line
        r.send(b"NOOP\nNOOP\r\nNO\rOP\r\nNOOP\r\r\nEHLO client.test\r\n")
        replies = r.replies(4)
        self.assertEqual(replies[0], (500, ["5.5.2 bare CR or LF not allowed, lines end with CR LF"]))
        self.assertEqual([c for c, _ in replies], [500, 500, 500, 250])

    def test_bare_lf_cannot_smuggle_a_command(self):
        r = self.srv.raw()
        self.addCleanup(r.close)
        r.reply()
        r.send(b"EHLO client.test\r\nMAIL FROM:<a@client.test>\nRCPT TO:<x@other.test>\r\n")
        self.assertEqual(r.codes(2), [250, 500])
        r.send(b"RCPT TO:<demo@example.test>\r\n")
        self.assertEqual(r.reply()[0], 503, "the MAIL line was never taken")
        r.send(b"NOOP\r\n")
        self.assertEqual(r.reply()[0], 250, "and the RCPT after the bare LF was no command")

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
