"""The spam model without the app: the seed from the shipped corpus, the fast scoring path
against scikit-learn's own, storage without pickle, and online learning."""

from __future__ import annotations

import numpy as np

from service.spam import model


def test_fast_scoring_equals_scikit_learns_transform():
    weights = model.seed_weights()
    texts = [model.example_text(e) for e in model.read_corpus()]
    texts += ["", "$$$", "naïve café — 株価 10x!!", "t.me/x " * 50]
    fast = [weights.score(t) for t in texts]
    slow = weights.score_batch(texts)
    assert np.allclose(fast, slow, rtol=0, atol=1e-12)


def test_the_seed_separates_the_corpus_and_is_deterministic():
    examples = model.read_corpus()
    assert len(examples) >= 300 and {e.label for e in examples} == {0, 1}
    weights = model.seed_weights()
    scores = weights.score_batch([model.example_text(e) for e in examples])
    spam = [s for s, e in zip(scores, examples, strict=True) if e.label == 1]
    ham = [s for s, e in zip(scores, examples, strict=True) if e.label == 0]
    assert np.median(spam) > 0.9 > 0.5 > np.median(ham)
    again = model.train(examples, seed=weights.seed)
    assert np.array_equal(again.coef, weights.coef) and again.intercept == weights.intercept


def test_weights_round_trip_as_raw_floats_not_pickle():
    weights = model.seed_weights()
    values = model.to_row_values(weights)
    assert isinstance(values["coef"], bytes) and len(values["coef"]) == 8 * model.N_FEATURES
    assert not values["coef"].startswith(b"\x80")  # a pickle would start with PROTO

    class Row:
        version = 3
        decisions = 7
        n_features = model.N_FEATURES
        coef = values["coef"]
        intercept = values["intercept"]
        steps = values["steps"]
        seed = values["seed"]

    back = model.from_row(Row)
    assert np.array_equal(back.coef, weights.coef) and back.version == 3


def test_learning_moves_the_score_toward_the_label():
    weights = model.seed_weights()
    text = "Exclusive shareholder raffle, reply with your card number to win"
    before = weights.score(text)
    after = model.learn_many(weights, [(text, 1)] * 3)
    assert after.score(text) > before
    assert after.decisions == weights.decisions + 3
    back = model.learn_many(after, [(text, 0)] * 6)
    assert back.score(text) < after.score(text)
