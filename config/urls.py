from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from kit.api_errors import api_not_found
from kit.throttle import throttle_logins
from leads import views as lead_views
from sdr.urls import manage_urls as sdr_manage_urls
from team.api import ObtainTokenView

from .api import router
from .views import home


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("", home, name="home"),
    path(
        "login/",
        throttle_logins(auth_views.LoginView.as_view(redirect_authenticated_user=True)),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("leads/", include("leads.urls")),
    path("", include("sdr.urls")),
    path("teams/", include(sdr_manage_urls)),
    path("work/", include("work.urls")),
    path("notifications/", include("notifications.urls")),
    path("", include("accounts.urls")),
    path("", include("renewals.urls")),
    path("", include("team.urls")),
    path("insight/", include("insight.urls")),
    path("", include("search.urls")),
    path("duplicates/", include("dedupe.urls")),
    path("best-customers/", include("propensity.urls")),
    path("", include("mail.urls")),
    path("f/<str:key>/", lead_views.web_form, name="web_form"),
    path("api/v1/", include(router.urls)),
    path("api/v1/auth/token/", ObtainTokenView.as_view(), name="api_token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script from a URL, not inline (the Content-Security-Policy).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api_docs"),
    # Redoc styles itself with inline <style> elements and searches in a worker made from a
    # blob: allowed on this page, and only here.
    path(
        "api/redoc/",
        csp_update({"style-src": [UNSAFE_INLINE], "worker-src": [SELF, "blob:"]})(
            SpectacularRedocView.as_view(url_name="schema")
        ),
        name="api_redoc",
    ),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),  # after every API route: a JSON 404, DEBUG or not
    path("admin/login/", throttle_logins(admin.site.login)),  # before the admin's own, unthrottled
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]

# Under /api/ Django's own error pages answer JSON too (kit/api_errors.py).
handler400 = "kit.api_errors.bad_request"
handler403 = "kit.api_errors.permission_denied"
handler404 = "kit.api_errors.page_not_found"
handler500 = "kit.api_errors.server_error"
