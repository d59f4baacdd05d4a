"""My mailbox: system or own; an own mailbox is tested against the real loopback servers on
save and the test says exactly what failed (DNS, the port, TLS, the login, a folder); the
passwords are stored encrypted and never appear in a page or a log."""

import logging
import socket
from html import unescape

import pytest

from mail.models import FolderState, Mailbox
from team.models import Role
from tests.factories import UserFactory
from tests.mail.pages import mailbox_form
from tests.mailservers import (
    HOST,
    IMAP_PORT,
    IMAPS_PORT,
    PASSWORD,
    SMTP_PORT,
    SMTPS_PORT,
    mail_servers,  # noqa: F401  # the fixture: fails when a server is down
    unique_address,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mail_servers")]

URL = "/mail/mailbox/"
WRONG = "Wr0ng-s3cret-pass!"


@pytest.fixture
def sam(inbound_sdr, client_for):
    return client_for(inbound_sdr)


@pytest.fixture
def logs(caplog):
    """Every log record of the test, at every level, from every logger."""
    caplog.set_level(logging.DEBUG)
    return caplog


def errors_of(response, field: str) -> str:
    return " ".join(response.context["form"].errors.get(field, []))


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


# --- the page -------------------------------------------------------------------------------------


def test_a_new_user_sees_the_system_mailbox_with_their_own_address(sam, inbound_sdr):
    page = sam.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "My mailbox" in html and inbound_sdr.email in html
    assert page.context["form"]["kind"].value() == "system"
    assert not Mailbox.objects.exists()  # looking writes nothing


def test_the_mailbox_is_linked_from_the_top_bar(sam):
    assert 'href="/mail/mailbox/"' in sam.get("/queue/").content.decode()


def test_an_integration_account_has_no_mailbox(client_for):
    robot = UserFactory(username="robot", role=Role.INTEGRATION)
    assert client_for(robot).get(URL).status_code == 403


def test_saving_the_system_mailbox_needs_no_server(sam, inbound_sdr):
    answer = sam.post(
        URL, {**mailbox_form("ignored@example.com"), "kind": "system", "from_name": "Sam S."}, follow=True
    )
    assert answer.status_code == 200
    assert f"You send through Refinery's mail server as {inbound_sdr.email}" in unescape(
        answer.content.decode()
    )
    mailbox = Mailbox.objects.get(user=inbound_sdr)
    assert (mailbox.kind, mailbox.from_name, mailbox.from_address) == ("system", "Sam S.", inbound_sdr.email)


# --- an own mailbox on the loopback servers -------------------------------------------------------


def test_an_own_mailbox_passes_the_test_and_its_passwords_are_stored_encrypted_and_never_shown(
    sam, inbound_sdr, logs, capfd
):
    address = unique_address("sam")
    answer = sam.post(URL, mailbox_form(address), follow=True)

    html = answer.content.decode()
    assert "The connection test passed: your SMTP and IMAP server answered." in html
    mailbox = Mailbox.objects.get(user=inbound_sdr)
    assert (mailbox.kind, mailbox.smtp_host, mailbox.smtp_port, mailbox.imap_port) == (
        "own",
        HOST,
        SMTP_PORT,
        IMAP_PORT,
    )
    assert mailbox.check_error == "" and mailbox.checked_at is not None
    assert PASSWORD not in mailbox.smtp_password_encrypted and PASSWORD not in mailbox.imap_password_encrypted
    assert (mailbox.smtp_password, mailbox.imap_password) == (PASSWORD, PASSWORD)
    # Never shown again: not on the page after saving, not on the edit page, not masked either.
    edit = sam.get(URL).content.decode()
    for body in (html, edit):
        assert PASSWORD not in body
        assert mailbox.smtp_password_encrypted not in body
    assert 'name="smtp_password"' in edit and 'name="smtp_password" value' not in edit
    assert "A password is stored (not shown)" in edit
    assert all(
        PASSWORD not in record.getMessage() and PASSWORD not in (record.exc_text or "")
        for record in logs.records
    )
    # smtplib's and imaplib's debugging (which would print the AUTH and LOGIN lines) stays off.
    out, err = capfd.readouterr()
    assert PASSWORD not in out and PASSWORD not in err


def test_a_blank_password_keeps_the_stored_one(sam, inbound_sdr):
    address = unique_address("sam")
    sam.post(URL, mailbox_form(address))
    answer = sam.post(URL, mailbox_form(address, smtp_password="", imap_password="", from_name="Sam Again"))
    assert answer.status_code == 302
    mailbox = Mailbox.objects.get(user=inbound_sdr)
    assert mailbox.from_name == "Sam Again"
    assert (mailbox.smtp_password, mailbox.imap_password) == (PASSWORD, PASSWORD)


def test_a_stored_password_is_not_sent_to_a_new_server_without_being_typed_again(sam, inbound_sdr):
    address = unique_address("sam")
    sam.post(URL, mailbox_form(address))
    answer = sam.post(URL, mailbox_form(address, smtp_host="localhost", smtp_password="", imap_password=""))
    assert answer.status_code == 400
    assert "Enter the SMTP password again: the server or user name changed." in errors_of(
        answer, "smtp_password"
    )
    assert Mailbox.objects.get(user=inbound_sdr).smtp_host == HOST


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"smtp_port": "70000"}, "smtp_port", "Enter a port from 1 to 65535."),
        ({"daily_limit": "0"}, "daily_limit", "Enter a number from 1 to 5,000."),
        ({"pace_seconds": "-5"}, "pace_seconds", "Enter a number of seconds from 0 to 3,600."),
        ({"smtp_host": "smtp example com"}, "smtp_host", "Enter a server name such as smtp.example.com"),
        ({"smtp_username": "sam\r\nRCPT TO:<x@y>"}, "smtp_username", "Use one line of text"),
        ({"from_name": "Sam\nBcc: x@y"}, "from_name", "Use one line of text"),
        ({"smtp_security": "rot13"}, "smtp_security", "Choose STARTTLS, TLS from the start, or none."),
    ],
)
def test_out_of_range_and_multi_line_settings_are_refused(sam, inbound_sdr, changes, field, message):
    answer = sam.post(URL, mailbox_form(unique_address("sam"), **changes))
    assert answer.status_code == 400
    assert message in errors_of(answer, field)
    assert not Mailbox.objects.exists()


def test_a_password_beyond_ascii_is_refused_before_any_server_is_asked(sam, logs):
    answer = sam.post(URL, mailbox_form(unique_address("sam"), smtp_password="pässwörd"))
    assert answer.status_code == 400
    assert "Use ASCII letters, digits and punctuation only" in errors_of(answer, "smtp_password")
    assert "pässwörd" not in answer.content.decode()
    assert not Mailbox.objects.exists()


# --- the connection test says what failed -----------------------------------------------------------


def failing(sam, logs, **changes):
    """Post a form the test refuses: nothing is saved, the password appears nowhere."""
    address = unique_address("sam")
    form = mailbox_form(address, **changes)
    answer = sam.post(URL, form)
    assert answer.status_code == 400
    html = answer.content.decode()
    assert "The connection test failed; nothing was saved." in html
    assert "Save anyway" in html
    for secret in (PASSWORD, WRONG):
        assert secret not in html
        for record in logs.records:
            assert secret not in record.getMessage() and secret not in (record.exc_text or "")
    assert not Mailbox.objects.filter(kind="own").exists()
    return answer


def test_an_unresolvable_host_is_a_dns_problem(sam, logs):
    answer = failing(sam, logs, smtp_host="smtp.example.invalid")
    assert "smtp.example.invalid does not resolve" in errors_of(answer, "smtp_host")


def test_a_closed_port_refuses_the_connection(sam, logs):
    port = closed_port()
    answer = failing(sam, logs, imap_port=str(port))
    assert f"{HOST}:{port} refused the connection" in errors_of(answer, "imap_port")


def test_a_self_signed_certificate_fails_the_tls_verification(sam, logs):
    answer = failing(
        sam,
        logs,
        smtp_port=str(SMTPS_PORT),
        smtp_security="ssl",
        imap_port=str(IMAPS_PORT),
        imap_security="ssl",
    )
    assert f"TLS failed at {HOST}:{SMTPS_PORT}: certificate verify failed" in errors_of(
        answer, "smtp_security"
    )
    assert f"TLS failed at {HOST}:{IMAPS_PORT}: certificate verify failed" in errors_of(
        answer, "imap_security"
    )


def test_starttls_with_a_self_signed_certificate_fails_the_tls_verification(sam, logs):
    answer = failing(sam, logs, smtp_security="starttls")
    assert f"TLS failed at {HOST}:{SMTP_PORT}: certificate verify failed" in errors_of(
        answer, "smtp_security"
    )


def test_tls_from_the_start_on_a_plain_port_is_a_wrong_version_number(sam, logs):
    answer = failing(sam, logs, smtp_security="ssl", imap_security="ssl")
    assert "wrong version number" in errors_of(answer, "smtp_security")
    assert "wrong version number" in errors_of(answer, "imap_security")


def test_a_wrong_password_is_refused_by_both_servers(sam, logs):
    answer = failing(sam, logs, smtp_password=WRONG, imap_password=WRONG)
    assert "The SMTP server refused the user name or password (535" in errors_of(answer, "smtp_password")
    assert "The IMAP server refused the user name or password ([AUTHENTICATIONFAILED]" in errors_of(
        answer, "imap_password"
    )


def test_a_folder_the_server_does_not_have_is_named_with_the_ones_it_has(sam, logs):
    answer = failing(sam, logs, sent_folder="Sent Items")
    message = errors_of(answer, "sent_folder")
    assert message.startswith("The folder 'Sent Items' does not exist; your server has: ")
    assert "INBOX" in message and "Sent" in message


def test_save_anyway_keeps_the_settings_and_the_problems(sam, inbound_sdr, logs):
    address = unique_address("sam")
    answer = sam.post(URL, mailbox_form(address, imap_password=WRONG, save_anyway="on"), follow=True)
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "Saved, but the connection test failed" in html
    assert "The IMAP server refused the user name or password" in html
    assert WRONG not in html and PASSWORD not in html
    mailbox = Mailbox.objects.get(user=inbound_sdr)
    assert mailbox.kind == "own" and "IMAP server refused" in mailbox.check_error
    assert mailbox.imap_password == WRONG  # what the person chose to keep
    # The page keeps saying so.
    assert "Your mailbox has a problem" in sam.get(URL).content.decode()


def test_connecting_another_imap_account_starts_reading_it_afresh(sam, inbound_sdr):
    """The poller passes over mail from before a mailbox was connected and keeps each folder's
    position: a new IMAP account is connected now, with no position carried over."""
    sam.get(URL)
    system = Mailbox.objects.create(user=inbound_sdr, from_address=inbound_sdr.email)
    Mailbox.objects.filter(pk=system.pk).update(created_at=system.created_at.replace(year=2020))
    address = unique_address("sam")
    assert sam.post(URL, mailbox_form(address)).status_code == 302
    connected = Mailbox.objects.get(pk=system.pk)
    assert connected.created_at.year != 2020
    FolderState.objects.create(mailbox=connected, folder="INBOX", uidvalidity=7, last_uid=42)

    # Saving the same account again keeps its positions.
    assert sam.post(URL, mailbox_form(address, from_name="Sam again")).status_code == 302
    assert FolderState.objects.filter(mailbox=connected).exists()
    assert Mailbox.objects.get(pk=system.pk).created_at == connected.created_at

    # Another user name on the server: read from now on, positions forgotten.
    other = unique_address("sam")
    assert sam.post(URL, mailbox_form(address, imap_username=other)).status_code == 302
    assert not FolderState.objects.filter(mailbox=connected).exists()
    assert Mailbox.objects.get(pk=system.pk).created_at > connected.created_at
