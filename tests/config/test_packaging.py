"""`pip install .` outside the checkout is a whole Refinery: its pages, assets, the demo app and
the `refinery` command (manage.py for an installed copy), as the README's production section
promises."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

CHECK = """
import os, sys
import django
django.setup()
from django.contrib.staticfiles import finders
from django.core.management import call_command, get_commands
from django.template.loader import get_template
print("template", get_template("base.html").origin.name)
print("static", finders.find("js/htmx.min.js"))
print("seed_demo", get_commands()["seed_demo"])
sys.argv = ["refinery", "check"]
from config.cli import main
main()
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """Refinery installed from the checkout into a folder of its own (its dependencies are the
    test run's own)."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
         "--target", str(target), str(settings.BASE_DIR)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return target


def test_the_installed_package_carries_the_pages_assets_and_the_demo(installed):
    assert (installed / "config" / "templates" / "base.html").is_file()
    assert (installed / "config" / "templates" / "leads" / "lead_list.html").is_file()
    assert (installed / "config" / "static" / "js" / "htmx.min.js").is_file()
    assert (installed / "config" / "static" / "css" / "refinery.css").is_file()
    assert (installed / "demo" / "management" / "commands" / "seed_demo.py").is_file()
    assert (installed / "renewals" / "migrations" / "0001_initial.py").is_file()
    assert (installed / "bin" / "refinery").is_file()


def test_an_installed_refinery_runs_from_anywhere_on_its_own_files(installed, tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "PYTHONPATH", "DATABASE_URL", "REDIS_URL"}
    }
    env.update(
        PYTHONPATH=str(installed),
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="1",
        REFINERY_VAR_DIR=str(tmp_path / "var"),
    )
    done = subprocess.run(
        [sys.executable, "-c", CHECK], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    assert lines["template"].startswith(str(installed))
    assert lines["static"].startswith(str(installed))
    assert lines["seed_demo"] == "demo"
    assert "System check identified no issues" in done.stdout
