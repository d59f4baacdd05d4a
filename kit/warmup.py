"""Work a web process does once at start instead of in its first requests.

Django compiles a template the first time it is rendered and keeps it (the cached loader), and
fills its URL resolver on the first request. In a fresh web process the first view of each page
paid for both: under the mixed load (``make loadtest``) an AE's inbox took 630 ms of CPU the
first time in each process and 56 ms after, so every restart and every new worker put a few
such answers into the pages' p95. ``config/gunicorn.py`` calls ``warm_up`` in each worker
before it takes requests, then ``freeze_heap``.

A warmed web process holds about 270,000 objects it keeps for its life (modules, settings, the
URL resolver, the compiled templates). Python's cyclic garbage collector walked them all on
each full collection: about 110 ms, every fifteen or so views of an insight page, stalling
whichever request happened to allocate at that moment (at 1 M leads an insight section took
50 ms, and 160 ms when a collection fell in it). ``freeze_heap`` moves them out of the
collector's reach once, after the warm-up (``gc.freeze``, the reason it exists); later
collections walk only what requests made.
"""

import gc
import logging
import time
from pathlib import Path

from django.conf import settings
from django.template import TemplateSyntaxError, engines
from django.urls import get_resolver

logger = logging.getLogger(__name__)


def project_templates() -> list[tuple[str, str]]:
    """(engine alias, template name) of every template in the project's own directories."""
    base = Path(settings.BASE_DIR).resolve()
    found = []
    for engine in engines.all():
        for name in engine.template_dirs:
            directory = Path(name).resolve()
            if not directory.is_relative_to(base) or ".venv" in directory.parts:
                continue  # third-party packages' templates are compiled when first used
            found += [(engine.name, str(p.relative_to(directory))) for p in sorted(directory.rglob("*.html"))]
    return found


def warm_up() -> int:
    """Compile the project's templates into the cached loader and fill the URL resolver;
    returns the number of templates compiled."""
    started = time.process_time()
    get_resolver().reverse_dict  # noqa: B018 (reading it fills the resolver, as a first request would)
    compiled = 0
    for alias, name in project_templates():
        try:
            engines[alias].get_template(name)
            compiled += 1
        except TemplateSyntaxError:  # a template for an optional package not installed here
            logger.warning("warm-up: %s does not compile here", name)
    logger.info("warm-up: %d templates in %.0f ms", compiled, (time.process_time() - started) * 1000)
    return compiled


def freeze_heap() -> int:
    """Collect once, then leave every object alive now out of later collections (they live as
    long as the process); returns how many were frozen."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    logger.info("warm-up: %d objects frozen out of the garbage collector's walks", frozen)
    return frozen
