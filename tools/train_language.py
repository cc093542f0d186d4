"""Train the language models (``bot/classifier.py``) from the labelled phrases in ``content/language/phrases``.

    pip install -e '.[train]'          # scikit-learn: needed to train, never to run the bot
    python -m tools.train_language     # writes content/language/{model,intents}.{yaml,bin}; prints dev figures

Two models, the same features:

- ``model``: is this a crisis, and which kind? Crisis items carry a ``category`` (the kind); near-misses and
  ordinary requests are ``none``.
- ``intents``: what an ordinary request asks for, as an intent id of ``content/routing.yaml``. Routing items
  carry an ``intent``; the intents' own keywords and examples are added; near-misses are ``none``.

Phrase files use the format of ``shared/tools/score-phrases``. ``train-*.json`` and ``fresh-*.json`` (fresh
sets, folded in after they were measured once) are trained on; ``dev.json`` is only scored, to choose the
thresholds and to report. A test fails when a model is older than its phrases.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from bot.classifier import NONE, CrisisModel, LinearModel, vector
from bot.language import KINDS, Language
from dialogs.lint import load_content
from dialogs.load import default_content_dir

BUCKETS = 1 << 16  # crisis model: 9 classes × 64k buckets × 2 bytes = 1.1 MiB
INTENT_BUCKETS = 1 << 13  # intents: ~45 classes, so fewer buckets (0.7 MiB); collisions cost little here
TARGET_FALSE_POSITIVES = 0.05  # on the dev near-misses: the crisis threshold is the lowest that keeps to this
Row = tuple[str, list[str], str]  # folded text, context features, label


def phrase_files(folder: Path) -> tuple[list[Path], Path]:
    train = sorted(folder.glob("train-*.json")) + sorted(folder.glob("fresh-*.json"))
    return train, folder / "dev.json"


def digest(paths: Sequence[Path]) -> str:
    """A digest of the phrase files: a model records the one it was trained from."""
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def items(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(section, item) for every item of a phrase file, checking crisis categories."""
    data = json.loads(path.read_text(encoding="utf-8"))
    out = [(k, it) for k in ("crisis", "near_miss", "routing") for it in data.get(k, [])]
    unknown = {it.get("category") for k, it in out if k == "crisis" and it.get("category") not in KINDS}
    if unknown:
        known = ", ".join(KINDS)
        raise SystemExit(f"{path.name}: unknown crisis categories {sorted(map(str, unknown))}; known: {known}")
    return out


def who_of(item: dict[str, Any]) -> str | None:
    return str(item.get("as") or "").replace("-", "_") or None


def fit(rows: list[Row], classes: list[str], c: float, buckets: int, *, nb: bool = False
        ) -> tuple[array[int], list[float], float]:
    """Multinomial logistic regression (scikit-learn) → int16 weights (bucket-major), biases and scale.

    ``nb`` (two classes only): naive-Bayes scaled features (Wang and Manning 2012, "NBSVM"): each feature is
    scaled by the log-ratio of how often it occurs in the second class and the first, which suits short texts
    that differ by a few words. The scaling is folded into the weights, so scoring is unchanged."""
    import numpy as np  # training-only dependencies
    from scipy.sparse import csr_matrix, diags
    from sklearn.linear_model import LogisticRegression

    r, col, val = [], [], []
    for i, (norm, extra, _) in enumerate(rows):
        for b, v in vector(norm, buckets, extra).items():
            r.append(i)
            col.append(b)
            val.append(v)
    x = csr_matrix((val, (r, col)), shape=(len(rows), buckets))
    y = np.array([classes.index(label) for _, _, label in rows])
    clf = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
    if nb:
        seen = (x > 0).astype(float)
        pos = np.asarray(seen[y == 1].sum(0)).ravel() + 1
        neg = np.asarray(seen[y == 0].sum(0)).ravel() + 1
        ratio = np.log((pos / pos.sum()) / (neg / neg.sum()))
        clf.fit(x @ diags(ratio), y)
        w = clf.coef_[0] * ratio  # a binary model's one weight vector, as two classes: none = -w/2, crisis = w/2
        coef = np.vstack([-w / 2, w / 2])
        clf.intercept_ = np.array([-clf.intercept_[0] / 2, clf.intercept_[0] / 2])
        clf.classes_ = np.array([0, 1])
    else:
        clf.fit(x, y)
        coef = np.zeros((len(classes), buckets))
        coef[clf.classes_] = clf.coef_
    bias = np.full(len(classes), -30.0)  # a class with no examples is never chosen
    bias[clf.classes_] = clf.intercept_
    scale = float(np.abs(coef).max()) / 32767.0
    weights = array("h", np.round(coef.T / scale).astype("int16").ravel().tolist())
    return weights, [round(float(b), 6) for b in bias], scale


def write(folder: Path, name: str, model: LinearModel, about: str, trained_on: list[str], examples: int,
          data_digest: str) -> None:
    (folder / f"{name}.bin").write_bytes(model.weights.tobytes())
    meta = {
        "about": about,
        "trained": dt.date.today().isoformat(),
        "trained_on": trained_on,
        "examples": examples,
        "digest": data_digest,
        "classes": list(model.classes),
        "buckets": model.buckets,
        "scale": model.scale,
        "bias": list(model.bias),
        "threshold": round(model.threshold, 4),
    }
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(meta, sort_keys=False, width=110), encoding="utf-8")
    print(f"wrote {folder / name}.bin ({len(model.weights) * 2 // 1024} KiB) from {examples} examples")


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--content", type=Path, default=default_content_dir())
    ap.add_argument("--c", type=float, default=300.0, help="inverse regularisation strength (crisis model)")
    ap.add_argument("--gate-c", type=float, default=30.0, help="inverse regularisation strength (crisis gate)")
    ap.add_argument("--intent-c", type=float, default=100.0, help="inverse regularisation strength (intents)")
    a = ap.parse_args()

    content = load_content(a.content, lint=False)
    language = Language(content, model=None, intents=None)
    folder = a.content / "language"
    train_paths, dev_path = phrase_files(folder / "phrases")
    data_digest = digest([*train_paths, dev_path] if dev_path.exists() else train_paths)
    train = [(k, it) for p in train_paths for k, it in items(p)]
    dev = items(dev_path) if dev_path.exists() else []

    def row(it: dict[str, Any], label: str) -> Row:
        return language.fold(it["text"]), language.context(it["text"], who_of(it)), label

    # --- crisis
    classes = [NONE, *KINDS]
    rows = [row(it, it["category"] if k == "crisis" else NONE) for k, it in train]
    rows += [(t, language.context(t, None), NONE) for t in gibberish(400)]
    weights, bias, scale = fit(rows, classes, a.c, BUCKETS)
    model = CrisisModel(classes, BUCKETS, scale, weights, bias, threshold=0.5)
    gate_rows = [(norm, extra, "crisis" if label != NONE else NONE) for norm, extra, label in rows]
    weights, bias, scale = fit(gate_rows, [NONE, "crisis"], a.gate_c, BUCKETS, nb=True)
    model.gate = LinearModel([NONE, "crisis"], BUCKETS, scale, weights, bias, threshold=0.5)
    scored = [(model.score(*row(it, "")[:2]).crisis, it.get("category", NONE), k) for k, it in dev]
    model.threshold = model.gate.threshold = choose_threshold(scored)
    report(scored, model.threshold)
    write(folder, "model", model, "Crisis kinds classifier weights, written by `python -m tools.train_language`; "
          "see bot/classifier.py.", [p.name for p in train_paths], len(rows), data_digest)
    write(folder, "gate", model.gate, "Crisis or not: naive-Bayes scaled logistic regression, written by "
          "`python -m tools.train_language`; see bot/classifier.py.", [p.name for p in train_paths], len(rows),
          data_digest)

    # --- intents
    intent_ids = [i.id for i in content.intents]
    rows = [row(it, it["intent"]) for k, it in train if k == "routing" and it.get("intent") in intent_ids]
    # Small talk ("ok thanks", "hello?") is "none"; the crisis near-misses are not used here: many of them
    # are ordinary requests ("is it illegal to threaten to share a pic?") that an intent should answer.
    rows += [row(it, NONE) for k, it in train if k == "near_miss" and it.get("small_talk")]
    for intent in content.intents:
        for who in intent.who:
            words = (*intent.keywords, *intent.examples)
            rows += [(language.fold(t), language.context(t, who), intent.id) for t in words]
    classes = [NONE, *intent_ids]
    weights, bias, scale = fit(rows, classes, a.intent_c, INTENT_BUCKETS)
    intents = LinearModel(classes, INTENT_BUCKETS, scale, weights, bias, threshold=0.0)
    dev_rows = [(it, who_of(it)) for k, it in dev if k == "routing" and it.get("intent") in intent_ids]
    intents.threshold = choose_intent_threshold(language, intents, dev_rows)
    write(folder, "intents", intents, "Intent classifier weights, written by `python -m tools.train_language`; "
          "see bot/classifier.py and content/routing.yaml.", [p.name for p in train_paths], len(rows), data_digest)


def gibberish(n: int) -> list[str]:
    """Made-up words ("zqxv plorb"), always ``none``: so that words the model has never seen say nothing, rather
    than leaving the decision to its bias. Seeded, so training is repeatable."""
    import random

    rnd = random.Random(20261130)
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [" ".join("".join(rnd.choice(letters) for _ in range(rnd.randint(2, 9)))
                     for _ in range(rnd.randint(1, 6))) for _ in range(n)]


def choose_threshold(scored: list[tuple[float, str, str]]) -> float:
    """The lowest threshold whose false positives on the dev near-misses stay within the target."""
    negatives = sorted((p for p, _, section in scored if section == "near_miss"), reverse=True)
    if not negatives:
        return 0.5
    allowed = int(len(negatives) * TARGET_FALSE_POSITIVES)
    return min(0.9, max(0.2, negatives[allowed] + 1e-4))


def choose_intent_threshold(
    language: Language, model: LinearModel, dev: list[tuple[dict[str, Any], str | None]]
) -> float:
    """The threshold that answers most dev requests rightly, counting a wrong answer as twice as bad as none."""
    scored = []
    for it, who in dev:
        probs = model.probabilities(language.fold(it["text"]), language.context(it["text"], who))
        open_to = [(p, c) for c, p in probs.items() if c != NONE]
        p, best = max(open_to)
        scored.append((p, best == it["intent"]))
    best_t, best_v = 0.5, -1e9
    for t in [x / 100 for x in range(10, 95, 5)]:
        value = sum(1 if ok else -2 for p, ok in scored if p >= t)
        if value > best_v:
            best_t, best_v = t, value
    right = sum(ok for p, ok in scored if p >= best_t)
    wrong = sum(not ok for p, ok in scored if p >= best_t)
    print(f"intents on dev at threshold {best_t:.2f}: {right} right, {wrong} wrong, {len(scored) - right - wrong} "
          f"left to the keywords or a question back (of {len(scored)})")
    return best_t


def report(scored: list[tuple[float, str, str]], threshold: float) -> None:
    by_kind: dict[str, list[int]] = {}
    wrong = {"near_miss": [0, 0], "routing": [0, 0]}
    for p, label, section in scored:
        k = by_kind.setdefault(label, [0, 0]) if section == "crisis" else wrong[section]
        k[0] += p >= threshold
        k[1] += 1
    for kind, (h, n) in sorted(by_kind.items()):
        print(f"  dev {kind}: {h}/{n}")
    total = [sum(v[0] for v in by_kind.values()), sum(v[1] for v in by_kind.values())]
    print(f"crisis on dev at threshold {threshold:.3f}: recall {total[0]}/{total[1]}; false positives: near-misses "
          f"{wrong['near_miss'][0]}/{wrong['near_miss'][1]}, requests {wrong['routing'][0]}/{wrong['routing'][1]}")


if __name__ == "__main__":
    main()
