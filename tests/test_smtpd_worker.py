"""The smtpd tests of test_smtpd.py, test_smtpd_input.py and
test_smtpd_load.py (smtp-source, 2,000 messages at 20 sessions) again, with
smtpd in worker mode behind smtpd-listen instead of under tcpserver: the
session code is the same, so every reply, queued message and log line
must be too. As root the home is the smtpd account's (smtpd-listen
refuses root; the home's queue-inject is a plain copy)."""
import os
import pwd
import unittest

import harness
import test_smtpd
import test_smtpd_input
import test_smtpd_load

LISTEN = os.path.join(harness.BIN, "smtpd-listen")


class WorkerServer(test_smtpd.Server):
    def argv(self):
        ids = []
        if os.getuid() == 0:
            pw = pwd.getpwnam(harness.users()["smtpd"])
            ids = ["-u", str(pw.pw_uid), "-g", str(pw.pw_gid)]
            for root, dirs, files in os.walk(self.home.dir):
                for n in dirs + files:
                    os.lchown(os.path.join(root, n), pw.pw_uid, pw.pw_gid)
            os.chown(self.home.dir, pw.pw_uid, pw.pw_gid)
        return [LISTEN, "-l", "0", "-c", "100", "-b", "100", "-x", self.home.path("rules.cdb"), *ids,
                test_smtpd.TRUSTED, str(self.port), test_smtpd.SMTPD, "-w"]


def worker_variants(module):
    """each SmtpdCase class of module, served by smtpd-listen"""
    out = {}
    for name in dir(module):
        c = getattr(module, name)
        if isinstance(c, type) and issubclass(c, test_smtpd.SmtpdCase) and c is not test_smtpd.SmtpdCase:
            out[name + "Worker"] = type(name + "Worker", (c,), {"server": WorkerServer})
    return out


globals().update(worker_variants(test_smtpd))
globals().update(worker_variants(test_smtpd_input))
globals().update(worker_variants(test_smtpd_load))

if __name__ == "__main__":
    unittest.main()
