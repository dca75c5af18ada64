"""What the deploy tests need from the machine: Debian's nginx and promtool, a certificate,
and the shipped nginx site turned into one that runs unprivileged in a temporary folder."""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SITE = DEPLOY / "nginx" / "tierslieux.conf"
# apt's lock may be held for a while by another installation on the machine.
APT_LOCK_WAIT_S = 300


def debian_tool(binary: str, package: str) -> str:
    """The path of `binary`, installing Debian's `package` when it is missing.

    Skips (with the reason) only when the machine cannot install it: not root, no apt.
    """
    found = shutil.which(binary) or next(
        (str(p) for p in (Path("/usr/sbin") / binary, Path("/usr/bin") / binary) if p.exists()),
        None,
    )
    if found:
        return found
    if shutil.which("apt-get") is None:
        pytest.skip(f"{binary} is missing and this machine has no apt-get to install {package}")
    deadline = time.monotonic() + APT_LOCK_WAIT_S
    while True:
        result = subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", package],
            capture_output=True,
            text=True,
            env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
            timeout=APT_LOCK_WAIT_S,
        )
        if result.returncode == 0:
            break
        locked = "Could not get lock" in result.stderr or "is held by" in result.stderr
        if not locked or time.monotonic() > deadline:
            pytest.skip(f"{package} could not be installed: {result.stderr.strip()[-300:]}")
        time.sleep(5)
    path = shutil.which(binary) or str(Path("/usr/sbin") / binary)
    assert Path(path).exists(), f"{package} installed but {binary} not found"
    return path


def self_signed(folder: Path, host: str = "localhost") -> tuple[Path, Path]:
    """A certificate for `host` and 127.0.0.1, valid a day, and its key (PEM files)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(host), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, f"the shipped site no longer holds {old!r}: update the test's rewrite"
    return text.replace(old, new)


def local_site(folder: Path, *, https_port: int, http_port: int, upstreams: list[int]) -> Path:
    """The shipped site with only what a test machine must change: ports, certificate,
    static folder, logs and the API processes' ports. Everything else is as shipped."""
    cert, key = self_signed(folder)
    site = SITE.read_text()
    site = _replace(
        site, "    listen 443 ssl http2;\n", f"    listen 127.0.0.1:{https_port} ssl http2;\n"
    )
    site = _replace(site, "    listen [::]:443 ssl http2;\n", "")
    site = _replace(site, "    listen 80;\n", f"    listen 127.0.0.1:{http_port};\n")
    site = _replace(site, "    listen [::]:80;\n", "")
    site = _replace(site, "/etc/letsencrypt/live/pass.example.org/fullchain.pem", str(cert))
    site = _replace(site, "/etc/letsencrypt/live/pass.example.org/privkey.pem", str(key))
    site = _replace(site, "/opt/tierslieux/web/static/", f"{ROOT / 'web' / 'static'}/")
    site = _replace(site, "/var/log/nginx/", f"{folder}/")
    site = _replace(site, "/var/www/letsencrypt", str(folder))
    servers = "".join(
        f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;\n" for port in upstreams
    )
    shipped = [line for line in site.splitlines(keepends=True) if "server 127.0.0.1:800" in line]
    assert shipped, "the shipped upstream lists no API process"
    site = _replace(site, "".join(shipped), servers)
    (folder / "site.conf").write_text(site)
    main = folder / "nginx.conf"
    temp = folder / "temp"
    temp.mkdir(exist_ok=True)
    main.write_text(
        f"""
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
daemon off;
worker_processes 2;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    log_format forwarded '$remote_addr "$request" $status';
    include {folder}/site.conf;
}}
"""
    )
    return main
