"""The six worked examples in the KSCB 2016 guidance (Wolak & Finkelhor sub-types), decided by the Kent flow.

For the two "youth only" aggravated examples the seed does not say what the risk tools found, so both
risk levels are checked: the flow must reach the risk question and then follow the tool's finding.
"""

from __future__ import annotations

import datetime as dt

import pytest

from bot.triage import triage
from dialogs.content import Content

AT = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
NO_DANGER = {"immediate_danger": "no"}


def decide(content: Content, **answers: str) -> dict[str, object]:
    return triage(content, "kent", NO_DANGER | answers, AT)


def test_romantic_two_sixteen_year_olds_sharing_only_with_each_other(content: Content) -> None:
    r = decide(
        content,
        adult_involved="no",
        aggravating_factors="no",
        age_band="13_to_17",
        harm_vulnerability_or_no_consent="no",
    )
    assert (r["outcome"], r["classification"]) == ("single_agency_or_early_help", "Experimental")


def test_attention_seeking_thirteen_year_old_sends_to_fourteen_year_old_when_flirting(content: Content) -> None:
    r = decide(
        content,
        adult_involved="no",
        aggravating_factors="no",
        age_band="13_to_17",
        harm_vulnerability_or_no_consent="no",
    )
    assert (r["outcome"], r["classification"]) == ("single_agency_or_early_help", "Experimental")


def test_other_eleven_year_old_photographs_own_genitals_because_it_is_funny(content: Content) -> None:
    r = decide(content, adult_involved="no", aggravating_factors="no", age_band="12_or_under")
    assert (r["outcome"], r["classification"]) == ("refer", "Experimental")


def test_adult_involved_sixteen_year_old_coerced_by_twenty_five_year_old_man(content: Content) -> None:
    r = decide(content, adult_involved="yes")
    assert (r["outcome"], r["classification"]) == ("refer", "Aggravated: adult involved")
    assert any(c["id"] == "police_101" for c in r["contacts"])  # type: ignore[union-attr]


# Second edition (safer reading, spec/guidance-model.md): below high risk, the harm / vulnerability / consent
# question is asked on the aggravated branch too. Revenge sharing is non-consensual, so it is answered "yes".
RISK_PATHS = [("high", {}, "refer"), ("low_medium", {"harm_vulnerability_or_no_consent": "yes"}, "refer")]


@pytest.mark.parametrize(("risk", "more", "outcome"), RISK_PATHS)
def test_intent_to_harm_fourteen_year_old_shares_ex_partners_pictures_for_revenge(
    content: Content, risk: str, more: dict[str, str], outcome: str
) -> None:
    r = decide(content, adult_involved="no", aggravating_factors="yes", age_band="13_to_17")
    assert r["next_question"]["id"] == "risk_level"  # type: ignore[index]
    r = decide(content, adult_involved="no", aggravating_factors="yes", age_band="13_to_17", risk_level=risk, **more)
    assert (r["outcome"], r["classification"]) == (outcome, "Aggravated: youth only")


@pytest.mark.parametrize(("risk", "more", "outcome"), RISK_PATHS)
def test_reckless_misuse_fifteen_year_old_shares_friend_changing_as_a_joke(
    content: Content, risk: str, more: dict[str, str], outcome: str
) -> None:
    # Taken without the pictured child's knowledge: aggravated, youth only, and no consent.
    r = decide(content, adult_involved="no", aggravating_factors="yes", age_band="13_to_17", risk_level=risk, **more)
    assert (r["outcome"], r["classification"]) == (outcome, "Aggravated: youth only")
    assert r["path"] == ["immediate_danger", "adult_involved", "aggravating_factors", "age_band", "risk_level",
                         *more]
