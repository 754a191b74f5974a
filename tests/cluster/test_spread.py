"""The stated spread rule: shares by declared capacity, remainders to the smaller engine id."""

from __future__ import annotations

from homesec_engine.cluster.spread import shares


def test_equal_engines_share_by_count() -> None:
    # Given three engines of the same capacity and six cameras
    # When the shares are computed
    # Then each engine holds two
    assert shares(6, {"a": 16, "b": 16, "c": 16}) == {"a": 2, "b": 2, "c": 2}


def test_remainder_goes_to_the_smaller_engine_id() -> None:
    # Given four cameras on three equal engines
    # Then every engine computes the same answer: the first id takes the odd camera
    assert shares(4, {"c": 8, "a": 8, "b": 8}) == {"a": 2, "b": 1, "c": 1}


def test_shares_follow_declared_capacity() -> None:
    # Given a big engine (capacity 12) and a small one (capacity 4)
    # When eight cameras are shared
    # Then the big one holds three times as many
    assert shares(8, {"big": 12, "small": 4}) == {"big": 6, "small": 2}


def test_no_engine_is_given_more_than_its_capacity() -> None:
    # Given more cameras than the engines can hold together
    # Then every engine is full and the rest stay unheld
    assert shares(10, {"a": 3, "b": 2}) == {"a": 3, "b": 2}
    assert shares(0, {"a": 3}) == {"a": 0}
    assert shares(3, {}) == {}
