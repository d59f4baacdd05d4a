"""The one check that lets a view serve both its page and its htmx partial."""


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"
