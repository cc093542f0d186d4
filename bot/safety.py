"""Crisis words: from any state, words of immediate danger or self-harm get emergency signposting first.

The phrases, patterns, near-misses and spelling fixes are content (``content/safety.yaml``). Matching is
done on normalised text: lower case, accents and invisible characters dropped, letters and digits only,
single spaces, common misspellings and text-speak folded ("wanna" → "want to", "my self" → "myself").
On top of that the detector tries a few variants of what was typed, so that people in distress are
understood however they type:

- stretched letters ("dieeee", "killll") are squeezed;
- spaced-out letters ("w a n t t o d i e") are joined, and a phrase's words may run together
  ("killmyself");
- digits inside words are read as letters ("k1ll");
- a long word one typing slip away from a crisis word ("suicdie", "folowing") is read as that word.

A near-miss ("dying of embarrassment", "nobody is in immediate danger") excuses only the words it covers:
any other crisis words in the same message still trigger.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

from rapidfuzz import process
from rapidfuzz.distance import OSA

from dialogs.schema import Safety

_NON_WORD = re.compile(r"[^a-z0-9' ]+")
_SPACES = re.compile(r"\s+")
_SENTENCES = re.compile(r"[.!?;\n]+")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'", "′": "'"})
_MIXED = re.compile(r"\b(?=[a-z0-9]*[a-z])(?=[a-z0-9]*[0-9])[a-z0-9]+\b")
_SPACED = re.compile(r"\b[a-z](?: [a-z]){2,}\b")  # three or more single letters in a row
_STRETCH = re.compile(r"([a-z])\1{2,}")
_SEP = " . "  # put where a near-miss was cut out: no phrase or pattern can match across it
MIN_FUZZY = 6  # shortest typed word that may be read as a crisis word one slip away
MIN_VOCAB = 7  # shortest crisis word that typing slips are checked against
MIN_RUN = 9  # shortest typed word searched for phrases run together inside it
_NEGATORS = frozenset({"not", "never", "no", "dont", "cannot", "wont", "nobody"})


def _basic(text: str) -> str:
    """Lower case, no accents or invisible characters, letters, digits, apostrophes and single spaces."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        # Combining marks (accents, "zalgo") and format characters (zero-width joiners, direction marks)
        # are dropped, so that they cannot split a word; anything else not a letter or digit is a space.
        text = "".join(ch for ch in text if not unicodedata.combining(ch) and unicodedata.category(ch) != "Cf")
    text = text.lower().translate(_QUOTES)
    return _SPACES.sub(" ", _NON_WORD.sub(" ", text)).strip()


class Spelling:
    """Word-level fixes: misspelling or text-speak → the canonical words, applied in one pass.

    Keys with an apostrophe ("he'll") are looked up before apostrophes are dropped, so that they do not
    collide with other words ("hell"); keys with spaces ("my self") are replaced as phrases.
    """

    def __init__(self, table: Mapping[str, str] | None = None):
        table = {_basic(k): _basic(v).replace("'", "") for k, v in (table or {}).items() if _basic(k)}
        self.apostrophe = {k: v for k, v in table.items() if "'" in k}
        self.single = {k: v for k, v in table.items() if "'" not in k and " " not in k}
        self.multi = {k: v for k, v in table.items() if "'" not in k and " " in k}
        keys = sorted(self.multi, key=len, reverse=True)
        self._multi = re.compile(r"\b(?:" + "|".join(re.escape(k) for k in keys) + r")\b") if keys else None

    def __call__(self, text: str) -> str:
        """``text`` from :func:`_basic` (apostrophes kept) → fixed text without apostrophes."""
        if self.apostrophe:
            text = " ".join(self.apostrophe.get(w, w) for w in text.split(" "))
        text = text.replace("'", "")
        if self._multi is not None:
            text = self._multi.sub(lambda m: self.multi[m.group(0)], text)
        if self.single:
            text = " ".join(self.single.get(w, w) for w in text.split(" "))
        return _SPACES.sub(" ", text).strip()


def words(text: str) -> list[str]:
    """The words of ``text`` folded as everywhere else (case, accents, punctuation), apostrophes kept."""
    return _basic(text).split()


def normalise(text: str, spelling: Mapping[str, str] | Spelling | None = None) -> str:
    """Fold case, accents, punctuation and spacing; apply word-level spelling fixes."""
    fix = spelling if isinstance(spelling, Spelling) else Spelling(spelling)
    return fix(_basic(text))


_HEDGES = frozenset({"like", "that", "say", "saying", "said", "mean", "means", "meant", "think", "feel", "because",
                     "cos"})


# Negations typed without an apostrophe (the spelling table usually expands them first); not "want", "sent".
_CONTRACTED = frozenset({"dont", "cant", "wont", "didnt", "doesnt", "isnt", "wasnt", "arent", "werent", "havent",
                         "hasnt", "hadnt", "shouldnt", "couldnt", "wouldnt", "aint", "mustnt"})


def _negated(before: list[str]) -> bool:
    """Whether the one or two words just before a statement deny it: "its not like i want to die", "doesnt mean i
    want to", "never said i want to". A negation further back ("they say they are dealing with it but they are
    not. i just want to die") belongs to another sentence, and "he sent | i want to die" is not a negation."""
    def negator(w: str) -> bool:
        return w in _NEGATORS or w in _CONTRACTED
    if not before:
        return False
    return negator(before[-1]) or (len(before) == 2 and negator(before[0]) and before[1] in _HEDGES)


def _phrase_regex(phrase: str) -> str:
    """A phrase as a regular expression: whole words, which may also be typed run together."""
    return r"\b" + r" ?".join(re.escape(w) for w in phrase.split(" ")) + r"\b"


class CrisisDetector:
    """Decides whether a message speaks of immediate danger or self-harm."""

    def __init__(self, safety: Safety):
        self.spelling = Spelling(safety.spelling)
        self._leet = str.maketrans({k: v for k, v in safety.digits_for_letters.items() if len(k) == 1})
        phrases = [p for p in (normalise(p, self.spelling) for p in safety.phrases) if p]
        alternatives = [_phrase_regex(p) for p in phrases] + [f"(?:{p})" for p in safety.patterns]
        self._pattern = re.compile("|".join(alternatives)) if alternatives else None
        near = sorted({n for n in (normalise(n, self.spelling) for n in safety.near_misses) if n}, key=len)
        self._near = (
            re.compile("|".join(_phrase_regex(n) for n in reversed(near))) if near else None
        )
        self._vocab = sorted({w for p in phrases for w in p.split(" ") if len(w) >= MIN_VOCAB})
        self._certain = re.compile("|".join(f"(?:{p})" for p in safety.certain)) if safety.certain else None
        self._joking = frozenset(normalise(w, self.spelling) for w in safety.joking)
        # Letters typed one at a time ("i w a n t t o d i e") or words run together ("iwanttodie") lose
        # their word breaks: look for the phrases with spaces removed anywhere inside such a run.
        self._compact = re.compile("|".join(re.escape(p.replace(" ", "")) for p in phrases)) if phrases else None

    def is_certain(self, text: str) -> bool:
        """A first-person statement of intent (``certain`` in the content), not negated just before and not in a
        message that laughs or quotes: a crisis whatever else the message says."""
        if self._certain is None:
            return False
        readings = [self._variants(_basic(sentence)) for sentence in _SENTENCES.split(text) if sentence.strip()]
        if any(set(norm.split()) & self._joking for variants in readings for norm in variants):
            return False
        for variants in readings:  # a negation in one sentence does not deny the next
            for norm in variants:
                for m in self._certain.finditer(norm):
                    if not _negated(norm[: m.start()].split()[-2:]):
                        return True
        return False

    def is_crisis(self, text: str) -> bool:
        """True when ``text`` speaks of danger now, suicide or self-harm (and not only as a near-miss)."""
        if self._pattern is None:
            return False
        base = _basic(text)
        return any(self._matches(v) for v in self._variants(base)) or self._run_together(base)

    def matched(self, text: str) -> str | None:
        """The crisis words found (for tests and reviewers), or ``None``."""
        if self._pattern is None:
            return None
        for v in self._variants(_basic(text)):
            m = self._pattern.search(self._without_near_misses(v))
            if m:
                return m.group(0)
        return None

    def _run_together(self, base: str) -> bool:
        """Phrases typed without spaces inside a longer word ("iwanttodie"), or one letter at a time."""
        if self._compact is None:
            return False
        runs = [r.replace(" ", "") for r in _SPACED.findall(base)]
        runs += [w for w in base.replace("'", "").split(" ") if len(w) >= MIN_RUN]
        return any(self._compact.search(r) or self._compact.search(_STRETCH.sub(r"\1\1", r)) for r in runs)

    def _matches(self, norm: str) -> bool:
        assert self._pattern is not None
        return self._pattern.search(norm) is not None and (
            self._pattern.search(self._without_near_misses(norm)) is not None
        )

    def _without_near_misses(self, norm: str) -> str:
        return self._near.sub(_SEP, norm) if self._near is not None else norm

    def fold(self, text: str) -> str:
        """The plain reading of ``text`` (the first that is checked): folded, digits in words read as letters,
        spaced-out letters joined, spelling and typing slips fixed."""
        return self._fuzzy(self.spelling(_joined(_basic(text), self._leet)))

    def _variants(self, base: str) -> list[str]:
        """The normalised readings of ``base`` that are checked: plain, then stretched letters squeezed."""
        base = _joined(base, self._leet)
        readings = [base, _STRETCH.sub(r"\1\1", base), _STRETCH.sub(r"\1", base)]
        out: list[str] = []
        for r in readings:
            fixed = self._fuzzy(self.spelling(r))
            if fixed not in out:
                out.append(fixed)
        return out

    def _fuzzy(self, norm: str) -> str:
        """Read a long word one typing slip (a wrong, missing, extra or swapped letter) away from a crisis
        word as that word."""
        if not self._vocab:
            return norm
        words = norm.split(" ")
        for i, w in enumerate(words):
            if len(w) < MIN_FUZZY or w in self._vocab:
                continue
            near = _closest(w, self._vocab)
            if near is not None:
                words[i] = near
        return " ".join(words)


def _joined(base: str, leet: dict[int, str]) -> str:
    """Digits inside words read as letters ("k1ll"), and letters typed one at a time joined ("k i l l")."""
    base = _MIXED.sub(lambda m: m.group(0).translate(leet) if not m.group(0).isdigit() else m.group(0), base)
    return _SPACED.sub(lambda m: m.group(0).replace(" ", ""), base)  # "k i l l myself" → "kill myself"


def _closest(word: str, vocab: Sequence[str]) -> str | None:
    found = process.extractOne(word, vocab, scorer=OSA.distance, score_cutoff=1)
    return found[0] if found is not None else None
