#!/bin/sh
# Container entrypoint (also runnable by hand): refuse unsafe settings, bring the database
# to the newest schema, then become gunicorn (exec: it gets the signals, so a stop is a
# graceful shutdown). Arguments, if any, are run instead of gunicorn (e.g. `flask recount`).
set -eu

cd "$(dirname "$0")/.." 2>/dev/null && [ -f gunicorn.conf.py ] || cd /app

python -m service.preflight
flask --app service migrate

if [ "$#" -gt 0 ]; then
    exec "$@"
fi
exec gunicorn --config gunicorn.conf.py service.wsgi:app
