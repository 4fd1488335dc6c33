#!/usr/bin/python3
"""What checking a DKIM signature costs smtpd (issue 18 item 3): signs
messages of 1 KB to 1 MB with python3-dkim (rsa-sha256, 2048 bits, relaxed
and simple) and runs build/bench/dkim-verify (dkim_verify in one process,
as a smtpd worker checks message after message). Run from the checkout
after `make all build/bench/dkim-verify`."""
import base64
import os
import subprocess
import sys
import tempfile

import dkim

KEY = os.path.join(tempfile.mkdtemp(prefix="dkim-bench-"), "k.pem")
V = sys.argv[1] if len(sys.argv) > 1 else "build/bench/dkim-verify"
subprocess.run(["openssl","genpkey","-algorithm","rsa","-pkeyopt","rsa_keygen_bits:2048","-out",KEY],check=True,capture_output=True)
os.chmod(KEY, 0o600)
out = subprocess.run(["build/bin/dkim-dns","s",KEY],check=True,capture_output=True,text=True).stdout
rec="".join(out.split('"')[1::2])
key=open(KEY,"rb").read()
for size in (1, 10, 100, 1000):
    body=(base64.b64encode(os.urandom(57))+b"\r\n")*(13*size)
    msg=b"From: a@x.test\r\nTo: b@y.test\r\nSubject: bench\r\n\r\n"+body
    for canon in ((b"relaxed",b"relaxed"),(b"simple",b"simple")):
        signed=(dkim.sign(msg,b"s",b"x.test",key,canonicalize=canon)+msg).replace(b"\r\n",b"\n")
        r=subprocess.run([V,"200" if size<1000 else "20",rec],input=signed,capture_output=True)
        print(size,"KB",canon[1].decode(),r.stdout.decode().strip(),r.stderr.decode().strip())
