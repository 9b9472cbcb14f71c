"""The first row of each email, however many emails and however often they fold."""

from __future__ import annotations

import pytest

from bulk_onboard.rows.first_rows import FirstRows, email_digest


def _claims(first_rows: FirstRows, batches: list[list[tuple[str, int]]]) -> list[dict[str, int]]:
    return [first_rows.claim(batch) for batch in batches]


BATCHES = [
    [("a@x.test", 2), ("b@x.test", 3)],
    [("c@x.test", 5), ("a@x.test", 6)],
    [("d@x.test", 9), ("b@x.test", 10), ("c@x.test", 11)],
    [("e@x.test", 12), ("d@x.test", 13), ("a@x.test", 14)],
]
EXPECTED = [{}, {"a@x.test": 2}, {"b@x.test": 3, "c@x.test": 5}, {"d@x.test": 9, "a@x.test": 2}]


@pytest.mark.parametrize("recent", [1, 2, 100])
def test_first_rows_answers_with_the_first_row_however_often_it_folds(recent: int) -> None:
    assert _claims(FirstRows(recent=recent), BATCHES) == EXPECTED


@pytest.mark.parametrize("recent", [1, 2, 100])
def test_emails_sharing_a_key_are_told_apart_by_their_check(recent: int) -> None:
    # Every email gets the same 8-byte key; only the check differs.
    def same_key(email: str) -> bytes:
        return b"\x07" * 8 + email_digest(email)[8:]

    assert _claims(FirstRows(digest=same_key, recent=recent), BATCHES) == EXPECTED


@pytest.mark.parametrize("recent", [1, 2, 100])
def test_an_email_whose_key_is_taken_is_kept_as_text(recent: int) -> None:
    # a@ and c@ share key and check with each other only by key: c@ must not be a@'s duplicate.
    def two_keys(email: str) -> bytes:
        return (b"\x01" if email < "c" else b"\x02") * 8 + email_digest(email)[8:]

    first_rows = FirstRows(digest=two_keys, recent=recent)
    assert _claims(first_rows, BATCHES) == EXPECTED
    assert first_rows.claim([("b@x.test", 20), ("f@x.test", 21)]) == {"b@x.test": 3}


def test_200000_distinct_emails_fold_into_digests_without_a_false_duplicate() -> None:
    first_rows = FirstRows(recent=50_000)
    for start in range(0, 200_000, 10_000):
        batch = [(f"user{i}@x.test", i + 2) for i in range(start, start + 10_000)]
        assert first_rows.claim(batch) == {}
    assert first_rows.claim([("user123@x.test", 999_999)]) == {"user123@x.test": 125}
