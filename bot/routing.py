"""Free-text routing: typed words → a topic, a contact, a place in a flow, or a command.

Intents, with keywords and example phrases, are content (``content/routing.yaml``); so are the word
classes that let one example stand for many ways of saying it (``synonyms`` keys starting ``like_``:
"daughter", "son" and "my 14 year old" all read as "child"). Text-speak and misspellings are folded
with the same spelling table as the crisis words (``content/safety.yaml``).

Scoring, 0–100 per intent (rapidfuzz for typing slips):

- a keyword found in the message, as whole words in order, scores 80 plus up to 17 for how much of the
  message it accounts for ("childline" alone beats "childline" inside a long sentence); a keyword one
  or two typing slips away scores a little less;
- an example scores by how many meaningful words it shares with the message (Dice overlap, with words
  one slip apart counted as shared), so "my son sent a pic" matches "my daughter sent a photo".

The best intent is only followed when it is confident and clearly ahead of any intent leading somewhere
else; otherwise :meth:`Router.route` returns ``None`` and the bot says it is unsure and offers options.
A wrong confident answer is worse than a menu.

Contact targets are local: "EDT number" in Kent leads to Kent's out-of-hours line, "social services" for a
parent to the area's public line (see :meth:`Router.localise`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.safety import Spelling, normalise
from dialogs.content import Content

CONFIDENT = 80.0  # the best intent must score at least this...
MARGIN = 6.0  # ...and be this far ahead of the best intent that leads somewhere else
SUGGEST = 60.0  # intents offered as "did you mean" buttons when unsure
FUZZY_WORD = 85.0  # two words of 5+ letters at least this similar count as the same word
MIN_FUZZY_FOLD = 7  # shortest typed word read as a class word one typing slip away
MAX_CHARS = 2000  # only the start of a very long message is routed
CLASS_PREFIX = "like_"

NEGATIONS = frozenset({"not", "no", "non", "nothing", "never", "without"})


@dataclass(frozen=True)
class Route:
    intent: str
    target: str
    score: float


@dataclass(frozen=True)
class _Phrase:
    words: tuple[str, ...]
    meaning: frozenset[str]  # the words that are not stopwords

    @property
    def size(self) -> int:
        return sum(len(w) for w in self.meaning)


class Router:
    """Scores typed text against every intent; follows the best only when it is clearly the one."""

    def __init__(self, content: Content):
        self.content = content
        self.intents = content.intents
        self.spelling = Spelling(content.safety.spelling)
        hints = content.language
        self.stopwords = frozenset(hints.stopwords if hints else ())
        self.out_of_hours = re.compile(hints.out_of_hours if hints else r"\b(?:out of hours)\b")
        self._ages = [re.compile(p) for p in (hints.ages if hints else [])]  # group 1: the age
        classes = {k[len(CLASS_PREFIX) :]: v for k, v in content.synonyms.items() if k.startswith(CLASS_PREFIX)}
        single: dict[str, str] = {}
        multi: dict[str, str] = {}
        for canonical, words in classes.items():
            for w in [canonical.replace("_", " "), *words]:
                norm = normalise(w, self.spelling)
                if norm:
                    (multi if " " in norm else single)[norm] = canonical
        self._single = single
        self._multi = multi
        self._class_words = sorted(w for w in single if len(w) >= MIN_FUZZY_FOLD)
        keys = sorted(multi, key=len, reverse=True)
        self._multi_re = re.compile(r"\b(?:" + "|".join(re.escape(k) for k in keys) + r")\b") if keys else None
        self._keywords = [[self._phrase(k) for k in it.keywords] for it in self.intents]
        self._examples = [[self._phrase(e) for e in it.examples] for it in self.intents]
        vocab = {w for group in (*self._keywords, *self._examples) for p in group for w in p.meaning}
        self._vocab = frozenset(vocab)
        self._fuzzy_vocab = sorted(w for w in vocab if len(w) >= 5)

    # ------------------------------------------------------------------------------------ reading

    def fold(self, text: str) -> str:
        """Text as the router reads it: normalised, spelling fixed, ages and word classes folded."""
        norm = normalise(text[:MAX_CHARS], self.spelling)
        for age in self._ages:
            norm = age.sub(lambda m: "child" if int(m.group(1)) < 18 else "adult", norm)
        if self._multi_re is not None:
            norm = self._multi_re.sub(lambda m: self._multi[m.group(0)], norm)
        return " ".join(self._fold_word(w) for w in norm.split(" ") if w)

    def knows(self, text: str) -> bool:
        """Whether ``text`` has a meaningful word that the intents' keywords or examples use (so it is about
        something the bot can help with, even when it is not clear what), unlike "zqxv plorb" or "the cat sat"."""
        return any(w in self._vocab for w in self._phrase(text).meaning)

    def _fold_word(self, word: str) -> str:
        """A word → its class; a long word one typing slip from a class word ("threatning") too."""
        folded = self._single.get(word)
        if folded is not None:
            return folded
        if len(word) >= MIN_FUZZY_FOLD and not word.isdigit():
            found = process.extractOne(word, self._class_words, scorer=OSA.distance, score_cutoff=1)
            if found is not None:
                return self._single[found[0]]
        return word

    def _phrase(self, text: str) -> _Phrase:
        words = tuple(self.fold(text).split())
        return _Phrase(words, frozenset(w for w in words if w not in self.stopwords))

    # ------------------------------------------------------------------------------------ scoring

    def _similar_words(self, msg: _Phrase) -> dict[str, int]:
        """Vocabulary words present in the message, exactly or one typing slip away → where they are."""
        where: dict[str, int] = {}
        for i, w in enumerate(msg.words):
            if w in msg.meaning:
                where.setdefault(w, i)
        long_words = [w for w in where if len(w) >= 5]
        if long_words:
            for v in self._fuzzy_vocab:
                if v in where:
                    continue
                found = process.extractOne(v, long_words, scorer=fuzz.ratio, score_cutoff=FUZZY_WORD)
                if found is not None:
                    where[v] = where[found[0]]
        return where

    @staticmethod
    def _find(words: tuple[str, ...], phrase: tuple[str, ...]) -> int:
        n = len(phrase)
        return next((i for i in range(len(words) - n + 1) if words[i : i + n] == phrase), -1)

    def _keyword_score(self, msg: _Phrase, hits: dict[str, int], k: _Phrase) -> tuple[float, tuple[int, int]]:
        """The keyword's score, and the words of the message it covers (start, end)."""
        none = (0.0, (0, 0))
        if not k.words:
            return none
        cover = (k.size / msg.size) if msg.size else 1.0
        base = 80.0 + 17.0 * min(1.0, cover)
        n = len(k.words)
        at = self._find(msg.words, k.words)
        if at >= 0:
            if NEGATIONS.intersection(msg.words[max(0, at - 2) : at]):
                return none  # "not an emergency", "i dont need childline"
            return base, (at, at + n)
        if n > 1 and "".join(k.words) in msg.words:
            at = msg.words.index("".join(k.words))
            return base, (at, at + 1)
        if not k.meaning or not k.meaning <= hits.keys() or k.meaning <= msg.meaning:
            return none  # words missing, or all there but not as the phrase: not this keyword
        # Every meaningful word is there, one typing slip away: compare the phrase with the message's
        # windows of the same length, so that word order still counts.
        target = " ".join(k.words)
        windows = range(max(1, len(msg.words) - n + 1))
        scored = [(fuzz.ratio(target, " ".join(msg.words[i : i + n])), i) for i in windows]
        best, at = max(scored)
        return (base * best / 100.0, (at, at + n)) if best >= FUZZY_WORD else none

    @staticmethod
    def _example_score(msg: _Phrase, hits: dict[str, int], e: _Phrase) -> float:
        """Dice overlap of meaningful words, a little less when the shared words come in another order
        ("someone sent my son a pic" is not "my son sent someone a pic")."""
        if not e.meaning or not msg.meaning:
            return 0.0
        shared = [w for w in e.words if w in e.meaning and w in hits]
        if not shared:
            return 0.0
        shared = list(dict.fromkeys(shared))
        dice = 2 * len(shared) / (len(e.meaning) + len(msg.meaning))
        in_message_order = sorted(shared, key=lambda w: hits[w])
        agreement = _common_order(shared, in_message_order) / len(shared)
        return 97.0 * dice * (0.85 + 0.15 * agreement)

    def _scores(self, msg: _Phrase, hits: dict[str, int], who: str | None) -> list[tuple[int, float]]:
        """(intent index, score) for every intent open to ``who``.

        A keyword found inside a longer keyword of an intent that leads elsewhere does not count
        ("emergency" inside "non emergency"); the intent keeps its example score.
        """
        keyword: dict[int, tuple[float, tuple[int, int]]] = {}
        example: dict[int, float] = {}
        for i, it in enumerate(self.intents):
            if who is not None and who not in it.who:
                continue
            keyword[i] = max((self._keyword_score(msg, hits, k) for k in self._keywords[i]), default=(0.0, (0, 0)))
            example[i] = max((self._example_score(msg, hits, e) for e in self._examples[i]), default=0.0)
        out: list[tuple[int, float]] = []
        for i, (kw, (a, b)) in keyword.items():
            if kw > 0 and any(
                j != i
                and self.intents[j].target != self.intents[i].target
                and other > 0
                and c <= a
                and b <= d
                and (d - c) > (b - a)
                for j, (other, (c, d)) in keyword.items()
            ):
                kw = 0.0
            out.append((i, round(max(kw, example[i]), 2)))
        return out

    # ----------------------------------------------------------------------------------- answers

    def rank(self, text: str, who: str | None, area: str | None = None) -> list[Route]:
        """Every intent open to ``who``, best first, with its score and (localised) target."""
        msg = self._phrase(text)
        if not msg.words:
            return []
        hits = self._similar_words(msg)
        routes = [Route(self.intents[i].id, self.intents[i].target, score) for i, score in self._scores(msg, hits, who)]
        routes.sort(key=lambda r: -r.score)
        if area is not None:
            routes = [Route(r.intent, self.localise(r.target, who, area, text), r.score) for r in routes]
        return routes

    def route(self, text: str, who: str | None, area: str | None = None) -> Route | None:
        """The intent meant, or ``None`` when no intent is clearly the one."""
        return self.pick(self.rank(text, who, area))

    @staticmethod
    def pick(ranked: Sequence[Route]) -> Route | None:
        """The best of ``ranked`` when it is confident and clearly ahead of any rival leading elsewhere."""
        if not ranked or ranked[0].score < CONFIDENT:
            return None
        rivals = [r for r in ranked[1:] if r.target != ranked[0].target]
        if rivals and ranked[0].score - rivals[0].score < MARGIN:
            return None
        return ranked[0]

    def suggestions(self, text: str, who: str | None, limit: int = 3, area: str | None = None) -> list[Route]:
        """A few plausible intents with different targets, for a "did you mean" menu."""
        out: list[Route] = []
        for r in self.rank(text, who, area):
            if r.score < SUGGEST or len(out) >= limit:
                break
            if all(o.target != r.target for o in out):
                out.append(r)
        return out

    # --------------------------------------------------------------------------------- localising

    def localise(self, target: str, who: str | None, area: str, text: str = "") -> str:
        """A contact target as the contact that does the same job in ``area`` for ``who``.

        Contacts that fill a role (social care, early help, the public line) are swapped for the area's
        members of that role: for a parent or young person only those open to the public, for a
        practitioner any. Words about evenings or weekends keep only out-of-hours services, if there are
        any; then the one whose names best fit the words typed wins ("EDT", "portal"), else the first.
        """
        kind, _, cid = target.partition(":")
        pack = self.content.areas.get(area)
        if kind != "contact" or pack is None:
            return target
        national = self.content.areas[self.content.meta.default_area]
        role_names = [r for p in (national, *self.content.areas.values()) for r, m in p.roles.items() if cid in m]
        visible = self.content.contacts_for(area)
        if not role_names:
            return target
        candidates: list[str] = []
        for role in dict.fromkeys(role_names):
            candidates += pack.roles.get(role) or national.roles.get(role, [])
        if who != "practitioner":
            candidates = [c for c in candidates if c in visible and set(visible[c].audience) != {"professionals"}]
            if pack.public_line:
                candidates.append(pack.public_line)
        candidates = [c for c in dict.fromkeys(candidates) if c in visible]
        if not candidates:
            return target
        norm = normalise(text[:MAX_CHARS], self.spelling)
        padded = f" {norm} "
        if self.out_of_hours.search(norm):
            candidates = [c for c in candidates if visible[c].out_of_hours] or candidates

        def fit(cid: str) -> int:
            c = visible[cid]
            names = [normalise(n, self.spelling) for n in (c.name, *c.aliases)]
            return max((len(n) for n in names if n and f" {n} " in padded), default=0)

        return f"contact:{max(candidates, key=fit)}"  # max keeps the first of equals: role order


def _common_order(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence of two short word lists."""
    prev = [0] * (len(b) + 1)
    for x in a:
        row = [0]
        for j, y in enumerate(b):
            row.append(prev[j] + 1 if x == y else max(prev[j + 1], row[j]))
        prev = row
    return prev[-1]

