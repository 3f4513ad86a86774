"""Sluice settings, read only from environment variables (see README, "Configuration").

Two shapes share this file:
- demo (SLUICE_DEMO=1, what `make run` sets): SQLite under var/, an embedded Redis,
  a generated SECRET_KEY kept in var/, DEBUG on;
- production (the default): SECRET_KEY required, secure cookies, HSTS, SSL redirect,
  so that `manage.py check --deploy` is clean.
"""

import secrets
from datetime import timedelta
from pathlib import Path

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_database, env_int, env_ints, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("SLUICE_VAR_DIR", str(BASE_DIR / "var")))

DEMO = env_bool("SLUICE_DEMO", False)
DEBUG = env_bool("DEBUG", DEMO)
TESTING = env_bool("SLUICE_TESTING", False)


def _demo_key(name: str = "secret_key", size: int = 50) -> str:
    """A demo keeps its random keys in var/ so sessions, encrypted secrets and the audit chain's
    signatures survive restarts."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(size))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not (DEMO or TESTING):
        raise ImproperlyConfigured("SECRET_KEY is required outside demo mode (set SLUICE_DEMO=1 for a demo).")
    SECRET_KEY = _demo_key() if DEMO else "insecure-test-only-key-" + "x" * 40

# Keys that encrypt platform secrets at rest (Fernet, comma-separated, newest first so that
# old keys still decrypt during a rotation). Unset: derived from SECRET_KEY.
SLUICE_ENCRYPTION_KEYS = env_list("SLUICE_ENCRYPTION_KEYS", [])

# Keys of the audit chain's HMAC (releases/audit_keys.py), comma-separated, newest first: new
# events are signed with the first, older ones still verify with theirs. Never stored in the
# database, so someone who can write to it cannot recompute the chain.
SLUICE_AUDIT_KEYS = env_list("SLUICE_AUDIT_KEYS", [])
if not SLUICE_AUDIT_KEYS:
    if not (DEMO or TESTING):
        raise ImproperlyConfigured(
            "SLUICE_AUDIT_KEYS is required outside demo mode: one or more random keys of at least "
            "32 characters, comma-separated, newest first (see README, Audit trail)."
        )
    SLUICE_AUDIT_KEYS = [_demo_key("audit_key", 32)] if DEMO else ["insecure-test-only-audit-key-" + "a" * 16]
if any(len(key) < 32 for key in SLUICE_AUDIT_KEYS):
    raise ImproperlyConfigured("SLUICE_AUDIT_KEYS: every key must be at least 32 characters long.")
# Where the cron job appends signed audit checkpoints (one JSON line each, a file a month);
# empty: none are written (`manage.py audit_checkpoint` prints one to stdout).
SLUICE_AUDIT_CHECKPOINT_DIR = env_str("SLUICE_AUDIT_CHECKPOINT_DIR", "")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if (DEBUG or TESTING) else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The public base URL of this deployment, used in callback URLs handed to platforms.
SLUICE_PUBLIC_URL = env_str("SLUICE_PUBLIC_URL", "")

# The platform simulator (WeChat's API, a reviewer console, pushes) is served under /sim/ when on.
SIMULATOR = env_bool("SIMULATOR", False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_rq",
    "axes",
    "releases",
    "reviews",
    "notify",
    "web",
]
# Development tools: the platform simulator and the benchmarks' data generator (`seed_scale`, which
# borrows the simulator's reason catalogue). Installed only in demo mode, when the simulator is on,
# and in tests, which drive both; the simulator's views also answer 404 whenever SIMULATOR is off.
if SIMULATOR or TESTING or DEMO:
    INSTALLED_APPS += ["simulator", "simulator.douyin", "robotsim", "bench"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "web.badinput.BadInputMiddleware",  # 413 for big bodies, 400 for NUL, the API's 404/405 as JSON
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "web.language.UserLanguageMiddleware",  # the user's language; English for the API
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into its page (429)
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
                "web.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'sluice.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while a worker writes; IMMEDIATE transactions take the
    # write lock up front so two writers queue on the busy timeout instead of deadlocking.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": env_int("SQLITE_BUSY_TIMEOUT_SECONDS", 20, minimum=1),
        "transaction_mode": "IMMEDIATE",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env_int("DB_CONN_MAX_AGE", 60, minimum=0))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
    # PostgreSQL's JIT compiles every query whose estimate passes jit_above_cost; for these short
    # page queries that costs up to half a second and saves nothing (bench/pages.py, issue 6).
    # `?options=...` in DATABASE_URL still wins.
    # The test run's commits need not survive a power cut: without waiting for each WAL flush, the
    # table flush after every live-server test (a TRUNCATE of every table) stops dominating the run.
    pg_options = "-c jit=off" + (" -c synchronous_commit=off" if TESTING else "")
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", pg_options)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The queues must never lose a job: their Redis runs with `maxmemory-policy noeviction`. What can
# be recomputed (analytics, WeChat access tokens, failed-token counters) lives in CACHE_URL, a
# Redis that may evict (allkeys-lru); by default the same server.
REDIS_SCHEMES = ("redis", "rediss", "unix")
REDIS_URL = env_url("REDIS_URL", "redis://127.0.0.1:6379/0", schemes=REDIS_SCHEMES)
CACHE_URL = env_url("CACHE_URL", REDIS_URL, schemes=REDIS_SCHEMES)
RQ_QUEUES = {
    "default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 300},
    "platform": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 120},
}
# One cache shared by every web process and worker (analytics results, rendered fragments).
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
        if TESTING
        else {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "sluice",
        }
    )
}

# Jobs are enqueued only when the transaction that asked for them commits, so a worker
# never sees a release in a state that was rolled back.
RQ = {"COMMIT_MODE": "on_db_commit", "WORKER_CLASS": "config.workers.Worker"}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "login"

# Password guessing (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one username from
# one address, that pair is locked out for LOCKOUT_MINUTES (each further try restarts the wait);
# the lockout is audited (web/throttle.py). Unlock early: `manage.py axes_reset_username NAME`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out pair before any password check
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOCKOUT_MINUTES = env_int("LOCKOUT_MINUTES", 15, minimum=1)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "web.throttle.login_lockout_response"
AXES_DISABLE_ACCESS_LOG = True  # successful logins need no table of their own; lockouts are audited
AXES_VERBOSE = False  # no start-up banner in every command
# Reverse proxies in front that append the caller's address to X-Forwarded-For (compose: 1). 0: the
# limits count by the connection's address, which behind a proxy would be the proxy's for everyone.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "web.throttle.client_address"
# Bearer tokens (API): API_TOKEN_FAILURE_LIMIT unknown tokens from one address lock that address out of
# the API for LOCKOUT_MINUTES. Unlock early: `manage.py api_token_unlock ADDRESS`.
API_TOKEN_FAILURE_LIMIT = env_int("API_TOKEN_FAILURE_LIMIT", 10, minimum=1)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
# Stored in UTC, shown in Beijing time: platform quotas and review days run on it.
TIME_ZONE = env_str("SLUICE_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): scripts, styles and everything else from this origin only,
# no inline <script>, event handler attribute or style attribute, no plugins, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
if not DEBUG:
    # The test client speaks plain HTTP; everything else defaults to HTTPS-only.
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not TESTING)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not TESTING)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not TESTING)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if env_bool("SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# The platform adapters, by the `platform` value of a PlatformAccount. releases/ only knows
# the interface (releases.platforms.PlatformAdapter) and resolves these dotted paths.
SLUICE_PLATFORM_ADAPTERS = {
    "manual": "reviews.platforms.manual.ManualAdapter",
    "wechat": "reviews.platforms.wechat.adapter.WeChatAdapter",
    "douyin": "reviews.platforms.douyin.adapter.DouyinAdapter",
}

# WeChat: where the API lives (the built-in simulator under /sim in the demo), how long a
# call may take, how a submitted review is followed, and how old a pushed callback may be.
WECHAT_API_BASE = env_url("WECHAT_API_BASE", "https://api.weixin.qq.com", schemes=("http", "https")).rstrip(
    "/"
)
WECHAT_HTTP_TIMEOUT_SECONDS = env_int("WECHAT_HTTP_TIMEOUT_SECONDS", 10, minimum=1)
# Where authorization links send the mini program's administrator (issue 14): empty for WeChat's
# own pages (mp.weixin.qq.com, open.weixin.qq.com); the demo points it at the simulator's /sim.
WECHAT_AUTH_PAGES_BASE = (
    env_url("WECHAT_AUTH_PAGES_BASE", "", schemes=("http", "https")).rstrip("/")
    if env_str("WECHAT_AUTH_PAGES_BASE")
    else ""
)
# api_get_authorizer_list's page size when importing every authorizer (at most 500).
WECHAT_AUTHORIZER_PAGE_SIZE = env_int("WECHAT_AUTHORIZER_PAGE_SIZE", 500, minimum=1)
REVIEW_POLL_MIN_SECONDS = env_int("REVIEW_POLL_MIN_SECONDS", 120, minimum=1)
REVIEW_POLL_MAX_SECONDS = env_int("REVIEW_POLL_MAX_SECONDS", 3600, minimum=1)
if REVIEW_POLL_MAX_SECONDS < REVIEW_POLL_MIN_SECONDS:
    raise ImproperlyConfigured("REVIEW_POLL_MAX_SECONDS must be at least REVIEW_POLL_MIN_SECONDS.")
WECHAT_CALLBACK_REPLAY_SECONDS = env_int("WECHAT_CALLBACK_REPLAY_SECONDS", 300, minimum=1)

# Douyin's v2 open API (the built-in simulator under /sim/douyin in the demo), read as strictly as
# WECHAT_API_BASE; its pushes carry their timestamp in the signed body, checked against the same window.
DOUYIN_API_BASE = env_url("DOUYIN_API_BASE", "https://open.douyin.com", schemes=("http", "https")).rstrip("/")
DOUYIN_HTTP_TIMEOUT_SECONDS = env_int("DOUYIN_HTTP_TIMEOUT_SECONDS", 10, minimum=1)

# Checks that fetch pages (the privacy policy): how long they wait, and whether they may reach
# private or loopback addresses (on in the demo, whose sample policy is served locally; off in
# production, so a URL typed into an app cannot probe the internal network).
SLUICE_FETCH_TIMEOUT_SECONDS = env_int("SLUICE_FETCH_TIMEOUT_SECONDS", 10, minimum=1)
SLUICE_FETCH_ALLOW_PRIVATE = env_bool("SLUICE_FETCH_ALLOW_PRIVATE", DEBUG or DEMO)

# A platform step (submit, withdraw, publish, rollback) is run by one worker at a time under a
# lease (releases/steps.py). A job may run SLUICE_STEP_JOB_TIMEOUT_SECONDS; RQ kills a work horse
# that outlives its timeout by 60 s, so a lease shorter than that could expire under a live worker
# and let a second one make the same call.
SLUICE_STEP_JOB_TIMEOUT_SECONDS = env_int("SLUICE_STEP_JOB_TIMEOUT_SECONDS", 120, minimum=1)
SLUICE_STEP_LEASE_SECONDS = env_int("SLUICE_STEP_LEASE_SECONDS", 240, minimum=1)
RQ_HORSE_KILL_MARGIN_SECONDS = 60
if SLUICE_STEP_LEASE_SECONDS < SLUICE_STEP_JOB_TIMEOUT_SECONDS + RQ_HORSE_KILL_MARGIN_SECONDS:
    raise ImproperlyConfigured(
        "SLUICE_STEP_LEASE_SECONDS must be at least SLUICE_STEP_JOB_TIMEOUT_SECONDS + "
        f"{RQ_HORSE_KILL_MARGIN_SECONDS} (RQ kills a job that long after its timeout at the latest)."
    )
# Waits between the attempts of a step that fails transiently (each ±20%); once they are used up,
# the next transient failure ends the step in its failed state with the last error.
SLUICE_STEP_RETRY_SECONDS = env_ints("SLUICE_STEP_RETRY_SECONDS", [5, 15, 30, 60, 180, 600], minimum=1)
# Campaigns (issue 14): apps per wave, submissions of the monthly quota kept for urgent fixes unless
# a campaign says otherwise, calls per minute per platform account and operation (a token bucket),
# waits after the platform said 45009 or -1, and how long one driver run holds a campaign.
SLUICE_CAMPAIGN_WAVE_SIZE = env_int("SLUICE_CAMPAIGN_WAVE_SIZE", 20, minimum=1)
SLUICE_CAMPAIGN_RESERVE = env_int("SLUICE_CAMPAIGN_RESERVE", 5, minimum=0)
SLUICE_CAMPAIGN_CALLS_PER_MINUTE = {"*": 30}
for _pair in env_list("SLUICE_CAMPAIGN_CALLS_PER_MINUTE", []):
    _operation, _, _rate = _pair.partition("=")
    if not _rate.strip().isdigit() or int(_rate) < 1:
        raise ImproperlyConfigured(
            "SLUICE_CAMPAIGN_CALLS_PER_MINUTE: write operation=calls pairs, e.g. submit=30,publish=60."
        )
    SLUICE_CAMPAIGN_CALLS_PER_MINUTE[_operation.strip() or "*"] = int(_rate)
SLUICE_CAMPAIGN_BACKOFF_SECONDS = env_ints(
    "SLUICE_CAMPAIGN_BACKOFF_SECONDS", [30, 60, 120, 300, 600], minimum=1
)
SLUICE_CAMPAIGN_LEASE_SECONDS = env_int("SLUICE_CAMPAIGN_LEASE_SECONDS", 300, minimum=10)
# A step no worker has claimed this long (its job was lost before it ran) is queued again by the
# sweep, as is a check run still pending after as long.
SLUICE_INFLIGHT_STALE_SECONDS = env_int("SLUICE_INFLIGHT_STALE_SECONDS", 300, minimum=1)

# Every handler redacts tokens, secrets and tickets (config/redact.py): httpx logs each request's
# URL at INFO, and WeChat wants its access tokens in the query string. Django's default loggers
# `django` and `django.server` (runserver's request lines) are redefined to use such handlers.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "config.redact.RedactSecrets"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact"],
            "level": "INFO",
        },
    },
    "loggers": {
        # Django's own handlers for these (DEFAULT_LOGGING) would not redact: replaced.
        "django": {"handlers": [], "level": "INFO"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        "axes": {"level": "WARNING"},  # failures and lockouts; not four lines per successful login
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

if TESTING:
    # Test users are created by the hundred; the real hasher would dominate the run time.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    WHITENOISE_AUTOREFRESH = True  # serve from the finders; tests never run collectstatic

# Submission limits (releases.limits), Beijing time.
SAME_REASON_LOCK_REJECTIONS = env_int("SAME_REASON_LOCK_REJECTIONS", 2, minimum=1)
SAME_REASON_LOCK_HOURS = env_int("SAME_REASON_LOCK_HOURS", 24, minimum=0)
RESUBMISSION_WINDOW_DAYS = env_int("RESUBMISSION_WINDOW_DAYS", 7, minimum=1)
WITHDRAW_DAILY_LIMIT = env_int("WITHDRAW_DAILY_LIMIT", 5, minimum=0)
WITHDRAW_MONTHLY_LIMIT = env_int("WITHDRAW_MONTHLY_LIMIT", 10, minimum=0)

# Notifications (issue 13): robots, email, signed webhooks. A failed delivery is retried after
# these waits (each ±20%, at least what a rate-limit answer asks), then fails for good.
SLUICE_NOTIFY_RETRY_SECONDS = env_ints("SLUICE_NOTIFY_RETRY_SECONDS", [10, 60, 300, 1800, 7200], minimum=1)
SLUICE_NOTIFY_TIMEOUT_SECONDS = env_int("SLUICE_NOTIFY_TIMEOUT_SECONDS", 10, minimum=1)
# How much the worker's notification jobs lower their CPU priority (nice), so a burst of fan-out
# never competes with requests; 0 in tests (their worker runs jobs in the test process).
SLUICE_NOTIFY_NICE = env_int("SLUICE_NOTIFY_NICE", 0 if TESTING else 10, minimum=0)
# Email: SMTP from the environment; the demo writes each message into var/mail/ to read there.
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Sluice <sluice@localhost>")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.filebased.EmailBackend"
    if DEMO
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail") if DEMO else "")
