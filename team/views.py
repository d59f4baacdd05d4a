"""The signed-in user's own pages: their preferences (the zone they read times in) and their API
tokens (make one, see them, revoke one)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from . import tokens
from .forms import PreferencesForm
from .zones import user_zone


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    """GET lists the user's valid tokens. POST ``name`` makes one and shows it this once (the
    answer is the page, not a redirect: the token is never stored); POST ``revoke`` revokes one."""
    new_token = None
    if request.method == "POST":
        if "revoke" in request.POST:
            try:
                revoked = tokens.revoke_token(user=request.user, token_id=int(request.POST["revoke"]))
            except ValueError:
                revoked = False
            if revoked:
                messages.success(request, "Token revoked.")
            else:
                messages.error(request, "No such token.")
            return redirect("team:api_tokens")
        _, new_token = tokens.issue_token(user=request.user, name=request.POST.get("name", ""))
    context = {
        "tokens": tokens.tokens_of(request.user),
        "new_token": new_token,
        "ttl_days": settings.API_TOKEN_TTL_DAYS,
    }
    return render(request, "team/api_tokens.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    """GET shows the person's preferences; POST saves their time zone (blank: their team
    calendar's) and comes back here, every time now shown in it."""
    user = request.user
    team_zone_name = user.team.calendar.timezone if user.team_id else "UTC"
    form = PreferencesForm(request.POST or None, instance=user, team_zone_name=team_zone_name)
    if request.method == "POST":
        if form.is_valid():
            user.save(update_fields=["timezone"])
            messages.success(request, f"Times are now shown in {user_zone(user).key}.")
            return redirect("team:preferences")
        status = 400
    else:
        status = 200
    context = {"form": form, "zone": user_zone(user), "now": timezone.now()}
    return render(request, "team/preferences.html", context, status=status)
