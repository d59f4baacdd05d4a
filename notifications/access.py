"""Who may see and change what in ``notifications``.

| who | sees | may change |
| --- | --- | --- |
| anyone signed in | their own notifications (``own_notifications``) and their own email choice | marking their own read; their own email choice |
| anyone else | nothing: the pages redirect to the login, the API answers 401/403 | nothing |

Another person's notification is a 404, the same answer as one that does not exist. A
notification's text and path are written by the app that had the news, about a record the
recipient works (their lead, handoff, contract); the page it opens checks access again, so
a record reassigned since answers as it would to any other visitor.
"""

from .models import Notification, NotificationQuerySet


def own_notifications(user) -> NotificationQuerySet:
    return Notification.objects.for_recipient(user)
