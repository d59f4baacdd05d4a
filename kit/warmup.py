"""Work a web process does once at start instead of in its first requests.

Django compiles a template the first time it is rendered and keeps it (the cached loader), and
fills its URL resolver on the first request. In a fresh web process the first view of each page
paid for both: under the mixed load (``make loadtest``) an AE's inbox took 630 ms of CPU the
first time in each process and 56 ms after, so every restart and every new worker put a few
such answers into the pages' p95. ``config/gunicorn.py`` calls ``warm_up`` in each worker
before it takes requests.
"""

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
