"""The spam model's seed: trained once per build from the shipped corpus, loaded cheaply by
every process that scores.

``python -m service.spam`` (run by the Dockerfile at image build) and ``flask migrate``
(so ``make run`` and the container's entrypoint) train the seed from
``corpus.jsonl`` with scikit-learn (model.py, about a second) and write it to
``seed.json`` beside this file: a generated, git-ignored artefact holding the non-zero
weights as JSON numbers (Python writes each float so that it reads back bit for bit; no
pickle, so reading it runs no code). The artefact names the build key it was trained for,
a hash of the corpus and of everything else the weights depend on (the training and feature
code, the scikit-learn and NumPy versions); when any of those change the artefact is stale
and the next build, or failing that the first process that needs it, trains it again.

A worker reads the artefact once (some 10 ms, no scikit-learn, no NumPy). Only when it is
missing or stale, and nothing built it, does a process train the seed itself, writing the
artefact for the others when it can (an image's read-only code keeps it in memory, and the
log says so).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from array import array
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from . import scoring

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
CORPUS = HERE / "corpus.jsonl"
ARTEFACT = HERE / "seed.json"
FORMAT = 1
# What the seed's weights are derived from besides the corpus: a change to any of these
# makes a built artefact stale.
_RECIPE_FILES = (HERE / "model.py", HERE / "scoring.py", HERE.parent / "domain" / "spam.py")
_RECIPE_PACKAGES = ("scikit-learn", "numpy")


def corpus_hash(path: Path = CORPUS) -> str:
    """The corpus's SHA-256: the ``seed`` a model row remembers it started from."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_key(corpus: Path = CORPUS) -> str:
    """Hash of the corpus and the recipe: the artefact is current when it names this key."""
    digest = hashlib.sha256(f"spam-seed/{FORMAT}\n".encode())
    digest.update(corpus.read_bytes())
    for path in _RECIPE_FILES:
        digest.update(path.read_bytes())
    for package in _RECIPE_PACKAGES:
        try:
            digest.update(f"{package}=={metadata.version(package)}\n".encode())
        except metadata.PackageNotFoundError:  # pragma: no cover - the lock pins both
            digest.update(f"{package} missing\n".encode())
    return digest.hexdigest()


def _train(corpus: Path) -> scoring.Weights:
    from . import model  # lazy: scikit-learn, only where the seed is (re)trained

    return model.train(model.read_corpus(corpus), seed=corpus_hash(corpus))


# Tests replace it to count trainings.
trainer: Callable[[Path], scoring.Weights] = _train


def read(artefact: Path, key: str) -> scoring.Weights | None:
    """The seed in ``artefact`` when it was built for ``key``; None when missing or stale."""
    try:
        data = json.loads(artefact.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("spam seed %s unreadable (%s): training it again", artefact, exc)
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != key:
        return None
    if data.get("n_features") != scoring.N_FEATURES:
        return None
    coef = array("d", [0.0]) * scoring.N_FEATURES
    for index, value in zip(data["indices"], data["values"], strict=True):
        coef[index] = float(value)
    return scoring.Weights(
        coef=coef,
        intercept=float(data["intercept"]),
        steps=float(data["steps"]),
        seed=str(data["corpus"]),
    )


def write(artefact: Path, key: str, weights: scoring.Weights) -> None:
    """Write atomically (a temporary file renamed), so a reader never sees half of it."""
    indices = [i for i, v in enumerate(weights.coef) if v != 0.0]
    data: dict[str, Any] = {
        "format": FORMAT,
        "key": key,
        "corpus": weights.seed,
        "n_features": scoring.N_FEATURES,
        "intercept": float(weights.intercept),
        "steps": float(weights.steps),
        "indices": indices,
        "values": [float(weights.coef[i]) for i in indices],
    }
    fd, tmp = tempfile.mkstemp(prefix=".seed-", suffix=".tmp", dir=artefact.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, separators=(",", ":"))
        os.chmod(tmp, 0o644)
        os.replace(tmp, artefact)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def ensure(corpus: Path = CORPUS, artefact: Path = ARTEFACT) -> tuple[scoring.Weights, bool]:
    """The seed for ``corpus``: read from ``artefact`` when current, else trained and
    written there (kept in memory alone when it cannot be written). True when trained."""
    key = build_key(corpus)
    weights = read(artefact, key)
    if weights is not None:
        return weights, False
    weights = trainer(corpus)
    try:
        write(artefact, key, weights)
    except OSError as exc:
        log.warning(
            "spam seed trained in this process but not saved to %s (%s); run "
            "`python -m service.spam` where that path is writable",
            artefact,
            exc,
        )
    return weights, True


_lock = threading.Lock()
_loaded: dict[tuple[Path, Path], scoring.Weights] = {}


def seed_weights(corpus: Path = CORPUS, artefact: Path = ARTEFACT) -> scoring.Weights:
    """The seed, read once per process (the build key is checked at that first read)."""
    with _lock:
        found = _loaded.get((corpus, artefact))
        if found is None:
            found = _loaded[(corpus, artefact)] = ensure(corpus, artefact)[0]
        return found


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    _weights, trained = ensure()
    print(f"spam model seed: {'trained into' if trained else 'up to date in'} {ARTEFACT}")
