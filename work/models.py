"""work: nothing yet (see DESIGN.md)."""

from django.db import models  # noqa: F401  (work items arrive with the SLA issue)
