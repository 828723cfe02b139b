"""Settings, all read from the environment (12-factor) with django-environ.

Every variable and its default is listed in `.env.example`. The defaults are the embedded mode:
SQLite file, inline executor, in-process scheduler. Production differs only by environment.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from . import conf as wfaib_conf

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

_DEV_SECRET_KEY = "django-insecure-dev-only-wfaib-key-do-not-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default="")
# Former keys still accepted for sessions, password-reset links and signed values (README,
# "Key rotation"); new ones are signed with SECRET_KEY.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY in the environment (or DEBUG=1 for development)."
        )
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
# Host names serving only webhooks (wfaib/webhook_origin.py); they are allowed hosts too.
_WEBHOOK_HOSTS = env.list("WFAIB_WEBHOOK_HOSTS", default=wfaib_conf.DEFAULTS["WEBHOOK_HOSTS"])
ALLOWED_HOSTS += [h for h in _WEBHOOK_HOSTS if h not in ALLOWED_HOSTS]
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
    # Two-factor sign-in (accounts/mfa.py): TOTP apps and recovery codes
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "nodes",
    "workflows",
    "runs",
    "audit",
    "ai",  # conversation memory and the vector store (ai/)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "wfaib.logs.RequestIdMiddleware",  # the request id on every log line of the request
    "wfaib.resilience.ResilienceMiddleware",  # sheds webhook load first; DB down -> 503
    "wfaib.webhook_origin.WebhookHostMiddleware",  # webhooks on their own host, if configured
    "corsheaders.middleware.CorsMiddleware",  # before anything that may answer
    "wfaib.api_errors.ApiErrorMiddleware",  # /api/ answers JSON, whatever DEBUG says
    # Public webhook paths end here: no sessions, CSRF, auth, messages, audit context or axes
    "wfaib.lean_gateway.LeanGatewayMiddleware",
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
                "accounts.context_processors.mfa_required_projects",  # the admin's 2FA banner
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
    # Django's backend with its placeholder rewrite made cheap (wfaib/db_sqlite/base.py).
    _db["ENGINE"] = "wfaib.db_sqlite"
if _db["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend with a health check that asks the socket, not the server
    # (wfaib/db_postgresql/base.py).
    _db["ENGINE"] = "wfaib.db_postgresql"
    # Parameters go to the server apart from the statement (psycopg's server-side binding), and
    # a statement a connection has run POSTGRES_PREPARE_THRESHOLD times is prepared on the
    # server, which then skips parsing and planning it. Django's default binds on the client and
    # never prepares (for poolers that cannot keep prepared statements: PgBouncer before 1.21 in
    # transaction mode; set POSTGRES_PREPARE_THRESHOLD= empty there). A queued run costs its
    # worker ~30 % less CPU and ~40 % less time this way (bench/RESULTS.md).
    _db.setdefault("OPTIONS", {})
    _db["OPTIONS"].setdefault("server_side_binding",
                              env.bool("POSTGRES_SERVER_BINDING", default=True))
    _threshold = env.str("POSTGRES_PREPARE_THRESHOLD", default="5").strip()
    if _threshold and not _threshold.isdigit():
        raise ImproperlyConfigured(
            f"POSTGRES_PREPARE_THRESHOLD={_threshold!r}: a whole number of runs (0: prepare "
            "at once), or empty to never prepare")
    _db["OPTIONS"].setdefault("prepare_threshold", int(_threshold) if _threshold else None)
# Connections are kept per thread and reused (granian's request threads and the executor's
# threads live as long as the process): opening one and running the PRAGMAs above cost about
# a third of a webhook request on SQLite (bench/RESULTS.md). CONN_MAX_AGE=0 closes each after
# its request, as Django's default does.
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

# --- Files -------------------------------------------------------------------------------------
# The run file store (runs/files.py): uploads, HTTP binary responses and storage reads, kept
# beside the run and deleted with it. A folder under MEDIA_ROOT by default; for S3 install the
# `s3` extra and set RUN_FILES_BACKEND=storages.backends.s3.S3Storage with its AWS_* settings
# (README, *Files between nodes*). Never served as static media: only the scoped download view
# hands a file out.
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "wfaib_files": {
        "BACKEND": env.str("RUN_FILES_BACKEND",
                           default="django.core.files.storage.FileSystemStorage"),
        "OPTIONS": env.json("RUN_FILES_OPTIONS", default={})
        or {"location": str(Path(MEDIA_ROOT) / "run-files")},
    },
}

# --- Cache (rate limits, idempotency) ------------------------------------------------------
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://wfaib")}

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated",
                                   "accounts.api.base.TokenLimits"],
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
    # The API lives under /api/; the public /hook/ doors (left out of the schema) must not
    # widen the prefix that operation ids and tags are made from.
    "SCHEMA_PATH_PREFIX": r"/api/",
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
_API_MAX_BODY = env.int("WFAIB_API_MAX_BODY", default=wfaib_conf.DEFAULTS["API_MAX_BODY"])
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

# Two-factor sign-in (accounts/mfa.py, django-otp): a code of the previous or next 30-second
# step is accepted (clock drift); each step's code signs in once. django-otp's per-device
# throttle is off: wrong codes count towards the login lockout (django-axes) instead.
OTP_TOTP_ISSUER = env.str("WFAIB_TOTP_ISSUER", default="WFAIB")
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0

PASSWORD_RESET_TIMEOUT = env.int("WFAIB_PASSWORD_RESET_TIMEOUT", default=3 * 3600)  # seconds

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
# Every WFAIB_* key, its type, default and meaning: wfaib/conf.py.
WFAIB = wfaib_conf.from_env(env)

# Email (invitations; password reset): EMAIL_URL such as smtp+tls://user:pass@host:587, or the
# console backend (mails printed by the web process) when unset. Tests use Django's locmem.
_EMAIL = env.email_url("EMAIL_URL", default="consolemail://")
_SMTP_OPTIONS = {"host": "EMAIL_HOST", "port": "EMAIL_PORT", "username": "EMAIL_HOST_USER",
                 "password": "EMAIL_HOST_PASSWORD", "use_tls": "EMAIL_USE_TLS",
                 "use_ssl": "EMAIL_USE_SSL"}
MAILERS = {"default": {
    "BACKEND": _EMAIL["EMAIL_BACKEND"],
    "OPTIONS": {option: _EMAIL[key] for option, key in _SMTP_OPTIONS.items()
                if _EMAIL.get(key) not in (None, "")}
    if _EMAIL["EMAIL_BACKEND"].endswith("smtp.EmailBackend") else {},
}}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="wfaib@localhost")

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")


def broker_transport_for(broker_url: str) -> str | None:
    """The transport for CELERY_BROKER_TRANSPORT: for a Redis URL, kombu's Redis transport with
    one client per channel instead of one per publish (wfaib/broker.py); otherwise None, kombu's
    choice by the URL's scheme (RabbitMQ's amqp://, Sentinel, redis+socket://)."""
    scheme = broker_url.partition("://")[0].lower() if "://" in broker_url else ""
    return "wfaib.broker:RedisTransport" if scheme in {"redis", "rediss"} else None


CELERY_BROKER_TRANSPORT = broker_transport_for(CELERY_BROKER_URL)  # wfaib/broker.py
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Several deployments (or test runs) can share one broker with queues of their own.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="wfaib")
CELERY_TASK_IGNORE_RESULT = True
# Celery's Django fixup closes the database connections around every task unless this is set,
# so each run paid a new PostgreSQL connection (bench/RESULTS.md: Celery drain). Celery then
# closes them only every 2 x this many tasks; Django's own rule (CONN_MAX_AGE, a connection
# with errors, the health check) is applied around each task instead (wfaib/celery.py), as
# around each web request.
CELERY_DB_REUSE_MAX = 1_000_000
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# Error tracking (wfaib/sentry.py), on when SENTRY_DSN is set; started with the apps.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Credentials in a logged URL or header are masked (wfaib.masking: the one rule).
    # Each record carries its request, run and node ids (wfaib/logs.py), as JSON lines or, in
    # development (WFAIB_LOG_FORMAT=console, the default with DEBUG=1), readable lines.
    "filters": {"mask_secrets": {"()": "wfaib.masking.MaskingFilter"},
                "context": {"()": "wfaib.logs.ContextFilter"}},
    "formatters": {"json": {"()": "wfaib.logs.JsonFormatter"},
                   "console": {"()": "wfaib.logs.ConsoleFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler",
                             "filters": ["mask_secrets", "context"],
                             "formatter": WFAIB["LOG_FORMAT"] or ("console" if DEBUG else "json")}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
    # Django's own "django" logger has a console handler under DEBUG and also propagates to
    # the root one: every line twice. Here it only propagates.
    "loggers": {"django": {"handlers": [], "propagate": True,
                           "level": "INFO" if DEBUG else env.str("LOG_LEVEL", default="WARNING")}},
}
