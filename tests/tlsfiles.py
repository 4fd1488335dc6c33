"""Test certificates: a CA and keypairs it signs, made with openssl(1)
in a directory of the caller's. Shared by the TLS tests (tlsd, smtpd,
remote)."""
import os
import subprocess


def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _newkey(key):
    if key == "rsa":
        return ["-newkey", "rsa:2048"]
    return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]


def make_tls_files(dir, names, ca="ca", days=30, key="ec"):
    """makes dir/ca.crt (+ ca.key), and for each NAME of names NAME.crt and
    NAME.key (PEM; key "ec": P-256, "rsa": 2048 bits), signed by that CA,
    with subjectAltName DNS:NAME and CN NAME. Returns the CA certificate's path. Called again
    with the same dir, it keeps the CA and remakes the named keypairs (a
    renewed certificate: new key, new serial)."""
    os.makedirs(dir, exist_ok=True)
    cacrt = os.path.join(dir, ca + ".crt")
    if not os.path.exists(cacrt):
        _openssl("req", "-x509", *_newkey(key), "-nodes", "-keyout", ca + ".key",
                 "-out", ca + ".crt", "-days", str(days), "-subj", "/CN=postern test CA", cwd=dir)
    usage = "digitalSignature,keyEncipherment" if key == "rsa" else "digitalSignature"
    for name in names:
        ext = name + ".ext"
        with open(os.path.join(dir, ext), "w") as f:
            f.write(f"subjectAltName=DNS:{name}\nbasicConstraints=CA:FALSE\n"
                    f"keyUsage={usage}\nextendedKeyUsage=serverAuth,clientAuth\n")
        _openssl("req", *_newkey(key), "-nodes",
                 "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name, cwd=dir)
        _openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key",
                 "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", str(days),
                 "-extfile", ext, "-out", name + ".crt", cwd=dir)
        os.unlink(os.path.join(dir, name + ".csr"))
        os.unlink(os.path.join(dir, ext))
    return cacrt
