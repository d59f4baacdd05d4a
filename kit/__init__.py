"""The shared kit: the bottom layer of Refinery.

Small helpers every app may use, from the web layer (htmx, rate limits, login throttling,
request parsers) to the domain's input ranges (``kit.bounds``) and the fail-open Redis cache.
The kit imports Django, DRF and the standard library only, never an app; ``config`` (settings,
URLs, Celery, the API's error handler) is the top that wires the apps together and nothing
imports it but the entry points.
"""
