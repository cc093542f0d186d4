"""Free-text routing: typed words → a topic, a contact, a place in a flow, or a command.

Intents, with keywords and example phrases, are content (``content/routing.yaml``). Scoring uses rapidfuzz;
when the best intent is not clearly ahead, the router says it is unsure and the bot offers options: a wrong
confident answer is worse than a menu.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.safety import normalise
from dialogs.content import Content, Intent

CONFIDENT = 80.0
MARGIN = 6.0
SUGGEST = 60.0


@dataclass(frozen=True)
class Route:
    intent: str
    target: str
    score: float


class Router:
    def __init__(self, content: Content):
        self.intents = content.intents
        self._keywords = [[normalise(k) for k in it.keywords] for it in self.intents]
        self._examples = [[normalise(e) for e in it.examples] for it in self.intents]

    def _score(self, text: str, words: set[str], i: int) -> float:
        best = 0.0
        for k in self._keywords[i]:
            if not k:
                continue
            if " " in k:
                if f" {k} " in f" {text} ":
                    best = max(best, 92.0 + min(len(k), 20) / 4)
            elif k in words:
                best = max(best, 88.0 + min(len(k), 20) / 4)
            elif len(k) >= 5:
                best = max(best, max((fuzz.ratio(k, w) for w in words), default=0.0) * 0.92)
        for e in self._examples[i]:
            best = max(best, fuzz.token_set_ratio(text, e) * 0.97, fuzz.ratio(text, e))
        return best

    def rank(self, text: str, who: str | None) -> list[Route]:
        norm = normalise(text[:2000])
        if not norm:
            return []
        words = set(norm.split())
        routes = [
            Route(it.id, it.target, self._score(norm, words, i))
            for i, it in enumerate(self.intents)
            if who is None or who in it.who
        ]
        routes.sort(key=lambda r: -r.score)
        return routes

    def route(self, text: str, who: str | None) -> Route | None:
        """The intent meant, or ``None`` when no intent is clearly the one."""
        ranked = self.rank(text, who)
        if not ranked or ranked[0].score < CONFIDENT:
            return None
        rivals = [r for r in ranked[1:] if r.target != ranked[0].target]
        if rivals and ranked[0].score - rivals[0].score < MARGIN:
            return None
        return ranked[0]

    def suggestions(self, text: str, who: str | None, limit: int = 3) -> list[Route]:
        out: list[Route] = []
        for r in self.rank(text, who):
            if r.score < SUGGEST or len(out) >= limit:
                break
            if all(o.target != r.target for o in out):
                out.append(r)
        return out


def intent_by_id(content: Content, intent_id: str) -> Intent | None:
    return next((i for i in content.intents if i.id == intent_id), None)
