"""Crisis words: from any state, words of immediate danger or self-harm get emergency signposting first.

The phrases, patterns, near-misses and spelling fixes are content (``content/safety.yaml``). Matching is
done on normalised text: lower case, letters and digits only, single spaces, common misspellings and
text-speak folded ("wanna" → "want to", "my self" → "myself").
"""

from __future__ import annotations

import re
import unicodedata

from dialogs.content import Safety

_NON_WORD = re.compile(r"[^a-z0-9' ]+")
_SPACES = re.compile(r"\s+")


def normalise(text: str, spelling: dict[str, str] | None = None) -> str:
    """Fold case, accents, punctuation and spacing; apply word-level spelling fixes."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower().replace("’", "'")
    text = _SPACES.sub(" ", _NON_WORD.sub(" ", text)).strip()
    if spelling:
        text = " ".join(spelling.get(w, w) for w in text.split(" "))
        for wrong, right in spelling.items():
            if " " in wrong:
                text = re.sub(rf"\b{re.escape(wrong)}\b", right, text)
    return text.replace("'", "")


class CrisisDetector:
    """Decides whether a message speaks of immediate danger or self-harm."""

    def __init__(self, safety: Safety):
        self.spelling = {k.lower(): v.lower() for k, v in safety.spelling.items()}
        phrases = [normalise(p, self.spelling) for p in safety.phrases]
        alternatives = [re.escape(p) for p in phrases if p] + list(safety.patterns)
        self._pattern = re.compile(r"\b(?:" + "|".join(alternatives) + r")\b") if alternatives else None
        self._near = [normalise(n, self.spelling) for n in safety.near_misses]

    def is_crisis(self, text: str) -> bool:
        if self._pattern is None:
            return False
        norm = normalise(text[:5000], self.spelling)
        if not self._pattern.search(norm):
            return False
        # A message that is exactly a known near-miss ("dying of embarrassment") does not trigger.
        return not any(n and n in norm and not self._pattern.search(norm.replace(n, " ")) for n in self._near)
