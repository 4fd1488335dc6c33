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

    # skalibs' return conventions (its headers, skalibs 2.13): these return
    # 1 on success and 0 on failure, so "< 0" or "== -1" never catches one;
    # coe, ndelay_on/off, fd_move, fd_copy, pipecoe, sagetcwd return -1.
    ZERO_ON_FAILURE = ("sig_catch", "sig_ignore", "sig_restore", "sig_altignore",
                       "selfpipe_trap", "selfpipe_trapset", "selfpipe_untrap", "selfpipe_untrapset",
                       "buffer_flush", "bufalloc_flush", "stralloc_catb", "stralloc_cats",
                       "stralloc_copyb", "stralloc_copys", "stralloc_0", "stralloc_ready",
                       "stralloc_readyplus", "openwritenclose_unsafe", "openwritenclose_suffix",
                       "tain_now_g", "tain_now", "mkdir_unique")

    def test_zero_on_failure_calls_not_compared_with_minus_one(self):
        self.maxDiff = None
        call = re.compile(r"\b(" + "|".join(self.ZERO_ON_FAILURE) + r")\s*\(")
        bad = []
        for root, _, names in os.walk(os.path.join(harness.TOP, "src")):
            for n in names:
                if not n.endswith(".c"):
                    continue
                p = os.path.join(root, n)
                s = open(p).read()
                for m in call.finditer(s):
                    i, depth = m.end(), 1
                    while i < len(s) and depth:
                        depth += {"(": 1, ")": -1}.get(s[i], 0)
                        i += 1
                    if re.match(r"\s*(<\s*0|==\s*-1|<=\s*-1|>=\s*0|!=\s*-1)", s[i:]):
                        bad.append("%s:%d: %s" % (os.path.relpath(p, harness.TOP), s.count("\n", 0, m.start()) + 1, m.group(1)))
        self.assertEqual(bad, [])

    def test_comments_name_only_files_in_the_repository(self):
        # a file named in a comment exists here (by path or name), or is
        # marked as not ours: a system header in <>, a generated build/
        # file, another project's ("qmail's qmail-remote.c"), or a page on
        # the web (cr.yp.to/proto/maildir.html)
        files = subprocess.run(["git", "-C", harness.TOP, "ls-files"], capture_output=True,
                               text=True).stdout.split()
        if not files:
            self.skipTest("not a git checkout")
        known = set(files) | {os.path.basename(f) for f in files}
        name = re.compile(r"(<)?([A-Za-z0-9_./-]*[A-Za-z_][A-Za-z0-9_-]*\.(?:c|h|md|py|sh|html|txt|mak))\b")
        bad = []
        for root, _, names in os.walk(os.path.join(harness.TOP, "src")):
            for n in names:
                if not n.endswith((".c", ".h")):
                    continue
                p = os.path.join(root, n)
                s = open(p).read()
                for c in re.finditer(r"/\*.*?\*/", s, re.S):
                    for m in name.finditer(c.group(0)):
                        tok = m.group(2)
                        before = c.group(0)[:m.start()]
                        web = re.match(r"[a-z0-9-]+(\.[a-z0-9-]+)+/", tok)  # an address on the web
                        if m.group(1) or web or tok.startswith("build/") or tok in known \
                                or os.path.basename(tok) in known or re.search(r"'s\s+$", before):
                            continue
                        bad.append(f"{os.path.relpath(p, harness.TOP)}: {tok}")
        self.assertEqual(bad, [])
