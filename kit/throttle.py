"""Refusing too many attempts, and saying when to come back.

Password guessing is throttled twice, on the fixed-window counters of ``kit.ratelimit``
(Redis across every web process in production, the cache in the embedded mode): by account
(the username tried, ``LOGIN_RATE_ACCOUNT``) and by client address (``LOGIN_RATE_CLIENT``).
Failed attempts count; signing in does not, so a person who logs in often is never refused.
Once either count is used up, every attempt is refused before the password is checked, so a
guesser learns nothing more, not even from the right password. The login page, the admin's
login and the API's token endpoint all ask ``login_wait`` first and call ``login_failed``.
"""

import hashlib
import math
import time
from functools import wraps

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render

from kit.ratelimit import at_limit, client_address, over_limit, parse_rate


def seconds_left(rate: str) -> int:
    """Seconds until the current window of ``rate`` ends: a refused client's ``Retry-After``."""
    _, window = parse_rate(rate)
    return max(1, math.ceil(window - time.time() % window))


def _counters(request, username: str) -> tuple[tuple[str, str, str], ...]:
    account = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
    return (
        ("login-account", account, settings.LOGIN_RATE_ACCOUNT),
        ("login-client", client_address(request), settings.LOGIN_RATE_CLIENT),
    )


def login_wait(request, username: str) -> int:
    """The seconds to wait before ``username`` may be tried again from this client, when
    either has used up its failed attempts; else 0. Counts nothing."""
    waits = [
        seconds_left(rate) for group, key, rate in _counters(request, username) if at_limit(group, key, rate)
    ]
    return max(waits, default=0)


def login_failed(request, username: str) -> None:
    """Count a failed attempt for ``username`` and for this client."""
    for group, key, rate in _counters(request, username):
        over_limit(group, key, rate)


def throttle_logins(view):
    """Wrap a login form view: a POST over the rates gets the login page again with 429 and
    ``Retry-After``, and the password is not checked."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method == "POST":
            username = request.POST.get("username", "")
            wait = login_wait(request, username)
            if wait:
                form = AuthenticationForm(request, initial={"username": username})
                context = {
                    "form": form,
                    "next": request.POST.get("next", ""),
                    "wait_minutes": math.ceil(wait / 60),
                }
                response = render(request, "registration/login.html", context, status=429)
                response["Retry-After"] = str(wait)
                return response
            response = view(request, *args, **kwargs)
            if response.status_code == 200:  # the form again, with its error: not signed in
                login_failed(request, username)
            return response
        return view(request, *args, **kwargs)

    return wrapped
