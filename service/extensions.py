"""What is created once per process and bound to each app in create_app: the database.

The rate limiter lives in ratelimit.py, beside its key function and its 429 handler."""

from __future__ import annotations

from flask_sqlalchemy import SQLAlchemy

from .models import Base

db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
