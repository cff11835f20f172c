"""Dangan's settings: the one place where configuration is read, from the environment only.

Every value has an embedded default so that one county runs with no setup at all:
SQLite in ``DANGAN_DATA_DIR``, content on local disk, the task worker in-process.
A province sets ``DATABASE_URL`` (PostgreSQL) and friends; the code does not change.
"""

from pathlib import Path

import environ

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
    "dangan.accounts",
    "dangan.audit",
    "dangan.catalogue",
    "dangan.people",
    "dangan.content",
    "dangan.digitize",
    "dangan.intake",
    "dangan.api",
    "dangan.site",
    "dangan.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "dangan.audit.middleware.AuditContextMiddleware",
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
            ],
        },
    },
]

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
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "catalogue:record-list"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env.int("DANGAN_SESSION_SECONDS", default=8 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("DANGAN_HTTPS", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

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
DANGAN_MAX_REGISTER_BYTES = env.int("DANGAN_MAX_REGISTER_BYTES", default=50 * 1024 * 1024)
# OCR (digitization): "rapidocr" (models inside its wheel, offline) or "tesseract" (Debian
# tesseract-ocr-chi-sim/chi-tra, when installed). Threads per engine: 0 lets onnxruntime choose.
DANGAN_OCR_ENGINE = env.str("DANGAN_OCR_ENGINE", default="rapidocr")
DANGAN_OCR_THREADS = env.int("DANGAN_OCR_THREADS", default=0)

# --- API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Basic first, so that a request without credentials is answered 401 with a challenge.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.BasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "dangan.api.errors.problem_details_handler",
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
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DANGAN_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
