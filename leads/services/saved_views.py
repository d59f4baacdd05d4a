"""Saved views of the lead list: saving the current filters and sort under a name, sharing,
renaming, updating with the current filters, making one's default, deleting. Who may do which
is ``leads.access`` (the views check it; the services check the sharing rule again, as a task
or another page might call them)."""

from django.db import IntegrityError, transaction
from django.http import QueryDict

from kit.errors import Refused

from ..access import may_share_view
from ..filters import LeadFilter, clean_list_query
from ..models import Lead, SavedView

QUERY_MAX = 2000  # SavedView.query's max_length


class SavedViewError(Refused):
    """A saved view that cannot be saved as asked (a name taken, filters with errors, a
    scope the person may not give)."""


def validated_query(query: str) -> str:
    """The lead-list query string as a saved view stores it: only the keys the list reads,
    checked by ``LeadFilter`` (a deleted campaign, a bad date: refused)."""
    params, _dropped = clean_list_query(QueryDict(query[:4000]))
    lead_filter = LeadFilter(params, queryset=Lead.objects.none())
    if not lead_filter.is_valid():
        fields = ", ".join(sorted(lead_filter.errors))
        raise SavedViewError(f"The current filters have errors ({fields}); fix them before saving.", "query")
    text = params.urlencode()
    if len(text) > QUERY_MAX:
        raise SavedViewError("These filters are too long to save; narrow them.", "query")
    return text


def _scope_team(owner, scope: str) -> int | None:
    if scope == SavedView.Scope.TEAM:
        if owner.team_id is None:
            raise SavedViewError(
                "You are in no team; share it with everyone or keep it to yourself.", "scope"
            )
        return owner.team_id
    return None


def _save(view: SavedView, fields: list[str]) -> SavedView:
    try:
        with transaction.atomic():
            if view.is_default:
                SavedView.objects.filter(owner_id=view.owner_id, is_default=True).exclude(pk=view.pk).update(
                    is_default=False
                )
            if view.pk is None:
                view.save()
            else:
                view.save(update_fields=[*fields, "updated_at"])
    except IntegrityError:
        raise SavedViewError(f"You already have a view named “{view.name}”.", "name") from None
    return view


def save_view(*, owner, name: str, query: str, scope: str, is_default: bool = False) -> SavedView:
    """Save the list's current filters and sort under a name (personal or shared)."""
    if not may_share_view(owner, scope):
        raise SavedViewError("You may not share a view that widely.", "scope")
    name = name.strip()
    if not name:
        raise SavedViewError("Give the view a name.", "name")
    view = SavedView(
        owner=owner,
        name=name,
        query=validated_query(query),
        scope=scope,
        team_id=_scope_team(owner, scope),
        is_default=is_default,
    )
    return _save(view, [])


def edit_view(*, view: SavedView, by, name: str, scope: str, is_default: bool) -> SavedView:
    """Rename a view, change whom it is shared with, and (its owner only) make it the default."""
    if scope != view.scope and not may_share_view(by, scope):
        raise SavedViewError("You may not share a view that widely.", "scope")
    name = name.strip()
    if not name:
        raise SavedViewError("Give the view a name.", "name")
    owner = view.owner
    view.name, view.scope, view.team_id = name, scope, _scope_team(owner, scope)
    fields = ["name", "scope", "team"]
    if by.pk == view.owner_id:
        view.is_default = is_default
        fields.append("is_default")
    return _save(view, fields)


def update_view_query(*, view: SavedView, query: str) -> SavedView:
    """Store the list's current filters and sort in an existing view."""
    view.query = validated_query(query)
    return _save(view, ["query"])


def delete_view(*, view: SavedView) -> None:
    view.delete()
