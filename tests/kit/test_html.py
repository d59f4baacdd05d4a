"""``kit.html``: each helper writes exactly what the template engine wrote for the same value."""

import random
from decimal import Decimal

import pytest
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from kit.html import esc, one_decimal, url_maker


def test_one_decimal_is_floatformat_1():
    rng = random.Random(18)
    values = [0, 0.0, -0.0, 0.05, 0.25, 0.35, 2.675, 1e-7, -0.04, 999.95, 1234.56, 100, Decimal("3.45")]
    values += [rng.uniform(0, 200) for _ in range(2000)] + [round(rng.uniform(0, 50), 2) for _ in range(2000)]
    assert [one_decimal(v) for v in values] == [str(floatformat(v, 1)) for v in values]


@pytest.mark.parametrize(
    "value",
    ["plain", 'Tom & <Jerry> O\'Neil "x"', "", 12, mark_safe("<b>safe</b>"), gettext_lazy("Not rated")],
)
def test_esc_is_conditional_escape(value):
    assert esc(value) == str(conditional_escape(value))


@pytest.mark.parametrize("name", ["leads:detail", "sdr:item", "accounts:opportunity", "renewals:contract"])
def test_url_maker_is_reverse(name):
    make = url_maker(name)
    assert [make(pk) for pk in (1, 42, 10**9)] == [reverse(name, args=[pk]) for pk in (1, 42, 10**9)]
