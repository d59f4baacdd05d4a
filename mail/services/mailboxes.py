"""Mailboxes: the one a person sends from (a system mailbox with their own address until they
connect their own)."""

from django.db import IntegrityError, transaction

from ..models import Mailbox


def mailbox_for(user) -> Mailbox:
    """``user``'s mailbox; the first time, a system mailbox sending as their own address."""
    mailbox = Mailbox.objects.filter(user=user).first()
    if mailbox is not None:
        return mailbox
    try:
        with transaction.atomic():
            return Mailbox.objects.create(
                user=user,
                kind=Mailbox.Kind.SYSTEM,
                from_name=user.get_full_name(),
                from_address=user.email or f"{user.username}@localhost",
            )
    except IntegrityError:
        return Mailbox.objects.get(user=user)
