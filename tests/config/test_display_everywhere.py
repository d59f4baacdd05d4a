"""Every template shows moments, days and amounts through the ``display`` tag library: a raw
``|date:`` format, a ``|timezone`` conversion or a ``{% timezone %}`` block brings back the
seven formats and the unlabelled zones this replaced."""

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
RAW = re.compile(r"\|\s*(date|time)\s*:|\|\s*timezone\s*:|\{%\s*(timezone|localtime)\b")


def templates() -> list[Path]:
    found = [p for p in ROOT.glob("*/templates/**/*") if p.suffix in (".html", ".txt")]
    return [p for p in found if ".venv" not in p.parts]


def test_the_sweep_found_the_templates():
    names = {p.name for p in templates()}
    assert {"base.html", "_queue_row.html", "opportunity.html", "summary.txt"} <= names


def test_no_template_formats_a_date_itself():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in templates()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if RAW.search(line)
    ]
    assert offenders == []


def test_no_template_writes_a_zone_by_hand():
    # "UTC" after a time, or a zone's name beside it: |when names the zone itself.
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in templates()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\}\}\s*UTC\b|\(UTC\)", line)
    ]
    assert offenders == []
