# syntax=docker/dockerfile:1
# The comments service: granian serving service.asgi:app (python -m service.serve), migrations
# run by the entrypoint. The image carries the runtime lock alone (no test or bench tools).
# The server starts one delivery worker (webhooks) beside itself unless
# COMMENTS_DELIVERY_WORKER=false; to run workers as their own containers, give the image the
# command `flask --app service worker --metrics-port 9100` (docker-compose.yml's `worker`).

# --- build: wheels for the pinned dependencies (compilers stay in this stage) ----------------
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /build
COPY requirements.lock .
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-compile -r requirements.lock

# --- runtime: the virtualenv, the code, a non-root user -------------------------------------
FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    WEB_CONCURRENCY=2 \
    COMMENTS_ENV=production \
    PROMETHEUS_MULTIPROC_DIR=/tmp/comments-metrics
RUN groupadd --system --gid 10001 comments \
    && useradd --system --uid 10001 --gid comments --home-dir /app --shell /usr/sbin/nologin comments
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --chown=root:root service ./service
COPY --chown=root:root migrations ./migrations
COPY --chown=root:root alembic.ini ./
COPY --chown=root:root docker/entrypoint.sh /usr/local/bin/comments-entrypoint
# The spam model's seed, trained once here from service/spam/corpus.jsonl into
# service/spam/seed.json (read-only at run time; every worker reads it instead of training).
# instance/ holds the SQLite file when no DATABASE_URL is given (development only).
RUN python -m service.spam \
    && chmod 0755 /usr/local/bin/comments-entrypoint \
    && mkdir -p /app/instance \
    && chown comments:comments /app/instance
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=2)"]
ENTRYPOINT ["/usr/local/bin/comments-entrypoint"]
