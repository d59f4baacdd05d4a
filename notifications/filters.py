"""The one FilterSet of the notification list, shared by the page and the API."""

import django_filters

from .models import Kind, Notification


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull", label="Unread only")
    kind = django_filters.ChoiceFilter(choices=Kind.choices)

    class Meta:
        model = Notification
        fields = ["unread", "kind"]
