"""The session's seen-event bookkeeping, made faster for the SQLite turn rate, still does exactly what the
plain definition says: keep the ids handled within SEEN_WINDOW, at most the newest SEEN_LIMIT."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from bot.session import SEEN_LIMIT, SEEN_WINDOW, CorruptSession, Session, event_digest

# (event id, seconds after the previous mark); now and then a step back in time (a clock that was set back).
MARKS = st.lists(st.tuples(st.integers(0, 200), st.floats(-3600, 2 * SEEN_WINDOW / 3, allow_nan=False)),
                 max_size=150)


def reference(marks: list[tuple[int, float]]) -> list[tuple[str, float]]:
    kept: list[tuple[str, float]] = []
    at = 1_800_000_000.0
    for event, step in marks:
        at += step
        kept.append((event_digest(str(event)), at))
        kept = [(d, t) for d, t in kept if t > at - SEEN_WINDOW][-SEEN_LIMIT:]
    return kept


@given(MARKS)
def test_mark_and_has_seen_follow_the_definition(marks: list[tuple[int, float]]) -> None:
    session, at = Session(), 1_800_000_000.0
    for event, step in marks:
        at += step
        before = session.copy()
        snapshot = (list(session.seen), list(session.seen_at))
        session.mark_seen(str(event), at)
        assert (before.seen, before.seen_at) == snapshot  # a copy is untouched by marks on the original
    expected = reference(marks)
    assert list(zip(session.seen, session.seen_at, strict=True)) == expected
    for event in range(0, 201, 7):
        digest = event_digest(str(event))
        assert session.has_seen(str(event)) == (digest in [d for d, _ in expected])
        assert session.has_seen(str(event), at) == any(d == digest and t > at - SEEN_WINDOW for d, t in expected)


@given(MARKS)
def test_a_copy_shares_no_list_and_a_record_reads_back(marks: list[tuple[int, float]]) -> None:
    session, at = Session(who="parent", area="kent", answers=[("q", "a")], hints=[("q", "b")]), 1_800_000_000.0
    for event, step in marks:
        at += step
        session.mark_seen(str(event), at)
    session.updated = round(at, 3)  # as a record keeps it
    copy = session.copy()
    assert copy == session
    copy.mark_seen("new", at + 1)
    copy.answers.append(("r", "b"))
    copy.hints.clear()
    assert session.answers == [("q", "a")] and session.hints == [("q", "b")] and event_digest("new") not in session.seen
    back = Session.loads(session.dumps())
    assert back == session  # seen_at is kept to the second (left out of equality)
    ages = [max(0, round(session.updated - t)) for t in session.seen_at]
    assert [round(session.updated - t) for t in back.seen_at] == ages


def test_a_record_whose_seen_ids_are_not_a_list_of_strings_is_corrupt() -> None:
    for bad in ('{"s":"abcdef"}', '{"s":[1,2]}', '{"s":{"a":1}}', '{"s":["abc"],"t":["x"]}'):
        try:
            Session.loads(bad)
        except CorruptSession:
            continue
        raise AssertionError(bad)


def test_seen_ids_are_kept_as_one_string_and_records_with_a_list_still_read_back() -> None:
    session = Session(updated=1_800_000_100.0)
    for n in range(3):
        session.mark_seen(str(n), 1_800_000_000.0 + n)
    record = json.loads(session.dumps())
    assert record["e"] == ",".join(event_digest(str(n)) for n in range(3)) and "s" not in record
    assert Session.loads(session.dumps()).seen == session.seen
    record["s"] = record.pop("e").split(",")  # a record as written before
    assert Session.loads(json.dumps(record)).seen == session.seen
    odd = Session(seen=["a,b", "c"], seen_at=[1.0, 2.0], updated=3.0)  # an id with a comma: written as a list
    assert json.loads(odd.dumps())["s"] == ["a,b", "c"] and Session.loads(odd.dumps()).seen == ["a,b", "c"]
    assert Session.loads(Session(seen=[""], seen_at=[1.0], updated=1.0).dumps()).seen == [""]


def test_a_record_whose_joined_seen_ids_are_not_a_string_is_corrupt() -> None:
    for bad in ('{"e":["abcdef"]}', '{"e":1}', '{"e":{"a":1}}'):
        try:
            Session.loads(bad)
        except CorruptSession:
            continue
        raise AssertionError(bad)
