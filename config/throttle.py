"""Refusing too many attempts, and saying when to come back.

Password guessing is throttled twice, on the fixed-window counters of ``config.ratelimit``
(Redis across every web process in production, the cache in the embedded mode): by account
(the username tried, ``LOGIN_RATE_ACCOUNT``) and by client address (``LOGIN_RATE_CLIENT``).
Every attempt counts, right or wrong: the check has to come before the password is checked, or a
guesser would learn the right password from the answer. The login page, the admin's login and
the API's token endpoint all go through ``login_wait``.
"""

import hashlib
import math
import time
from functools import wraps

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render

from config.ratelimit import client_address, over_limit, parse_rate


def seconds_left(rate: str) -> int:
    """Seconds until the current window of ``rate`` ends: a refused client's ``Retry-After``."""
    _, window = parse_rate(rate)
    return max(1, math.ceil(window - time.time() % window))


def login_wait(request, username: str) -> int:
    """Count one login attempt for ``username`` from this client; the seconds to wait before
    trying again when either is over its rate, else 0."""
    account = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
    waits = [
        seconds_left(rate)
        for group, key, rate in (
            ("login-account", account, settings.LOGIN_RATE_ACCOUNT),
            ("login-client", client_address(request), settings.LOGIN_RATE_CLIENT),
        )
        if over_limit(group, key, rate)
    ]
    return max(waits, default=0)


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
        return view(request, *args, **kwargs)

    return wrapped
