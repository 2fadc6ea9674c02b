from __future__ import annotations

from datetime import timedelta

from connector.errors import System
from connector.state import Backoff, NewDeadLetter, StateStore

from .conftest import START, FrozenClock, contact, hubspot, person


def letter(
    record: str = "501", fields: tuple[str, ...] = ("lifecyclestage",), **extra: object
) -> NewDeadLetter:
    values: dict[str, object] = {
        "ref": hubspot(record),
        "fields": fields,
        "error_class": "RecordRejectedError",
        "code": "VALIDATION_ERROR",
        "message": "hubspot contacts 501: invalid option [400]",
    }
    values.update(extra)
    return NewDeadLetter(**values)  # type: ignore[arg-type]


def test_add_stores_a_dead_letter_due_after_the_base_delay(store: StateStore) -> None:
    store.people.upsert(person("p1"))
    stored = store.dead_letters.add(letter(person_id="p1", payload={"lifecyclestage": "lead"}))
    assert stored.ref == hubspot("501")
    assert stored.fields == ("lifecyclestage",)
    assert stored.person_id == "p1"
    assert dict(stored.payload) == {"lifecyclestage": "lead"}
    assert (stored.error_class, stored.code) == ("RecordRejectedError", "VALIDATION_ERROR")
    assert stored.attempts == 1
    assert stored.next_retry_at == START + timedelta(minutes=15)
    assert stored.created_at == stored.updated_at == START


def test_the_same_record_and_field_set_counts_attempts_with_backoff(
    store: StateStore, clock: FrozenClock
) -> None:
    store.dead_letters.add(letter(fields=("a", "b")))
    later = clock.advance(hours=1)
    again = store.dead_letters.add(letter(fields=("b", "a", "a"), message="still refused"))
    assert again.attempts == 2
    assert again.message == "still refused"
    assert again.next_retry_at == later + timedelta(minutes=30)
    assert again.created_at == START
    assert len(store.dead_letters.list()) == 1


def test_another_field_set_or_record_is_another_dead_letter(store: StateStore) -> None:
    store.dead_letters.add_many(
        [letter(fields=("a",)), letter(fields=("b",)), letter(record="502", fields=("a",))]
    )
    store.dead_letters.add(letter(fields=("a",), ref=contact("003X"), error_class="FatalApiError"))
    assert len(store.dead_letters.list()) == 4
    assert [d.ref for d in store.dead_letters.list(system=System.SALESFORCE)] == [contact("003X")]


def test_due_returns_letters_whose_time_has_come(store: StateStore, clock: FrozenClock) -> None:
    first = store.dead_letters.add(letter("1"))
    clock.advance(minutes=10)
    store.dead_letters.add(letter("2"))
    assert store.dead_letters.due() == []
    assert store.dead_letters.due(START + timedelta(minutes=15)) == [first]
    clock.advance(minutes=20)
    assert [d.ref.record_id for d in store.dead_letters.due()] == ["1", "2"]
    assert len(store.dead_letters.due(limit=1)) == 1


def test_mark_retried_counts_an_attempt_and_backs_off_exponentially(
    store: StateStore, clock: FrozenClock
) -> None:
    stored = store.dead_letters.add(letter())
    delays = []
    attempts = []
    for _ in range(4):
        now = clock.advance(days=2)
        assert store.dead_letters.mark_retried([stored.id, 999_999]) == 1
        current = store.dead_letters.get(stored.id)
        assert current is not None
        delays.append(current.next_retry_at - now)
        attempts.append(current.attempts)
    assert delays == [timedelta(minutes=m) for m in (30, 60, 120, 240)]
    assert attempts == [2, 3, 4, 5]


def test_backoff_is_capped() -> None:
    backoff = Backoff(base=timedelta(minutes=1), factor=3, cap=timedelta(hours=2))
    assert backoff.delay(1) == timedelta(minutes=1)
    assert backoff.delay(3) == timedelta(minutes=9)
    assert backoff.delay(10) == timedelta(hours=2)
    assert backoff.delay(10_000) == timedelta(hours=2)


def test_drop_and_clear_records_delete(store: StateStore) -> None:
    one = store.dead_letters.add(letter("1"))
    store.dead_letters.add_many([letter("2", fields=("a",)), letter("2", fields=("b",))])
    assert store.dead_letters.drop([one.id, one.id]) == 1
    assert store.dead_letters.drop([one.id]) == 0
    assert store.dead_letters.clear_records([hubspot("2"), hubspot("2")]) == 2
    assert store.dead_letters.list() == []


def test_messages_are_redacted_and_bounded(store: StateStore) -> None:
    secret = "Bearer abcdefghijklmnopqrstuvwxyz0123456789"
    text = f"refused {secret} for ada@example.com " + "x" * 5000
    stored = store.dead_letters.add(letter(message=text))
    assert "abcdefghijklmnopqrstuvwxyz0123456789" not in stored.message
    assert "ada@example.com" not in stored.message
    assert len(stored.message) <= 2000


def test_adding_nothing_is_a_no_op(store: StateStore) -> None:
    assert store.dead_letters.add_many([]) == 0
    assert store.dead_letters.list() == []
