"""Scoring a comment with the spam model, without scikit-learn, SciPy or NumPy.

A worker that only scores new comments imports this module alone: the weights are a plain
``array('d')`` and the features are computed here exactly as scikit-learn's
``HashingVectorizer`` (service/spam/model.py ``VECTORIZER``) computes them: the same analyzer
(lower-cased, the same token pattern, words and word pairs) and the same signed MurmurHash3
(x86, 32 bit, seed 0) of each token's UTF-8 bytes, from ``mmh3``. A test
(tests/unit/test_spam_model.py) keeps the indices and the scores equal to scikit-learn's on
the whole corpus. Learning (a moderator's decision) imports model.py, and scikit-learn with
it, in the process that learns.
"""

from __future__ import annotations

import math
import re
import sys
from array import array
from dataclasses import dataclass
from typing import Any, Iterator

import mmh3

N_FEATURES = 2**16
# HashingVectorizer(token_pattern=...) in model.py uses this very string.
TOKEN_PATTERN = r"(?u)\b\w\w+\b|[$]\w+"
_TOKEN = re.compile(TOKEN_PATTERN)
_MIN_INT32 = -(2**31)


def analyze(text: str) -> Iterator[str]:
    """HashingVectorizer(lowercase=True, ngram_range=(1, 2), token_pattern=TOKEN_PATTERN)'s
    analyzer: the lower-cased tokens, then each adjacent pair joined by one space."""
    tokens = _TOKEN.findall(text.lower())
    yield from tokens
    for first, second in zip(tokens, tokens[1:], strict=False):
        yield f"{first} {second}"


def feature_index(token: str) -> int:
    """The column FeatureHasher (behind HashingVectorizer) puts ``token`` in: signed
    MurmurHash3 of its UTF-8 bytes with seed 0, absolute value modulo n_features
    (alternate_sign=False: every value positive)."""
    h = mmh3.hash(token, 0, signed=True)
    if h == _MIN_INT32:
        return (2**31 - 1 - (N_FEATURES - 1)) % N_FEATURES
    return abs(h) % N_FEATURES


def coef_from_bytes(raw: bytes) -> "array[float]":
    """A stored weight array (raw little-endian float64, never a pickle)."""
    if len(raw) != 8 * N_FEATURES:
        raise ValueError(f"stored spam model has {len(raw) // 8} features, not {N_FEATURES}")
    coef = array("d")
    coef.frombytes(raw)
    if sys.byteorder == "big":
        coef.byteswap()
    return coef


def coef_to_bytes(coef: Any) -> bytes:
    out = array("d", coef)
    if sys.byteorder == "big":
        out.byteswap()
    return out.tobytes()


@dataclass(frozen=True)
class Weights:
    coef: Any  # N_FEATURES float64: array('d') here, a NumPy array is accepted too
    intercept: float
    steps: float  # SGDClassifier.t_
    seed: str  # the corpus hash it started from
    version: int = 0  # the database row's version; 0: the seed itself
    decisions: int = 0

    def score(self, text: str) -> float:
        """P(spam) for one comment's model text: what scikit-learn's transform() and the
        dot product give (model.score_batch; a test keeps the two equal), at ~50 µs for a
        short text rather than transform()'s ~1 ms of per-call overhead."""
        counts: dict[int, float] = {}
        for token in analyze(text):
            index = feature_index(token)
            counts[index] = counts.get(index, 0.0) + 1.0
        if not counts:
            return sigmoid(self.intercept)
        norm = math.sqrt(sum(v * v for v in counts.values()))
        z = sum(float(self.coef[i]) * v for i, v in counts.items()) / norm + self.intercept
        return sigmoid(z)


def sigmoid(z: float) -> float:
    return float(1.0 / (1.0 + math.exp(-max(-500.0, min(500.0, z)))))


def from_row(row: Any) -> Weights:
    """The learned model in the ``spam_model`` row."""
    if row.n_features != N_FEATURES:
        raise ValueError(f"stored spam model has {row.n_features} features, not {N_FEATURES}")
    return Weights(
        coef=coef_from_bytes(row.coef),
        intercept=float(row.intercept),
        steps=float(row.steps),
        seed=row.seed,
        version=int(row.version),
        decisions=int(row.decisions),
    )


def to_row_values(weights: Weights) -> dict[str, Any]:
    return {
        "seed": weights.seed,
        "n_features": N_FEATURES,
        "coef": coef_to_bytes(weights.coef),
        "intercept": weights.intercept,
        "steps": weights.steps,
        "decisions": weights.decisions,
    }
