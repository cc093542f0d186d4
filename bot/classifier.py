"""A small linear text classifier for crisis messages, read from content and run in pure Python.

Why this shape: the crisis phrase list alone did not generalise to words nobody had tuned it on (47% recall on
a fresh set). A multinomial logistic regression over word, word-pair and character n-grams learns from a
labelled set the project ships (``content/language/phrases/``), copes with typos and text-speak through the
character n-grams, and stays explainable: every score is a sum of weights of n-grams that are in the
message, and :meth:`CrisisModel.explain` lists the ones that weighed most. It is trained offline by
``python -m tools.train_language`` (scikit-learn, a training-only dependency); at run time the weights are
one small int16 table read in a millisecond, and scoring a message costs a few hundred look-ups. Nothing is
downloaded, ever.

Features (the same function is used to train and to score, so they cannot drift apart):

- ``w:`` each word; ``b:`` each pair of neighbouring words; ``n:`` a word up to three words after a
  negation ("not", "never", "no"), so "not suicidal" and "suicidal" weigh differently;
- ``c:`` character 3-, 4- and 5-grams of each word with its edges (" kms ", " unal");
- ``x:`` facts about the message beside its words (:func:`context`): the crisis phrase list matched, it
  asks a question, who is writing. So the model learns, for example, that a DSL asking "does self-harm
  mean an immediate referral?" is not the same as a pupil saying "i self harm".

Feature strings are hashed (CRC-32) into a fixed number of buckets; each message's vector has unit length.
Long messages are read in overlapping windows of words, and the window most like a crisis counts, so a
single sentence of danger inside a long message is not diluted.
"""

from __future__ import annotations

import math
import zlib
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import yaml

NEGATORS = frozenset({"not", "no", "never", "nobody", "nothing", "cannot", "without"})
NEGATION_SPAN = 3
CHAR_NGRAMS = (3, 4, 5)
WINDOW = 40  # words: long messages are scored in windows of this many words...
STRIDE = 20  # ...starting this many words apart
MAX_WINDOWS = 60  # bounded work however long the message (the phrase list still reads all of it)
NONE = "none"


def features(norm: str) -> list[str]:
    """The n-gram features of already-normalised text (see the module docstring)."""
    words = norm.split()
    out = [f"w:{w}" for w in words]
    out += [f"b:{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    out += [f"t:{a} {b} {c}" for a, b, c in zip(words, words[1:], words[2:], strict=False)]
    negated = 0
    for w in words:
        if negated:
            out.append(f"n:{w}")
            negated -= 1
        if w in NEGATORS:
            negated = NEGATION_SPAN
    for w in words:
        padded = f" {w} "
        for n in CHAR_NGRAMS:
            out += [f"c:{padded[i : i + n]}" for i in range(len(padded) - n + 1)]
    joined = " ".join(words)  # across word breaks ("e mysel", "t safe"): phrases typed with slips
    out += [f"s:{joined[i : i + 6]}" for i in range(len(joined) - 5) if " " in joined[i + 1 : i + 5]]
    return out


def context(*, phrase_list: bool, question: bool, who: str | None) -> list[str]:
    """The ``x:`` features of a message."""
    out = ["x:phrase_list"] if phrase_list else []
    if question:
        out.append("x:question")
    if who:
        out.append(f"x:{who}")
    return out


def bucket(feature: str, buckets: int) -> int:
    return zlib.crc32(feature.encode()) % buckets


def vector(norm: str, buckets: int, extra: Sequence[str] = ()) -> dict[int, float]:
    """Hashed feature counts of ``norm`` and the ``extra`` features, scaled to unit length."""
    counts: dict[int, float] = {}
    for f in [*features(norm), *extra]:
        b = bucket(f, buckets)
        counts[b] = counts.get(b, 0.0) + 1.0
    size = math.sqrt(sum(v * v for v in counts.values())) or 1.0
    return {b: v / size for b, v in counts.items()}


def windows(norm: str) -> Iterator[str]:
    """The text itself when short; else overlapping windows of words, at most ``MAX_WINDOWS``."""
    words = norm.split()
    if len(words) <= WINDOW:
        yield norm
        return
    for n, start in enumerate(range(0, len(words) - STRIDE, STRIDE)):
        if n >= MAX_WINDOWS:
            return
        yield " ".join(words[start : start + WINDOW])


@dataclass(frozen=True)
class Score:
    """How much a message reads like each kind of crisis. ``crisis`` is 1 − P(no crisis)."""

    crisis: float
    kind: str  # the most likely kind of crisis (even when ``crisis`` is low)
    window: str  # the words scored (the window most like a crisis)


class LinearModel:
    """Multinomial logistic regression over hashed features; class ``none`` means "none of the others"."""

    def __init__(self, classes: Sequence[str], buckets: int, scale: float, weights: array[int], bias: Sequence[float],
                 threshold: float, digest: str = ""):
        if len(weights) != buckets * len(classes):
            raise ValueError("weights do not match classes × buckets")
        self.classes = tuple(classes)
        self.buckets = buckets
        self.scale = scale
        self.weights = weights  # row-major: bucket × class, int16, times ``scale``
        self.bias = tuple(bias)
        self.threshold = threshold
        self.digest = digest
        self._none = self.classes.index(NONE)

    @classmethod
    def load(cls, folder: Path, name: str) -> Self:
        """Read ``NAME.yaml`` (classes, buckets, scale, threshold, bias) and ``NAME.bin`` (int16 weights)."""
        meta = yaml.safe_load((folder / f"{name}.yaml").read_text(encoding="utf-8"))
        weights = array("h")
        weights.frombytes((folder / f"{name}.bin").read_bytes())
        return cls(meta["classes"], int(meta["buckets"]), float(meta["scale"]), weights,
                   [float(b) for b in meta["bias"]], float(meta["threshold"]), str(meta.get("digest", "")))

    def _logits(self, norm: str, extra: Sequence[str]) -> list[float]:
        k = len(self.classes)
        out = list(self.bias)
        w, scale = self.weights, self.scale
        for b, v in vector(norm, self.buckets, extra).items():
            row = b * k
            for c in range(k):
                out[c] += w[row + c] * scale * v
        return out

    def probabilities(self, norm: str, extra: Sequence[str] = ()) -> dict[str, float]:
        logits = self._logits(norm, extra)
        top = max(logits)
        exp = [math.exp(x - top) for x in logits]
        total = sum(exp)
        return {c: e / total for c, e in zip(self.classes, exp, strict=True)}

    def explain(self, norm: str, kind: str, extra: Sequence[str] = (), top: int = 8) -> list[tuple[str, float]]:
        """The features of ``norm`` that pushed most towards ``kind`` rather than ``none``, with weights."""
        k = len(self.classes)
        c, n = self.classes.index(kind), self._none
        seen: dict[str, float] = {}
        for f in [*features(norm), *extra]:
            row = bucket(f, self.buckets) * k
            seen[f] = (self.weights[row + c] - self.weights[row + n]) * self.scale
        return sorted(seen.items(), key=lambda fw: -abs(fw[1]))[:top]


class CrisisModel(LinearModel):
    """Classes ``none`` and one per kind of crisis. With a ``gate`` (a two-class model, ``none`` and
    ``crisis``, trained with naive-Bayes scaled features, which tells crisis from near-miss better), the gate
    decides whether it is a crisis and this model only which kind; the gate's threshold is then the one used."""

    gate: LinearModel | None = None

    def score(self, norm: str, extra: Sequence[str] = ()) -> Score:
        """The crisis probability of the window of ``norm`` most like a crisis, and its likeliest kind."""
        best = Score(0.0, NONE, "")
        for text in windows(norm):
            p = self.probabilities(text, extra)
            crisis = self.gate.probabilities(text, extra)["crisis"] if self.gate else 1.0 - p[NONE]
            if crisis >= best.crisis or best.window == "":
                kind = max((c for c in self.classes if c != NONE), key=lambda c: p[c])
                best = Score(crisis, kind, text)
        return best
