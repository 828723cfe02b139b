"""Settings, all read from the environment (12-factor) with django-environ.

Every variable and its default is listed in `.env.example`. The defaults are the embedded mode:
SQLite file, inline executor, in-process scheduler. Production differs only by environment.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

_DEV_SECRET_KEY = "django-insecure-dev-only-wfaib-key-do-not-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY in the environment (or DEBUG=1 for development)."
        )
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets for /api/docs/, served locally
    "corsheaders",
    "axes",  # login lockout (accounts/lockout.py)
    "accounts",
    "nodes",
    "workflows",
    "runs",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "wfaib.resilience.ResilienceMiddleware",  # sheds webhook load first; DB down -> 503
    "corsheaders.middleware.CorsMiddleware",  # before anything that may answer
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "audit.context.AuditContextMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as axes requires
]

ROOT_URLCONF = "wfaib.urls"
WSGI_APPLICATION = "wfaib.wsgi.application"
ASGI_APPLICATION = "wfaib.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",  # {{ csp_nonce }}
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; the busy timeout makes concurrent writers wait
    # instead of failing with "database is locked"; IMMEDIATE takes the write lock up front so
    # a read-then-write transaction cannot deadlock on lock upgrade.
    _db.setdefault("OPTIONS", {})
    _db["OPTIONS"].setdefault("timeout", env.int("SQLITE_BUSY_TIMEOUT", default=20))
    _db["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    _db["OPTIONS"].setdefault(
        "init_command",
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
    )
    _db["TEST"] = {"NAME": env.str("SQLITE_TEST_NAME", default="") or None}
else:
    _db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    _db["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if env.bool("WFAIB_FAST_PASSWORD_HASHER", default=False):  # test suites only
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")

LOGIN_URL = "admin:login"

# --- Cache (rate limits, idempotency) ------------------------------------------------------
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://wfaib")}

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "wfaib.schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "wfaib.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"login": env.str("WFAIB_LOGIN_RATE", default="20/min")},
    # Client address for throttles: X-Forwarded-For only when a trusted proxy sets it.
    "NUM_PROXIES": 1 if env.bool("WFAIB_TRUST_X_FORWARDED_FOR", default=False) else 0,
    "URL_FORMAT_OVERRIDE": None,  # no ?format=: one JSON shape per endpoint
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],  # JSON in, JSON out
}
SPECTACULAR_SETTINGS = {
    "TITLE": "WFAIB API",
    "DESCRIPTION": (
        "Workflow automation with AI built in. Authenticate with `Authorization: Token <key>` "
        "(from `POST /api/auth/login`) or the admin session plus `X-CSRFToken`. "
        'Errors are JSON: `{"code": "<machine_code>", "message": "<human text>", ...}`.'
    ),
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,  # write-only fields (secrets) only in request bodies
    # Swagger UI from the installed sidecar package: /api/docs/ works without a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "RunStatusEnum": "runs.models.Run.Status",
        "WebhookAuthEnum": "workflows.models.Workflow.WebhookAuth",
        "WebhookModeEnum": "workflows.models.Workflow.WebhookMode",
    },
}

# --- Security: lockout, rate limits, body limits, HTTPS, CSP, CORS, OAuth ---------------------
# Login lockout (django-axes, see accounts/lockout.py): N failures for one email from one client
# address lock that pair out for M minutes; a success resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out attempts
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("WFAIB_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("WFAIB_LOGIN_LOCKOUT_MINUTES", default=15.0) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "accounts.lockout.username"
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.ip_address"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False

# API rate limits (wfaib/throttles.py), per signed-in user and per client address; "" = off.
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = [
    "wfaib.throttles.UserRateThrottle",
    "wfaib.throttles.ClientAddressRateThrottle",
]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    **REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
    "user": env.str("WFAIB_API_RATE_USER", default="1200/min") or None,
    "ip": env.str("WFAIB_API_RATE_IP", default="3000/min") or None,
}
# Request bodies: size (413) and JSON nesting depth (400), wfaib/parsers.py.
REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] = ["wfaib.parsers.LimitedJSONParser"]
_API_MAX_BODY = env.int("WFAIB_API_MAX_BODY", default=2 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = _API_MAX_BODY  # the same limit for admin forms and pages

# Served over HTTPS (directly or behind a TLS-terminating proxy that sets X-Forwarded-Proto):
# HSTS, cookies only over HTTPS, redirect plain HTTP (except the health check, for probes).
HTTPS = env.bool("WFAIB_HTTPS", default=False)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^api/health$"]
    SECURE_HSTS_SECONDS = env.int("WFAIB_HSTS_SECONDS", default=365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("WFAIB_HSTS_INCLUDE_SUBDOMAINS", default=False)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# OAuth sign-in (django-allauth), only for the providers whose client id and secret are set.
_OAUTH = {
    "google": (env.str("WFAIB_OAUTH_GOOGLE_CLIENT_ID", default=""),
               env.str("WFAIB_OAUTH_GOOGLE_SECRET", default=""), "https://accounts.google.com"),
    "github": (env.str("WFAIB_OAUTH_GITHUB_CLIENT_ID", default=""),
               env.str("WFAIB_OAUTH_GITHUB_SECRET", default=""), "https://github.com"),
}
OAUTH_PROVIDERS = [name for name, (client_id, secret, _) in _OAUTH.items()
                   if client_id and secret]
if OAUTH_PROVIDERS:
    INSTALLED_APPS += ["allauth", "allauth.account", "allauth.socialaccount",
                       *(f"allauth.socialaccount.providers.{name}" for name in OAUTH_PROVIDERS)]
    MIDDLEWARE.insert(MIDDLEWARE.index("axes.middleware.AxesMiddleware"),
                      "allauth.account.middleware.AccountMiddleware")
    AUTHENTICATION_BACKENDS.append("allauth.account.auth_backends.AuthenticationBackend")
    SOCIALACCOUNT_PROVIDERS = {
        name: {"APPS": [{"client_id": _OAUTH[name][0], "secret": _OAUTH[name][1]}],
               **({"SCOPE": ["user:email"]} if name == "github" else {})}
        for name in OAUTH_PROVIDERS
    }
    ACCOUNT_USER_MODEL_USERNAME_FIELD = None
    ACCOUNT_LOGIN_METHODS = {"email"}
    ACCOUNT_SIGNUP_FIELDS = ["email*"]
    ACCOUNT_EMAIL_VERIFICATION = "none"
    # A provider-verified email signs in the existing user with that email; new accounts are
    # made only when WFAIB_OAUTH_SIGNUP=1 (accounts/oauth.py).
    SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
    SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
    SOCIALACCOUNT_ONLY = True  # no allauth password login or signup: ours has the lockout
    SOCIALACCOUNT_LOGIN_ON_GET = False
    ACCOUNT_ADAPTER = "accounts.oauth.AccountAdapter"
    SOCIALACCOUNT_ADAPTER = "accounts.oauth.SocialAccountAdapter"
    OAUTH_SIGNUP = env.bool("WFAIB_OAUTH_SIGNUP", default=False)
    LOGIN_REDIRECT_URL = "/admin/"

# Content-Security-Policy on every response (Django's CSP middleware). Scripts only from this
# origin (or with the per-request nonce, {{ csp_nonce }}); styles from this origin plus inline
# style attributes (charts and the node editor set sizes inline).
from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF, *(_OAUTH[name][2] for name in OAUTH_PROVIDERS)],
}

# CORS: closed unless origins are listed (e.g. https://app.example.com); API paths only,
# token auth (no cookies cross-origin).
CORS_ALLOWED_ORIGINS = env.list("WFAIB_CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = ["accept", "authorization", "content-type", "if-match", "idempotency-key",
                      "x-csrftoken", "x-requested-with"]
CORS_EXPOSE_HEADERS = ["ETag", "Location", "Retry-After", "Idempotent-Replayed"]

# --- WFAIB ----------------------------------------------------------------------------------
WFAIB = {
    # inline: a bounded thread pool in the web process; celery: Celery workers on a broker.
    "EXECUTOR": env.str("WFAIB_EXECUTOR", default="inline"),
    "INLINE_WORKERS": env.int("WFAIB_INLINE_WORKERS", default=8),
    # Seconds a synchronous webhook waits for its run before answering 202.
    "WEBHOOK_SYNC_TIMEOUT": env.float("WFAIB_WEBHOOK_SYNC_TIMEOUT", default=30.0),
    "WEBHOOK_MAX_BODY": env.int("WFAIB_WEBHOOK_MAX_BODY", default=1024 * 1024),
    # Load shedding (wfaib/resilience.py), per process: webhook requests served at once, more
    # that may wait for a place, and for how many seconds; beyond that 503 "overloaded".
    "WEBHOOK_MAX_INFLIGHT": env.int("WFAIB_WEBHOOK_MAX_INFLIGHT", default=32),
    "WEBHOOK_MAX_WAITING": env.int("WFAIB_WEBHOOK_MAX_WAITING", default=64),
    "WEBHOOK_QUEUE_WAIT": env.float("WFAIB_WEBHOOK_QUEUE_WAIT", default=5.0),
    # Webhook rate limits: requests per window (seconds) per workflow and per client address;
    # 0 turns a limit off. Counted in the cache (CACHE_URL), so shared by all web processes
    # when the cache is Redis.
    "WEBHOOK_RATE_WINDOW": env.int("WFAIB_WEBHOOK_RATE_WINDOW", default=60),
    "WEBHOOK_RATE_PER_WORKFLOW": env.int("WFAIB_WEBHOOK_RATE_PER_WORKFLOW", default=6000),
    "WEBHOOK_RATE_PER_CLIENT": env.int("WFAIB_WEBHOOK_RATE_PER_CLIENT", default=3000),
    # Client address for the per-client limit: REMOTE_ADDR, or the first X-Forwarded-For hop
    # when WFAIB_TRUST_X_FORWARDED_FOR=1 (only behind a proxy that sets it).
    "TRUST_X_FORWARDED_FOR": env.bool("WFAIB_TRUST_X_FORWARDED_FOR", default=False),
    # Seconds the previous webhook secret keeps working after a rotation.
    "WEBHOOK_SECRET_GRACE": env.int("WFAIB_WEBHOOK_SECRET_GRACE", default=24 * 3600),
    # Fernet keys for credentials at rest, newest first; empty: derived from SECRET_KEY.
    "CREDENTIAL_KEYS": env.list("WFAIB_CREDENTIAL_KEYS", default=[]),
    # Hosts or CIDRs that outbound HTTP may reach although they are internal.
    "HTTP_ALLOW": env.list("WFAIB_HTTP_ALLOW", default=[]),
    # Where this server is reachable (the demo workflow calls its own health endpoint).
    "BASE_URL": env.str("WFAIB_BASE_URL", default="http://127.0.0.1:8000"),
    "EXPRESSION_TIMEOUT": env.float("WFAIB_EXPRESSION_TIMEOUT", default=2.0),
    # The code node: seconds per run, address-space limit and number of worker processes.
    "CODE_TIMEOUT": env.float("WFAIB_CODE_TIMEOUT", default=5.0),
    "CODE_MEMORY_MB": env.int("WFAIB_CODE_MEMORY_MB", default=256),
    "CODE_WORKERS": env.int("WFAIB_CODE_WORKERS", default=2),
    # Fairness between tenants (runs/tenancy.py): runs of one tenant running at once (0 = no
    # cap; the rest wait queued), code workers one tenant may hold at once (0 = all but one),
    # and the longest timeout any node may use, whatever its settings say (0 = no cap).
    "TENANT_MAX_RUNNING": env.int("WFAIB_TENANT_MAX_RUNNING", default=0),
    "TENANT_CODE_WORKERS": env.int("WFAIB_TENANT_CODE_WORKERS", default=0),
    "MAX_NODE_TIMEOUT": env.float("WFAIB_MAX_NODE_TIMEOUT", default=300.0),
    # The unprivileged user code workers drop to when the server runs as root.
    "SANDBOX_USER": env.str("WFAIB_SANDBOX_USER", default="nobody"),
    # Outputs bigger than this (bytes of JSON) are truncated in RunLogs.
    "LOG_MAX_BYTES": env.int("WFAIB_LOG_MAX_BYTES", default=256 * 1024),
    # A node's retry delay of at least this many seconds parks its run (waiting, no thread
    # held) instead of sleeping in the executor.
    "RETRY_PARK_AFTER": env.float("WFAIB_RETRY_PARK_AFTER", default=10.0),
    # Durable execution (runs/heartbeat.py, runs/scheduler.py). A running run's executor writes
    # a heartbeat every HEARTBEAT_INTERVAL s; a run silent for HEARTBEAT_TIMEOUT s is taken to
    # have lost its process and is re-queued, at most MAX_RECOVERIES times, then failed.
    "HEARTBEAT_INTERVAL": env.float("WFAIB_HEARTBEAT_INTERVAL", default=5.0),
    "HEARTBEAT_TIMEOUT": env.float("WFAIB_HEARTBEAT_TIMEOUT", default=60.0),
    "MAX_RECOVERIES": env.int("WFAIB_MAX_RECOVERIES", default=3),
    # Queued runs no executor took within this many seconds are handed to it again.
    "REDISPATCH_AFTER": env.float("WFAIB_REDISPATCH_AFTER", default=300.0),
    # Who runs the watchdog, due waits and schedules: "embedded" (a thread in each web
    # process), "off" (a separate `manage.py run_scheduler`), "" = embedded iff EXECUTOR=inline.
    "SCHEDULER": env.str("WFAIB_SCHEDULER", default=""),
    "TICK_INTERVAL": env.float("WFAIB_TICK_INTERVAL", default=1.0),
    # API request bodies: bytes and JSON nesting depth (wfaib/parsers.py).
    "API_MAX_BODY": _API_MAX_BODY,
    "JSON_MAX_DEPTH": env.int("WFAIB_JSON_MAX_DEPTH", default=64),
    # Audit events older than this many days are pruned (prune_audit, daily); 0 keeps all.
    "AUDIT_RETENTION_DAYS": env.int("WFAIB_AUDIT_RETENTION_DAYS", default=365),
}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Several deployments (or test runs) can share one broker with queues of their own.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="wfaib")
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}
