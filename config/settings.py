"""Refinery settings, read from environment variables.

Every environment runs this one file; environments differ only in variables.
Defaults are the zero-setup embedded mode: a SQLite file and a filesystem broker.
"""

import os
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
# The site's templates and static files live in this package, so `pip install .` carries them.
CONFIG_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(environ.Env().str("REFINERY_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# Production must set SECRET_KEY: without it, sessions, CSRF tokens and password-reset links would
# be signed with a key published in this repository. Only development (DEBUG on) and the test run
# (pytest sets PYTEST_VERSION) fall back to the development key.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG and not os.environ.get("PYTEST_VERSION"):
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment (for example "
            "SECRET_KEY=\"$(python -c 'import secrets; print(secrets.token_urlsafe(64))')\"), "
            "or set DEBUG=1 for development."
        )
    SECRET_KEY = "django-insecure-refinery-development-key-set-SECRET_KEY-in-production"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",  # search: trigram index operator classes (harmless on SQLite)
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "team",
    "notifications",
    "work",
    "leads",
    "sdr",
    "accounts",
    "renewals",
    "mail",
    "insight",
    "propensity",
    "dedupe",
    "search",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "team.middleware.ViewerZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [CONFIG_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.navigation",
            ],
        },
    },
]
# Django's form renderer, with every <select> written in Python rather than a template per
# option (kit/widgets.py): the same HTML, a few hundred options for microseconds.
FORM_RENDERER = "kit.widgets.Renderer"

# Database: a SQLite file by default; production sets DATABASE_URL=postgres://...
# Connections stay open between requests (with health checks): a fresh connection per
# request costs several times the throughput of an insert endpoint.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'refinery.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Short OLTP statements: PostgreSQL's JIT compiled the renewals page's totals at 100,000
    # contracts and added ~30 ms to a 75 ms query. Off unless the URL's options say otherwise.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
    # The web runs on ASGI (config/gunicorn.py sets DATABASE_POOL_SIZE), where each request's
    # synchronous code runs in a thread of its own: a connection kept per thread would be a
    # connection per request, left open. There connections come from a pool per process.
    if env.int("DATABASE_POOL_SIZE", default=0):
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": 1,
            "max_size": env.int("DATABASE_POOL_SIZE"),
            "timeout": 10,
        }
# Admission control in front of Django in the web processes (config/asgi.py, kit/admission.py):
# per process, how many requests of each class run at once, how many more may wait for a place
# and how long; the rest get a 503 with Retry-After at once. The public class (the web form,
# the API without credentials) gets half the pool's connections, so a flood of it leaves the
# rest to reps' pages, which have their own budget.
WEB_ADMISSION_CONTROL = env.bool("WEB_ADMISSION_CONTROL", default=True)
_POOL = env.int("DATABASE_POOL_SIZE", default=0) or 8
WEB_PUBLIC_CONCURRENCY = env.int("WEB_PUBLIC_CONCURRENCY", default=max(1, _POOL // 2))
WEB_PUBLIC_QUEUE = env.int("WEB_PUBLIC_QUEUE", default=4 * WEB_PUBLIC_CONCURRENCY)
WEB_PUBLIC_WAIT_MS = env.int("WEB_PUBLIC_WAIT_MS", default=250)
WEB_SITE_CONCURRENCY = env.int("WEB_SITE_CONCURRENCY", default=_POOL)
WEB_SITE_QUEUE = env.int("WEB_SITE_QUEUE", default=16 * WEB_SITE_CONCURRENCY)
WEB_SITE_WAIT_MS = env.int("WEB_SITE_WAIT_MS", default=5000)
WEB_RETRY_AFTER_SECONDS = env.int("WEB_RETRY_AFTER_SECONDS", default=2)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # The insight facts' covering indexes INCLUDE columns for PostgreSQL's index-only scans;
    # SQLite keeps their keys and ignores the rest, which is what the embedded mode needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "team.User"
# The signed-in user is loaded with their team's calendar: its zone shows their times (team.zones).
AUTHENTICATION_BACKENDS = ["team.backends.UserBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"  # stored and computed in UTC; calendars carry their own zones
USE_I18N = True
USE_TZ = True
# The installation's currency (ISO 4217): every amount is shown with it (kit/display.py).
REFINERY_CURRENCY = env.str("REFINERY_CURRENCY", default="EUR").upper()

STATIC_URL = "static/"
STATICFILES_DIRS = [CONFIG_DIR / "static"]
STATIC_ROOT = env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))
WHITENOISE_USE_FINDERS = DEBUG
# Uploaded CSV files larger than this spill to disk instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Cache: Redis in production (shared by every web process, so the rate limit holds
# across them); a per-process memory cache in the embedded mode. The Redis cache fails open
# (kit/cache.py): with Redis down each process answers from its own memory, and short
# socket timeouts keep an unreachable Redis from holding a request.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL and os.environ.get("PYTEST_XDIST_WORKER"):
    # The tests split over processes (pytest-xdist, `make test`): as pytest-django gives each
    # worker a database of its own, each gets a Redis database of its own (the cache, the rate
    # limits, the broker's queues), worker N the one N below the given one.
    _worker = int(os.environ["PYTEST_XDIST_WORKER"].removeprefix("gw"))
    _base, _, _db = REDIS_URL.rpartition("/")
    REDIS_URL = f"{_base}/{(int(_db or 0) - _worker) % 16}"
CACHES = {
    "default": (
        {
            "BACKEND": "kit.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Email
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# Seconds an SMTP connection of the installation's own mail (escalations, renewal reminders,
# summaries) may block; Django's default is none, and a hung server held a worker for ever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Refinery <refinery@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where links in emails point (escalations name the lead to open; tracked links and the
# unsubscribe link of reps' emails come back here, so it must be reachable from the internet
# for tracking to work).
SITE_URL = env.str("SITE_URL", default="http://localhost:8000")
# Reps' email (mail/): opens and clicks tracked (off: no pixel, links left as written);
# mailbox passwords encrypted with these Fernet keys (comma-separated, the first encrypts;
# unset: a key derived from SECRET_KEY); attempts before a send is marked failed.
MAIL_TRACKING = env.bool("MAIL_TRACKING", default=True)
MAIL_ENCRYPTION_KEYS = env.list("MAIL_ENCRYPTION_KEYS", default=[])
MAIL_SEND_ATTEMPTS = env.int("MAIL_SEND_ATTEMPTS", default=5)
# Automatic emails (cadence steps, nurture tracks) leave only inside the sender's business
# hours and this window of the sender's local time ("HH:MM-HH:MM"; empty: business hours only).
MAIL_SENDING_WINDOW = env.str("MAIL_SENDING_WINDOW", default="08:00-18:00")

# Work items due within this many minutes show as "at risk" in queues and the breach review.
WORK_AT_RISK_MINUTES = env.int("WORK_AT_RISK_MINUTES", default=60)
# How often an open queue, inbox or renewals page asks whether it changed (kit/live.py; the
# cost of 500 open pages at this interval is measured by `make bench --only live`).
LIVE_POLL_SECONDS = env.int("LIVE_POLL_SECONDS", default=15)

# Learned propensity (propensity/): a model is trained only when the closed history holds at
# least this many outcomes of each kind (wins and losses), else "too little history" and the
# fit score stays; the newest share of the history is held out to measure it; the queue may
# order by it only when its held-out AUC beats the fit score's by this much; a feature seen
# fewer times than this in training is left out.
PROPENSITY_MIN_OUTCOMES = env.int("PROPENSITY_MIN_OUTCOMES", default=50)
PROPENSITY_HOLDOUT_SHARE = env.float("PROPENSITY_HOLDOUT_SHARE", default=0.2)
PROPENSITY_MIN_AUC_GAIN = env.float("PROPENSITY_MIN_AUC_GAIN", default=0.01)
PROPENSITY_MIN_FEATURE_COUNT = env.int("PROPENSITY_MIN_FEATURE_COUNT", default=10)

# Security: strict by default, relaxed only by variables (the demo runs plain HTTP).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every answer: the pages have no inline script, style or eval (htmx
# is told not to inject its indicator style), so only the site's own files run or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# Celery: Redis in production; a filesystem broker (no server) in the embedded mode.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _folder in (_broker_dir, VAR_DIR / "broker-control"):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, str | float] = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(VAR_DIR / "broker-control"),
    }
else:
    # A broker outage must not hold a web request: sending a task gives up within about two
    # seconds (the callers fail open; beat's sweeps catch up). socket_timeout also unblocks a
    # worker or a publish stuck on a connection the broker dropped without closing it.
    CELERY_BROKER_CONNECTION_TIMEOUT = 1.0
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1.0, "socket_timeout": 5.0}
    CELERY_TASK_PUBLISH_RETRY_POLICY = {
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.2,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    # Email: scheduled and cadence emails that are due (each also has a task sent when it is
    # scheduled; this is the timer and the safety net), paced per mailbox.
    "mail-send-due": {
        "task": "mail.tasks.send_due",
        "schedule": 15.0,
        "options": {"expires": 14},
    },
    # Replies, bounces and the Sent folder of every mailbox Refinery reads over IMAP.
    "mail-poll-mailboxes": {
        "task": "mail.tasks.poll_mailboxes",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
    # Cadences' automatic email steps and nurture tracks' emails that are due: each step's
    # email written once, then sent (paced) by mail-send-due.
    "mail-send-due-steps": {
        "task": "mail.tasks.send_due_steps",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
    # Leads that entered nurture (captured below the threshold, imported, gone cold) join the
    # active nurture track.
    "enroll-nurture-leads": {
        "task": "sdr.tasks.enroll_nurture_leads",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 240},
    },
    "engagement-thresholds": {
        "task": "leads.tasks.sweep_engagement_thresholds",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 240},
    },
    # Safety net: web-form submissions are drained by a task sent on arrival; this catches
    # any a lost message or a broker outage left behind.
    "drain-web-submissions": {
        "task": "leads.tasks.process_submissions",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    "resume-queued-imports": {
        "task": "leads.tasks.resume_queued_imports",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
    # SLA timers are rows: this marks breaches, escalates and reassigns every minute, and a
    # run that was missed is caught up by the next.
    "sweep-sla-breaches": {
        "task": "work.tasks.sweep_breaches",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
    # SLA warnings: open timers past their policy's warning share get one notification, before
    # they breach (claimed, so once).
    "warn-sla-timers": {
        "task": "work.tasks.warn_sla_timers",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
    # Notification emails: each is also sent by a task queued when it is written; this is the
    # safety net for a broker outage or a refused send.
    "notification-emails": {
        "task": "notifications.tasks.send_notification_emails",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
    # Sales-ready leads not routed at once (crossed the threshold in the engagement sweep, or
    # nobody could take them) are routed here.
    # Search: the words of new leads, contacts and accounts join the vocabulary that corrects
    # typos (search.vocabulary); a nightly rebuild drops the words nobody holds any more.
    "search-vocabulary": {
        "task": "search.tasks.refresh_vocabulary",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 240},
    },
    "search-vocabulary-rebuild": {
        "task": "search.tasks.rebuild_vocabulary",
        "schedule": crontab(hour=3, minute=40),
        "options": {"expires": 3600},
    },
    # The person duplicate finder's stored keys (dedupe.keys): the leads written since the last
    # refresh (the page refreshes them too, so its own step stays small); every lead at night,
    # which also corrects what no watermark sees.
    "dedupe-refresh-keys": {
        "task": "dedupe.tasks.refresh_keys",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 240},
    },
    "dedupe-rebuild-keys": {
        "task": "dedupe.tasks.rebuild_keys",
        "schedule": crontab(hour=3, minute=20),
        "options": {"expires": 3600},
    },
    "route-waiting-leads": {
        "task": "sdr.tasks.route_waiting_leads",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
    # Renewal windows open once a day (the task catches up on days it missed, and opens a
    # window at most once per contract however often it runs).
    "renewals": {
        "task": "renewals.tasks.run_renewals",
        "schedule": crontab(hour=5, minute=30),
        "options": {"expires": 6 * 3600},
    },
    # Insight's lead facts: the leads that changed, every minute; every lead at night, which
    # also corrects what leaves no event (a campaign's channel edited, a bulk re-score).
    "insight-refresh-facts": {
        "task": "insight.tasks.refresh_facts",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
    "insight-rebuild-facts": {
        "task": "insight.tasks.rebuild_facts",
        "schedule": crontab(hour=2, minute=15),
        "options": {"expires": 6 * 3600},
    },
    # Learned propensity: every model retrained on the closed history, nightly; a ready model
    # replaces the active one and every open lead's probability is rewritten.
    "propensity-train": {
        "task": "propensity.tasks.train_models",
        "schedule": crontab(hour=3, minute=30),
        "options": {"expires": 6 * 3600},
    },
    # Weekly summaries: due on Monday 08:00 in each team's time zone, so the task runs every
    # hour and sends those whose Monday 08:00 has come (each once per person and week).
    "weekly-summaries": {
        "task": "insight.tasks.send_weekly_summaries",
        "schedule": crontab(minute=5),
        "options": {"expires": 50 * 60},
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "team.authentication.ApiTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON nested thousands deep is a 400, not a RecursionError.
    "DEFAULT_PARSER_CLASSES": [
        "kit.parsers.NestingSafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "config.schema.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {},
    # One error format under /api/ (kit/api_errors.py), documented by config/schema.py.
    "EXCEPTION_HANDLER": "kit.api_errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Refinery API",
    "DESCRIPTION": (
        "Capture, qualify and hand off leads. Amounts are decimal strings in the installation's "
        f"currency, {REFINERY_CURRENCY} (ISO 4217); times are ISO 8601 in UTC."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ActivityKindEnum": "leads.models.ActivityKind",
        "CapturableActivityEnum": "leads.models.CAPTURABLE_ACTIVITIES",
        "ActivitySourceEnum": "leads.models.ActivitySource",
        "ChannelEnum": "leads.models.Channel",
        "LeadStatusEnum": "leads.models.Lead.Status",
    },
}

# Public web forms: per-client rate limit, and the client address header when behind a proxy.
WEBFORM_RATE = env.str("WEBFORM_RATE", default="30/m")
# Imports read and clean the next batch in a forked process while this one writes (off by
# default; leads/services/import_reader.py says why).
IMPORT_READ_AHEAD = env.bool("IMPORT_READ_AHEAD", default=False)
WEBFORM_MAX_BYTES = env.int("WEBFORM_MAX_BYTES", default=16_384)
RATELIMIT_IP_META_KEY = env.str("RATELIMIT_IP_META_KEY", default="REMOTE_ADDR")
# Failed login attempts per account and per client address, on the login page, the
# admin's login and the API's token endpoint (kit/throttle.py).
LOGIN_RATE_ACCOUNT = env.str("LOGIN_RATE_ACCOUNT", default="10/15m")
LOGIN_RATE_CLIENT = env.str("LOGIN_RATE_CLIENT", default="50/15m")
# API tokens expire this many days after they are made (team/tokens.py).
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=90)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
