"""What the project promises about its own source and docs: no stdio,
every program has a man page that mandoc accepts."""
import os
import re
import shutil
import subprocess
import unittest

import harness


def programs():
    src = os.path.join(harness.TOP, "src")
    return sorted(d for d in os.listdir(src)
                  if os.path.isdir(os.path.join(src, d)) and d not in ("lib", "install"))


class StyleTest(unittest.TestCase):
    def test_no_stdio_in_src(self):
        bad = []
        for root, _, names in os.walk(os.path.join(harness.TOP, "src")):
            for n in names:
                if n.endswith((".c", ".h")):
                    p = os.path.join(root, n)
                    if re.search(r"#\s*include\s*<stdio\.h>", open(p).read()):
                        bad.append(p)
        self.assertEqual(bad, [])

    def test_skalibs_cdb_never_included(self):
        bad = []
        for root, _, names in os.walk(os.path.join(harness.TOP, "src")):
            for n in names:
                p = os.path.join(root, n)
                if re.search(r"<skalibs/(cdb|cdbmake|stddjb)\.h>", open(p, errors="replace").read()):
                    bad.append(p)
        self.assertEqual(bad, [])

    def test_every_program_has_a_man_page(self):
        man = os.listdir(os.path.join(harness.TOP, "man"))
        for p in programs():
            with self.subTest(program=p):
                self.assertTrue(any(re.match(re.escape(p) + r"\.[158]$", m) for m in man), p)

    def test_man_pages_lint_clean(self):
        if not shutil.which("mandoc"):
            self.skipTest("no mandoc")
        pages = sorted(os.path.join(harness.TOP, "man", m) for m in os.listdir(os.path.join(harness.TOP, "man")))
        p = subprocess.run(["mandoc", "-Tlint", "-W", "warning"] + pages, capture_output=True, text=True)
        self.assertEqual(p.stdout + p.stderr, "")
