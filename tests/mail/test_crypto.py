"""Mailbox passwords are encrypted at rest with keys from the environment, and a rotated key
still reads what the old one wrote."""

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from mail import crypto
from mail.models import Mailbox
from tests.factories import UserFactory


@pytest.fixture
def keys(settings):
    def use(*values):
        settings.MAIL_ENCRYPTION_KEYS = list(values)
        crypto.keys_changed()

    yield use
    crypto.keys_changed()


@pytest.mark.django_db
def test_the_password_is_not_stored_in_clear(keys):
    keys(Fernet.generate_key().decode())
    mailbox = Mailbox(user=UserFactory(), kind=Mailbox.Kind.OWN, from_address="rep@example.com")
    mailbox.smtp_password = "app-password-123"
    mailbox.save()
    with connection.cursor() as cursor:
        cursor.execute("SELECT smtp_password_encrypted FROM mail_mailbox WHERE id = %s", [mailbox.pk])
        [stored] = cursor.fetchone()
    assert "app-password-123" not in stored
    assert Mailbox.objects.get(pk=mailbox.pk).smtp_password == "app-password-123"


def test_a_new_key_in_front_still_reads_what_the_old_key_wrote(keys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    keys(old)
    token = crypto.encrypt("secret")
    keys(new, old)
    assert crypto.decrypt(token) == "secret"
    assert Fernet(new.encode()).decrypt(crypto.encrypt("secret").encode()) == b"secret"


def test_a_token_no_key_can_read_says_to_enter_the_password_again(keys):
    keys(Fernet.generate_key().decode())
    token = crypto.encrypt("secret")
    keys(Fernet.generate_key().decode())
    with pytest.raises(crypto.CredentialError, match="enter it again"):
        crypto.decrypt(token)
