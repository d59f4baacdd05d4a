"""Who may see and change what in ``work``: the breach review and the work items behind it.

| who | sees | may change |
| --- | --- | --- |
| a manager | their teams' breaches and work items (``visible_breaches``, ``visible_items``) | acknowledge their teams' breaches (``may_review_breaches``) |
| a superuser | every team's | every team's |
| anyone else | nothing here: the page and the API answer 403 | nothing |

Another team's breach is a 404, the same answer as one that does not exist. A rep's own work
items are shown in the queue of the app that owns them (``sdr``, ``accounts``, ``renewals``),
each by that app's rule. The team rules themselves (who manages whom) are ``team.access``.
"""

from team.access import can_manage_reps

from .models import Breach, BreachQuerySet, WorkItem, WorkItemQuerySet


def may_review_breaches(user) -> bool:
    """Managers and superusers review breaches (the page, the API, acknowledging one)."""
    return can_manage_reps(user)


def visible_breaches(user) -> BreachQuerySet:
    """The breaches ``user`` reviews: their teams' (every team's for a superuser)."""
    return Breach.objects.visible_to(user)


def visible_items(user) -> WorkItemQuerySet:
    """The work items behind the breach review ``user`` sees (at risk, timed): their teams'."""
    return WorkItem.objects.visible_to(user)
