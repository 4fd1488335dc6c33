"""The fuzz harnesses of tests/fuzz (libFuzzer, ASan, UBSan): each runs a
few seconds from its committed corpus and must find no crash and no
broken invariant (make fuzz-smoke), and every input that once crashed
one (tests/fuzz/corpus/*/regress-*) runs clean."""
import glob
import os
import re
import subprocess
import unittest

import harness

FUZZ = os.path.join(harness.TOP, "tests", "fuzz")
BIN = os.path.join(harness.TOP, "build", "fuzz", "bin")
NAMES = sorted(os.path.basename(p)[5:-2] for p in glob.glob(os.path.join(FUZZ, "fuzz_*.c"))
               if not p.endswith("fuzz_common.c"))


def make(*targets, timeout=900):
    return subprocess.run(["make", "-s"] + list(targets), cwd=harness.TOP, timeout=timeout,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


class FuzzTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        r = make("fuzzbins")
        if r.returncode:
            raise AssertionError("make fuzzbins failed (clang and libclang-rt-14-dev: make deps):\n" + r.stdout[-3000:])

    def test_every_harness_has_a_corpus(self):
        self.assertGreaterEqual(len(NAMES), 11)
        for n in NAMES:
            with self.subTest(harness=n):
                self.assertTrue(os.listdir(os.path.join(FUZZ, "corpus", n)))

    def test_regressions_run_clean(self):
        found = 0
        for path in sorted(glob.glob(os.path.join(FUZZ, "corpus", "*", "regress-*"))):
            n = os.path.basename(os.path.dirname(path))
            found += 1
            with self.subTest(input=os.path.relpath(path, FUZZ)):
                # scratch homes go where make clean removes them, even after a crash
                tmp = os.path.join(harness.TOP, "build", "fuzz", "tmp")
                os.makedirs(tmp, exist_ok=True)
                r = subprocess.run([os.path.join(BIN, n), path], timeout=120, env=dict(os.environ, TMPDIR=tmp),
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                self.assertEqual(r.returncode, 0, r.stdout[-3000:])
        self.assertGreaterEqual(found, 1)

    def test_smoke_run_finds_nothing(self):
        # a few seconds each (FUZZ_SMOKE_SECONDS in the Makefile)
        r = make("fuzz-smoke", timeout=600)
        self.assertEqual(r.returncode, 0, r.stdout[-5000:])
        for n in NAMES:
            self.assertRegex(r.stdout, r"fuzz: %s: \d+ executions in \d+ s, \d+ new inputs, no crash" % re.escape(n))


if __name__ == "__main__":
    unittest.main()
