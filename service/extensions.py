"""Extensions, created once and bound to an app in create_app."""

from __future__ import annotations

from flask import request
from flask_limiter import Limiter
from flask_sqlalchemy import SQLAlchemy

from .models import Base

db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


def _rate_limit_key() -> str:
    # Imported late: auth depends on the app context, and the limiter is built before it.
    from .auth import rate_limit_key

    return rate_limit_key()


limiter = Limiter(key_func=_rate_limit_key, headers_enabled=True)


@limiter.request_filter
def _preflight_exempt() -> bool:
    # A CORS preflight carries no credentials, so it would be keyed by client IP and spend
    # the write limits of everyone behind one NAT; it does no work worth limiting.
    return request.method == "OPTIONS"
