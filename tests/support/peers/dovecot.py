"""A real Dovecot IMAP server on loopback, in the foreground, from a config in a temp folder.

Two listeners: STARTTLS (plain greeting, `STARTTLS` offered, `LOGINDISABLED` before it) and
implicit TLS. The certificate is the trusted one, except for clients asking (SNI) for
`untrusted_name`, who get one from a CA they don't know.
See ../shared/TESTING.md for why each setting is what it is.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.support.peers.certs import Certs
from tests.support.peers.ports import free_port

DOVECOT = "dovecot"
START_TIMEOUT_S = 20.0  # with the auth penalty off the first greeting takes about 5 s


def dovecot_missing() -> str | None:
    """Why Dovecot tests can't run here, or None when they can."""
    if shutil.which(DOVECOT) is None:
        return "dovecot is not installed (apt-get install dovecot-imapd; .ci/run does it)"
    return None


@dataclass
class DovecotPeer:
    starttls_port: int
    tls_port: int
    folder: Path
    proc: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def log(self) -> str:
        path = self.folder / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _config(
    folder: Path,
    certs: Certs,
    untrusted_name: str,
    ports: tuple[int, int],
    *,
    penalty: bool,
    as_root: bool,
) -> str:
    login_user = "dovenull" if as_root else _me()
    internal_user = "dovecot" if as_root else _me()
    mail_uid = "uid=nobody gid=nogroup" if as_root else f"uid={os.getuid()} gid={os.getgid()}"
    anvil = "" if penalty else "unix_listener anvil-auth-penalty {\n    mode = 0\n  }"
    return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
ssl = yes
ssl_cert = <{certs.good.cert}
ssl_key = <{certs.good.key}
local_name {untrusted_name} {{
  ssl_cert = <{certs.untrusted.cert}
  ssl_key = <{certs.untrusted.key}
}}
disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:{folder}/mail/%u
default_internal_user = {internal_user}
default_login_user = {login_user}
first_valid_uid = 0
mail_max_userip_connections = 1000
service anvil {{
  chroot =
  {anvil}
}}
service imap-login {{
  chroot =
  process_min_avail = 2
  inet_listener imap {{
    address = 127.0.0.1
    port = {ports[0]}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ports[1]}
    ssl = yes
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/users
}}
userdb {{
  driver = static
  args = {mail_uid} home={folder}/mail/%u
}}
"""


def _me() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def start_dovecot(
    certs: Certs, users: Mapping[str, str], untrusted_name: str, *, penalty: bool = False
) -> DovecotPeer:
    """Start Dovecot with these users (email -> password) and wait for its first greeting."""
    # tmp_path lives under a 0700 folder Dovecot's unprivileged processes can't enter.
    folder = Path(tempfile.mkdtemp(prefix="dovecot-"))
    folder.chmod(0o755)
    as_root = os.getuid() == 0
    for sub in ("run", "state", "mail"):
        (folder / sub).mkdir()
    if as_root:
        shutil.chown(folder / "mail", "nobody", "nogroup")
    for _name in ("cert.pem", "key.pem"):
        pass
    # Dovecot reads the certificates as root at start; copies keep the test's files private.
    for files in (certs.good, certs.untrusted):
        for path in (files.cert, files.key):
            shutil.copy(path, folder / path.name)
    local = Certs(
        certs.ca_file,
        type(certs.good)(folder / certs.good.cert.name, folder / certs.good.key.name),
        type(certs.untrusted)(
            folder / certs.untrusted.cert.name, folder / certs.untrusted.key.name
        ),
    )
    (folder / "users").write_text(
        "".join(f"{user}:{{PLAIN}}{password}\n" for user, password in users.items())
    )
    ports = (free_port(), free_port())
    conf = folder / "dovecot.conf"
    conf.write_text(_config(folder, local, untrusted_name, ports, penalty=penalty, as_root=as_root))
    proc = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    peer = DovecotPeer(ports[0], ports[1], folder, proc)
    try:
        _wait_for_greeting(peer)
    except BaseException:
        peer.stop()
        raise
    return peer


def _wait_for_greeting(peer: DovecotPeer) -> None:
    """Wait for `* OK` on the STARTTLS port: a TCP accept comes long before logins work."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if peer.proc.poll() is not None:
            err = peer.proc.stderr.read().decode(errors="replace") if peer.proc.stderr else ""
            raise RuntimeError(f"dovecot exited with {peer.proc.returncode}: {err}{peer.log()}")
        try:
            with socket.create_connection(("127.0.0.1", peer.starttls_port), timeout=10) as sock:
                sock.settimeout(10)
                if sock.recv(64).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"dovecot did not greet within {START_TIMEOUT_S} s: {peer.log()}")


def client_context(certs: Certs) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certs.ca_file))
