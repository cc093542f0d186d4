"""Every row of spec/guidance-model.md, decided through the real flows (via the `triage` function)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.cli import triage
from dialogs.content import Content

AT = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


def decide(content: Content, area: str, **answers: str) -> dict[str, object]:
    return triage(content, area, answers, AT)


# --------------------------------------------------------------------------------------------- kent


def test_kent_immediate_danger_is_an_emergency(content: Content) -> None:
    r = decide(content, "kent", immediate_danger="yes")
    assert r["outcome"] == "emergency" and r["path"] == ["immediate_danger"]


def test_kent_adult_involved_refers_and_is_aggravated_adult_involved(content: Content) -> None:
    r = decide(content, "kent", immediate_danger="no", adult_involved="yes")
    assert r["outcome"] == "refer"
    assert r["classification"] == "Aggravated: adult involved"


@pytest.mark.parametrize("aggravated", ["yes", "no"])
def test_kent_twelve_or_under_refers_on_both_branches(content: Content, aggravated: str) -> None:
    r = decide(
        content,
        "kent",
        immediate_danger="no",
        adult_involved="no",
        aggravating_factors=aggravated,
        age_band="12_or_under",
    )
    assert r["outcome"] == "refer"
    assert r["path"] == ["immediate_danger", "adult_involved", "aggravating_factors", "age_band"]


def test_kent_experimental_twelve_or_under_points_to_underage_cse_and_hsb_procedures(content: Content) -> None:
    from dialogs.engine import FlowEngine, Result

    engine = FlowEngine(content.flows["kent"])
    base = [("immediate_danger", "no"), ("adult_involved", "no")]
    experimental = engine.prompt(
        engine.replay([*base, ("aggravating_factors", "no"), ("age_band", "12_or_under")]).position
    )
    aggravated = engine.prompt(
        engine.replay([*base, ("aggravating_factors", "yes"), ("age_band", "12_or_under")]).position
    )
    assert isinstance(experimental, Result) and isinstance(aggravated, Result)
    extra = [n.lower() for n in experimental.notes if n not in aggravated.notes]
    assert extra, "the experimental 12-or-under path needs its own note"
    assert "underage sexual activity" in extra[0] and "exploitation" in extra[0] and "harmful sexual" in extra[0]
    r = decide(content, "kent", **dict([*base, ("aggravating_factors", "no"), ("age_band", "12_or_under")]))
    assert experimental.notes[-1] in str(r["record"])


def test_kent_aggravated_thirteen_to_seventeen_asks_the_risk_level(content: Content) -> None:
    r = decide(
        content, "kent", immediate_danger="no", adult_involved="no", aggravating_factors="yes", age_band="13_to_17"
    )
    assert r["outcome"] is None
    assert r["next_question"] == {
        "id": "risk_level",
        "text": r["next_question"]["text"],  # type: ignore[index]
        "options": ["high", "low_medium"],
    }


def test_kent_experimental_thirteen_to_seventeen_asks_about_harm_vulnerability_consent(content: Content) -> None:
    r = decide(
        content, "kent", immediate_danger="no", adult_involved="no", aggravating_factors="no", age_band="13_to_17"
    )
    assert r["next_question"]["id"] == "harm_vulnerability_or_no_consent"  # type: ignore[index]


@pytest.mark.parametrize(("risk", "outcome"), [("high", "refer"), ("low_medium", "single_agency_or_early_help")])
def test_kent_risk_level_decides(content: Content, risk: str, outcome: str) -> None:
    r = decide(
        content,
        "kent",
        immediate_danger="no",
        adult_involved="no",
        aggravating_factors="yes",
        age_band="13_to_17",
        risk_level=risk,
    )
    assert r["outcome"] == outcome
    assert r["classification"] == "Aggravated: youth only"


@pytest.mark.parametrize(("harm", "outcome"), [("yes", "refer"), ("no", "single_agency_or_early_help")])
def test_kent_harm_vulnerability_or_no_consent_decides(content: Content, harm: str, outcome: str) -> None:
    r = decide(
        content,
        "kent",
        immediate_danger="no",
        adult_involved="no",
        aggravating_factors="no",
        age_band="13_to_17",
        harm_vulnerability_or_no_consent=harm,
    )
    assert r["outcome"] == outcome
    assert r["classification"] == "Experimental"


def test_kent_refer_names_the_integrated_front_door_and_its_numbers(content: Content) -> None:
    r = decide(content, "kent", immediate_danger="no", adult_involved="yes")
    phones = {c["id"]: c["phone"] for c in r["contacts"]}  # type: ignore[union-attr]
    assert phones["kent_front_door"].replace(" ", "") == "03000411111"
    assert phones["kent_out_of_hours"].replace(" ", "") == "03000419191"
    assert "police" in str(r["record"]).lower()


def test_kent_single_agency_says_the_early_help_notification_is_retired(content: Content) -> None:
    r = decide(
        content,
        "kent",
        immediate_danger="no",
        adult_involved="no",
        aggravating_factors="no",
        age_band="13_to_17",
        harm_vulnerability_or_no_consent="no",
    )
    text = content.flows["kent"].outcome("single_agency_or_early_help").text.lower()  # type: ignore[union-attr]
    assert "early help" in text and "record" in text
    assert any(c["id"] == "kent_early_help" for c in r["contacts"])  # type: ignore[union-attr]


# -------------------------------------------------------------------------------------------- ukcis

UKCIS_ORDER = [
    "immediate_danger",
    "adult_involved",
    "coercion_or_consent_concern",
    "unusual_or_violent_content",
    "under_13_sexual_acts",
    "risk_of_harm",
]


@pytest.mark.parametrize("area", ["leeds", "national"])
@pytest.mark.parametrize("index", range(len(UKCIS_ORDER)))
def test_ukcis_the_first_yes_decides(content: Content, area: str, index: int) -> None:
    answers = {q: "no" for q in UKCIS_ORDER[:index]} | {UKCIS_ORDER[index]: "yes"}
    r = decide(content, area, **answers)
    assert r["flow"] == "ukcis"
    assert r["outcome"] == ("emergency" if index == 0 else "refer")
    assert r["path"] == UKCIS_ORDER[: index + 1]


@pytest.mark.parametrize("area", ["leeds", "national"])
def test_ukcis_all_no_is_managed_in_the_setting(content: Content, area: str) -> None:
    r = decide(content, area, **{q: "no" for q in UKCIS_ORDER})
    assert r["outcome"] == "manage_in_setting"
    ids = [c["id"] for c in r["contacts"]]  # type: ignore[union-attr]
    assert "childline" in ids and "report_remove" in ids


def test_ukcis_questions_are_asked_in_the_guidance_order(content: Content) -> None:
    assert [q.id for q in content.flows["ukcis"].questions] == UKCIS_ORDER
    r = decide(content, "leeds", immediate_danger="no", adult_involved="no")
    assert r["next_question"]["id"] == "coercion_or_consent_concern"  # type: ignore[index]


def test_leeds_refer_gives_duty_and_advice_edt_and_police(content: Content) -> None:
    r = decide(content, "leeds", immediate_danger="no", adult_involved="yes")
    phones = {c["id"]: (c["phone"] or "").replace(" ", "") for c in r["contacts"]}  # type: ignore[union-attr]
    assert phones["leeds_duty_advice"].startswith("01133760336")
    assert phones["leeds_edt"] == "01135350600"
    assert phones["police_101"] == "101"


def test_national_refer_points_to_local_childrens_social_care(content: Content) -> None:
    r = decide(content, "national", immediate_danger="no", adult_involved="yes")
    ids = [c["id"] for c in r["contacts"]]  # type: ignore[union-attr]
    assert "local_social_care" in ids and "nspcc_helpline" in ids
    assert not any(i.startswith(("leeds_", "kent_")) for i in ids)


# --------------------------------------------------------------------------- every practitioner outcome


@pytest.mark.parametrize("flow_id", ["kent", "ukcis"])
def test_every_practitioner_outcome_carries_judgement_dsl_and_imagery_rule(content: Content, flow_id: str) -> None:
    footer = content.flows[flow_id].footer.lower()
    assert "judgement" in footer
    assert "designated safeguarding lead" in footer or "dsl" in footer
    for word in ("view", "cop", "print", "forward", "save"):
        assert word in footer
