"""Spam scoring for new comments and learning from moderators' decisions, per deployment.

``SpamService`` (one per app, in ``app.extensions``) scores a new comment with the current
model (service/spam/scoring.py, no scikit-learn): the seed, built once per deployment into
an artefact (service/spam/seed.py), until moderators have taught it something, then the
learned weights in the ``spam_model`` row, re-read only when that row's version moves (one
small query per post tells). ``SpamLearning`` is an event sink: a ``comment.moderated``
event whose decision teaches something (domain/spam.label_for) updates the model inside the
moderator's transaction, under the row's lock, so two moderators never overwrite each
other's lesson.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..domain import events as domain_events
from ..domain import spam
from ..events import add_sink
from ..models import SpamModel, utcnow
from . import scoring
from .seed import seed_weights

if TYPE_CHECKING:
    from types import ModuleType

# The model row's id (service/spam/model.py MODEL_ROW, repeated so that reading it does not
# import scikit-learn).
MODEL_ROW = 1


def _model() -> "ModuleType":
    """service/spam/model.py, imported by a process that learns: scikit-learn, SciPy and
    NumPy add some 80 MB to a process, which one that only scores comments never carries
    (scoring.py scores without them)."""
    from . import model as loaded  # lazy: scikit-learn's import costs ~80 MB per process

    return loaded


EXTENSION = "comments_spam"


# How long a process scores with the model it last read before asking the database for the
# model's version again: a lesson learned in another process reaches this one's scores
# within this time (this process's own lessons at once), and a post saves a query.
VERSION_CHECK_SECONDS = 2.0


class SpamService:
    def __init__(self, hold_score: float) -> None:
        self.hold_score = hold_score
        self._cached: scoring.Weights | None = None
        self._checked_at = float("-inf")  # time.monotonic() of the last version read
        self._lock = threading.Lock()

    def current(self, session: Session) -> scoring.Weights:
        """The model in force: the learned row when there is one, else the seed."""
        cached = self._cached
        now = time.monotonic()
        if cached is not None and now - self._checked_at < VERSION_CHECK_SECONDS:
            return cached
        version = session.execute(
            select(SpamModel.version).where(SpamModel.id == MODEL_ROW)
        ).scalar()
        if version is None:  # nothing learned yet: the seed
            weights = seed_weights()
            with self._lock:
                self._cached, self._checked_at = weights, now
            return weights
        if cached is not None and cached is not seed_weights() and cached.version == version:
            self._checked_at = now
            return cached
        row = session.execute(select(SpamModel).where(SpamModel.id == MODEL_ROW)).scalar_one()
        weights = scoring.from_row(row)
        with self._lock:
            self._cached, self._checked_at = weights, now
        return weights

    def assess(
        self, session: Session, *, author_id: str | None, body: str, now: dt.datetime
    ) -> spam.Verdict:
        """Score a new comment (before it is written)."""
        account = spam.account_facts(session, author_id)
        tags = spam.cashtags(body)
        burst = spam.is_new(account, now) and spam.burst(session, tags, now)
        features = spam.signals(body, account=account, now=now, burst=burst)
        score = self.current(session).score(spam.model_text(body, features))
        return spam.decide(
            score,
            features,
            tags,
            account=account,
            now=now,
            hold_score=self.hold_score,
            words=spam.word_count(body),
        )

    def learn(
        self, session: Session, *, comment_id: int, label: int, now: dt.datetime | None = None
    ) -> bool:
        """Teach the model one decision on ``comment_id``; False when its text is gone."""
        example = spam.training_example(session, comment_id)
        if example is None:
            return False
        text = spam.model_text(*example)
        now = now or utcnow()
        model = _model()
        dialect = session.get_bind().dialect.name
        insert = (postgresql if dialect == "postgresql" else sqlite).insert(SpamModel)
        seed = seed_weights()
        # The first lesson creates the row from the seed; concurrent first lessons agree.
        session.execute(
            insert.values(
                id=MODEL_ROW, version=0, updated_at=now, **scoring.to_row_values(seed)
            ).on_conflict_do_nothing(index_elements=["id"])
        )
        row = session.execute(
            select(SpamModel)
            .where(SpamModel.id == MODEL_ROW)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one()
        learned = model.learn(scoring.from_row(row), text, label)
        for key, value in scoring.to_row_values(learned).items():
            setattr(row, key, value)
        row.version = row.version + 1
        row.updated_at = now
        session.flush()
        self._checked_at = float("-inf")  # this process scores with the lesson at once
        return True


class SpamLearning:
    """The event sink: moderators' decisions become lessons, in their own transaction."""

    def __init__(self, service: SpamService) -> None:
        self.service = service

    def in_transaction(self, session: Session, events: list[domain_events.Event]) -> None:
        for event in events:
            if event.type != domain_events.COMMENT_MODERATED or event.comment_id is None:
                continue
            label = spam.label_for(str(event.data.get("action")), event.data.get("reason"))
            if label is not None:
                self.service.learn(session, comment_id=event.comment_id, label=label)

    def after_commit(self, events: list[domain_events.Event]) -> None:
        return None


def init_app(app: Flask, settings: Any) -> SpamService:
    service = SpamService(hold_score=settings.spam_hold_score)
    app.extensions[EXTENSION] = service
    add_sink(app, SpamLearning(service))
    return service


def service() -> SpamService:
    found: SpamService = current_app.extensions[EXTENSION]
    return found


__all__ = ["SpamLearning", "SpamService", "init_app", "service"]
