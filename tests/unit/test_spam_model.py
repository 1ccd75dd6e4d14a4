"""The spam model without the app: the seed from the shipped corpus, built once into an
artefact, the scoring path without scikit-learn against scikit-learn's own, storage without
pickle, and online learning."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from service.config import Settings
from service.domain import spam
from service.spam import model, scoring, seed

# COMMENTS_SPAM_HOLD_SCORE as shipped (0.9).
SETTINGS_HOLD_SCORE = Settings().spam_hold_score


ODD_TEXTS = ["", "$$$", "naïve café — 株价 10x!!", "t.me/x " * 50, "İSTANBUL ǅ ß ﬁ $Ünï", "a b"]


def _corpus_texts() -> list[str]:
    return [model.example_text(e) for e in model.read_corpus()] + ODD_TEXTS


def test_scoring_hashes_every_corpus_text_to_scikit_learns_columns():
    # scoring.py's analyzer and mmh3 stand in for HashingVectorizer: same columns, per text.
    for text in _corpus_texts():
        ours = sorted({scoring.feature_index(t) for t in scoring.analyze(text)})
        assert ours == model.sklearn_indices(text), text


def test_fast_scoring_equals_scikit_learns_transform():
    weights = seed.seed_weights()
    texts = _corpus_texts()
    fast = [weights.score(t) for t in texts]
    slow = model.score_batch(weights, texts)
    assert np.allclose(fast, slow, rtol=0, atol=1e-12)


# --- the seed: trained once per build into an artefact, read by every other process -------


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    trained: list[Path] = []

    def trainer(corpus: Path) -> scoring.Weights:
        trained.append(corpus)
        return seed._train(corpus)

    monkeypatch.setattr(seed, "trainer", trainer)
    return trained


def test_the_seed_is_trained_once_then_read_from_its_artefact(tmp_path, counted):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_bytes(seed.CORPUS.read_bytes())
    artefact = tmp_path / "seed.json"
    built, trained = seed.ensure(corpus, artefact)
    assert trained and counted == [corpus]
    data = json.loads(artefact.read_text())  # JSON numbers: no pickle to run
    assert data["corpus"] == seed.corpus_hash(corpus) and data["key"] == seed.build_key(corpus)
    read, trained = seed.ensure(corpus, artefact)
    assert not trained and counted == [corpus]
    # Bit for bit the weights training gave, so the artefact scores exactly as training.
    assert np.array_equal(np.asarray(read.coef), np.asarray(built.coef))
    assert (read.intercept, read.steps, read.seed) == (built.intercept, built.steps, built.seed)


def test_a_changed_corpus_retrains_the_seed(tmp_path, counted):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_bytes(seed.CORPUS.read_bytes())
    artefact = tmp_path / "seed.json"
    before, _ = seed.ensure(corpus, artefact)
    line = {"text": "Claim your free $MOON airdrop at t.me/moonfree now", "label": 1}
    with corpus.open("a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")
    after, trained = seed.ensure(corpus, artefact)
    assert trained and len(counted) == 2
    assert after.seed == seed.corpus_hash(corpus) != before.seed
    assert json.loads(artefact.read_text())["corpus"] == after.seed
    assert not np.array_equal(np.asarray(after.coef), np.asarray(before.coef))


def test_an_unwritable_artefact_still_gives_the_seed(tmp_path, counted):
    artefact = tmp_path / "missing-dir" / "seed.json"  # its folder does not exist
    weights, trained = seed.ensure(seed.CORPUS, artefact)
    assert trained and not artefact.exists()
    assert weights.seed == seed.corpus_hash(seed.CORPUS)


FRESH_PROCESS = textwrap.dedent(
    """
    import json, sys, tempfile, time
    from service.spam import seed

    def refuse(corpus):
        raise AssertionError("a worker trained the seed")

    seed.trainer = refuse
    from service import create_app
    from service.migrate import upgrade
    from tests.helpers import JWT_SECRET, auth

    url = "sqlite:///" + tempfile.mkdtemp() + "/fresh.db"
    upgrade(url)
    app = create_app({
        "DATABASE_URL": url, "COMMENTS_JWT_SECRET": JWT_SECRET,
        "COMMENTS_SECRET_KEY": "x" * 32, "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
    })
    client = app.test_client()
    thread = "/api/v1/articles/fresh-1/comments"
    spam = client.post(thread, json={"body": sys.argv[1]}, headers=auth("spammer-1"))
    ham = client.post(thread, json={"body": sys.argv[2]}, headers=auth("reader-1"))
    print(json.dumps({
        "statuses": [spam.get_json()["status"], ham.get_json()["status"]],
        "loaded": sorted(m for m in ("sklearn", "scipy", "numpy") if m in sys.modules),
    }))
    """
)


def test_a_fresh_process_scores_from_the_artefact_without_scikit_learn():
    seed.ensure()  # the build step (flask migrate, the Dockerfile) has run
    body_spam = "DM me on Telegram for signals, my VIP group made 400% on $BABA: t.me/babavip"
    body_ham = "Cloud margins improved, but the capex guidance worries me more than revenue."
    run = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, body_spam, body_ham],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert found == {"statuses": ["pending", "published"], "loaded": []}


def test_the_seed_separates_the_corpus_and_is_deterministic():
    examples = model.read_corpus()
    assert len(examples) >= 300 and {e.label for e in examples} == {0, 1}
    weights = seed.seed_weights()
    scores = model.score_batch(weights, [model.example_text(e) for e in examples])
    spam = [s for s, e in zip(scores, examples, strict=True) if e.label == 1]
    ham = [s for s, e in zip(scores, examples, strict=True) if e.label == 0]
    assert np.median(spam) > 0.9 > 0.5 > np.median(ham)
    again = model.train(examples, seed=weights.seed)
    assert np.array_equal(again.coef, weights.coef) and again.intercept == weights.intercept


def test_weights_round_trip_as_raw_floats_not_pickle():
    weights = seed.seed_weights()
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
    weights = seed.seed_weights()
    text = "Exclusive shareholder raffle, reply with your card number to win"
    before = weights.score(text)
    after = model.learn_many(weights, [(text, 1)] * 3)
    assert after.score(text) > before
    assert after.decisions == weights.decisions + 3
    back = model.learn_many(after, [(text, 0)] * 6)
    assert back.score(text) < after.score(text)


# --- generalisation: held-out comments, deliberately NOT in service/spam/corpus.jsonl ------
# A brand-new signed-in reader's ordinary market talk must publish; obvious spam from the
# same kind of account must be held. test_held_out_lists_are_not_in_the_corpus keeps these
# out of the training data, so passing means the model generalises rather than remembers.

HELD_OUT_LEGITIMATE = [
    "Long $TCOM",
    "Short $ROKU",
    "Long $CVX, added this morning",
    "Disclosure: I own a few $MRNA shares",
    "I hold $ORCL, no plans to sell",
    "Bought my first $BRK.B today",
    "Closed my $ZM short at a small profit",
    "$BABA and $TCEHY both bounced today",
    "$AMD guidance looks conservative to me",
    "$WBA dividend looks unsustainable",
    "$CSCO at 14x earnings is not expensive",
    "$LLY weight loss drug sales beat again",
    "What is the consensus EPS for $IBM?",
    "When is the $NVDA annual meeting?",
    "Does anyone know the $BABA ex-dividend date?",
    "Why is $PINS up so much today?",
    "I disagree, $SNOW growth is slowing fast",
    "Not sure about this, $ARM looks priced for perfection",
    "Fair point, but $PDD margins will compress",
    "$TXN fell 7% after the outlook",
    "$DE closed near its 52-week low",
    "Segment data is in the 20-F on sec.gov",
    "The $BABA annual report is on https://www.alibabagroup.com/en-US/ir-home",
    "Filing here: https://www.sec.gov/Archives/edgar/data/1577552/",
    "Good write-up, thanks. Any view on $HMC?",
    "Small long $VALE position for the iron ore rebound",
    "Sold $BIIB before the trial data, glad I did",
    "The $GS trading revenue was the highlight",
]

HELD_OUT_SPAM = [
    "DM me on Telegram for signals",
    "$KLMN will 10x, join t.me/klmnrocket now",
    "Join my free signals channel t.me/profitpilots, 92% accuracy",
    "Crypto giveaway! Send 0.05 BTC and receive 0.5 BTC back instantly",
    "Elon is giving away $DOGE, claim yours at bit.ly/elondrop",
    "Sign up with my affiliate link for a free share worth up to $300: cutt.ly/freeshare",
    "$OPQR price target $75 by next week, load up before it explodes!!!",
    "Guaranteed 500% returns on $TSLA options, WhatsApp me +44 7700 900456",
    "Whale alert: $STUV about to moon, VIP access at discord.gg/whalecalls",
    "I turned $1000 into $40000 with this bot, message @richtrader now",
    "Make $800 daily from home trading $SPY, contact wa.me/15550102030",
    "Hot penny stock $WXYZ 20x guaranteed, get in before the whales",
    "Free trading signals every morning, telegram @signalqueen",
    "Double your ETH in 24 hours, giveaway at tinyurl.com/ethx2now",
    "My mentor's $NVDA strategy made me rich, DM me for his Telegram",
    "$ABCX next 100x gem, presale ends tonight, t.me/abcxpresale",
]


def _new_account_score(body: str) -> float:
    account = spam.AccountFacts(first_seen=None)  # a brand-new signed-in reader
    now = dt.datetime(2026, 11, 29, 12, tzinfo=dt.timezone.utc)
    features = spam.signals(body, account=account, now=now)
    return seed.seed_weights().score(spam.model_text(body, features))


def test_held_out_lists_are_not_in_the_corpus():
    corpus = {e.text.strip().lower() for e in model.read_corpus()}
    assert len(HELD_OUT_LEGITIMATE) >= 25 and len(HELD_OUT_SPAM) >= 15
    leaked = [t for t in HELD_OUT_LEGITIMATE + HELD_OUT_SPAM if t.strip().lower() in corpus]
    assert leaked == []


@pytest.mark.parametrize("body", HELD_OUT_LEGITIMATE)
def test_short_market_talk_from_a_new_account_is_not_held(body):
    assert _new_account_score(body) < SETTINGS_HOLD_SCORE


@pytest.mark.parametrize("body", HELD_OUT_SPAM)
def test_obvious_spam_from_a_new_account_is_held(body):
    assert _new_account_score(body) >= SETTINGS_HOLD_SCORE


def test_a_new_account_alone_does_not_raise_the_score():
    body = "Long $BABA, disclosure: small position"
    now = dt.datetime.now(dt.timezone.utc)
    new = spam.signals(body, account=spam.AccountFacts(first_seen=None), now=now)
    assert not any(f.startswith("sig_new_") or f == "sig_account_new" for f in new)
    spammy = spam.signals("signals at t.me/x", account=spam.AccountFacts(), now=now)
    assert "sig_new_chat_link" in spammy
