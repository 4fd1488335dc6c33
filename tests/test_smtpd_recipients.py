"""smtpd's recipient check against control/recipients.cdb, built by
recipients-compile from the aliases, the users and the .postern-EXT
files in their homes: an extension nothing would deliver is refused at
RCPT (550 5.1.1) instead of bounced later to a possibly forged sender;
one that a file takes is accepted, '+' as well as '-'. Without the table
smtpd checks as before (the user, not the extension) and says so once."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness
from test_smtpd import Server, STRANGER

COMPILE = os.path.join(harness.BIN, "recipients-compile")


class RecipientsTest(unittest.TestCase):
    def setUp(self):
        self.srv = Server()
        self.addCleanup(self.srv.cleanup)
        self.tmp = tempfile.mkdtemp(prefix="postern-rcpt-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.demo = self.mkhome("demo", [".postern-foo", ".postern-list-default", ".postern-Upper"])
        self.bob = self.mkhome("bob", [".postern-default"])
        self.alice = self.mkhome("alice", [".postern-x"])
        self.srv.table("users", f"demo demo:4242:4242:{self.demo}\n"
                                f"bob bob:4244:4244:{self.bob}\n"
                                f"vt-alice alice:4243:4243:{self.alice}\n")
        self.srv.table("aliases", "postmaster demo@example.test\nroot demo@example.test\n"
                                  "list-owner demo@example.test\n")

    def mkhome(self, name, files):
        d = os.path.join(self.tmp, name)
        os.mkdir(d)
        for f in files:
            open(os.path.join(d, f), "w").close()
        return d

    def compile(self):
        p = subprocess.run([COMPILE], env=self.srv.home.env, capture_output=True, text=True)
        self.assertEqual((p.returncode, p.stderr), (0, ""))

    def answers(self, rcpts):
        s = self.srv.smtp(STRANGER)
        self.addCleanup(s.close)
        s.ehlo()
        s.mail("someone@client.test")
        return {r: s.rcpt(r)[0] for r in rcpts}

    def test_unknown_extension_is_550_known_ones_250(self):
        self.compile()
        want = {
            "demo@example.test": 250,             # the user
            "DEMO@Example.TEST": 250,
            "demo-typo@example.test": 550,        # no .postern-typo, no default
            "demo+typo@example.test": 550,
            "demo-foo@example.test": 250,         # .postern-foo
            "demo+Foo@example.test": 250,         # '+' and case, as delivery
            "demo-list-x@example.test": 250,      # .postern-list-default
            "demo+list-x-y@example.test": 250,
            "demo-list@example.test": 550,        # list-default needs more
            "demo-upper@example.test": 550,       # local never opens .postern-Upper
            "demo-@example.test": 250,            # an empty extension: the user's own
            "bob-anything@example.test": 250,     # .postern-default
            "bob+x.y@example.test": 250,
            "postmaster@example.test": 250,       # aliases
            "root@example.test": 250,
            "list-owner@example.test": 250,
            "postmaster-x@example.test": 550,     # an alias has no extensions
            "nosuchuser@example.test": 550,
            "alice-x@virt.test": 250,             # a virtual domain: vt-alice-x
            "alice-y@virt.test": 550,
        }
        self.assertEqual(self.answers(want), want)
        self.assertRegex(self.srv.logtext(), r"to <demo-typo@example\.test>: 550 5\.1\.1 no such user here")
        self.assertNotIn("recipients.cdb", self.srv.logtext())

    def test_read_at_each_rcpt_after_a_compile(self):
        self.compile()
        self.assertEqual(self.answers(["demo-new@example.test"]), {"demo-new@example.test": 550})
        open(os.path.join(self.demo, ".postern-new"), "w").close()
        self.compile()
        self.assertEqual(self.answers(["demo-new@example.test"]), {"demo-new@example.test": 250})

    def test_root_without_alias_is_still_451(self):
        self.srv.table("aliases", "postmaster demo@example.test\n")
        self.srv.table("users", f"demo demo:4242:4242:{self.demo}\nboss boss:0:0:/\n")
        self.compile()
        got = self.answers(["root@example.test", "boss-x@example.test", "demo@example.test"])
        self.assertEqual(got, {"root@example.test": 451, "boss-x@example.test": 451,
                               "demo@example.test": 250})

    def test_an_alias_that_would_bounce_is_refused(self):
        """aliases expanded as lspawn expands them: a ring of aliases, one
        past 256 addresses or nested past 10 would only bounce"""
        self.srv.table("locals", "example.test\n")
        ring = "".join(f"r{i} r{(i + 1) % 3}@example.test\n" for i in range(3))
        chain = "".join(f"d{i} d{i + 1}@example.test\n" for i in range(10)) + "d10 demo@example.test\n"
        wide = "wide " + ", ".join(f"w{i}@r.test" for i in range(257)) + "\n"
        self.srv.table("aliases", "postmaster demo@example.test\nexit r0@example.test, demo@example.test\n"
                       + ring + chain + wide)
        p = subprocess.run([COMPILE], env=self.srv.home.env, capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("recipients-compile: warning: alias r0 loops: refused", p.stderr)
        self.assertIn("alias wide expands past the limits of lspawn(8): refused", p.stderr)
        want = {"r0@example.test": 550, "r2@example.test": 550, "wide@example.test": 550,
                "d0@example.test": 550, "d1@example.test": 250, "exit@example.test": 250,
                "postmaster@example.test": 250}
        self.assertEqual(self.answers(want), want)

    def test_table_mode_and_group(self):
        self.compile()
        st = os.stat(self.srv.home.path("control", "recipients.cdb"))
        self.assertEqual(st.st_mode & 0o777, 0o640)
        if os.getuid() == 0:
            import pwd
            self.assertEqual(st.st_uid, 0)
            self.assertEqual(st.st_gid, pwd.getpwnam(harness.users()["smtpd"]).pw_gid)

    def test_without_the_table_extensions_pass_as_before_and_it_is_said_once(self):
        want = {"demo-typo@example.test": 250, "demo+typo@example.test": 250,
                "demo@example.test": 250, "nosuchuser@example.test": 550}
        self.assertEqual(self.answers(want), want)
        self.srv.stop()
        warnings = re.findall(r"no control/recipients\.cdb: extension addresses are not checked",
                              self.srv.logtext())
        self.assertEqual(len(warnings), 1, self.srv.logtext())


if __name__ == "__main__":
    unittest.main()
