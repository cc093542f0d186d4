"""Contact search and time-aware ranking with a fixed clock (Europe/London)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bot.assistant import Assistant
from bot.contacts import is_bank_holiday, is_open, search
from dialogs.content import Content
from tests.inprocess import Ran, ypsi

LONDON = dt.timezone(dt.timedelta(0))  # November/December: GMT
MONDAY_10AM = dt.datetime(2026, 11, 23, 10, 0, tzinfo=LONDON)
MONDAY_7PM = dt.datetime(2026, 11, 23, 19, 0, tzinfo=LONDON)
FRIDAY_4_45PM = dt.datetime(2026, 11, 27, 16, 45, tzinfo=LONDON)
SATURDAY_NIGHT = dt.datetime(2026, 11, 21, 22, 30, tzinfo=LONDON)
CHRISTMAS_11AM = dt.datetime(2026, 12, 25, 11, 0, tzinfo=LONDON)
BOXING_DAY_SUBSTITUTE = dt.datetime(2026, 12, 28, 10, 0, tzinfo=LONDON)  # Monday, bank holiday in England


def first(content: Content, query: str, area: str | None, at: dt.datetime) -> str:
    return search(content, query, area=area, at=at)[0].contact.id


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (MONDAY_10AM, "leeds_duty_advice"),
        (MONDAY_7PM, "leeds_edt"),
        (FRIDAY_4_45PM, "leeds_edt"),
        (SATURDAY_NIGHT, "leeds_edt"),
        (CHRISTMAS_11AM, "leeds_edt"),
        (BOXING_DAY_SUBSTITUTE, "leeds_edt"),
    ],
    ids=["weekday", "evening", "friday-after-4.30", "saturday-night", "christmas", "substitute-bank-holiday"],
)
def test_leeds_social_care_puts_the_open_service_first(content: Content, at: dt.datetime, expected: str) -> None:
    assert first(content, "social care", "leeds", at) == expected


def test_out_of_hours_on_saturday_night_in_leeds_is_the_emergency_duty_team(content: Content) -> None:
    assert first(content, "out of hours", "leeds", SATURDAY_NIGHT) == "leeds_edt"


def test_out_of_hours_while_offices_are_open_puts_the_daytime_service_first(content: Content) -> None:
    ids = [m.contact.id for m in search(content, "out of hours number", area="leeds", at=MONDAY_10AM)]
    assert ids[:1] == ["leeds_duty_advice"] and "leeds_edt" in ids


def test_out_of_hours_in_kent(content: Content) -> None:
    assert first(content, "out of hours", "kent", SATURDAY_NIGHT) == "kent_out_of_hours"


def test_area_named_in_the_query_narrows_the_search(content: Content) -> None:
    assert first(content, "out of hours leeds", None, SATURDAY_NIGHT) == "leeds_edt"
    assert first(content, "front door kent", None, MONDAY_10AM) == "kent_front_door"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("childline", "childline"),
        ("chidline", "childline"),
        ("samaritans", "samaritans"),
        ("police non emergency", "police_101"),
        ("ceop", "ceop"),
        ("report remove", "report_remove"),
        ("take it down", "take_it_down"),
        ("nspcc", "nspcc_helpline"),
        ("duty and advice", "leeds_duty_advice"),
        ("0800 1111", "childline"),
    ],
)
def test_names_aliases_and_numbers_find_the_contact(content: Content, query: str, expected: str) -> None:
    assert first(content, query, None, MONDAY_10AM) == expected


@pytest.mark.parametrize(
    ("old_number", "current"),
    [("0844 892 0240", "childline"), ("0113 376 0469", "leeds_edt")],
)
def test_a_superseded_seed_number_leads_to_the_current_contact(content: Content, old_number: str, current: str) -> None:
    match = search(content, old_number, area=None, at=MONDAY_10AM)[0]
    assert match.contact.id == current
    assert match.superseded.startswith(old_number)
    assert old_number.replace(" ", "") not in match.contact.phone.replace(" ", "")


def test_opening_hours_and_bank_holidays(content: Content) -> None:
    duty = content.contacts_for("leeds")["leeds_duty_advice"]
    assert is_open(duty, MONDAY_10AM) and not is_open(duty, MONDAY_7PM)
    assert not is_open(duty, CHRISTMAS_11AM) and is_bank_holiday(CHRISTMAS_11AM.date())
    assert is_open(content.contacts_for("national")["childline"], CHRISTMAS_11AM)


def test_summer_time_is_london_time(content: Content) -> None:
    duty = content.contacts_for("leeds")["leeds_duty_advice"]
    # 08:30 UTC on a July Monday is 09:30 in London (BST): open. 16:30 UTC is 17:30 BST: closed.
    assert is_open(duty, dt.datetime(2026, 7, 6, 8, 30, tzinfo=dt.UTC))
    assert not is_open(duty, dt.datetime(2026, 7, 6, 16, 30, tzinfo=dt.UTC))


def test_contacts_command_json_shape_and_out_of_hours(content: Content) -> None:
    run = ypsi("contacts", "out of hours", "--area", "leeds", "--at", "2026-11-21T22:30", "--json")
    results = json.loads(run.stdout)
    assert results[0]["id"] == "leeds_edt" and results[0]["open_now"] is True
    assert set(results[0]) >= {"id", "name", "phone", "url", "audience", "open_now", "hours", "source", "checked"}


def test_contacts_command_rejects_an_unknown_area() -> None:
    run = ypsi("contacts", "x", "--area", "york", check=False)
    assert run.returncode == 2 and "kent, leeds, national" in run.stderr


def test_the_bank_holiday_table_in_content_matches_the_holidays_package() -> None:
    import holidays

    from dialogs.load import load_bank_holidays

    table = load_bank_holidays()
    years = range(table.first_year, table.last_year + 1)
    assert table.covers(2026) and table.covers(2027)
    assert set(table.dates) == set(holidays.country_holidays("GB", subdiv="ENG", years=years))


def test_years_outside_the_table_ask_the_holidays_package() -> None:
    assert is_bank_holiday(dt.date(2045, 12, 25)) and not is_bank_holiday(dt.date(2045, 12, 27))


# ------------------------------------------------------------------------------------------------------
# Issue 13: ranking by what was asked, the area named, audience, honest "open now", lists by role and time.
# Fixed clocks (Europe/London is GMT in November and December).

SUNDAY_10_40PM = dt.datetime(2026, 11, 29, 22, 40, tzinfo=LONDON)
SATURDAY_2AM = dt.datetime(2026, 11, 28, 2, 0, tzinfo=LONDON)
WEDNESDAY_NOON = dt.datetime(2026, 11, 25, 12, 0, tzinfo=LONDON)
CLOCKS = {"sunday-22:40": SUNDAY_10_40PM, "saturday-02:00": SATURDAY_2AM, "weekday-noon": WEDNESDAY_NOON,
          "christmas": CHRISTMAS_11AM}
PUBLIC = ("parent", "young_person")


def ids(content: Content, query: str, area: str | None, at: dt.datetime, who: str | None = None,
        limit: int = 8) -> list[str]:
    return [m.contact.id for m in search(content, query, area=area, at=at, who=who, limit=limit)]


def pro_only(content: Content, cid: str) -> bool:
    contact = next(c for _, c in content.all_contacts() if c.id == cid)
    return not {"public", "children_and_young_people"} & set(contact.audience)


def run_cli(*args: str) -> Ran:
    return ypsi("contacts", *args, check=False)


# ---- 1. ranking


def test_a_closed_contact_asked_for_by_name_comes_first_with_the_open_alternative_straight_after(
    content: Content,
) -> None:
    matches = search(content, "nspcc helpline", area=None, at=SUNDAY_10_40PM)
    assert [m.contact.id for m in matches] == ["nspcc_helpline", "police_101"]
    assert matches[0].match == "name" and not matches[0].open_now
    assert matches[1].match == "alternative" and matches[1].open_now
    # In Kent the alternative is the area's public out-of-hours line.
    assert ids(content, "nspcc helpline", "kent", SUNDAY_10_40PM, who="parent")[:2] == [
        "nspcc_helpline", "kent_out_of_hours"]


def test_the_closed_contact_says_what_to_call_instead(content: Content) -> None:
    out = run_cli("nspcc helpline", "--area", "kent", "--at", "2026-11-29T22:40").stdout
    assert out.startswith("NSPCC Helpline: 0808 800 5000")
    assert "closed now; instead, call Kent children's social care out of hours: 03000 41 91 91" in out


@pytest.mark.parametrize("at", [SUNDAY_10_40PM, WEDNESDAY_NOON], ids=["sunday-night", "weekday-noon"])
def test_a_name_match_beats_a_weak_match_and_weak_matches_are_dropped(content: Content, at: dt.datetime) -> None:
    found = ids(content, "contact centre", "leeds", at)
    assert found[0] == "leeds_contact_centre"
    assert "ceop" not in found
    assert "local_social_care" not in ids(content, "nspcc helpline", None, at)


def test_a_typo_still_finds_the_contact_without_padding(content: Content) -> None:
    found = ids(content, "samartians", None, WEDNESDAY_NOON)
    assert found[0] == "samaritans" and len(found) <= 3


# ---- 2. the area named in the query


@pytest.mark.parametrize(
    ("words", "area"),
    [("out of hours maidstone", "kent"), ("front door in tunbridge wells", "kent"), ("edt headingley", "leeds"),
     ("social care west yorkshire", "leeds"), ("edt number for leeds", "leeds"), ("kcc out of hours", "kent")],
)
def test_an_area_town_or_district_in_the_query_is_found(content: Content, words: str, area: str) -> None:
    from bot.contacts import find_area_word

    found, rest = find_area_word(content, words.split())
    assert found == area and len(rest) < len(words.split())


def test_a_town_named_in_the_query_picks_the_area(content: Content) -> None:
    assert first(content, "out of hours maidstone", None, SATURDAY_2AM) == "kent_out_of_hours"
    assert first(content, "edt number for leeds", None, SUNDAY_10_40PM) == "leeds_edt"
    assert first(content, "out of hours number kent", "leeds", SUNDAY_10_40PM) == "kent_out_of_hours"


# ---- 3. audience


@pytest.mark.parametrize("when", sorted(CLOCKS))
@pytest.mark.parametrize("area", ["kent", "leeds"])
@pytest.mark.parametrize("who", PUBLIC)
def test_a_parents_or_young_persons_list_holds_the_essentials_and_no_professional_only_lines(
    content: Content, who: str, area: str, when: str
) -> None:
    at = CLOCKS[when]
    found = ids(content, "", area, at, who=who, limit=6)  # the assistant shows six
    assert not [cid for cid in found if pro_only(content, cid)]
    assert "police_emergency" in found
    assert ("childline" if who == "young_person" else "nspcc_helpline") in found
    public_line = content.areas[area].public_line
    assert public_line in found
    if not is_open(content.contacts_for(area)[public_line], at):
        route = {"kent": "kent_out_of_hours", "leeds": "police_101"}[area]
        assert route in found


def test_a_kent_parent_at_2am_on_saturday_sees_999_the_front_door_and_the_out_of_hours_line_first(
    content: Content,
) -> None:
    found = ids(content, "", "kent", SATURDAY_2AM, who="parent", limit=6)
    assert found[:3] == ["police_emergency", "kent_front_door", "kent_out_of_hours"]
    assert "police_101" in found and "brook_traffic_light" not in found


def test_a_leeds_parent_sees_the_public_contact_centre_even_when_it_is_closed(content: Content) -> None:
    for at in CLOCKS.values():
        assert "leeds_contact_centre" in ids(content, "", "leeds", at, who="parent", limit=6)


@pytest.mark.parametrize("who", PUBLIC)
def test_professional_only_contacts_are_shown_to_the_public_only_when_named(content: Content, who: str) -> None:
    assert ids(content, "brook", "kent", WEDNESDAY_NOON, who=who)[:1] == ["brook_traffic_light"]
    assert ids(content, "edt", "leeds", SUNDAY_10_40PM, who=who)[:1] == ["leeds_edt"]
    found = ids(content, "out of hours", "leeds", SUNDAY_10_40PM, who=who)
    assert "leeds_edt" not in found and "police_101" in found
    assert "leeds_duty_advice" not in ids(content, "social services", "leeds", WEDNESDAY_NOON, who=who)


def test_practitioners_still_see_professional_lines(content: Content) -> None:
    found = ids(content, "", "leeds", SUNDAY_10_40PM, who="practitioner", limit=6)
    assert found[:3] == ["police_emergency", "leeds_edt", "leeds_duty_advice"]


# ---- 4. honest "open now"


@pytest.mark.parametrize("when", sorted(CLOCKS))
def test_unconfirmed_hours_and_web_pages_are_never_open_now(content: Content, when: str) -> None:
    from bot.contacts import describe, is_web_page, status_text

    at = CLOCKS[when]
    for area, contact in content.all_contacts():
        shown = status_text(content, contact, at, area)
        if not contact.hours.confirmed:
            assert "open now" not in describe(content, contact, at, area=area), contact.id
            assert "hours not confirmed" in shown, contact.id
        if is_web_page(contact):
            assert shown.startswith("online"), contact.id


def test_the_leeds_contact_centre_says_its_hours_are_not_confirmed(content: Content) -> None:
    from bot.contacts import as_json, status_text

    centre = content.contacts_for("leeds")["leeds_contact_centre"]
    assert status_text(content, centre, WEDNESDAY_NOON, "leeds") == "hours not confirmed"
    assert status_text(content, centre, SUNDAY_10_40PM, "leeds").startswith("closed now, hours not confirmed")
    match = search(content, "contact centre", area="leeds", at=WEDNESDAY_NOON)[0]
    row = as_json(match, WEDNESDAY_NOON)
    assert row["open_now"] is False and row["hours_confirmed"] is False and row["state"] == "likely_open"


def test_the_national_council_finder_is_online_not_open(content: Content) -> None:
    from bot.contacts import status_text

    page = content.contacts_for("national")["local_social_care"]
    assert status_text(content, page, SUNDAY_10_40PM) == "online, hours not confirmed"
    assert search(content, "social services", area=None, at=SUNDAY_10_40PM)[0].contact.id != "local_social_care"


# ---- 5. lists by role, time-aware


@pytest.mark.parametrize(
    ("query", "area", "when", "expected"),
    [
        ("social services", "kent", "weekday-noon", ["kent_front_door", "kent_out_of_hours"]),
        ("social services", "kent", "sunday-22:40", ["kent_out_of_hours", "kent_front_door"]),
        ("social services", "kent", "christmas", ["kent_out_of_hours", "kent_front_door"]),
        ("out of hours", "kent", "weekday-noon", ["kent_front_door", "kent_out_of_hours"]),
        ("out of hours", "kent", "saturday-02:00", ["kent_out_of_hours", "kent_front_door"]),
        ("out of hours", "leeds", "weekday-noon", ["leeds_duty_advice", "leeds_edt"]),
        ("out of hours", "leeds", "saturday-02:00", ["leeds_edt", "leeds_duty_advice"]),
        ("social care", "leeds", "christmas", ["leeds_edt", "leeds_duty_advice"]),
        ("social services", "leeds", "sunday-22:40", ["leeds_edt", "leeds_duty_advice"]),
    ],
)
def test_role_words_put_the_service_open_now_first_and_the_other_after(
    content: Content, query: str, area: str, when: str, expected: list[str]
) -> None:
    found = [cid for cid in ids(content, query, area, CLOCKS[when], who="practitioner") if cid in expected]
    assert found == expected


@pytest.mark.parametrize(
    ("who", "when", "expected_first"),
    [("parent", "weekday-noon", "kent_front_door"), ("parent", "saturday-02:00", "kent_out_of_hours"),
     ("young_person", "christmas", "kent_out_of_hours")],
)
def test_role_words_for_the_public_use_the_public_line_and_its_out_of_hours_route(
    content: Content, who: str, when: str, expected_first: str
) -> None:
    assert ids(content, "social services", "kent", CLOCKS[when], who=who)[0] == expected_first


def test_a_leeds_parent_asking_for_social_services_at_night_gets_the_police_routes(content: Content) -> None:
    found = ids(content, "social services", "leeds", SUNDAY_10_40PM, who="parent")
    assert found == ["leeds_contact_centre", "police_emergency", "police_101"]


# ---- the command line and the assistant


def test_contacts_json_adds_match_why_and_actions() -> None:
    run = run_cli("nspcc helpline", "--at", "2026-11-29T22:40", "--json")
    rows = json.loads(run.stdout)
    assert [r["id"] for r in rows] == ["nspcc_helpline", "police_101"]
    assert set(rows[0]) >= {"id", "name", "phone", "url", "audience", "open_now", "hours", "source", "checked",
                            "match", "why", "actions"}
    assert rows[0]["match"] == "name" and rows[1]["match"] == "alternative" and rows[1]["why"]
    assert {"type": "call", "label": "0808 800 5000", "url": "tel:08088005000"} in rows[0]["actions"]


def test_contacts_as_a_parent_on_the_command_line() -> None:
    run = run_cli("--area", "kent", "--as", "parent", "--at", "2026-11-28T02:00", "--json")
    found = [r["id"] for r in json.loads(run.stdout)]
    assert found[:3] == ["police_emergency", "kent_front_door", "kent_out_of_hours"] and len(found) == 5


def _contacts_reply(assistant: Assistant, arg: str, at: dt.datetime, who: str | None, area: str | None) -> str:
    from bot.assistant import Defaults
    from bot.types import Inbound

    reply = assistant.handle(None, Inbound("command", command="contacts", arg=arg), at, Defaults(who=who, area=area))
    return "\n".join(o.text for o in reply.replies)


def test_the_assistant_lists_contacts_for_who_is_asking(assistant: Assistant) -> None:
    parent = _contacts_reply(assistant, "", SATURDAY_2AM, "parent", "kent")
    assert "03000 41 91 91" in parent and "999" in parent and "Brook" not in parent
    young = _contacts_reply(assistant, "", SATURDAY_2AM, "young_person", "leeds")
    assert "0800 1111" in young and "For professionals only" not in young and "0113 222 4403" in young
    practitioner = _contacts_reply(assistant, "", SUNDAY_10_40PM, "practitioner", "leeds")
    assert practitioner.index("0113 535 0600") < practitioner.index("0113 376 0336")


def test_the_assistant_uses_the_area_named_in_contacts_words(assistant: Assistant) -> None:
    text = _contacts_reply(assistant, "edt leeds", SUNDAY_10_40PM, "practitioner", None)
    assert text.index("0113 535 0600") < 300 and "gov.uk/report-child-abuse" not in text
