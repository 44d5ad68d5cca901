"""The session state's containers: MultiIndex (one-to-many) and Bounded (forgets its oldest)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bridge.core.maps import Bounded, IdHistory, MultiIndex


def test_a_key_goes_with_its_last_value() -> None:
    idx: MultiIndex[str, str] = MultiIndex()
    idx.add("alice", "i1")
    idx.add("alice", "i2")
    idx.add("alice", "i1")  # a set: adding twice keeps one
    assert set(idx.get("alice")) == {"i1", "i2"} and "alice" in idx and len(idx) == 1
    idx.discard("alice", "i1")
    assert set(idx.get("alice")) == {"i2"}
    idx.discard("alice", "i2")
    assert "alice" not in idx and len(idx) == 0 and list(idx) == []


def test_absent_keys_and_values_are_empty_and_ignored() -> None:
    idx: MultiIndex[str, int] = MultiIndex()
    assert not idx.get("nobody") and len(idx.get("nobody")) == 0
    idx.discard("nobody", 1)  # no error, and no empty set left behind
    idx.add("k", 1)
    idx.discard("k", 2)
    assert set(idx.get("k")) == {1} and "nobody" not in idx


def test_an_empty_answer_cannot_be_filled_by_mistake() -> None:
    idx: MultiIndex[str, str] = MultiIndex()
    empty = idx.get("k")
    assert isinstance(empty, frozenset)  # not a fresh set whose additions would be lost


OPS = st.lists(st.tuples(st.booleans(), st.sampled_from("abc"), st.integers(0, 3)), max_size=60)


@given(OPS)
def test_matches_a_dict_of_sets_without_empty_entries(ops: list[tuple[bool, str, int]]) -> None:
    idx: MultiIndex[str, int] = MultiIndex()
    model: dict[str, set[int]] = {}
    for add, key, value in ops:
        if add:
            idx.add(key, value)
            model.setdefault(key, set()).add(value)
        else:
            idx.discard(key, value)
            model.get(key, set()).discard(value)
            if not model.get(key, True):
                del model[key]
    assert {k: set(idx.get(k)) for k in idx} == model
    assert all(idx.get(k) for k in idx)  # never an empty set
    for key in "abc":
        assert (key in idx) == (key in model)


def test_bounded_forgets_the_oldest_and_put_renews() -> None:
    b: Bounded[int] = Bounded(3)
    for n, key in enumerate("abcd"):
        b.put(key, n)
    assert list(b) == ["b", "c", "d"]  # "a" forgotten
    b.put("b", 9)  # renewed: now the newest
    b.put("e", 4)
    assert list(b.items()) == [("d", 3), ("b", 9), ("e", 4)]


def test_equal_to_a_mapping_of_sets_with_the_same_content() -> None:
    a: MultiIndex[str, str] = MultiIndex()
    b: MultiIndex[str, str] = MultiIndex()
    assert a == b == {} and a != {"k": {"v"}}
    a.add("k", "v")
    assert a == {"k": {"v"}} and a != b
    b.add("k", "v")
    assert a == b
    assert a != [("k", "v")]  # not a mapping: never equal


@given(
    st.lists(st.tuples(st.sampled_from("abcdefg"), st.integers(0, 9)), max_size=40),
    st.integers(1, 5),
)
def test_id_history_keeps_what_bounded_keeps(puts: list[tuple[str, int]], limit: int) -> None:
    b: Bounded[int] = Bounded(limit)
    h: IdHistory[int] = IdHistory(limit)
    for key, value in puts:
        b.put(key, value)
        h.put(key, value)
        assert list(h.items()) == list(b.items())
