"""Settings for the clinic tracker, read from the environment.

Every variable is listed in README.md. Debug is off unless DJANGO_DEBUG=1, and with debug off a
missing DJANGO_SECRET_KEY stops start-up instead of falling back to a default.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from xstatic.pkg import bootstrap as xstatic_bootstrap

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_milliseconds(name, default_seconds):
    """A duration given in seconds (`2.5` too; `0`: no limit), in whole milliseconds."""
    value = os.environ.get(name, "").strip() or str(default_seconds)
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1
    if not 0 <= seconds <= 24 * 3600:
        raise ImproperlyConfigured(
            f"{name} must be a number of seconds between 0 (no limit) and 86400, not {value!r}."
        )
    return round(seconds * 1000)


DEBUG = env_bool("DJANGO_DEBUG")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random value, for example the output "
            "of: python -c 'import secrets; print(secrets.token_urlsafe(50))'. "
            "For local development only, DJANGO_DEBUG=1 allows a throw-away key."
        )
    SECRET_KEY = "insecure-development-key-only-used-with-DJANGO_DEBUG=1"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "clinic.apps.ClinicAdminConfig",  # django.contrib.admin, for managers only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "import_export",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "clinic",
    "catalogue",
    "stock",
    "consultations",
    "consent",
    "treatments",
    "reports",
    "api",
]
# Demo data, seed_demo, benchmark and loadtest: for development, benchmarks and the tests only.
# The wheel leaves the package out, so production keeps this off.
if env_bool("DJANGO_DEV_TOOLS"):
    INSTALLED_APPS.append("devtools")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Browser policies on every response, error pages included (see "Browser policies" below).
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "clinic.middleware.BadQueryValuesMiddleware",
    # The database not answering: a 503 page, drawn without it, that can re-send a posted form.
    "clinic.middleware.DatabaseOutageMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A session that owes its second factor sees only that step (clinic.second_factor).
    "clinic.second_factor.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "clinic.middleware.IdleLogoffMiddleware",
    # After sessions and messages: a form posted after the idle logoff is kept in the session.
    "clinic.middleware.KeepTypedWorkMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "clinic.middleware.NoStoreForSignedInMiddleware",
    "clinic.signin.SignInThrottleMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"

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
                "clinic.context_processors.idle_logoff",
                "catalogue.context_processors.clinic_details",
            ],
        },
    },
]

WSGI_APPLICATION = "clinic.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    options = DATABASES["default"].setdefault("OPTIONS", {})
    # The reports' aggregate queries spend longer compiling with the JIT than running. No
    # request waits for a lock (a course someone else is saving) longer than lock_timeout: it is
    # refused with "try again" instead of stalling its worker, and no statement runs longer
    # than statement_timeout, below gunicorn's 30-second worker timeout.
    options["options"] = (
        "-c jit=off"
        f" -c lock_timeout={env_milliseconds('DJANGO_DB_LOCK_TIMEOUT', 5)}"
        f" -c statement_timeout={env_milliseconds('DJANGO_DB_STATEMENT_TIMEOUT', 20)}"
    )
    # Server-side parameters, so that psycopg prepares a statement a connection has run 5 times
    # and PostgreSQL plans it once, not on every request. Off behind a PgBouncer in transaction
    # pooling mode, which cannot keep prepared statements.
    if env_bool("DJANGO_DB_PREPARED_STATEMENTS", default=True):
        options.update(server_side_binding=True, prepare_threshold=5)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite serves a small clinic (and `make run`): with write-ahead logging, readers (a
    # backup included) never block the writer; every transaction takes the write lock when it
    # begins, so two practitioners saving at once queue for it (up to the timeout) instead of
    # one failing with "database is locked" halfway through.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        init_command="PRAGMA journal_mode=WAL;",
        transaction_mode="IMMEDIATE",
        timeout=int(os.environ.get("DJANGO_SQLITE_TIMEOUT", "20")),
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out username before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, reading a user's own and their roles' permissions in one query.
    "clinic.backends.RoleBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sign-in protection (django-axes): after DJANGO_LOCKOUT_FAILURES failed attempts for one
# username, from any address, that username is locked for DJANGO_LOCKOUT_MINUTES.
AXES_FAILURE_LIMIT = int(os.environ.get("DJANGO_LOCKOUT_FAILURES", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("DJANGO_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_VERBOSE = False
# The lock is per username from any address, as the clinic asked: rotating addresses must not
# reset it. (axes.W006 suggests adding the address, which would weaken exactly that.)
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
# The client's address: REMOTE_ADDR, or behind the clinic's proxy the address that proxy
# appended to X-Forwarded-For (clinic.signin.client_address).
BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY")
AXES_CLIENT_IP_CALLABLE = "clinic.signin.client_address"
# Per address, whatever the usernames tried (clinic.signin): slowed for a minute after
# SIGN_IN_ADDRESS_SLOW failures within one, blocked after SIGN_IN_ADDRESS_BLOCK failures within
# the cool-off. Above the per-username limit, so one person's typos meet the username lock first
# and a clinic's staff behind one address are not paused by one another.
SIGN_IN_ADDRESS_SLOW = int(os.environ.get("DJANGO_SIGNIN_ADDRESS_SLOW", "10"))
SIGN_IN_ADDRESS_BLOCK = int(os.environ.get("DJANGO_SIGNIN_ADDRESS_BLOCK", "30"))
SIGN_IN_ADDRESS_COOLOFF = timedelta(
    minutes=int(os.environ.get("DJANGO_SIGNIN_ADDRESS_MINUTES", "15"))
)

# Django's database sessions. With DJANGO_REDIS_URL, the cache is Redis, shared by every
# gunicorn worker, and sessions are read from it (written through to the database): a page
# then reads no session row, and signing out in one worker is seen by all of them.
REDIS_URL = os.environ.get("DJANGO_REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "clinic",
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Idle logoff: the session expires after DJANGO_IDLE_MINUTES without a request.
SESSION_COOKIE_AGE = int(os.environ.get("DJANGO_IDLE_MINUTES", "15")) * 60
# The idle deadline moves with activity (clinic.middleware.IdleLogoffMiddleware), rewriting the
# session at most once per this many seconds rather than on every request.
IDLE_DEADLINE_RESOLUTION = 60
# Signed-in pages warn this many seconds before the idle logoff, offering to stay signed in.
IDLE_WARNING_SECONDS = 120
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Production hardening: on unless debug is on; each can be overridden from the environment.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Browser policies. Content-Security-Policy (django-csp): scripts, styles and everything else
# from this origin only, no inline script, event handler, style attribute or <style> block (they
# live in the static files), so an injected tag can neither run nor restyle a page. Images may
# also be data: and blob: URLs (a photo's preview before upload, a drawn signature). Forms post
# here only; no page may be framed; no plugins.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
    },
}
# Permissions-Policy (django-permissions-policy): the camera for this origin (photos taken on a
# tablet); every other powerful feature off, for this origin too.
PERMISSIONS_POLICY = {
    "camera": ["self"],
    **dict.fromkeys(
        [
            "accelerometer",
            "autoplay",
            "bluetooth",
            "browsing-topics",
            "display-capture",
            "encrypted-media",
            "geolocation",
            "gyroscope",
            "hid",
            "idle-detection",
            "magnetometer",
            "microphone",
            "midi",
            "payment",
            "publickey-credentials-get",
            "screen-wake-lock",
            "serial",
            "usb",
            "xr-spatial-tracking",
        ],
        [],
    ),
}
if BEHIND_PROXY:
    # Trust the TLS-terminating proxy's word that the request came over HTTPS.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

# Admin exports (django-import-export): no imports offered; spreadsheet formulas escaped.
# Off: clinic.exports.FormulaSafeResource marks formula-like text instead of stripping "=".
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = False
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"

# The audit trail keeps history rows read-only: no revert from the admin.
SIMPLE_HISTORY_REVERT_DISABLED = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "today"
LOGOUT_REDIRECT_URL = "login"

# British English throughout; the app is not translated, so Django's translation machinery
# stays off, which spares every page its lookups. One date format everywhere ("4 Mar 2026"):
# clinic/formats/en_GB/formats.py, read by |date in templates and clinic.formats.day() in Python.
LANGUAGE_CODE = "en-gb"
FORMAT_MODULE_PATH = ["clinic.formats"]
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "Europe/London")
# /.well-known/security.txt: whom to tell about a security problem (comma-separated URIs such as
# mailto:security@clinic.example), and the clinic's disclosure policy. No contact: no file.
SECURITY_CONTACT = env_list("DJANGO_SECURITY_CONTACT", "")
SECURITY_POLICY_URL = os.environ.get("DJANGO_SECURITY_POLICY_URL", "")
# A course starts within a window around today: back-dated records (paper notes typed in) up to
# COURSE_START_DAYS_BEFORE, courses booked ahead up to COURSE_START_DAYS_AFTER; never a
# mistyped year.
COURSE_START_DAYS_BEFORE = int(os.environ.get("DJANGO_COURSE_START_DAYS_BEFORE", "730"))
COURSE_START_DAYS_AFTER = int(os.environ.get("DJANGO_COURSE_START_DAYS_AFTER", "366"))
# A consultation's screening goes stale: after this many months it cannot start a new course.
SCREENING_VALID_MONTHS = int(os.environ.get("DJANGO_SCREENING_VALID_MONTHS", "12"))
# Lots whose expiry falls within this many days are listed for the managers (stock:lots).
LOT_EXPIRY_WARNING_DAYS = int(os.environ.get("DJANGO_LOT_EXPIRY_WARNING_DAYS", "60"))
# A signed consent holds this long; then the client signs the current version again.
CONSENT_VALID_MONTHS = int(os.environ.get("DJANGO_CONSENT_VALID_MONTHS", "12"))
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
# Bootstrap comes from the XStatic-Bootstrap package, the signature pad from the npm registry
# (`make setup` runs `npm ci`): no CDN, nothing fetched at run time.
STATICFILES_DIRS = [
    ("bootstrap", xstatic_bootstrap.BASE_DIR),
    ("signature_pad", BASE_DIR / "node_modules" / "signature_pad" / "dist"),
]
# Before-and-after photos: private, outside the static root, never under a public URL; the
# app streams them after checking the user's role. S3-compatible storage when a bucket is set.
PHOTO_ROOT = Path(os.environ.get("DJANGO_PHOTO_ROOT", BASE_DIR / "private" / "photos"))
PHOTO_MAX_BYTES = int(float(os.environ.get("DJANGO_PHOTO_MAX_MB", "15")) * 1024 * 1024)
# A photo is decoded in memory at up to 4 bytes a pixel (RGBA, CMYK): one decoded photo stays
# under DJANGO_PHOTO_MAX_DECODED_MB. Its pixels are counted from the file's header, before
# anything is decoded, and Pillow's own decompression-bomb limit is set to the same count. The
# default, 96 MB, takes a 24-megapixel camera's photos (6000 x 4000).
PHOTO_MAX_DECODED_BYTES = int(float(os.environ.get("DJANGO_PHOTO_MAX_DECODED_MB", "96")) * 2**20)
PHOTO_MAX_PIXELS = PHOTO_MAX_DECODED_BYTES // 4
# Photos in one upload (the form says so), and files in any one request (Django answers more
# with the 400 page, which says why).
PHOTO_MAX_PER_UPLOAD = int(os.environ.get("DJANGO_PHOTO_MAX_PER_UPLOAD", "10"))
DATA_UPLOAD_MAX_NUMBER_FILES = PHOTO_MAX_PER_UPLOAD + 10
if os.environ.get("DJANGO_PHOTO_S3_BUCKET"):
    PHOTO_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["DJANGO_PHOTO_S3_BUCKET"],
            "endpoint_url": os.environ.get("DJANGO_PHOTO_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("DJANGO_PHOTO_S3_REGION") or None,
            "location": os.environ.get("DJANGO_PHOTO_S3_PREFIX", "photos"),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    PHOTO_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PHOTO_ROOT, "base_url": None},
    }

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "photos": PHOTO_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    # Successful and failed sign-ins (django-axes also keeps them in the database).
    "loggers": {
        "clinic.auth": {"level": "INFO"},
        # django-axes logs every sign-in at INFO; clinic.auth already records them.
        "axes": {"level": "WARNING"},
    },
}

# The REST API (api/): per-user tokens the managers issue in the admin, or the signed-in
# browser session (CSRF enforced); the roles' permissions as in the workspace; cursor pages;
# per-token throttling (DJANGO_API_RATE, e.g. "600/min"); the OpenAPI 3 schema at /api/schema/.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.RolePermissions"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Cursor",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "NON_FIELD_ERRORS_KEY": "non_field_errors",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
API_THROTTLE_RATE = os.environ.get("DJANGO_API_RATE", "600/min")
SPECTACULAR_SETTINGS = {
    "TITLE": "Clinic tracker API",
    "DESCRIPTION": (
        "Clients, consultations, courses and sessions, written through the same services and "
        "rules as the workspace, and the catalogue (read only). Authenticate with "
        "`Authorization: Bearer <token>` (a token a manager issues in the admin). Updates "
        "carry the record's `version`; a stale one answers 409 with what changed."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.fhir_operation_paths",
    ],
    "ENUM_NAME_OVERRIDES": {"ProgressRatingEnum": "api.serializers.RATINGS"},
}
