"""Settings for Pro Bono Match, read from the environment (see .env.example).

Without any variables set the app runs on the embedded defaults: SQLite and kombu's filesystem
broker under var/. DEBUG is off unless asked for; with DEBUG off the app refuses to start without a
real SECRET_KEY and ALLOWED_HOSTS, and the production security settings below apply.
"""

import warnings
from email.utils import parseaddr
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config.env import env_bool, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)

_DEV_SECRET = "django-insecure-dev-only-key"  # noqa: S105 - used only when DEBUG is on
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET if DEBUG else None)
if not DEBUG and (
    not SECRET_KEY or SECRET_KEY.startswith("django-insecure") or len(SECRET_KEY) < 50
):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to 50+ random characters when DEBUG is off"
        " (for local development: DEBUG=1, as `make run` sets)"
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must name this site's hosts when DEBUG is off")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# How many reverse proxies of ours stand in front of the app (0: clients connect directly). Each
# appends to X-Forwarded-For, so the client's address is that many entries from the right
# (core.ratelimit.client_ip, the address every rate limit counts); and only behind a proxy is
# X-Forwarded-Proto believed (SECURE_PROXY_SSL_HEADER below).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)

# Key for the encrypted respondent identifiers (case requests issue). Kept apart from SECRET_KEY
# so rotating one does not touch the other. The first key encrypts, every key decrypts; the keyed
# A-number hash is derived from the first key (see cases/crypto.py).
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS", [])
if not DEBUG and (not FIELD_ENCRYPTION_KEYS or min(map(len, FIELD_ENCRYPTION_KEYS)) < 32):
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEYS must be set to one or more keys of 32+ random characters "
        "when DEBUG is off"
    )
if not FIELD_ENCRYPTION_KEYS:
    # Development only: a fixed, public key so that a restarted dev server still reads its data.
    warnings.warn(
        "FIELD_ENCRYPTION_KEYS is not set: respondent identifiers are encrypted with a PUBLIC "
        "development key. Never use this database for real data.",
        stacklevel=1,
    )
    FIELD_ENCRYPTION_KEYS = ["development-only-field-encryption-key-not-secret"]

INSTALLED_APPS = [
    # The admin with our site (core/admin_site.py) as admin.site.
    "core.apps.ProBonoAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "core",
    "cases",
    "volunteers",
    "matching",
    "pledges",
    "mentoring",
    "interpreters",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # First of ours: refuses an oversized body before any middleware or view reads it.
    "core.middleware.request_size_limit",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # A NUL in the path, query or form fields is a 400 before anything reads it (SEC-17).
    "core.middleware.reject_nul_bytes",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Sessions end SESSION_ABSOLUTE_SECONDS after sign-in, however active (SEC-10).
    "core.middleware.absolute_session_timeout",
    # Staff need TOTP before any admin page (SEC-9); the admin login is throttled (SEC-6).
    "core.staff_security.staff_security",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A form sent after signing out: sign in, then back to its page, not to its POST-only action.
    "core.middleware.signed_out_post_back_to_its_page",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.no_store_for_authenticated",
    # Objects refused by a permission-scoped selector go to the event log (SEC-24).
    "core.middleware.AuditRefusedAccess",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "core.context_processors.site",
            ],
        },
    },
]

# Database: PostgreSQL in production and CI (DATABASE_URL), SQLite under var/ otherwise.
_DATABASE_URL = env_url(
    "DATABASE_URL", schemes={"postgres", "postgresql", "pgsql", "sqlite", "postgis"}
)
if _DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(_DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "db.sqlite3"),
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL;",
            },
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so that a real worker process can share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Argon2id first (memory-hard; Django's recommended hasher), at OWASP's recommended cost (46 MiB,
# one pass, one lane: core/hashers.py): a check costs about 50 ms of one core here, and a GPU gains
# far less against it than against PBKDF2. Hashes made by the others (or with Django's Argon2
# parameters) still verify and are re-hashed at the next sign-in.
PASSWORD_HASHERS = [
    "core.hashers.OwaspArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
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

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "America/New_York")
USE_I18N = True
# Our own wording of a dependency's strings (allauth's Title Case in sentence case): read before
# any app's catalog. locale/en/LC_MESSAGES/django.po says how to compile it.
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Bootstrap is vendored under static/vendor/bootstrap/ (see the README there).
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Retention (SEC-25): closed and withdrawn case requests whose last change is older than this are
# anonymised every night (identifiers, free text, contact route; cases.services
# case_requests_purge, `manage.py purge_closed_cases`).
CASE_RETENTION_DAYS = env_int("CASE_RETENTION_DAYS", 7 * 365, minimum=1)

# The weekly digest (volunteers.digest): attorneys per chunk task, each chunk scored, rendered
# and sent over one mail connection (manage.py bench_digest measures a chunk).
DIGEST_CHUNK_SIZE = env_int("DIGEST_CHUNK_SIZE", 1000, minimum=1)

# Uploads (issue 11 #14). A request body above DATA_UPLOAD_MAX_MEMORY_SIZE is refused with 413
# before anything reads it (core.middleware.request_size_limit), except on the views that accept
# a file (the case import: IMPORT_MAX_UPLOAD_BYTES more). Above FILE_UPLOAD_MAX_MEMORY_SIZE an
# accepted upload is streamed to a temporary file instead of memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 1024 * 1024, minimum=1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 1024 * 1024, minimum=1024)
# A case import file: at most this many bytes (a 100,000-row CSV is about 13 MB) and rows; an
# XLSX may expand to at most IMPORT_MAX_UNCOMPRESSED_BYTES (its 100,000-row sheet is about 90 MB)
# and no member may be compressed more than 200:1 (a zip bomb; cases/importing.py).
IMPORT_MAX_UPLOAD_BYTES = env_int("IMPORT_MAX_UPLOAD_BYTES", 20 * 1024 * 1024, minimum=1024)
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 100_000, minimum=1)
IMPORT_MAX_UNCOMPRESSED_BYTES = env_int(
    "IMPORT_MAX_UNCOMPRESSED_BYTES", 160 * 1024 * 1024, minimum=1024
)
# An upload checked but never confirmed is deleted (with its encrypted file) after this long.
IMPORT_PREVIEW_TTL_HOURS = env_int("IMPORT_PREVIEW_TTL_HOURS", 24, minimum=1)

# Attorneys sign in through allauth (email + password, mandatory verification, optional TOTP).
# Coordinators keep the admin's own login page.
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "volunteers:dashboard"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_ADAPTER = "volunteers.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
# Signup and password reset answer the same whether or not the address has an account; the
# owner of an existing address gets an email instead (SEC-7).
ACCOUNT_PREVENT_ENUMERATION = True
# One address per attorney; changing it needs the password again (re-authentication).
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Pro Bono Match] "
# Pages and emails name people by name or email, never by the internal username (a random handle).
ACCOUNT_USER_DISPLAY = "volunteers.adapters.user_display"
# The sign-in and account rate limits, counted in the shared cache below, so every web process
# sees the same counts; windows expire, never a lockout (SEC-6). "ip" is core.ratelimit.client_ip
# (through TRUSTED_PROXY_COUNT proxies). "login_failed" (failed sign-ins at the site login and the
# admin login alike, per address and per account, "key": the email) and "resend_verification" are
# counted by core.ratelimit's window counter; the others by allauth's limiter on its own forms.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "confirm_email": "1/3m/key",
    # The "send the link again" button on the verification page (volunteers.views).
    "resend_verification": "5/10m/ip",
    "reauthenticate": "10/m/ip",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Pro Bono Match"

# The cache holds allauth's rate-limit counters, so it must be shared by every process: Redis
# when CACHE_URL (or REDIS_URL) is set, as in production; otherwise a file cache under var/, which
# every process on this machine shares with no extra service or table to create (`make run`).
_CACHE_URL = env_url(
    "CACHE_URL", env_url("REDIS_URL", schemes={"redis", "rediss"}), schemes={"redis", "rediss"}
)
if _CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _CACHE_URL,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# Email, through Django 6.1's MAILERS. SMTP in production; the console when DEBUG is on, each
# email printed decoded so that its links can be copied whole (core.console_email).
_EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "core.console_email.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
_SMTP_OPTIONS = {
    "host": env_str("EMAIL_HOST", "localhost"),
    "port": env_int("EMAIL_PORT", 587, minimum=1),
    "username": env_str("EMAIL_HOST_USER", ""),
    "password": env_str("EMAIL_HOST_PASSWORD", ""),
    "use_tls": env_bool("EMAIL_USE_TLS", True),
    "timeout": 20,
}
MAILERS = {
    "default": {
        "BACKEND": _EMAIL_BACKEND,
        "OPTIONS": _SMTP_OPTIONS if _EMAIL_BACKEND.endswith("smtp.EmailBackend") else {},
    }
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Pro Bono Match <noreply@localhost>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
ADMINS = env_list("ADMIN_EMAILS", [])
# Error reports (the mail to ADMINS, the DEBUG page) hide names, A-numbers, contact routes and
# uploaded files' names, whichever view failed (SEC-5).
DEFAULT_EXCEPTION_REPORTER_FILTER = "core.error_reports.IdentifierSafeReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "core.error_reports.IdentifierSafeExceptionReporter"
# Where people write for help (shown on the email verification page and in emails).
SUPPORT_EMAIL = env_str(
    "SUPPORT_EMAIL", "help@" + parseaddr(DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
)

# Seconds before Redis hands an unacknowledged message (its worker died) to another worker. Every
# retry countdown and the debounce delay stay far below the default (REL-6: tests check it); only
# the reliability tests lower it, to see a killed worker's run redelivered within seconds.
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1)

# Celery: Redis in production (CELERY_BROKER_URL); kombu's filesystem transport under var/
# otherwise, so the one-command run still has a real worker and scheduler.
CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL", "filesystem://", schemes={"redis", "rediss", "amqp", "filesystem"}
)
_CELERY_QUEUE_DIR = VAR_DIR / "celery" / "queue"
if CELERY_BROKER_URL == "filesystem://":
    _CELERY_QUEUE_DIR.mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "celery" / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_CELERY_QUEUE_DIR),
        "data_folder_out": str(_CELERY_QUEUE_DIR),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
    _default_results = f"file://{VAR_DIR / 'celery' / 'results'}"
    (VAR_DIR / "celery" / "results").mkdir(parents=True, exist_ok=True)
else:
    # Tasks are acked late; an unacked message comes back after this timeout, so every retry
    # countdown must stay below it (REL-6).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
    _default_results = CELERY_BROKER_URL
CELERY_RESULT_BACKEND = env_url(
    "CELERY_RESULT_BACKEND", _default_results, schemes={"redis", "rediss", "file", "rpc"}
)
CELERY_TASK_ALWAYS_EAGER = False
# The beat schedule's crontab hours are local to the program, like every other time shown.
CELERY_TIMEZONE = TIME_ZONE

# Matching. Auto-approval lets a program skip coordinator review of proposals (off by default).
MATCHING_AUTO_APPROVE = env_bool("MATCHING_AUTO_APPROVE", False)
# New cases, newly verified attorneys, raised capacity and ended matches ask for a debounced run
# (matching/tasks/runs.py); off leaves the beat schedule and the admin's "run now".
MATCHING_RUN_ON_CHANGE = env_bool("MATCHING_RUN_ON_CHANGE", True)
# A case's other languages count as direct routes (matching/pipeline/load/cases.py
# other_languages_matched): on by default (issue 15); off matches each case in its main language.
MATCHING_OTHER_LANGUAGES = env_bool("MATCHING_OTHER_LANGUAGES", True)
# Split a run's solve across Celery workers by connected component when at least two components
# have this many cases (matching/pipeline/fanout.py). 0, the default, solves in process. Needs a
# result backend that every worker shares (Redis); the embedded file backend stays off.
MATCHING_FANOUT_MIN_CASES = env_int("MATCHING_FANOUT_MIN_CASES", 0, minimum=0)
# Seconds the run waits for the workers' component results before solving the rest itself.
MATCHING_FANOUT_TIMEOUT = env_int("MATCHING_FANOUT_TIMEOUT", 120, minimum=1)
# Queue of the per-component solves (unset: the default queue); a queue of its own lets
# solver-only workers take them while the run's worker waits.
MATCHING_FANOUT_QUEUE = env_str("MATCHING_FANOUT_QUEUE", "")
# A run writes its proposals in one transaction per batch of whole components of about this many
# assignments (matching/pipeline/run.py): smaller batches hold row locks for less time.
MATCHING_WRITE_BATCH_ASSIGNMENTS = env_int("MATCHING_WRITE_BATCH_ASSIGNMENTS", 20_000, minimum=1)
# A batch of at least this many proposals is written on two database connections at once, still
# all or nothing (matching/pipeline/write.py): PostgreSQL's share of the write then runs on two
# cores. 0: one connection.
MATCHING_WRITE_TWO_CONNECTIONS_ABOVE = env_int(
    "MATCHING_WRITE_TWO_CONNECTIONS_ABOVE", 20_000, minimum=0
)
# A debounced run (after a change) reads only the best open cases within the free attorneys'
# reach, exactly as optimal as a full run (matching/pipeline/load/small.py), unless that is more
# than this many cases; then, and for the scheduled run, it loads the whole backlog. 0: never.
MATCHING_SMALL_RUN_MAX_CASES = env_int("MATCHING_SMALL_RUN_MAX_CASES", 100_000, minimum=0)
MATCH_OFFER_TTL_HOURS = env_int("MATCH_OFFER_TTL_HOURS", 72, minimum=1)
MATCH_OFFER_REMINDER_HOURS = env_int("MATCH_OFFER_REMINDER_HOURS", 24, minimum=1)
# Days after accepting a case during which the attorney may put it back (hand it back to the
# pool with a reason); a coordinator can move the deadline of one match in the admin.
MATCH_PUT_BACK_DAYS = env_int("MATCH_PUT_BACK_DAYS", 14, minimum=0)
# Cases per page of the attorney's opportunity board (keyset-paged, matching/board.py).
OPPORTUNITY_BOARD_PAGE_SIZE = env_int("OPPORTUNITY_BOARD_PAGE_SIZE", 20, minimum=1)
# Pledge form posts accepted per client address per minute (SEC-19), counted in the shared cache.
PLEDGE_RATE_LIMIT_PER_MINUTE = env_int("PLEDGE_RATE_LIMIT_PER_MINUTE", 5, minimum=1)
# The blank pledge form is rendered once per this many seconds and day (pledges.views); a court
# or language a coordinator adds shows within it. 0 renders it on every request.
PLEDGE_FORM_CACHE_SECONDS = env_int("PLEDGE_FORM_CACHE_SECONDS", 300, minimum=0)
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000" if DEBUG else f"https://{ALLOWED_HOSTS[0]}")

# Security headers (SEC-2..SEC-5). The CSP allows nothing inline and nothing from elsewhere:
# Bootstrap and every script are served from our own static files.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],  # Bootstrap's form controls draw icons as data: SVGs
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Flash messages ride in the session, never in a cookie of their own: the default storage sets a
# "messages" cookie, a name Django cannot give the __Host- prefix (SEC-4).
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=300)
# Every request pushes the expiry forward, so SESSION_COOKIE_AGE is an idle timeout (SEC-10).
SESSION_SAVE_EVERY_REQUEST = True
# And however active, a session ends this long after its sign-in (core.middleware, SEC-10).
SESSION_ABSOLUTE_SECONDS = env_int("SESSION_ABSOLUTE_SECONDS", 12 * 3600, minimum=300)

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    if TRUSTED_PROXY_COUNT:
        # Only our proxy sets it; with no proxy a client could send it over plain HTTP.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # __Host- cookies are bound to this exact host, over HTTPS, for the whole path (SEC-4).
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            # Tracebacks and messages with anything shaped like an A-number starred (SEC-23).
            "()": "core.log.ScrubbingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "null": {"class": "logging.NullHandler"},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # A request for a host not in ALLOWED_HOSTS is a scanner, not a fault: answered 400 and
        # never mailed to the admins (each one would be an email).
        "django.security.DisallowedHost": {"handlers": ["null"], "propagate": False},
    },
}
