"""What the tests of the mail pages share: a rep's own mailbox on the loopback mail servers
(tests/mailservers.py), and the form a person fills in on the mailbox page."""

from mail.models import Mailbox
from tests.mailservers import HOST, IMAP_PORT, PASSWORD, SMTP_PORT, unique_address


def own_mailbox(user, *, address: str | None = None, **fields) -> Mailbox:
    """``user`` sends through the loopback SMTP server as ``address`` and reads its IMAP INBOX
    (plain connections: the servers are on 127.0.0.1)."""
    address = address or unique_address(user.username)
    mailbox, _ = Mailbox.objects.get_or_create(user=user, defaults={"from_address": address})
    values = {
        "kind": Mailbox.Kind.OWN,
        "from_name": user.get_full_name(),
        "from_address": address,
        "smtp_host": HOST,
        "smtp_port": SMTP_PORT,
        "smtp_security": "none",
        "smtp_username": address,
        "imap_host": HOST,
        "imap_port": IMAP_PORT,
        "imap_security": "none",
        "imap_username": address,
        "inbox_folder": "INBOX",
        "sent_folder": "Sent",
        "pace_seconds": 0,
        **fields,
    }
    for name, value in values.items():
        setattr(mailbox, name, value)
    mailbox.smtp_password = PASSWORD
    mailbox.imap_password = PASSWORD
    mailbox.save()
    return mailbox


def mailbox_form(address: str, **changes) -> dict:
    """The mailbox page's form for an own mailbox on the loopback servers, as typed in."""
    return {
        "kind": "own",
        "from_name": "Sam Sender",
        "from_address": address,
        "signature": "Sam\nRefinery",
        "smtp_host": HOST,
        "smtp_port": SMTP_PORT,
        "smtp_security": "none",
        "smtp_username": address,
        "smtp_password": PASSWORD,
        "imap_host": HOST,
        "imap_port": IMAP_PORT,
        "imap_security": "none",
        "imap_username": address,
        "imap_password": PASSWORD,
        "inbox_folder": "INBOX",
        "sent_folder": "Sent",
        "daily_limit": 200,
        "pace_seconds": 60,
        **changes,
    }
