"""The public web form: a marketing site's form posts here (CSRF-exempt, keyed, rate-limited);
the post is stored and captured by a worker."""

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from kit.ratelimit import client_address, over_limit
from kit.throttle import seconds_left

from .. import services
from ..forms import WebFormSubmission
from ..models import WebForm


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _form_response(request, web_form, form, status, *, thanked=False):
    if _wants_json(request):
        body = (
            {"ok": True, "message": web_form.thank_you_message}
            if thanked
            else {"ok": False, "errors": form.errors}
        )
        response = JsonResponse(body, status=status)
    else:
        template = "leads/webform_thanks.html" if thanked else "leads/webform.html"
        response = render(request, template, {"web_form": web_form, "form": form}, status=status)
    # Marketing sites post from their own origin; the answer carries no credentials.
    response["Access-Control-Allow-Origin"] = "*"
    return response


@csrf_exempt
@require_http_methods(["GET", "POST"])
def web_form(request, key):
    """The public capture endpoint. No CSRF token is possible from a marketing site, so it is
    protected by its key, a honeypot field, a size limit and a per-client rate limit."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.WEBFORM_MAX_BYTES:
        return HttpResponse("Submission too large.", status=413, content_type="text/plain")
    web_form = WebForm.active(key)
    if web_form is None:
        raise Http404("No such form.")
    if request.method == "GET":
        return render(request, "leads/webform.html", {"web_form": web_form, "form": WebFormSubmission()})
    if over_limit("webform", client_address(request), settings.WEBFORM_RATE):
        response = HttpResponse(
            "Too many submissions; try again in a minute.", status=429, content_type="text/plain"
        )
        response["Retry-After"] = str(seconds_left(settings.WEBFORM_RATE))
        return response
    form = WebFormSubmission(request.POST)
    if form.is_bot():
        # Answer as if it worked, so the bot learns nothing; store nothing.
        return _form_response(request, web_form, form, 200, thanked=True)
    if not form.is_valid():
        return _form_response(request, web_form, form, 400)
    services.accept_submission(
        web_form=web_form,
        email=form.cleaned_data["email"],
        details=form.details(),
        hand_raiser=form.cleaned_data["wants_call"],
        note=form.cleaned_data["message"],
    )
    return _form_response(request, web_form, form, 200, thanked=True)
