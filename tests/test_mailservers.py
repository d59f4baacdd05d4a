"""The test mail servers (bin/mail-servers) behave as the email tests rely on: what is sent over
SMTP arrives intact in the recipient's IMAP INBOX, wrong passwords are refused, and the
reject-/tempfail- recipients are refused as a real server would."""

import email.utils
import imaplib
import smtplib
import ssl
from email.message import EmailMessage

import pytest

from tests.mailservers import (
    HOST,
    IMAP_PORT,
    PASSWORD,
    SMTP_PORT,
    SMTPS_PORT,
    imap,
    imap_append,
    imap_folders,
    imap_messages,
    mail_servers,  # noqa: F401  # the fixture: fails when a server is down
    unique_address,
    unverified_tls,
    wait_for_messages,
)

pytestmark = pytest.mark.usefixtures("mail_servers")


def _message(sender: str, *recipients: str, subject: str = "Following up") -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = email.utils.formatdate()
    message["Message-ID"] = email.utils.make_msgid(domain="refinery.test")
    message.set_content("Hello,\n\nShall we talk on Tuesday? Ünïcödé survives.\n")
    return message


def test_mail_sent_with_auth_arrives_in_the_recipients_inbox_unchanged():
    sender, prospect = unique_address("sdr"), unique_address("prospect", domain="example.com")
    message = _message(sender, prospect)

    with smtplib.SMTP(HOST, SMTP_PORT, timeout=10) as smtp:
        smtp.login(sender, PASSWORD)
        refused = smtp.send_message(message)

    assert refused == {}
    [received] = wait_for_messages(prospect, 1)
    assert received["Message-ID"] == message["Message-ID"]
    assert received["Subject"] == "Following up"
    assert received["From"] == sender
    assert "Ünïcödé survives" in received.get_content()


def test_mail_sent_without_auth_reaches_every_recipient():
    sender = unique_address("sdr")
    first, second = unique_address("prospect"), unique_address("prospect")
    message = _message(sender, first, second)

    with smtplib.SMTP(HOST, SMTP_PORT, timeout=10) as smtp:
        smtp.send_message(message)

    for recipient in (first, second):
        [received] = wait_for_messages(recipient, 1)
        assert received["Message-ID"] == message["Message-ID"]


def test_plus_addressing_lands_in_the_base_mailbox():
    sdr = unique_address("sdr")
    local, domain = sdr.split("@")
    message = _message(unique_address("prospect"), f"{local}+lead-7@{domain}", subject="Re: Following up")

    with smtplib.SMTP(HOST, SMTP_PORT, timeout=10) as smtp:
        smtp.send_message(message)

    [received] = wait_for_messages(sdr, 1)
    assert received["Message-ID"] == message["Message-ID"]


def test_smtps_and_starttls_deliver_too():
    recipient = unique_address("prospect")
    implicit, upgraded = (
        _message(unique_address("sdr"), recipient),
        _message(unique_address("sdr"), recipient),
    )

    with smtplib.SMTP_SSL(HOST, SMTPS_PORT, context=unverified_tls(), timeout=10) as smtp:
        smtp.login("sdr@refinery.test", PASSWORD)
        smtp.send_message(implicit)
    with smtplib.SMTP(HOST, SMTP_PORT, timeout=10) as smtp:
        smtp.starttls(context=unverified_tls())
        smtp.login("sdr@refinery.test", PASSWORD)
        smtp.send_message(upgraded)

    received = wait_for_messages(recipient, 2)
    assert {m["Message-ID"] for m in received} == {implicit["Message-ID"], upgraded["Message-ID"]}


def test_wrong_smtp_password_is_refused_with_535():
    with (
        smtplib.SMTP(HOST, SMTP_PORT, timeout=10) as smtp,
        pytest.raises(smtplib.SMTPAuthenticationError) as refused,
    ):
        smtp.login(unique_address("sdr"), "not-the-password")

    assert refused.value.smtp_code == 535


@pytest.mark.parametrize(
    ("prefix", "code", "text"),
    [("reject", 550, b"5.1.1 mailbox unavailable"), ("tempfail", 451, b"4.3.0 try again later")],
)
def test_reject_and_tempfail_recipients_are_refused_at_rcpt(prefix, code, text):
    with smtplib.SMTP(HOST, SMTP_PORT, timeout=10) as smtp:
        smtp.ehlo()
        smtp.mail(unique_address("sdr"))
        assert smtp.rcpt(unique_address(prefix)) == (code, text)


def test_one_refused_recipient_leaves_the_others_delivered():
    accepted, rejected = unique_address("prospect"), unique_address("reject")
    message = _message(unique_address("sdr"), accepted, rejected)

    with smtplib.SMTP(HOST, SMTP_PORT, timeout=10) as smtp:
        refused = smtp.send_message(message)

    assert refused == {rejected: (550, b"5.1.1 mailbox unavailable")}
    [received] = wait_for_messages(accepted, 1)
    assert received["Message-ID"] == message["Message-ID"]


def test_wrong_imap_password_is_refused():
    client = imaplib.IMAP4(HOST, IMAP_PORT, timeout=10)
    try:
        with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
            client.login(unique_address("sdr"), "not-the-password")
    finally:
        client.shutdown()


def test_imaps_with_the_self_signed_certificate():
    user = unique_address("sdr")

    with imap(user, tls=True) as client:
        assert isinstance(client.sock, ssl.SSLSocket)
        status, _ = client.select("INBOX")

    assert status == "OK"


def test_every_new_mailbox_has_a_sent_folder():
    user = unique_address("sdr")

    assert {"INBOX", "Sent", "Drafts", "Trash", "Junk"} <= set(imap_folders(user))
    with imap(user) as client:
        _, lines = client.list()
    assert any(b"\\Sent" in line and line.endswith(b"Sent") for line in lines if isinstance(line, bytes))


def test_append_to_sent_is_read_back():
    user = unique_address("sdr")
    message = _message(user, unique_address("prospect"))

    imap_append(user, message.as_bytes(), folder="Sent")

    [stored] = imap_messages(user, "Sent")
    assert stored["Message-ID"] == message["Message-ID"]
    assert imap_messages(user) == []


def test_a_server_down_fails_the_test_with_the_way_out(monkeypatch):
    from tests import mailservers
    from tests.servers import free_port

    monkeypatch.setitem(mailservers.PORTS, "IMAP", free_port())

    with pytest.raises(RuntimeError, match=r"IMAP 127\.0\.0\.1:\d+\)\. Start them with `bin/mail-servers`"):
        mailservers.require_mail_servers()
