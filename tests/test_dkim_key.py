"""DKIM key records (RFC 6376 3.6.1, RFC 8463 4.2) parsed by
dkim_key_parse() through build/unit/dkim_key_test: the records dkim-dns
prints for keys made with openssl, and the ones a verifier must refuse
(permerror)."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness

KEY_TEST = os.path.join(harness.UNIT, "dkim_key_test")
DKIM_DNS = os.path.join(harness.BIN, "dkim-dns")


class DkimKey(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="postern-dkimkey-")
        cls.records = {}
        for alg, args in (("rsa", ["-algorithm", "rsa", "-pkeyopt", "rsa_keygen_bits:2048"]),
                          ("ed25519", ["-algorithm", "ed25519"])):
            path = os.path.join(cls.dir, alg + ".pem")
            subprocess.run(["openssl", "genpkey", *args, "-out", path], check=True, capture_output=True)
            os.chmod(path, 0o600)
            out = subprocess.run([DKIM_DNS, "s", path], check=True, capture_output=True, text=True).stdout
            cls.records[alg] = "".join(re.findall(r'"([^"]*)"', out))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def kind(self, record):
        return subprocess.run([KEY_TEST, record], check=True, capture_output=True, text=True).stdout.strip()

    def test_records_of_dkim_dns(self):
        self.assertEqual(self.kind(self.records["rsa"]), "rsa")
        self.assertEqual(self.kind(self.records["ed25519"]), "ed25519")

    def test_rsa_is_the_default_and_white_space_is_taken(self):
        p = self.records["rsa"].split("p=")[1]
        self.assertEqual(self.kind(f"p={p}"), "rsa")
        self.assertEqual(self.kind(f" v=DKIM1 ;\tk = rsa ; p={p[:20]} \r\n {p[20:]} ;"), "rsa")

    def test_refused(self):
        rsa, ed = self.records["rsa"], self.records["ed25519"]
        p_rsa, p_ed = rsa.split("p=")[1], ed.split("p=")[1]
        for bad in ("v=DKIM1; k=rsa; p=",                   # revoked
                    "v=DKIM2; k=rsa; p=" + p_rsa,          # another version
                    "k=rsa; v=DKIM1; p=" + p_rsa,          # v= not first
                    "vx=1; v=DKIM1; p=" + p_rsa,           # nor here
                    "v=DKIM1; k=dsa; p=" + p_rsa,          # unknown kind
                    "v=DKIM1; k=ed25519; p=" + p_rsa,      # kind and key differ
                    "v=DKIM1; k=rsa; p=" + p_ed,
                    "v=DKIM1; k=rsa; p=" + p_rsa + "; p=" + p_rsa,  # twice
                    "v=DKIM1; k=rsa; p=" + p_rsa[:-4],     # truncated
                    "v=DKIM1; k=rsa; p" + p_rsa,           # no "="
                    "v=DKIM1; k=rsa"):                     # no key
            self.assertEqual(self.kind(bad), "bad", bad)


if __name__ == "__main__":
    unittest.main()
