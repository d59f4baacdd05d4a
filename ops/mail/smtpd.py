"""The SMTP server of Refinery's email tests (aiosmtpd), on 127.0.0.1 only.

bin/mail-servers starts it with the venv's python; it hands every accepted message to the
test Dovecot over LMTP (127.0.0.1:10024), one delivery per recipient, so a message sent to
``prospect-1@example.com`` lands in the IMAP INBOX of the user ``prospect-1@example.com``.
The message reaches the mailbox byte for byte, with one ``Received:`` header on top.

Ports:

* 127.0.0.1:10025 plain SMTP; STARTTLS offered (self-signed certificate) but never required.
* 127.0.0.1:10465 implicit TLS (self-signed certificate), otherwise the same.

Authentication: AUTH PLAIN and AUTH LOGIN, allowed without TLS. Any user name with the
password ``refinery-test`` is accepted; any other password is answered
``535 5.7.8 Authentication credentials invalid``. Mail without AUTH is accepted too (as
Django's SMTP backend sends it without credentials).

Refusals on demand, by the recipient's local part (at RCPT time):

* ``reject-...@any.domain``   -> ``550 5.1.1 mailbox unavailable``
* ``tempfail-...@any.domain`` -> ``451 4.3.0 try again later``

If Dovecot does not take a message, DATA is answered ``451 4.3.0`` with its reason.

Run: ``python ops/mail/smtpd.py --tls-dir /tmp/refinery-mail/tls`` (bin/mail-servers does).
"""

from __future__ import annotations

import argparse
import asyncio
import email.utils
import logging
import signal
import smtplib
import ssl
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

PASSWORD = "refinery-test"
HOST = "127.0.0.1"
LMTP_PORT = 10024

log = logging.getLogger("refinery-smtpd")


def authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.password == PASSWORD.encode()
    if isinstance(auth_data, LoginPassword):
        log.info(
            "AUTH %s %s: %s", mechanism, auth_data.login.decode(errors="replace"), "ok" if ok else "refused"
        )
    return AuthResult(success=ok, handled=False)


class Handler:
    def __init__(self, *, lmtp_host: str, lmtp_port: int) -> None:
        self.lmtp_host = lmtp_host
        self.lmtp_port = lmtp_port

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        local = address.rsplit("@", 1)[0].lower()
        if local.startswith("reject-"):
            return "550 5.1.1 mailbox unavailable"
        if local.startswith("tempfail-"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
        received = (
            f"Received: from {session.host_name or 'unknown'} ([{peer}])\r\n"
            f"\tby refinery-test-smtpd with {'ESMTPA' if session.authenticated else 'ESMTP'};\r\n"
            f"\t{email.utils.formatdate(localtime=True)}\r\n"
        ).encode()
        content = envelope.original_content or b""
        data = received + content
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(
                None, self._deliver, envelope.mail_from or "", list(envelope.rcpt_tos), data
            )
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("LMTP delivery failed: %r", exc)
            return f"451 4.3.0 delivery to the test mailbox failed: {exc}".replace("\r", " ").replace(
                "\n", " "
            )
        log.info("delivered %d bytes from <%s> to %s", len(data), envelope.mail_from, envelope.rcpt_tos)
        return "250 2.0.0 OK delivered"

    def _deliver(self, mail_from: str, rcpt_tos: list[str], data: bytes) -> None:
        # smtplib.LMTP reads a single reply after DATA: one recipient per transaction keeps it exact.
        with smtplib.LMTP(self.lmtp_host, self.lmtp_port, timeout=30) as lmtp:
            for rcpt in rcpt_tos:
                lmtp.sendmail(mail_from, [rcpt], data)


def tls_context(tls_dir: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls_dir / "cert.pem", tls_dir / "key.pem")
    return context


async def serve(*, port: int, tls_port: int, tls_dir: Path, lmtp_port: int) -> None:
    handler = Handler(lmtp_host=HOST, lmtp_port=lmtp_port)
    context = tls_context(tls_dir)

    def factory(*, implicit_tls: bool) -> SMTP:
        return SMTP(
            handler,
            hostname="refinery-test-smtpd",
            authenticator=authenticate,
            auth_required=False,
            auth_require_tls=False,
            tls_context=None if implicit_tls else context,
            require_starttls=False,
        )

    loop = asyncio.get_running_loop()
    plain = await loop.create_server(lambda: factory(implicit_tls=False), HOST, port)
    tls = await loop.create_server(lambda: factory(implicit_tls=True), HOST, tls_port, ssl=context)
    log.info("listening on %s:%d (plain, STARTTLS) and %s:%d (implicit TLS)", HOST, port, HOST, tls_port)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    plain.close()
    tls.close()
    log.info("stopped")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=10025)
    parser.add_argument("--tls-port", type=int, default=10465)
    parser.add_argument("--lmtp-port", type=int, default=LMTP_PORT)
    parser.add_argument("--tls-dir", type=Path, required=True, help="holds cert.pem and key.pem")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's per-command chatter
    asyncio.run(serve(port=args.port, tls_port=args.tls_port, tls_dir=args.tls_dir, lmtp_port=args.lmtp_port))


if __name__ == "__main__":
    main()
