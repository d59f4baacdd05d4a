"""Reading a raw message (mail.inbound): who wrote it, what it answers, whether a person
wrote it, an automatic responder or a mail server returning our email, and its own words."""

from datetime import UTC, datetime

import pytest

from mail import inbound
from tests.mail.messages import dsn, email

OURS = "<sam.1@refinery.test>"


def test_a_reply_names_the_email_it_answers_and_its_sender():
    raw = email(
        sender="Ada Lovelace <Ada@Prospect.example>",
        to="Sam <sam@refinery.test>, boss@prospect.example",
        in_reply_to=OURS,
        references="<older@refinery.test> " + OURS,
        message_id="<reply.1@prospect.example>",
        date=datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
    )
    message = inbound.read(raw)
    assert message.kind == inbound.REPLY
    assert message.from_address == "ada@prospect.example"
    assert message.recipients == ("sam@refinery.test", "boss@prospect.example")
    assert message.message_id == "<reply.1@prospect.example>"
    assert message.in_reply_to == OURS
    assert message.thread_ids == (OURS, "<older@refinery.test>")
    assert message.date == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    assert message.bounce is None


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto_Submitted": "auto-replied"},
        {"Auto_Submitted": "auto-generated; owner-email=x@y.example"},
        {"X_Autoreply": "yes"},
        {"X_Autorespond": "Out of office"},
        {"Precedence": "auto_reply"},
        {"Precedence": "bulk"},
        {"X_Auto_Response_Suppress": "DR, OOF, AutoReply"},
        {"X_Auto_Response_Suppress": "All"},
        {"subject": "Automatic reply: Quick question"},
        {"subject": "Out of Office: back on Monday"},
    ],
)
def test_an_automatic_reply_is_recognised(headers):
    raw = email(sender="ada@prospect.example", to="sam@refinery.test", in_reply_to=OURS, **headers)
    assert inbound.read(raw).kind == inbound.AUTO_REPLY


def test_auto_submitted_no_is_a_persons_reply():
    raw = email(sender="ada@prospect.example", to="sam@refinery.test", Auto_Submitted="no")
    assert inbound.read(raw).kind == inbound.REPLY


def test_a_delivery_status_notification_is_a_bounce_naming_the_returned_email():
    raw = dsn(to="sam@refinery.test", recipient="Gone@Prospect.example", original_id=OURS)
    message = inbound.read(raw)
    assert message.kind == inbound.BOUNCE
    assert message.bounce is not None and message.bounce.failed
    assert message.bounce.recipients == ("gone@prospect.example",)
    assert message.bounce.original_ids == (OURS,)
    assert message.bounce.diagnostic == (
        "550 5.1.1 <Gone@Prospect.example>: Recipient address rejected: User unknown"
    )
    assert message.thread_ids[0] == OURS


def test_a_delay_warning_is_not_a_bounce():
    raw = dsn(
        to="sam@refinery.test",
        recipient="slow@prospect.example",
        original_id=OURS,
        action="delayed",
        status="4.4.1",
        diagnostic="smtp; 451 4.4.1 try again later",
    )
    message = inbound.read(raw)
    assert message.kind == inbound.AUTO_REPLY
    assert message.bounce is not None and not message.bounce.failed


def test_a_free_text_bounce_from_mailer_daemon_names_its_recipient_and_message_id():
    body = (
        "This message was created automatically by mail delivery software.\n\n"
        "A message that you sent could not be delivered to one or more of its recipients.\n\n"
        "  gone@prospect.example\n    SMTP error from remote mail server after RCPT TO:\n"
        "    550 5.1.1 User unknown\n\n------ This is a copy of the message's headers. ------\n\n"
        f"Message-ID: {OURS}\nSubject: Quick question\n"
    )
    raw = email(
        sender="Mail Delivery System <Mailer-Daemon@mx.prospect.example>",
        to="sam@refinery.test",
        subject="Mail delivery failed: returning message to sender",
        body=body,
        X_Failed_Recipients="gone@prospect.example",
    )
    message = inbound.read(raw)
    assert message.kind == inbound.BOUNCE
    assert message.bounce is not None
    assert message.bounce.recipients == ("gone@prospect.example",)
    assert message.bounce.original_ids == (OURS,)
    assert message.bounce.diagnostic == "550 5.1.1 User unknown"


def test_the_text_of_a_reply_leaves_out_the_quoted_email():
    raw = email(
        sender="ada@prospect.example",
        to="sam@refinery.test",
        body="Thursday works.\n\nAda\n\nOn Mon, 23 Nov 2026 at 10:00, Sam <sam@refinery.test> wrote:\n"
        "> Hi Ada,\n> would Thursday work?\n",
    )
    assert inbound.body_text(raw) == "Thursday works.\n\nAda"


def test_the_text_of_an_html_only_email_has_no_tags_scripts_or_styles():
    message = email(sender="ada@prospect.example", to="sam@refinery.test", body="x")
    raw = message.replace(b"Content-Type: text/plain", b"Content-Type: text/html").replace(
        b"\nx\n",
        b"\n<html><head><style>p{color:red}</style></head><body><p>Thursday&nbsp;works.</p>"
        b"<script>alert(1)</script><div>Ada</div></body></html>\n",
    )
    assert inbound.body_text(raw) == "Thursday works.\n\nAda"


def test_a_long_reply_is_cut():
    raw = email(sender="ada@prospect.example", to="sam@refinery.test", body="word " * 5000)
    text = inbound.body_text(raw, limit=100)
    assert len(text) == 100 and text.endswith("…")


def test_a_message_without_a_message_id_gets_the_same_stand_in_each_time():
    raw = b"From: ada@prospect.example\r\nTo: sam@refinery.test\r\nSubject: hi\r\n\r\nhello\r\n"
    first, again = inbound.read(raw), inbound.read(raw)
    assert first.message_id == again.message_id and first.message_id.endswith("@refinery.invalid>")


def test_a_malformed_date_is_no_date():
    raw = b"From: ada@prospect.example\r\nDate: yesterday-ish\r\nSubject: hi\r\n\r\nhello\r\n"
    assert inbound.read(raw).date is None
