"""notify(): one INSERT, once per event key, never to the actor; the email for the kinds a
person chose, sent after the commit by the task, through Django's mail, once."""

from datetime import UTC, datetime

import pytest
from django.core import mail
from django.db import transaction

from notifications.models import DEFAULT_EMAIL_KINDS, Kind, Notification
from notifications.services import News, notify, send_pending_emails, set_email_kinds
from notifications.tasks import send_notification_emails
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_many_notifications_are_one_insert(django_assert_num_queries):
    people = [UserFactory(username=f"rep{i}") for i in range(5)]
    news = [News(recipient_id=p.pk, kind=Kind.ASSIGNED, text=f"Lead {p.pk}", url="/leads/1/") for p in people]

    with django_assert_num_queries(3):  # the choices, the addresses, one INSERT
        notify(news)

    assert Notification.objects.count() == 5
    assert {n.recipient_id for n in Notification.objects.all()} == {p.pk for p in people}


def test_the_same_event_is_notified_once():
    sam = UserFactory(username="sam")
    warning = News(recipient_id=sam.pk, kind=Kind.SLA_WARNING, text="About to breach", key="workitem:1:x")

    notify([warning])
    notify([warning])

    assert Notification.objects.filter(recipient=sam).count() == 1


def test_events_without_a_key_are_each_notified():
    sam = UserFactory(username="sam")
    notify([News(recipient_id=sam.pk, kind=Kind.ASSIGNED, text="A lead")])
    notify([News(recipient_id=sam.pk, kind=Kind.ASSIGNED, text="A lead")])
    assert Notification.objects.filter(recipient=sam).count() == 2


def test_nobody_is_notified_of_what_they_did_themselves():
    sam, lena = UserFactory(username="sam"), UserFactory(username="lena")
    notify(
        [
            News(recipient_id=sam.pk, kind=Kind.ASSIGNED, text="to Sam"),
            News(recipient_id=lena.pk, kind=Kind.ASSIGNED, text="to Lena"),
        ],
        by=sam,
    )
    assert list(Notification.objects.values_list("recipient__username", flat=True)) == ["lena"]


def test_a_url_leaving_the_site_is_not_kept():
    sam = UserFactory(username="sam")
    notify(
        [
            News(recipient_id=sam.pk, kind=Kind.ASSIGNED, text="off site", url="https://evil.example/"),
            News(recipient_id=sam.pk, kind=Kind.ASSIGNED, text="scheme-relative", url="//evil.example/"),
            News(recipient_id=sam.pk, kind=Kind.ASSIGNED, text="ours", url="/leads/3/"),
        ]
    )
    assert dict(Notification.objects.values_list("text", "url")) == {
        "off site": "",
        "scheme-relative": "",
        "ours": "/leads/3/",
    }


def test_by_default_only_sla_warnings_and_handoff_answers_are_emailed(django_capture_on_commit_callbacks):
    sam = UserFactory(username="sam", email="sam@example.com")
    with django_capture_on_commit_callbacks() as callbacks:
        notify(
            [News(recipient_id=sam.pk, kind=kind, text=f"{kind} news", url="/queue/") for kind in Kind.values]
        )
    assert len(callbacks) == 1  # the task is queued after the commit, once for the batch

    assert send_notification_emails() == len(DEFAULT_EMAIL_KINDS)

    assert sorted(m.subject for m in mail.outbox) == [
        "[Refinery] handoff_answered news",
        "[Refinery] sla_warning news",
    ]
    assert all(m.to == ["sam@example.com"] for m in mail.outbox)
    [warning] = [m for m in mail.outbox if "sla_warning" in m.subject]
    opened = Notification.objects.get(kind=Kind.SLA_WARNING)
    assert f"/notifications/{opened.pk}/open/" in warning.body


def test_a_person_chooses_what_comes_by_email(django_capture_on_commit_callbacks):
    sam = UserFactory(username="sam", email="sam@example.com")
    set_email_kinds(user=sam, kinds=[Kind.REPLY, "no-such-kind"])

    with django_capture_on_commit_callbacks() as callbacks:
        notify([News(recipient_id=sam.pk, kind=Kind.SLA_WARNING, text="warning")])
    assert callbacks == []  # nothing to email: no task

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify([News(recipient_id=sam.pk, kind=Kind.REPLY, text="Reply from ada@example.com: Re: hello")])
    assert len(callbacks) == 1
    send_notification_emails()

    assert [m.subject for m in mail.outbox] == ["[Refinery] Reply from ada@example.com: Re: hello"]


def test_nothing_is_emailed_to_a_person_without_an_address():
    sam = UserFactory(username="sam", email="")
    notify([News(recipient_id=sam.pk, kind=Kind.SLA_WARNING, text="warning")])
    assert send_pending_emails() == 0
    assert mail.outbox == []
    assert Notification.objects.get().email == Notification.Email.NONE


def test_each_email_is_sent_once_however_often_the_task_runs():
    sam = UserFactory(username="sam", email="sam@example.com")
    notify([News(recipient_id=sam.pk, kind=Kind.SLA_WARNING, text="warning")])

    assert send_pending_emails() == 1
    assert send_pending_emails() == 0

    assert len(mail.outbox) == 1
    assert Notification.objects.get().email == Notification.Email.SENT


def test_an_email_the_server_refuses_is_sent_by_the_next_run(settings):
    sam = UserFactory(username="sam", email="sam@example.com")
    notify([News(recipient_id=sam.pk, kind=Kind.SLA_WARNING, text="warning")])
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens

    assert send_pending_emails() == 0
    assert Notification.objects.get().email == Notification.Email.PENDING

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_pending_emails() == 1
    assert len(mail.outbox) == 1


def test_the_notification_commits_or_rolls_back_with_its_news():
    sam = UserFactory(username="sam")

    def news_then_failure():
        with transaction.atomic():
            notify([News(recipient_id=sam.pk, kind=Kind.ASSIGNED, text="never happened")])
            raise RuntimeError

    with pytest.raises(RuntimeError):
        news_then_failure()
    assert not Notification.objects.exists()
