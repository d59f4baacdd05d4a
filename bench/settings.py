"""Settings for benchmark processes: the production settings, plus a URLconf that adds the
baseline endpoint. ``config.settings`` does not read ``ROOT_URLCONF`` from the environment,
so gunicorn and the bench workers run with ``DJANGO_SETTINGS_MODULE=bench.settings``."""

from config.settings import *  # noqa: F403 (the whole production configuration, on purpose)

ROOT_URLCONF = "bench.baseline_urls"
