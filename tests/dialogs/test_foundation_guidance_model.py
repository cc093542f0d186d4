"""Every row of spec/guidance-model.md, decided through the real flows (via the `triage` function)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.triage import triage
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
        "options": ["high", "low_medium", "not_assessed"],
    }


def test_kent_experimental_thirteen_to_seventeen_asks_about_harm_vulnerability_consent(content: Content) -> None:
    r = decide(
        content, "kent", immediate_danger="no", adult_involved="no", aggravating_factors="no", age_band="13_to_17"
    )
    assert r["next_question"]["id"] == "harm_vulnerability_or_no_consent"  # type: ignore[index]


AGGRAVATED_13_17 = {
    "immediate_danger": "no", "adult_involved": "no", "aggravating_factors": "yes", "age_band": "13_to_17"
}


def test_kent_high_risk_refers(content: Content) -> None:
    r = decide(content, "kent", **AGGRAVATED_13_17, risk_level="high")
    assert r["outcome"] == "refer"
    assert r["classification"] == "Aggravated: youth only"


@pytest.mark.parametrize("risk", ["low_medium", "not_assessed"])
def test_kent_aggravated_below_high_risk_asks_harm_vulnerability_consent(content: Content, risk: str) -> None:
    # Second edition (safer reading): low/medium no longer closes the case without the harm question.
    r = decide(content, "kent", **AGGRAVATED_13_17, risk_level=risk)
    assert r["outcome"] is None
    assert r["next_question"]["id"] == "harm_vulnerability_or_no_consent"  # type: ignore[index]


@pytest.mark.parametrize("risk", ["low_medium", "not_assessed"])
@pytest.mark.parametrize(("harm", "outcome"), [("yes", "refer"), ("no", "single_agency_or_early_help")])
def test_kent_aggravated_low_medium_then_harm_question_decides(
    content: Content, risk: str, harm: str, outcome: str
) -> None:
    r = decide(content, "kent", **AGGRAVATED_13_17, risk_level=risk, harm_vulnerability_or_no_consent=harm)
    assert r["outcome"] == outcome
    assert r["classification"] == "Aggravated: youth only"
    assert r["path"][-2:] == ["risk_level", "harm_vulnerability_or_no_consent"]
    record = str(r["record"])
    # The reading and its reason are in the record's sources.
    assert "second edition" in record and "specialist children's services" in record
    if risk == "not_assessed":
        assert "not been assessed yet" in record and "DSL" in record
    else:
        assert "safer reading" in record


def test_kent_risk_level_not_assessed_says_use_the_tool_and_talk_to_the_dsl(content: Content) -> None:
    q = content.flows["kent"].question("risk_level")
    assert q is not None
    assert "not_assessed" in [c.id for c in q.choices]
    assert "tools" in q.help and "DSL" in q.help


def test_kent_adult_of_unknown_age_is_treated_as_an_adult(content: Content) -> None:
    r = decide(content, "kent", immediate_danger="no", adult_involved="unknown")
    assert r["outcome"] == "refer"
    assert str(r["classification"]).startswith("Aggravated: adult involved")
    record = str(r["record"])
    assert "treats them as an adult" in record and "National Crime Agency" in record
    assert any(c["id"] == "ceop" for c in r["contacts"])  # type: ignore[union-attr]


def test_kent_not_sure_if_aggravated_takes_the_aggravated_branch(content: Content) -> None:
    r = decide(content, "kent", immediate_danger="no", adult_involved="no", aggravating_factors="not_sure",
               age_band="13_to_17")
    assert r["next_question"]["id"] == "risk_level"  # type: ignore[index]
    r = decide(content, "kent", immediate_danger="no", adult_involved="no", aggravating_factors="not_sure",
               age_band="13_to_17", risk_level="high")
    assert r["outcome"] == "refer"
    assert "treated as aggravated" in str(r["classification"])
    assert "not sure" in str(r["record"])


def test_kent_not_sure_about_harm_vulnerability_consent_refers(content: Content) -> None:
    r = decide(content, "kent", immediate_danger="no", adult_involved="no", aggravating_factors="no",
               age_band="13_to_17", harm_vulnerability_or_no_consent="not_sure")
    assert r["outcome"] == "refer"
    assert "safer branch" in str(r["record"])


def test_kent_intro_says_kent_schools_follow_ukcis_and_offers_its_questions(content: Content) -> None:
    intro = content.flows["kent"].intro
    assert "UKCIS" in intro and "schools" in intro and "UKCIS questions" in intro
    assert any(it.target == "flow:ukcis:immediate_danger" for it in content.intents)


def test_kent_education_setting_using_ukcis_questions_is_named_in_the_record(content: Content) -> None:
    r = triage(content, "kent", {"immediate_danger": "no", "adult_involved": "yes"}, AT, flow_id="ukcis")
    assert r["flow"] == "ukcis" and r["outcome"] == "refer"
    assert "(ukcis)" in str(r["record"]) and "Kent" in str(r["record"])
    ids = [c["id"] for c in r["contacts"]]  # type: ignore[union-attr]
    assert "kent_front_door" in ids


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
def test_ukcis_adult_of_unknown_age_is_treated_as_an_adult(content: Content, area: str) -> None:
    r = decide(content, area, immediate_danger="no", adult_involved="unknown")
    assert r["outcome"] == "refer"
    assert "treats them as an adult" in str(r["record"]) and "National Crime Agency" in str(r["record"])


@pytest.mark.parametrize("index", range(2, len(UKCIS_ORDER)))
def test_ukcis_not_sure_takes_the_safer_branch_and_says_so(content: Content, index: int) -> None:
    answers = {q: "no" for q in UKCIS_ORDER[:index]} | {UKCIS_ORDER[index]: "not_sure"}
    r = decide(content, "leeds", **answers)
    assert r["outcome"] == "refer"
    assert "safer branch" in str(r["record"]) and "not sure" in str(r["record"])


def test_ukcis_manage_in_setting_says_what_the_dsl_does_next(content: Content) -> None:
    text = content.flows["ukcis"].outcome("manage_in_setting").text  # type: ignore[union-attr]
    low = text.lower()
    assert "confident they have enough information" in low
    assert "record" in low
    assert "delete the imagery" in low and "confirm" in low
    assert "parents or carers, unless" in low
    assert "education and support" in low
    assert "refer" in low


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
