# Sluice, production image: gunicorn serves the app, whitenoise its static files.
# The same image runs the web, worker and scheduler services of docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, in their own layer: rebuilt only when pyproject.toml changes.
# (The project itself ships no packages: it runs from /app.)
COPY pyproject.toml ./
RUN pip install .

COPY . .

# Static files are collected into the image (STATIC_ROOT=/app/staticfiles, hashed and
# compressed for whitenoise). The keys below exist only for this build step.
RUN SECRET_KEY=collectstatic-only-not-a-secret SLUICE_AUDIT_KEYS=collectstatic-only-not-an-audit-key \
    python manage.py collectstatic --noinput \
    && useradd --create-home --uid 1000 sluice \
    && mkdir -p /app/var/audit-checkpoints \
    && chown -R sluice:sluice /app/var

USER sluice
EXPOSE 8000

# The web service: migrations first, then gunicorn (workers: $WEB_CONCURRENCY, default 3).
CMD ["sh", "-c", "python manage.py migrate --noinput && exec gunicorn config.wsgi --bind 0.0.0.0:8000 --workers ${WEB_CONCURRENCY:-3} --access-logfile -"]
