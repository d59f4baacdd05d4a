"""URLs of the AM's expansion-lead actions (included by renewals/urls.py)."""

urlpatterns: list = []
