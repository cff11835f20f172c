"""Dangan's settings: the one place where configuration is read, from the environment only.

Every value has an embedded default so that one county runs with no setup at all:
SQLite in ``DANGAN_DATA_DIR``, content on local disk, the task worker in-process.
A province sets ``DATABASE_URL`` (PostgreSQL) and friends; the code does not change.
"""

import ipaddress
import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent

env = environ.Env()

DATA_DIR = Path(env.str("DANGAN_DATA_DIR", default=str(Path.cwd() / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DANGAN_DEBUG", default=False)
SECRET_KEY = env.str("DANGAN_SECRET_KEY", default="")
if not SECRET_KEY:
    # A per-installation key kept beside the data, so that one county needs no setup
    # and no two installations share a key.
    _key_file = DATA_DIR / "secret_key"
    if not _key_file.exists():
        from django.utils.crypto import get_random_string

        _key_file.write_text(get_random_string(64))
        _key_file.chmod(0o600)
    SECRET_KEY = _key_file.read_text().strip()

#: Former keys, still accepted for what they signed or sealed (sessions, two-factor secrets).
SECRET_KEY_FALLBACKS = env.list("DANGAN_SECRET_KEY_FALLBACKS", default=[])

ALLOWED_HOSTS = env.list("DANGAN_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DANGAN_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "dangan.accounts",
    "dangan.audit",
    "dangan.alerts",
    "dangan.jobs",
    "dangan.catalogue",
    "dangan.people",
    "dangan.content",
    "dangan.digitize",
    "dangan.intake",
    "dangan.integrity",
    "dangan.search",
    "dangan.api",
    "dangan.site",
    "dangan.demo",
    "dangan.security",
    "dangan.stacks",
    "dangan.stats",
    "dangan.appraisal",
    "dangan.oversight",
    "dangan.access",
    "dangan.portal",
    "dangan.remote",
    "dangan.compilation",
    "dangan.assist",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "dangan.security.headers.SecurityHeadersMiddleware",
    "dangan.security.uploads.UploadSizeMiddleware",
    "dangan.security.inputs.NulCharacterMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "dangan.accounts.middleware.ReadRightsOnceMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "dangan.security.sessions.IdleTimeoutMiddleware",
    "dangan.security.ratelimit.RateLimitMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "dangan.audit.middleware.AuditContextMiddleware",
    "dangan.content.middleware.UnreadableBlobMiddleware",
]

ROOT_URLCONF = "dangan.urls"
WSGI_APPLICATION = "dangan.wsgi.application"

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
                "django.template.context_processors.i18n",
                "dangan.menu.menu",
            ],
        },
    },
]
#: Plain widgets written in Python, byte for byte as Django's templates write them (fast).
FORM_RENDERER = "dangan.core.form_renderer.WidgetRenderer"

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'dangan.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE makes a writing transaction take the
    # write lock at BEGIN, so two clerks filing at once queue instead of failing mid-way.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            " PRAGMA cache_size=-64000; PRAGMA mmap_size=268435456;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-dangan.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background work (Django's tasks API) ----------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": env.str("DANGAN_TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
    }
}

# --- Accounts and passwords ------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "dangan.accounts.passwords.CommonChinesePasswordValidator"},
    {
        "NAME": "dangan.accounts.passwords.CharacterClassesValidator",
        "OPTIONS": {"min_classes": 3},
    },
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "site:workbench"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env.int("DANGAN_SESSION_SECONDS", default=8 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("DANGAN_HTTPS", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if SESSION_COOKIE_SECURE:
    # Behind HTTPS (see docs/security.md): browsers keep to HTTPS for a year.
    SECURE_HSTS_SECONDS = env.int("DANGAN_HSTS_SECONDS", default=365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = False
    SECURE_SSL_REDIRECT = env.bool("DANGAN_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz"]
#: Reverse proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated);
#: the rate limits, the audit trail and the metrics allow-list then see the client behind them
#: (dangan.security.clients). Empty: X-Forwarded-For is ignored.
DANGAN_TRUSTED_PROXIES = env.list("DANGAN_TRUSTED_PROXIES", default=[])
for _proxy in DANGAN_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy.strip(), strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"DANGAN_TRUSTED_PROXIES: {_proxy!r} is no address or network (e.g. 10.0.0.0/8)"
        ) from None
if env.bool("DANGAN_BEHIND_PROXY", default=False):
    # nginx in front sets X-Forwarded-Proto; trust it only when told there is such a proxy.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = False

# Log-in: two factors for staff, lock-out, idle sessions (dangan.accounts, dangan.security).
DANGAN_REQUIRE_2FA = env.bool("DANGAN_REQUIRE_2FA", default=True)
#: Failed log-ins that lock an account (by the name typed), and those that lock a client address
#: (whatever names it tried), counted over the last DANGAN_LOGIN_FAILURE_WINDOW_MINUTES.
DANGAN_LOGIN_MAX_FAILURES = env.int("DANGAN_LOGIN_MAX_FAILURES", default=5)
DANGAN_LOGIN_MAX_FAILURES_PER_ADDRESS = env.int("DANGAN_LOGIN_MAX_FAILURES_PER_ADDRESS", default=20)
DANGAN_LOGIN_FAILURE_WINDOW_MINUTES = env.int("DANGAN_LOGIN_FAILURE_WINDOW_MINUTES", default=60)
#: How long a lock lasts; doubled for each earlier lock of the same account or address within
#: 24 hours (DANGAN_LOCKOUT_DOUBLING), never longer than DANGAN_LOCKOUT_MAX_MINUTES.
#: 0: a lock lasts until the security administrator lifts it (anyone can then lock anyone out).
DANGAN_LOCKOUT_MINUTES = env.int("DANGAN_LOCKOUT_MINUTES", default=15)
DANGAN_LOCKOUT_DOUBLING = env.bool("DANGAN_LOCKOUT_DOUBLING", default=True)
DANGAN_LOCKOUT_MAX_MINUTES = env.int("DANGAN_LOCKOUT_MAX_MINUTES", default=24 * 60)
#: Failed log-ins and log-ins are kept this many days (at least 180: 等保三级 keeps security
#: events six months), then pruned each day by `dangan worker` (`dangan prune-logins`).
DANGAN_LOGIN_LOG_KEEP_DAYS = env.int("DANGAN_LOGIN_LOG_KEEP_DAYS", default=180)
# django-axes guards authenticate() and keeps the failure log; the decision to lock is
# dangan.accounts.lockout's (see its docstring for what axes lacks).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "dangan.accounts.lockout.LockoutHandler"
AXES_CLIENT_IP_CALLABLE = "dangan.accounts.lockout.client_address"
AXES_LOCK_OUT_AT_FAILURE = False  # our handler decides
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # a refused attempt is not a new failure
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_ENABLE_ADMIN = False  # locks are shown by dangan.accounts.admin.LockoutAdmin, by duty
AXES_VERBOSE = False
#: axes' middleware would answer a refused log-in with its own English page; ours say it.
SILENCED_SYSTEM_CHECKS = ["axes.W002"]
DANGAN_IDLE_MINUTES = env.int("DANGAN_IDLE_MINUTES", default=30)
#: Service accounts of other systems that may use HTTP Basic on the API (one factor).
DANGAN_API_BASIC_USERS = env.list("DANGAN_API_BASIC_USERS", default=[])
#: (requests, seconds): log-in attempts per client address, searches per user.
DANGAN_RATE_LIMITS = {
    "login": (env.int("DANGAN_LOGIN_RATE", default=20), 60),
    "search": (env.int("DANGAN_SEARCH_RATE", default=120), 60),
}
CACHES = {
    # Local memory for one process; Redis (redis://…) when several web processes share limits.
    "default": env.cache_url("DANGAN_CACHE_URL", default="locmemcache://dangan"),
}

# --- Language: Chinese first -----------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("zh-hant", "繁體中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("DANGAN_TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Files -----------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# Empty until ``collectstatic`` (the finders serve the files meanwhile): made here so that
# WhiteNoise does not warn of a missing directory at every start.
STATIC_ROOT.mkdir(exist_ok=True)
# dangan/static (the site's stylesheet and script) belongs to no app: name it for the finders.
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "files")},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
#: Oversight of units: a hand-over list not sent this many days after it was begun counts as
#: overdue; a record still a draft this many days after it was entered, as filed late.
DANGAN_OVERSIGHT_HANDOVER_DAYS = env.int("DANGAN_OVERSIGHT_HANDOVER_DAYS", default=30)
DANGAN_OVERSIGHT_FILING_DAYS = env.int("DANGAN_OVERSIGHT_FILING_DAYS", default=90)
#: No request body larger than this (scans, PDFs, video arrive in one upload at most this big).
DANGAN_MAX_UPLOAD_BYTES = env.int("DANGAN_MAX_UPLOAD_BYTES", default=1024 * 1024 * 1024)
#: Pillow refuses images with more pixels (decompression bombs); an A0 scan at 600 dpi is 0.6 G.
DANGAN_MAX_IMAGE_PIXELS = env.int("DANGAN_MAX_IMAGE_PIXELS", default=700_000_000)
#: What a ZIP-based upload (xlsx, OFD) may unpack to (dangan.security.archives.check_zip).
DANGAN_ZIP_LIMITS = {
    "members": env.int("DANGAN_ZIP_MAX_MEMBERS", default=10_000),
    "unpacked_bytes": env.int("DANGAN_ZIP_MAX_UNPACKED", default=1024 * 1024 * 1024),
    "ratio": env.int("DANGAN_ZIP_MAX_RATIO", default=200),
}
#: What a package (offline hand-over, transfer) may hold before it is refused as a tar bomb:
#: its files, and the bytes they add up to (a transfer of a county's year fits in the default).
DANGAN_PACKAGE_LIMITS = {
    "members": env.int("DANGAN_PACKAGE_MAX_FILES", default=1_000_000),
    "bytes": env.int("DANGAN_PACKAGE_MAX_BYTES", default=1024**4),
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
# Content (scans, PDFs, sound, video): content-addressed blobs, on local disk or in S3-compatible
# object storage (MinIO, Ceph RGW). See docs/content.md.
CONTENT_STORE = env.str("DANGAN_CONTENT_STORE", default="local")  # "local" or "s3"
CONTENT_DIR = Path(env.str("DANGAN_CONTENT_DIR", default=str(DATA_DIR / "content")))
CONTENT_FSYNC = env.bool("DANGAN_CONTENT_FSYNC", default=True)
CONTENT_S3 = {
    "endpoint_url": env.str("DANGAN_S3_ENDPOINT_URL", default=""),
    "bucket": env.str("DANGAN_S3_BUCKET", default="dangan"),
    "access_key": env.str("DANGAN_S3_ACCESS_KEY", default=""),
    "secret_key": env.str("DANGAN_S3_SECRET_KEY", default=""),
    "region": env.str("DANGAN_S3_REGION", default="us-east-1"),
    "prefix": env.str("DANGAN_S3_PREFIX", default=""),
}
# Encryption at rest of the content store (docs/security.md): "sm4-gcm", "aes-256-gcm" or off.
DANGAN_CONTENT_ENCRYPTION = env.str("DANGAN_CONTENT_ENCRYPTION", default="off")
#: Key-encryption keys, base64, comma separated, the current one first (else the key file).
DANGAN_CONTENT_KEK = env.str("DANGAN_CONTENT_KEK", default="")
#: A file of keys, one a line, the current one first; default $DANGAN_DATA_DIR/content-kek.
DANGAN_CONTENT_KEK_FILE = env.str("DANGAN_CONTENT_KEK_FILE", default="")
#: ClamAV: clamd's unix socket (or host:port) to scan every upload; empty = no scan.
DANGAN_CLAMAV_SOCKET = env.str("DANGAN_CLAMAV_SOCKET", default="")
DANGAN_CLAMAV_TIMEOUT = env.int("DANGAN_CLAMAV_TIMEOUT", default=120)
#: Where the scanning station drops its folders; web users choose batches only from here.
DANGAN_SCAN_ROOT = Path(env.str("DANGAN_SCAN_ROOT", default=str(DATA_DIR / "scans")))
DANGAN_MAX_REGISTER_BYTES = env.int("DANGAN_MAX_REGISTER_BYTES", default=50 * 1024 * 1024)
#: A register imported on the web with more rows than this is imported by the worker, with its
#: progress on the page; a smaller one at once (the command line always imports at once).
DANGAN_IMPORT_BACKGROUND_ROWS = env.int("DANGAN_IMPORT_BACKGROUND_ROWS", default=2000)
# OCR (digitization): "rapidocr" (models inside its wheel, offline) or "tesseract" (Debian
# tesseract-ocr-chi-sim/chi-tra, when installed). Threads per engine: 0 lets onnxruntime choose.
DANGAN_OCR_ENGINE = env.str("DANGAN_OCR_ENGINE", default="rapidocr")
DANGAN_OCR_THREADS = env.int("DANGAN_OCR_THREADS", default=0)

#: Formats fit for long-term keeping in the four-property checks (DA/T 70 usability, YJ-3-1),
#: as dangan.content.formats names them. See docs/integrity.md.
DANGAN_INTEGRITY_FORMATS = env.list(
    "DANGAN_INTEGRITY_FORMATS",
    default=["PDF/A", "OFD", "TIFF", "JPEG", "JPEG 2000", "WAV", "MP3", "MP4"],
)

# --- Search -----------------------------------------------------------------------------------
# A dotted path to a dangan.search.backends.base.SearchBackend class; empty: the backend of the
# database (SQLite FTS5 or PostgreSQL full text). See docs/search.md.
DANGAN_SEARCH_BACKEND = env.str("DANGAN_SEARCH_BACKEND", default="")
# Processes that analyze and write the records side by side in ``dangan reindex`` (PostgreSQL).
DANGAN_SEARCH_REBUILD_WORKERS = env.int(
    "DANGAN_SEARCH_REBUILD_WORKERS", default=min(os.cpu_count() or 1, 8)
)

# --- API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Basic first, so that a request without credentials is answered 401 with a challenge.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "dangan.accounts.authentication.BasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "dangan.api.pagination.KeysetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "dangan.core.problems.problem_details_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Dangan API",
    "DESCRIPTION": (
        "Fonds, categories, records and persons of the archive, with the same rights as the pages."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the drf-spectacular-sidecar package: no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"RetentionEnum": "dangan.catalogue.models.Retention"},
}

# --- Logging: never full ID numbers or secrets (see dangan.people.id_numbers.mask) --------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"mask_id_numbers": {"()": "dangan.security.logmasking.MaskIdNumbersFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["mask_id_numbers"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("DANGAN_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "pikepdf": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# --- Use of records (access app: docs/access.md) -------------------------------------------------
#: Hours a delivery link stays valid after it was made.
DANGAN_DELIVERY_LINK_HOURS = env.int("DANGAN_DELIVERY_LINK_HOURS", default=72)
#: The certified copy of an approved request is made by the worker (the request says "being
#: prepared" meanwhile); off, the approval makes it at once and the approver waits for it.
DANGAN_COPIES_IN_BACKGROUND = env.bool("DANGAN_COPIES_IN_BACKGROUND", default=True)
#: Days a paper file is lent for unless the clerk sets another due date.
DANGAN_LOAN_DAYS = env.int("DANGAN_LOAN_DAYS", default=14)
#: (requests, seconds) per client address on the public /verify/ pages (look-ups and uploads).
DANGAN_VERIFY_RATE = (env.int("DANGAN_VERIFY_RATE", default=60), 60)
#: Name printed on certificates as their issuer.
DANGAN_ISSUER_NAME = env.str("DANGAN_ISSUER_NAME", default="县人力资源和社会保障局档案室")
#: The address citizens reach this archive at: the QR code of a certificate points there.
DANGAN_PUBLIC_URL = env.str("DANGAN_PUBLIC_URL", default="http://localhost:8000")
#: Mail for loan reminders: smtp://user:password@host:587 (default: printed on the console).

# --- Remote access across counties (remote app: docs/remote.md) ----------------------------------
#: This installation's code among its peers (e.g. the county's administrative code, 370102).
DANGAN_INSTALLATION_CODE = env.str("DANGAN_INSTALLATION_CODE", default="DANGAN")
#: The holder approves a remote request at once when every record it holds of the person is open.
DANGAN_REMOTE_AUTO_APPROVE_OPEN = env.bool("DANGAN_REMOTE_AUTO_APPROVE_OPEN", default=True)
#: A message whose time is further than this from ours is refused as too old (seconds).
DANGAN_REMOTE_MAX_AGE_SECONDS = env.int("DANGAN_REMOTE_MAX_AGE_SECONDS", default=600)
#: The first wait before a message is tried again; it doubles up to the maximum (seconds).
DANGAN_REMOTE_RETRY_SECONDS = env.float("DANGAN_REMOTE_RETRY_SECONDS", default=10)
DANGAN_REMOTE_RETRY_MAX_SECONDS = env.float("DANGAN_REMOTE_RETRY_MAX_SECONDS", default=1800)
#: How often the worker looks at the outbox, and how long it waits for a peer (seconds).
DANGAN_REMOTE_SEND_SECONDS = env.float("DANGAN_REMOTE_SEND_SECONDS", default=5)
DANGAN_REMOTE_TIMEOUT = env.float("DANGAN_REMOTE_TIMEOUT", default=60)
EMAIL_CONFIG = env.email_url("DANGAN_EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DANGAN_EMAIL_FROM", default="dangan@localhost")

# --- Citizen portal (portal app: docs/portal.md) ------------------------------------------------
#: The provincial single sign-on (OpenID Connect); empty issuer: local accounts only.
DANGAN_OIDC_ISSUER = env.str("DANGAN_OIDC_ISSUER", default="")
DANGAN_OIDC_CLIENT_ID = env.str("DANGAN_OIDC_CLIENT_ID", default="")
DANGAN_OIDC_CLIENT_SECRET = env.str("DANGAN_OIDC_CLIENT_SECRET", default="")
DANGAN_OIDC_SCOPES = env.str("DANGAN_OIDC_SCOPES", default="openid profile")
#: How the client proves itself at the token endpoint: client_secret_basic or client_secret_post.
DANGAN_OIDC_TOKEN_AUTH = env.str("DANGAN_OIDC_TOKEN_AUTH", default="client_secret_basic")
#: The ID-token claims holding the verified national ID number and the person's name.
DANGAN_OIDC_ID_NUMBER_CLAIM = env.str("DANGAN_OIDC_ID_NUMBER_CLAIM", default="id_number")
DANGAN_OIDC_NAME_CLAIM = env.str("DANGAN_OIDC_NAME_CLAIM", default="name")
#: The callback address registered with the provider (empty: derived from the request).
DANGAN_OIDC_REDIRECT_URI = env.str("DANGAN_OIDC_REDIRECT_URI", default="")
#: The sign-on's name on the log-in button, e.g. 浙里办 or 闽政通.
DANGAN_OIDC_PROVIDER_NAME = env.str("DANGAN_OIDC_PROVIDER_NAME", default="")
#: Local accounts (user name or phone + password) for counties without the single sign-on.
DANGAN_PORTAL_LOCAL_ACCOUNTS = env.bool("DANGAN_PORTAL_LOCAL_ACCOUNTS", default=True)
#: Highest secrecy level (0 公开, 1 内部) of own records a citizen sees; 秘密 and above never.
DANGAN_PORTAL_MAX_SECRECY = min(env.int("DANGAN_PORTAL_MAX_SECRECY", default=1), 1)
#: (requests, seconds) per client address: log-in attempts, sign-ups, public searches.
DANGAN_PORTAL_RATE_LIMITS = {
    "login": (env.int("DANGAN_PORTAL_LOGIN_RATE", default=10), 60),
    "signup": (env.int("DANGAN_PORTAL_SIGNUP_RATE", default=5), 3600),
    "search": (env.int("DANGAN_PORTAL_SEARCH_RATE", default=30), 60),
}

# --- Fixity audits, storage monitoring, backups (integrity app: docs/integrity.md) -------------
#: Every blob is read back and re-hashed at least once in this many days.
DANGAN_FIXITY_PERIOD_DAYS = env.int("DANGAN_FIXITY_PERIOD_DAYS", default=90)
#: The audit reads at most this many MB per second (0: no cap), so it never starves the users.
DANGAN_FIXITY_MB_PER_S = env.float("DANGAN_FIXITY_MB_PER_S", default=20.0)
#: The worker runs one round of the audit this often.
DANGAN_FIXITY_ROUND_MINUTES = env.int("DANGAN_FIXITY_ROUND_MINUTES", default=60)
#: false: the worker runs no rounds (run `dangan fixity` from cron instead).
DANGAN_FIXITY_SCHEDULE = env.bool("DANGAN_FIXITY_SCHEDULE", default=True)
#: Smart help (dangan.assist): a category is proposed only when the model is at least this sure;
#: the worker retrains the model and looks for duplicates every this many days (0: never).
DANGAN_CLASSIFY_THRESHOLD = env.float("DANGAN_CLASSIFY_THRESHOLD", default=0.5)
DANGAN_ASSIST_ROUND_DAYS = env.int("DANGAN_ASSIST_ROUND_DAYS", default=7)
#: A storage place with less free space than either of these raises an alert.
DANGAN_STORAGE_MIN_FREE_PERCENT = env.float("DANGAN_STORAGE_MIN_FREE_PERCENT", default=10.0)
DANGAN_STORAGE_MIN_FREE_GB = env.float("DANGAN_STORAGE_MIN_FREE_GB", default=2.0)
#: Who is mailed a new storage alert (empty: nobody; alerts still go to the log and dashboard).
DANGAN_ALERT_EMAILS = env.list("DANGAN_ALERT_EMAILS", default=[])

# --- Security alerts (alerts app: docs/security.md) ----------------------------------------------
#: Mailed every new security alert, beside the security administrators' own addresses.
DANGAN_SECURITY_ALERT_EMAILS = env.list("DANGAN_SECURITY_ALERT_EMAILS", default=[])
#: A page whose 95th percentile over five minutes is slower than this raises an alert (0: never).
DANGAN_ALERT_SLOW_P95_MS = env.int("DANGAN_ALERT_SLOW_P95_MS", default=3000)
#: The address of this site as staff reach it, for links in alert mails (e.g. https://dangan.xx.gov.cn).
DANGAN_SITE_URL = env.str("DANGAN_SITE_URL", default="")

# --- Ledger (integrity app: docs/integrity.md) --------------------------------------------------
#: A folder outside this server (a mounted share of another office, write-once media) where each
#: sealed day's root is copied; ``dangan verify`` compares against it. Empty: no witness.
DANGAN_LEDGER_WITNESS_DIR = env.str("DANGAN_LEDGER_WITNESS_DIR", default="")

# --- Scale-out: read replica, Redis, workers elsewhere, health and metrics (docs/deploy.md) ------
INSTALLED_APPS += ["dangan.ops"]
#: A PostgreSQL streaming standby: search and statistics pages read from it (dangan.ops.routers).
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db_url("DATABASE_REPLICA_URL")
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["dangan.ops.routers.ReplicaRouter"]
#: The URL namespaces whose GET requests read records from the replica.
DANGAN_REPLICA_NAMESPACES = env.list("DANGAN_REPLICA_NAMESPACES", default=["search", "stats"])
#: One Redis for every web server: cache (rate limits), sessions, and (DANGAN_TASKS=rq) the queue.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    if not env.str("DANGAN_CACHE_URL", default=""):
        CACHES["default"] = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "dangan",
        }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
#: "db": the queue in the database (one county); "rq": in Redis, run by `dangan worker` anywhere.
DANGAN_TASKS = env.str("DANGAN_TASKS", default="db")
if DANGAN_TASKS == "rq":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    TASKS["default"] = {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}
    RQ_QUEUES = {
        "default": {
            "URL": env.str("DANGAN_RQ_URL", default=REDIS_URL or "redis://127.0.0.1:6379/0"),
            "DEFAULT_TIMEOUT": 3600,
        }
    }
#: Exports and reports made in the background (``dangan.jobs``) are kept this many days.
DANGAN_JOB_KEEP_DAYS = env.int("DANGAN_JOB_KEEP_DAYS", default=7)
#: A page a worker took is taken over by another worker when not finished within this time.
DANGAN_WORK_LEASE_SECONDS = env.int("DANGAN_WORK_LEASE_SECONDS", default=900)
#: A born-digital document LibreOffice has not rendered to PDF/A within this time is stopped.
DANGAN_CONVERT_TIMEOUT = env.int("DANGAN_CONVERT_TIMEOUT", default=120)
#: "warm": one LibreOffice kept running per worker (unoserver); "soffice": one per file.
DANGAN_CONVERTER = env.str("DANGAN_CONVERTER", default="warm")
#: /metrics answers a request with this bearer token, or from one of these addresses.
DANGAN_METRICS_TOKEN = env.str("DANGAN_METRICS_TOKEN", default="")
#: (Empty by default: behind nginx on the same machine every request comes from 127.0.0.1.)
DANGAN_METRICS_ALLOW = env.list("DANGAN_METRICS_ALLOW", default=[])
if SESSION_COOKIE_SECURE:
    SECURE_REDIRECT_EXEMPT += [r"^readyz"]  # load balancers probe over plain HTTP
MIDDLEWARE.insert(0, "dangan.ops.metrics.RequestMetricsMiddleware")
MIDDLEWARE.append("dangan.ops.routers.ReplicaReadsMiddleware")
#: "json": one JSON object a line (for Loki, Elasticsearch …); ID numbers are masked either way.
if env.str("DANGAN_LOG_FORMAT", default="plain") == "json":
    LOGGING["formatters"]["json"] = {"()": "dangan.ops.logformat.JsonFormatter"}
    LOGGING["handlers"]["console"]["formatter"] = "json"
#: Seconds a web process keeps its database connections between requests (0: close after each,
#: Django's default). Opening SQLite with its PRAGMAs costs more than a whole /verify/ page; a
#: new PostgreSQL connection (the replica's too) costs a process on the server.
for _database in DATABASES.values():
    _database.setdefault("CONN_MAX_AGE", env.int("DANGAN_DB_CONN_MAX_AGE", default=60))
    _database.setdefault("CONN_HEALTH_CHECKS", True)
