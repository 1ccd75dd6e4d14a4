"""`python -m bench.spam`: how well the spam model does, and how fast, on the shipped corpus.

The corpus (service/spam/corpus.jsonl) is split once, stratified and with a fixed seed, into
a seed part (the model is trained on it as at first start), a pool of "moderator decisions"
and a held-out test part that neither ever sees. It reports precision and recall on the
test part at the hold threshold (COMMENTS_SPAM_HOLD_SCORE, 0.9) and at 0.5, after 0, 50 and
200 simulated decisions (each decision is one pool comment with its true label, learned as
the service learns a moderator's decision; past the pool's size the pool is gone through
again in a new order), plus the seed's training time and the cost of scoring one comment.
The report replaces the section between the markers in docs/moderation.md.

    python -m bench.spam            # prints the report and rewrites docs/moderation.md
    python -m bench.spam --print    # prints only
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from service.domain import spam
from service.spam import model

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "moderation.md"
START, END = "<!-- spam-report:start -->", "<!-- spam-report:end -->"
SPLIT_SEED = 18
SHARES = (0.4, 0.35)  # seed, decision pool; the rest (0.25) is the held-out test part
CHECKPOINTS = (0, 50, 200)
THRESHOLDS = (0.9, 0.5)


def split(
    examples: list[model.Example],
) -> tuple[list[model.Example], list[model.Example], list[model.Example]]:
    rng = random.Random(SPLIT_SEED)
    seed, pool, test = [], [], []
    for label in (0, 1):
        group = [e for e in examples if e.label == label]
        rng.shuffle(group)
        a = round(len(group) * SHARES[0])
        b = a + round(len(group) * SHARES[1])
        seed += group[:a]
        pool += group[a:b]
        test += group[b:]
    for part in (seed, pool, test):
        rng.shuffle(part)
    return seed, pool, test


def metrics(
    weights: model.Weights, test: list[model.Example], threshold: float
) -> dict[str, float]:
    tp = fp = fn = tn = 0
    for e in test:
        held = weights.score(model.example_text(e)) >= threshold
        tp += held and e.label == 1
        fp += held and e.label == 0
        fn += (not held) and e.label == 1
        tn += (not held) and e.label == 0
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": precision, "recall": recall, "tp": tp, "fp": fp, "fn": fn, "tn": tn}


def decisions(pool: list[model.Example], n: int) -> list[model.Example]:
    rng = random.Random(SPLIT_SEED + 1)
    out: list[model.Example] = []
    while len(out) < n:
        round_ = list(pool)
        rng.shuffle(round_)
        out += round_
    return out[:n]


def scoring_cost(weights: model.Weights, texts: list[str], repeat: int = 5) -> float:
    """Median microseconds to compute one comment's signals and score (no database)."""
    account = spam.AccountFacts(first_seen=None)
    now = model._CORPUS_NOW
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        for text in texts:
            features = spam.signals(text, account=account, now=now)
            weights.score(spam.model_text(text, features))
        runs.append((time.perf_counter() - started) / len(texts) * 1e6)
    return statistics.median(runs)


def report() -> str:
    examples = model.read_corpus()
    seed, pool, test = split(examples)
    started = time.perf_counter()
    weights = model.train(seed)
    seed_seconds = time.perf_counter() - started
    started = time.perf_counter()
    model.train(examples)
    full_seconds = time.perf_counter() - started
    stream = decisions(pool, max(CHECKPOINTS))
    rows = []
    done = 0
    learn_times = []
    for checkpoint in CHECKPOINTS:
        while done < checkpoint:
            e = stream[done]
            t = time.perf_counter()
            weights = model.learn(weights, model.example_text(e), e.label)
            learn_times.append(time.perf_counter() - t)
            done += 1
        cells = []
        for threshold in THRESHOLDS:
            m = metrics(weights, test, threshold)
            cells.append(f"{m['precision']:.2f} / {m['recall']:.2f}")
            if threshold == THRESHOLDS[0]:
                confusion = f"{m['tp']} / {m['fp']} / {m['fn']} / {m['tn']}"
        rows.append(f"| {checkpoint} | {' | '.join(cells)} | {confusion} |")
    spam_n = sum(e.label for e in examples)
    cost = scoring_cost(weights, [e.text for e in test])
    learn_ms = statistics.median(learn_times) * 1000 if learn_times else 0.0
    lines = [
        f"Corpus: {len(examples)} comments ({spam_n} spam, {len(examples) - spam_n} not), "
        f"split with seed {SPLIT_SEED} into {len(seed)} for the seed model, {len(pool)} "
        f"for simulated moderator decisions and {len(test)} held out "
        f"({sum(e.label for e in test)} spam).",
        "",
        "| decisions learned | precision / recall at 0.9 (the hold score) | "
        "precision / recall at 0.5 | at 0.9: caught / wrongly held / missed / passed |",
        "| --- | --- | --- | --- |",
        *rows,
        "",
        f"Training the seed: {seed_seconds * 1000:.0f} ms on the seed part, "
        f"{full_seconds * 1000:.0f} ms on the whole corpus (what the build step does once "
        "per corpus: `flask migrate`, the Dockerfile). "
        f"Learning one decision: {learn_ms:.1f} ms (median). Scoring "
        f"one comment (signals, hashing, dot product; no database): {cost:.0f} µs (median). "
        "In the service a post also reads the author's record and the model's version "
        "(two small queries; a third for the cashtag burst when a new account names one).",
        "",
        "Produced by `python -m bench.spam` (numbers from one run on a shared, loaded "
        "machine; the precision and recall are deterministic).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--print", action="store_true", help="do not rewrite docs/moderation.md")
    args = parser.parse_args(argv)
    body = report()
    print(body)
    if not args.print:
        doc = DOC.read_text(encoding="utf-8")
        head, _, rest = doc.partition(START)
        _, _, tail = rest.partition(END)
        DOC.write_text(f"{head}{START}\n{body}{END}{tail}", encoding="utf-8")
        print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
