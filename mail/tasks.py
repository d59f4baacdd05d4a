"""Thin Celery tasks: take ids, call one service, safe to run twice (a message is claimed
before it is sent)."""

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def send_message(message_id: int) -> str:
    return services.send_message(message_id=message_id)


@shared_task(expires=25)
def send_due() -> dict:
    return services.send_due().outcomes


@shared_task(expires=55)
def poll_mailboxes() -> dict:
    return services.poll_mailboxes()


@shared_task(expires=55)
def poll_mailbox(mailbox_id: int) -> dict:
    return services.poll_mailbox(mailbox_id=mailbox_id).as_dict()
