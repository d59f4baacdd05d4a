"""URLs of the accounts app's handoff pages (included by accounts/urls.py)."""

urlpatterns: list = []
