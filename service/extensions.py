"""Extensions, created once and bound to an app in create_app."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_sqlalchemy import SQLAlchemy

from .models import Base

db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


def _rate_limit_key() -> str:
    # Imported late: auth depends on the app context, and the limiter is built before it.
    from .auth import rate_limit_key

    return rate_limit_key()


limiter = Limiter(key_func=_rate_limit_key, headers_enabled=True)
