"""The base store: content kept by state ref, verified on read, bounded, least recently used first."""

from __future__ import annotations

import fcntl
import os
import threading
import zlib
from pathlib import Path

from bridge.workspace import Repo
from bridge.workspace.bases import BaseStore
from bridge.workspace.state import ABSENT_STATE_REF, state_ref_of_bytes


def test_put_and_get_by_state_ref(tmp_path: Path) -> None:
    store = BaseStore(tmp_path / "bases")
    ref = store.put("def f():\n    return 1\n")
    assert ref == state_ref_of_bytes(b"def f():\n    return 1\n")
    assert (
        store.get(ref) == b"def f():\n    return 1\n"
        and store.get_text(ref) == "def f():\n    return 1\n"
    )
    assert ref in store and "sha256:" + "0" * 64 not in store
    hexd = ref.removeprefix("sha256:")
    on_disk = tmp_path / "bases" / hexd[:2] / hexd[2:]
    assert (
        zlib.decompress(on_disk.read_bytes()) == b"def f():\n    return 1\n"
    )  # compressed on disk
    assert (
        store.put(b"def f():\n    return 1\n") == ref and store.usage()[0] == 1
    )  # same bytes, one entry


def test_unknown_invalid_and_absent_refs(tmp_path: Path) -> None:
    store = BaseStore(tmp_path)
    assert store.get("sha256:" + "1" * 64) is None
    for bad in ("sha256:../../etc/passwd", "md5:abc", "sha256:" + "A" * 64, ""):
        assert store.get(bad) is None and bad not in store
    assert (
        store.get(ABSENT_STATE_REF) == b"" and ABSENT_STATE_REF in store
    )  # a created file had an empty base
    assert store.get_text(store.put(b"\xff\xfe")) is None  # kept, but not text


def test_a_damaged_entry_is_dropped_not_returned(tmp_path: Path) -> None:
    store = BaseStore(tmp_path)
    ref = store.put("original\n")
    hexd = ref.removeprefix("sha256:")
    path = tmp_path / hexd[:2] / hexd[2:]
    path.write_bytes(zlib.compress(b"tampered\n"))
    assert store.get(ref) is None and not path.exists()
    ref2 = store.put("other\n")
    hexd2 = ref2.removeprefix("sha256:")
    (tmp_path / hexd2[:2] / hexd2[2:]).write_bytes(b"not zlib")
    assert store.get(ref2) is None and ref2 not in store


def test_too_large_content_is_not_kept(tmp_path: Path) -> None:
    store = BaseStore(tmp_path, max_file_bytes=10)
    ref = store.put(b"x" * 11)
    assert (
        ref == state_ref_of_bytes(b"x" * 11) and store.get(ref) is None and store.usage() == (0, 0)
    )


def _age(store: BaseStore, ref: str, when: float) -> None:
    hexd = ref.removeprefix("sha256:")
    os.utime(store.root / hexd[:2] / hexd[2:], (when, when))


def test_pruned_least_recently_used_first_within_entry_budget(tmp_path: Path) -> None:
    store = BaseStore(tmp_path, max_entries=10, prune_every=1000)
    refs = [
        store.put(f"version {n}\n") for n in range(12)
    ]  # the first put pruned nothing: under budget then
    for n, ref in enumerate(refs):
        _age(store, ref, 1_000_000 + n)  # put order = age order
    _age(store, refs[0], 2_000_000)  # version 0 was used recently
    assert store.prune() == 3  # down to 90% of 10 entries
    kept = [n for n, ref in enumerate(refs) if ref in store]
    assert kept == [0, 4, 5, 6, 7, 8, 9, 10, 11]
    assert store.prune() == 0  # within budget now


def test_a_get_counts_as_a_use(tmp_path: Path) -> None:
    store = BaseStore(tmp_path, max_entries=3, prune_every=1000)
    a, b, c = store.put("a\n"), store.put("b\n"), store.put("c\n")
    for n, ref in enumerate((a, b, c)):
        _age(store, ref, 1_000_000 + n)
    assert store.get(a) == b"a\n"  # touches a: b and c are now the oldest
    d = store.put("d\n")
    assert store.prune() == 2  # 4 entries over a budget of 3: down to 2
    assert [r in store for r in (a, b, c, d)] == [True, False, False, True]


def test_byte_budget_and_automatic_pruning_on_put(tmp_path: Path) -> None:
    blob = os.urandom(3000)  # does not compress
    store = BaseStore(tmp_path, max_bytes=10_000, prune_every=1)
    for n in range(8):
        store.put(blob + bytes([n]))
    entries, size = store.usage()
    assert size <= 10_000 and 1 <= entries <= 3


def test_only_one_process_prunes_at_a_time(tmp_path: Path) -> None:
    store = BaseStore(tmp_path, max_entries=1, prune_every=1000)
    store.put("a\n")
    store.put("b\n")
    with open(tmp_path / ".prune.lock", "a+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert store.prune() == 0  # someone else is pruning: skip
    assert store.prune() == 2


def test_concurrent_writers_of_the_same_and_different_content(tmp_path: Path) -> None:
    store = BaseStore(tmp_path)
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            for n in range(20):
                ref = store.put(f"shared {n}\n")
                assert store.get(ref) == f"shared {n}\n".encode()
                store.put(f"own {k} {n}\n")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and store.usage()[0] == 20 + 4 * 20
    assert not [p for p in tmp_path.rglob(".put-*")]  # no temporary files left


def test_store_of_a_repository_lives_in_its_data_dir(repo: Repo) -> None:
    store = BaseStore.for_repo(repo)
    ref = store.put("x = 1\n")
    assert store.root == repo.data_dir / "bases" and store.get(ref) == b"x = 1\n"
