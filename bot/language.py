"""The language layer: typed words become a :class:`Reading`, once per message.

Everything after it (the assistant's choice of reply) works on the reading, never on raw text. A reading says:

- whether the words speak of danger now, suicide or self-harm, and which kind (the crisis phrase list in
  ``content/safety.yaml`` and the classifier in :mod:`bot.classifier`; either is enough);
- what the person most likely asks for (intents from ``content/routing.yaml``, ranked by :mod:`bot.routing`);
- who seems to be writing, which area the words name, an age or school year, and whether an adult, threats or
  blackmail are mentioned (patterns in ``content/language/hints.yaml``).

Nothing here keeps or logs the text.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from bot.classifier import NONE, WINDOW, CrisisModel, LinearModel, context
from bot.routing import SUGGEST, Route, Router
from bot.safety import CrisisDetector, normalise
from dialogs.content import Content

KINDS = (
    "direct_suicidal",
    "indirect_suicidal",
    "self_harm",
    "overdose",
    "violence",
    "sexual_abuse_now",
    "sextortion",
    "missing_unsafe",
)
SHORT_PHRASE = 4  # words: a message this short that the phrase list matches is a crisis
SHORT_OTHER = 2  # words: a message this short that the phrase list does not match is not a crisis, except...
SHORT_OTHER_P = 0.9  # ...two words the model is this sure of ("being attacked", not "ok thanks"; one word never)
MAYBE = 3  # plausible answers offered when none is clearly meant
MAYBE_P = 0.15  # the learned model's least probability for an intent to be offered
ASK_BACK_P = 0.03  # ...and when nothing reaches that, for the closest ones in a question back, when the words
# are about something the bot helps with ("what if telling dad would put the pupil at risk?")
RECENT = 64  # crisis readings remembered (by hash), so that one turn reads a message once
MAX_READ = 4000  # characters understood for meaning; crisis words are looked for in all of the message
COMMAND_WORDS = 9  # words: a longer message is about something else, not a command to the bot ("she deleted it
# all before I could stop her, is that a problem?"); "get me out of here quick mum is coming" is still one
SHORT_COMMANDS = frozenset({"command:forget", "command:restart", "command:exit", "command:back"})
GREETING_WORDS = 4  # words: "hi im 14 and a man asked me for pics" is not just a hello (nor "thanks, but…" thanks)
OVERRULE_P = 0.6  # the learned model overrules a keyword route it disagrees with at this probability...
CONTACT_SCORE = 80.0  # how sure a "who do I ring" route is (the router's confident score)
OVERRULE_SCORE = 95.0  # ...unless the keywords matched this well
GUESS_P = 0.25  # when nothing is clearly meant, the model's best intent at this probability...
GUESS_MARGIN = 1.5  # ...and this many times the next one's is answered, as a guess (said to be one)
GUESS_WORDS = 4  # words: "my son" or "football scores tonight" is too little to guess from
_DEFAULT = object()


@dataclass(frozen=True)
class Facts:
    """Facts of an incident that a practitioner's words suggest (to be confirmed, never assumed)."""

    age: int | None = None
    adult: bool = False
    adult_unknown: bool = False  # an online contact whose age is not known
    coercion: bool = False

    def answers(self, content: Content) -> dict[str, str]:
        """Suggested answers, question id → choice id, from ``prefill`` in the hints."""
        if content.language is None:
            return {}
        pre = content.language.prefill
        out: dict[str, str] = {}
        if self.age is not None:
            out |= pre.under_13 if self.age <= 12 else pre.age_13_to_17 if self.age <= 17 else {}
        if self.adult_unknown and not self.adult:
            out |= pre.adult_unknown
        if self.adult:
            out |= pre.adult
        if self.coercion:
            out |= pre.coercion
        return out


@dataclass(frozen=True)
class Reading:
    """What one message says. ``norm`` is the folded text: use it, never log or store it."""

    norm: str
    crisis: str | None = None  # the kind of crisis, when the words speak of one
    crisis_score: float = 0.0  # the classifier's probability of a crisis (0 when there is no model)
    by_phrase: bool = False  # the crisis phrase list matched
    routes: tuple[Route, ...] = ()  # intents, best first
    route: Route | None = None  # the intent clearly meant, if any
    maybe: tuple[Route, ...] = ()  # when none is clearly meant: plausible ones to offer, best first
    guess: Route | None = None  # when none is clearly meant but one is far likelier than the rest
    who: str | None = None  # who the words say is writing
    area: str | None = None  # the area the words name
    facts: Facts = field(default_factory=Facts)
    incident: bool = False  # the words describe something that happened (sent, shared, received...)


class Language:
    """Reads messages; one per content load, shared by every conversation."""

    def __init__(self, content: Content, model: CrisisModel | None | object = _DEFAULT,
                 intents: LinearModel | None | object = _DEFAULT):
        self.content = content
        self.crisis = CrisisDetector(content.safety)
        self.router = Router(content)
        if model is _DEFAULT:
            model = _load_model(content.root)
        self.model: CrisisModel | None = model if isinstance(model, CrisisModel) else None
        if intents is _DEFAULT:
            intents = _load_intents(content.root)
        self.intents: LinearModel | None = intents if isinstance(intents, LinearModel) else None
        self._intent = {i.id: i for i in content.intents}
        self._recent: OrderedDict[bytes, tuple[str | None, float, bool]] = OrderedDict()
        hints = content.language
        self._who = [
            (who, _any(pats)) for who, pats in (hints.audience.items() if hints else []) if pats
        ]
        self._adult = _any(hints.adult if hints else [])
        self._adult_unknown = _any(hints.adult_unknown if hints else [])
        self._coercion = _any(hints.coercion if hints else [])
        self._incident = _any(hints.incident if hints else [])
        self._contact_request = _any(hints.contact_request if hints else [])
        self._talk_request = _any(hints.talk_request if hints else [])
        self._ages = [re.compile(p) for p in (hints.ages if hints else [])]
        self._years = [re.compile(p) for p in (hints.year_groups if hints else [])]
        names: dict[str, str] = {}
        for area in content.areas.values():
            if area.id == content.meta.default_area:
                continue
            for n in (area.id, area.name, *area.aliases, *((hints.places.get(area.id, [])) if hints else [])):
                folded = normalise(n)
                if folded:
                    names[folded] = area.id
        keys = sorted(names, key=len, reverse=True)
        self._places = names
        self._place_re = re.compile(r"\b(?:" + "|".join(re.escape(k) for k in keys) + r")\b") if keys else None

    # ------------------------------------------------------------------------------------ reading

    def fold(self, text: str) -> str:
        """Text as the classifier reads it: folded, digits-for-letters and typing slips of crisis words fixed."""
        return self.crisis.fold(text[:MAX_READ])

    def context(self, text: str, who: str | None) -> list[str]:
        """The classifier's ``x:`` features of ``text`` (see :func:`bot.classifier.context`)."""
        return context(phrase_list=self.crisis.is_crisis(text), question="?" in text, who=who)

    def crisis_kind(self, text: str, who: str | None = None, *, by_phrase: bool | None = None,
                    folded: str | None = None) -> tuple[str | None, float, bool]:
        """(kind or ``None``, classifier probability, found by the phrase list) for the whole of ``text``.

        The phrase list reads all of the text; the classifier weighs its match with the words around it.
        Without a model, the phrase list decides alone. ``by_phrase`` and ``folded`` (the phrase list's
        verdict and :meth:`fold` of the text) may be passed in when they are known already."""
        # A turn asks more than once (the service's check before the turn, the assistant's, the reading); the
        # answer is remembered for a few messages under a hash of the words, never the words themselves.
        key = hashlib.blake2b(f"{who}\x00{text}".encode("utf-8", "surrogatepass"), digest_size=16).digest()
        known = self._recent.get(key)
        if known is not None:
            return known
        found = self._crisis_kind(text, who, by_phrase, folded)
        self._recent[key] = found
        if len(self._recent) > RECENT:
            self._recent.popitem(last=False)
        return found

    def _crisis_kind(self, text: str, who: str | None, by_phrase: bool | None,
                     folded: str | None) -> tuple[str | None, float, bool]:
        if by_phrase is None:
            by_phrase = self.crisis.is_crisis(text)
        extra = context(phrase_list=by_phrase, question="?" in text, who=who)
        if self.model is None:
            return ("direct_suicidal" if by_phrase else None), (1.0 if by_phrase else 0.0), by_phrase
        best: tuple[float, str, int] = (-1.0, NONE, 0)
        for i, chunk in enumerate(_chunks(text)):
            # The start is always read; further on, only where the phrase list sees something (bounded work).
            if i and not self.crisis.is_crisis(chunk):
                continue
            norm = folded if i == 0 and folded is not None else self.fold(chunk)
            readings = [norm]
            found = self.crisis.matched(chunk) if i or len(norm.split()) > WINDOW else None
            if found and found in norm:  # also the words around what the phrase list found, undiluted
                before, _, after = norm.partition(found)
                readings.append(" ".join([*before.split()[-6:], found, *after.split()[:6]]))
            for reading in readings:
                score = self.model.score(reading, extra)
                if score.crisis > best[0]:
                    best = (score.crisis, score.kind, len(norm.split()))
        p, kind, words = best
        if self.crisis.is_certain(text[:MAX_READ]):  # "i want to kill myself, i mean it": whatever the model says
            return kind if kind != NONE else "direct_suicidal", max(p, self.model.threshold), by_phrase
        # A few words that are on the phrase list ("suicidal", "i want to die") are a crisis whatever the
        # model says; one or two words that are not ("right", "ok thanks") are too little to go on, unless two
        # words the model is all but sure of ("being attacked").
        enough = by_phrase or words > SHORT_OTHER or (words == SHORT_OTHER and p >= SHORT_OTHER_P)
        if (by_phrase and words <= SHORT_PHRASE) or (p >= self.model.threshold and enough):
            return kind, p, by_phrase
        return None, p, by_phrase

    def read(self, text: str, who: str | None = None, area: str | None = None) -> Reading:
        """Everything the bot needs to know about one typed message (its crisis reading is usually known already
        from earlier in the turn)."""
        kind, p, by_phrase = self.crisis_kind(text, who)
        folded = self.fold(text)
        head = text[:MAX_READ]
        norm = normalise(head, self.crisis.spelling)
        named = self.area_named(norm)
        named_who = self.who_named(norm)
        guess = who or named_who
        words = len(norm.split())
        routes = tuple(r for r in self.router.rank(head, guess, named or area) if not self._too_long(r, words))
        route = self.router.pick(routes)
        learned: list[Route] = []
        if self.intents is not None:
            extra = context(phrase_list=by_phrase, question="?" in head, who=guess)
            learned = [r for r in self._learned_routes(head, guess, named or area, folded, extra)
                       if not self._too_long(r, words)]
            best = learned[0] if learned else None
            if route is None:
                if best is not None and best.score >= 100 * self.intents.threshold:
                    route = best
            elif (best is not None and best.target != route.target and best.score >= 100 * OVERRULE_P
                  and route.score < OVERRULE_SCORE):
                # Keywords matched loosely and the model, trained on how people write, reads it otherwise.
                route = best
        if route is None:
            route = self._contact_route(head, norm, guess, named or area)
        facts = self.facts(norm)
        hints = self.content.language
        if route is not None and facts.adult and hints is not None and route.target in hints.when_adult:
            route = Route(route.intent, hints.when_adult[route.target], route.score)
        maybe: list[Route] = []
        hunch: Route | None = None
        if route is None and learned and words >= GUESS_WORDS and learned[0].score >= 100 * GUESS_P and (
                len(learned) == 1 or learned[0].score >= GUESS_MARGIN * learned[1].score) and \
                not learned[0].target.startswith("command:"):
            hunch = learned[0]  # an answer, never a command: a guess must not forget, exit or restart
        if route is None:
            for r in [*learned, *(r for r in routes if r.score >= SUGGEST)]:
                if all(m.target != r.target for m in maybe) and len(maybe) < MAYBE:
                    maybe.append(r)
            if not maybe and self.intents is not None and self.router.knows(head):
                maybe = self._learned_routes(head, guess, named or area, folded, extra, floor=ASK_BACK_P)
        return Reading(
            norm=norm,
            crisis=kind,
            crisis_score=p,
            by_phrase=by_phrase,
            routes=routes,
            route=route,
            maybe=tuple(maybe),
            guess=hunch,
            who=named_who,
            area=named,
            facts=facts,
            incident=self._incident is not None and self._incident.search(norm) is not None,
        )

    def _contact_route(self, text: str, norm: str, who: str | None, area: str | None) -> Route | None:
        """ "Who can I talk to?" or "who do I ring?" that nothing else answered. Someone to talk to: Childline for a
        young person (or someone not yet known), the NSPCC helpline for an adult. Whom to ring: the local contact for
        an adult (out of hours when the words say so), Childline for a young person."""
        if self._talk_request is not None and self._talk_request.search(norm):
            intent = "nspcc" if who in ("parent", "practitioner") else "childline"
        elif self._contact_request is None or not self._contact_request.search(norm):
            return None
        elif who == "young_person":
            intent = "childline"
        else:
            intent = "out_of_hours" if self.router.out_of_hours.search(norm) else "social_care"
        found = self._intent.get(intent)
        if found is None:
            return None
        target = found.target if area is None else self.router.localise(found.target, who, area, text)
        return Route(intent, target, CONTACT_SCORE)

    @staticmethod
    def _too_long(route: Route, words: int) -> bool:
        """A command to the bot (forget, restart, exit) or a greeting is short; in a longer message those words
        are about something else."""
        if route.target in ("command:hello", "command:thanks"):
            return words > GREETING_WORDS
        return route.target in SHORT_COMMANDS and words > COMMAND_WORDS

    def _learned_routes(self, text: str, who: str | None, area: str | None, folded: str,
                        extra: list[str], floor: float | None = None) -> list[Route]:
        """Intents the learned model finds plausible (at least ``MAYBE_P`` and likelier than none) among those
        open to ``who``, best first; the first is followed when it reaches the model's threshold. With ``floor``,
        the closest ones at that probability or more, however likely none is."""
        assert self.intents is not None
        probs = self.intents.probabilities(folded, extra)
        ranked = sorted(((p, c) for c, p in probs.items()
                         if c != NONE and c in self._intent and (who is None or who in self._intent[c].who)),
                        reverse=True)
        out: list[Route] = []
        for p, intent in ranked[:MAYBE]:
            if (p < floor) if floor is not None else (p < MAYBE_P or p < probs[NONE]):
                break
            target = self._intent[intent].target
            if area is not None:
                target = self.router.localise(target, who, area, text)
            out.append(Route(intent, target, round(100 * p, 2)))
        return out

    def who_named(self, norm: str) -> str | None:
        for who, pattern in self._who:
            if pattern is not None and pattern.search(norm):
                return who
        return None

    def area_named(self, norm: str) -> str | None:
        if self._place_re is None:
            return None
        m = self._place_re.search(norm)
        return self._places[m.group(0)] if m else None

    def facts(self, norm: str) -> Facts:
        age: int | None = None
        for pattern in self._ages:
            m = pattern.search(norm)
            if m and m.group(1).isdigit() and int(m.group(1)) < 18:
                age = int(m.group(1))
                break
        if age is None:
            for pattern in self._years:
                m = pattern.search(norm)
                if m and m.group(1).isdigit() and 1 <= int(m.group(1)) <= 13:
                    age = int(m.group(1)) + 5  # the age a pupil reaches during that school year
                    break
        adult = self._adult is not None and self._adult.search(norm) is not None
        unknown = self._adult_unknown is not None and self._adult_unknown.search(norm) is not None
        coercion = self._coercion is not None and self._coercion.search(norm) is not None
        return Facts(age, adult, unknown, coercion)


def _chunks(text: str) -> list[str]:
    """``text`` in pieces of ``MAX_READ`` characters that overlap a little, so no phrase is cut in two."""
    if len(text) <= MAX_READ:
        return [text]
    step = MAX_READ - 200
    return [text[i : i + MAX_READ] for i in range(0, len(text) - 200, step)]


def _any(patterns: list[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


def _load_model(root: Path | None) -> CrisisModel | None:
    folder = (root or Path()) / "language"
    if root is None or not (folder / "model.yaml").exists():
        return None
    model = CrisisModel.load(folder, "model")
    if (folder / "gate.yaml").exists():
        model.gate = LinearModel.load(folder, "gate")
        model.threshold = model.gate.threshold
    return model


def _load_intents(root: Path | None) -> LinearModel | None:
    folder = (root or Path()) / "language"
    if root is None or not (folder / "intents.yaml").exists():
        return None
    return LinearModel.load(folder, "intents")


__all__ = ["KINDS", "NONE", "Facts", "Language", "Reading"]
