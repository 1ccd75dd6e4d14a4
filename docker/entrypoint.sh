#!/bin/sh
# Container entrypoint (also runnable by hand): refuse unsafe settings, bring the database
# to the newest schema, then become the server, granian via service/serve.py (exec: it gets
# the signals, so a stop is a graceful shutdown). Arguments, if any, are run instead of the
# server (e.g. `flask recount`).
set -eu

cd "$(dirname "$0")/.." 2>/dev/null && [ -f service/serve.py ] || cd /app

python -m service.preflight
flask --app service migrate

if [ "$#" -gt 0 ]; then
    exec "$@"
fi
exec python -m service.serve
