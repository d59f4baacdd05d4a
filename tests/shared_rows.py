"""Rows built once for a whole class or module of tests, as ``TestCase.setUpTestData`` does."""

from contextlib import contextmanager

from django.db import transaction
from django.test import override_settings

# The tests' password hasher (tests/conftest.py's ``_test_settings``): the default one takes a
# noticeable time per user on purpose.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def restore_migrated_rows() -> None:
    """The rows the data migrations create; transactional tests flush them, so put them back."""
    from accounts.services import acceptance_policy, ensure_default_stages
    from leads.models import ScoringSettings
    from renewals.models import RenewalSettings
    from renewals.services import renewal_policies
    from sdr.services import first_touch_policies

    ScoringSettings.load()
    first_touch_policies()
    acceptance_policy()
    ensure_default_stages()
    renewal_policies()
    RenewalSettings.load()


@contextmanager
def kept_for_the_scope(django_db_blocker):
    """For a class- or module-scoped fixture: the rows it makes inside ``with building():`` stay
    for every test of its scope, in a transaction rolled back after the last one. Each test
    still runs in a savepoint of its own (pytest-django's ``db``), so no test sees what another
    changed; hand each test a ``copy.deepcopy`` of the instances, as ``setUpTestData`` does, so
    none sees another's attributes either::

        with kept_for_the_scope(django_db_blocker) as building:
            with building():
                rows = make_them()
            yield rows
    """

    @contextmanager
    def building():
        with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
            yield

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        restore_migrated_rows()
    try:
        yield building
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
