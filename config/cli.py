"""The ``refinery`` command: Django's management commands with Refinery's settings.

An installed Refinery (``pip install .``) has no ``manage.py``; ``refinery migrate``,
``refinery collectstatic`` or ``refinery seed_demo`` do what ``python manage.py ...`` does in
a checkout.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
