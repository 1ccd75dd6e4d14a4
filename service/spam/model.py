"""The spam model: scikit-learn's HashingVectorizer + SGDClassifier(loss="log_loss"),
trained online with ``partial_fit``.

Why this shape: a hashing vectorizer has no vocabulary to store or grow, so the whole model
is one fixed-length weight array plus an intercept, which lives in the database as raw
float64 bytes (``SpamModel``; never a pickle, so loading it can run no code). Logistic loss
gives a probability to compare with COMMENTS_SPAM_HOLD_SCORE, and ``partial_fit`` takes one
moderator's decision at a time.

The seed: trained from ``corpus.jsonl`` beside this file (labelled comments written for this
service) the first time a process needs the model, deterministically (fixed shuffles and
``random_state``), in about a second (docs/moderation.md has the figure). Training at
start rather than shipping weights keeps anything binary or hand-made out of the
repository: the corpus is the source, the weights are always derived from it. A deployment
keeps the seed until its moderators teach it something; from then on the learned weights
in the database are the model (each remembers the corpus hash it started from).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import random
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.utils import murmurhash3_32

from ..domain import spam

CORPUS = Path(__file__).with_name("corpus.jsonl")
N_FEATURES = 2**16
# Regularisation: 1e-4 left the seed unsure of plain spam once the corpus held many short
# legitimate cashtag comments (recall 0.31 at the hold score on the bench split); 3e-5 gives
# 0.48-0.57 with no legitimate comment held by the seed (docs/moderation.md, bench.spam).
ALPHA = 3e-5
EPOCHS = 12
# A moderator's decision counts as this many corpus examples: the deployment's own
# moderators know its spam better than the seed corpus does.
DECISION_WEIGHT = 4.0
MODEL_ROW = 1

_VECTORIZER = HashingVectorizer(
    n_features=N_FEATURES,
    alternate_sign=False,
    ngram_range=(1, 2),
    norm="l2",
    lowercase=True,
    token_pattern=r"(?u)\b\w\w+\b|[$]\w+",
)


@dataclass(frozen=True)
class Weights:
    coef: np.ndarray[Any, Any]  # float64, N_FEATURES
    intercept: float
    steps: float  # SGDClassifier.t_
    seed: str  # the corpus hash it started from
    version: int = 0  # the database row's version; 0: the seed itself
    decisions: int = 0

    def score(self, text: str) -> float:
        """P(spam) for one comment's model text. Computes what ``_VECTORIZER.transform``
        and the dot product would (``score_batch`` does exactly that; a test keeps the two
        equal), without scikit-learn's per-call overhead: transform() costs ~1 ms for one
        short text, the hashing itself ~50 µs (docs/moderation.md)."""
        counts: dict[int, float] = {}
        for token in _ANALYZER(text):
            index = _feature_index(token)
            counts[index] = counts.get(index, 0.0) + 1.0
        if not counts:
            return _sigmoid(self.intercept)
        norm = math.sqrt(sum(v * v for v in counts.values()))
        z = sum(float(self.coef[i]) * v for i, v in counts.items()) / norm + self.intercept
        return _sigmoid(z)

    def score_batch(self, texts: Sequence[str]) -> list[float]:
        """P(spam) for many texts through scikit-learn itself."""
        z = _VECTORIZER.transform(list(texts)).dot(self.coef) + self.intercept
        return [_sigmoid(float(v)) for v in z]


def _sigmoid(z: float) -> float:
    return float(1.0 / (1.0 + math.exp(-max(-500.0, min(500.0, z)))))


_ANALYZER = _VECTORIZER.build_analyzer()
_MIN_INT32 = -(2**31)


def _feature_index(token: str) -> int:
    """The column FeatureHasher (behind HashingVectorizer) puts ``token`` in: signed
    MurmurHash3 of its UTF-8 bytes with seed 0, absolute value modulo n_features
    (alternate_sign=False: every value positive)."""
    h = int(murmurhash3_32(token, seed=0))
    if h == _MIN_INT32:
        return (2**31 - 1 - (N_FEATURES - 1)) % N_FEATURES
    return abs(h) % N_FEATURES


@dataclass(frozen=True)
class Example:
    text: str
    label: int
    account: str  # new | established | guest | unknown


def _classifier() -> SGDClassifier:
    return SGDClassifier(
        loss="log_loss", alpha=ALPHA, learning_rate="optimal", random_state=0, average=False
    )


def _classifier_from(weights: Weights) -> SGDClassifier:
    clf = _classifier()
    clf.classes_ = np.array([0, 1])
    clf.coef_ = weights.coef.reshape(1, -1).copy()
    clf.intercept_ = np.array([weights.intercept])
    clf.t_ = weights.steps
    return clf


def _weights_of(clf: SGDClassifier, **fields: Any) -> Weights:
    return Weights(
        coef=np.ascontiguousarray(clf.coef_[0], dtype="<f8"),
        intercept=float(clf.intercept_[0]),
        steps=float(clf.t_),
        **fields,
    )


# --- the corpus and the seed --------------------------------------------------------------

_ACCOUNTS = {
    "new": spam.AccountFacts(first_seen=None),
    "guest": spam.AccountFacts(guest=True),
    "established": spam.AccountFacts(
        first_seen=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc), published=20
    ),
    "unknown": spam.AccountFacts(
        first_seen=dt.datetime(2026, 11, 25, tzinfo=dt.timezone.utc), published=2
    ),
}
_CORPUS_NOW = dt.datetime(2026, 11, 29, tzinfo=dt.timezone.utc)


def read_corpus(path: Path = CORPUS) -> list[Example]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("label") not in (0, 1) or not isinstance(row.get("text"), str):
            raise ValueError(f"{path.name}:{n}: needs text and label 0 or 1")
        out.append(Example(row["text"], int(row["label"]), row.get("account", "unknown")))
    return out


def example_text(example: Example) -> str:
    """The model's text of a corpus example, its signals computed as for a real comment
    (the account stands in for the author's record; corpus lines carry no burst)."""
    account = _ACCOUNTS.get(example.account, _ACCOUNTS["unknown"])
    features = spam.signals(example.text, account=account, now=_CORPUS_NOW)
    return spam.model_text(example.text, features)


def train(examples: Sequence[Example], *, seed: str = "", epochs: int = EPOCHS) -> Weights:
    """A model trained from scratch on ``examples`` (deterministic for the same input)."""
    texts = [example_text(e) for e in examples]
    labels = np.array([e.label for e in examples])
    x = _VECTORIZER.transform(texts)
    clf = _classifier()
    order = list(range(len(texts)))
    rng = random.Random(0)
    for _ in range(epochs):
        rng.shuffle(order)
        clf.partial_fit(x[order], labels[order], classes=np.array([0, 1]))
    return _weights_of(clf, seed=seed)


def corpus_hash(path: Path = CORPUS) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


_seed_lock = threading.Lock()
_seed: dict[str, Weights] = {}


def seed_weights(path: Path = CORPUS) -> Weights:
    """The seed model, trained from the corpus once per process."""
    key = corpus_hash(path)
    with _seed_lock:
        if key not in _seed:
            _seed[key] = train(read_corpus(path), seed=key)
        return _seed[key]


def learn(weights: Weights, text: str, label: int, weight: float = DECISION_WEIGHT) -> Weights:
    """One moderator's decision, learned online (partial_fit) on top of ``weights``."""
    clf = _classifier_from(weights)
    clf.partial_fit(
        _VECTORIZER.transform([text]),
        np.array([label]),
        sample_weight=np.array([weight]),
    )
    return _weights_of(
        clf, seed=weights.seed, version=weights.version, decisions=weights.decisions + 1
    )


def learn_many(weights: Weights, items: Iterable[tuple[str, int]]) -> Weights:
    for text, label in items:
        weights = learn(weights, text, label)
    return weights


def to_row_values(weights: Weights) -> dict[str, Any]:
    return {
        "seed": weights.seed,
        "n_features": N_FEATURES,
        "coef": weights.coef.astype("<f8").tobytes(),
        "intercept": weights.intercept,
        "steps": weights.steps,
        "decisions": weights.decisions,
    }


def from_row(row: Any) -> Weights:
    if row.n_features != N_FEATURES:
        raise ValueError(f"stored spam model has {row.n_features} features, not {N_FEATURES}")
    coef = np.frombuffer(row.coef, dtype="<f8").copy()
    return Weights(
        coef=coef,
        intercept=float(row.intercept),
        steps=float(row.steps),
        seed=row.seed,
        version=int(row.version),
        decisions=int(row.decisions),
    )


def with_version(weights: Weights, version: int) -> Weights:
    return replace(weights, version=version)
