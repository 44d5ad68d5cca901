"""State refs from disk and compare-and-swap writes."""

from __future__ import annotations

import hashlib
import stat
import subprocess
import sys
import threading

import pytest

from bridge.workspace import (
    ABSENT_STATE_REF,
    PathRefused,
    Repo,
    StaleWrite,
    file_lock,
    make_state_ref_lookup,
    read_file_state,
    state_ref_of,
    state_ref_of_bytes,
    write_if_matches,
)


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_state_ref_is_full_sha256_of_bytes(repo: Repo) -> None:
    assert state_ref_of_bytes(b"") == sha(b"")
    assert len(state_ref_of_bytes(b"x")) == len("sha256:") + 64
    assert state_ref_of(repo, "README.md") == sha(b"hello\n")
    assert state_ref_of(repo, "missing.txt") == ABSENT_STATE_REF


def test_state_ref_of_directory_refused(repo: Repo) -> None:
    (repo.root / "src").mkdir()
    with pytest.raises(PathRefused) as err:
        state_ref_of(repo, "src")
    assert err.value.reason == "not_a_file"


def test_read_file_state_text(repo: Repo) -> None:
    fs = read_file_state(repo, "./README.md")
    assert (fs.path, fs.exists, fs.size, fs.is_text, fs.content, fs.truncated) == (
        "README.md",
        True,
        6,
        True,
        "hello\n",
        False,
    )
    assert fs.state_ref == sha(b"hello\n")
    assert read_file_state(repo, "README.md", include_content=False).content is None


def test_read_file_state_absent(repo: Repo) -> None:
    fs = read_file_state(repo, "new/file.py")
    assert not fs.exists and fs.state_ref == ABSENT_STATE_REF and fs.size == 0


def test_read_file_state_binary_and_truncated(repo: Repo) -> None:
    (repo.root / "blob.bin").write_bytes(b"\x00\xff\xfe" * 10)
    fs = read_file_state(repo, "blob.bin")
    assert fs.exists and not fs.is_text and fs.content is None
    big = ("é" * 1000).encode()
    (repo.root / "big.txt").write_bytes(big)
    fs = read_file_state(repo, "big.txt", max_bytes=101)  # cuts inside a 2-byte character
    assert fs.truncated and fs.is_text and fs.content == "é" * 50
    assert fs.state_ref == sha(big) and fs.size == len(big)


def test_read_file_state_refuses_unsafe_paths(repo: Repo) -> None:
    (repo.root / ".env").write_text("K=V\n")
    for path, reason in [
        (".env", "ignored"),
        ("../x", "outside_repository"),
        (".git/HEAD", "inside_git_dir"),
    ]:
        with pytest.raises(PathRefused) as err:
            read_file_state(repo, path)
        assert err.value.reason == reason
    (repo.root / "d").mkdir()
    with pytest.raises(PathRefused) as err:
        read_file_state(repo, "d")
    assert err.value.reason == "not_a_file"


def test_cas_write_success(repo: Repo) -> None:
    before = state_ref_of(repo, "README.md")
    new = write_if_matches(repo, "README.md", before, "hello world\n")
    assert new == sha(b"hello world\n") == state_ref_of(repo, "README.md")
    assert (repo.root / "README.md").read_text() == "hello world\n"
    assert not [p for p in repo.root.iterdir() if p.name.endswith(".mpac-tmp")]


def test_cas_stale_write_leaves_file_untouched(repo: Repo) -> None:
    (repo.root / "README.md").write_text("someone else\n")
    with pytest.raises(StaleWrite) as err:
        write_if_matches(repo, "README.md", sha(b"hello\n"), b"mine\n")
    assert err.value.current_state_ref == sha(b"someone else\n")
    assert err.value.expected_state_ref == sha(b"hello\n")
    assert "re-read" in str(err.value)
    assert (repo.root / "README.md").read_text() == "someone else\n"


def test_cas_creates_new_file_and_parents(repo: Repo) -> None:
    ref = write_if_matches(repo, "src/pkg/new.py", ABSENT_STATE_REF, "x = 1\n")
    assert (repo.root / "src/pkg/new.py").read_text() == "x = 1\n"
    assert ref == sha(b"x = 1\n")
    with pytest.raises(StaleWrite):  # creating it again must fail: it exists now
        write_if_matches(repo, "src/pkg/new.py", ABSENT_STATE_REF, "x = 2\n")


def test_cas_new_file_refused_when_it_appeared(repo: Repo) -> None:
    (repo.root / "late.txt").write_text("first\n")
    with pytest.raises(StaleWrite) as err:
        write_if_matches(repo, "late.txt", ABSENT_STATE_REF, "second\n")
    assert err.value.current_state_ref == sha(b"first\n")


def test_cas_preserves_mode(repo: Repo) -> None:
    script = repo.root / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o751)
    write_if_matches(repo, "run.sh", state_ref_of(repo, "run.sh"), "#!/bin/sh\necho hi\n")
    assert stat.S_IMODE(script.stat().st_mode) == 0o751


def test_cas_refuses_unsafe_paths(repo: Repo) -> None:
    for path in ("../escape.txt", ".git/config", ".env"):
        with pytest.raises(PathRefused):
            write_if_matches(repo, path, ABSENT_STATE_REF, "x")
    assert not (repo.root.parent / "escape.txt").exists()
    assert not (repo.root / ".env").exists()


def test_cas_inside_held_lock(repo: Repo) -> None:
    before = state_ref_of(repo, "README.md")
    with file_lock(repo, "README.md"):
        new = write_if_matches(repo, "README.md", before, "locked\n", locked=True)
    assert new == state_ref_of(repo, "README.md")


def test_concurrent_threads_exactly_one_wins(repo: Repo) -> None:
    before = state_ref_of(repo, "README.md")
    barrier = threading.Barrier(8)
    wins: list[int] = []
    stale: list[int] = []

    def writer(i: int) -> None:
        barrier.wait()
        try:
            write_if_matches(repo, "README.md", before, f"writer {i}\n")
            wins.append(i)
        except StaleWrite:
            stale.append(i)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1 and len(stale) == 7
    assert (repo.root / "README.md").read_text() == f"writer {wins[0]}\n"


WRITER = """
import sys
from bridge.workspace import StaleWrite, find_repo, write_if_matches
repo = find_repo(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()  # the start signal: every writer is loaded and waiting
try:
    write_if_matches(repo, "README.md", sys.argv[2], "process " + sys.argv[3] + "\\n")
    print("won")
except StaleWrite:
    print("stale")
"""


def test_concurrent_processes_exactly_one_wins(repo: Repo) -> None:
    before = state_ref_of(repo, "README.md")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(repo.root), before, str(i)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(6)
    ]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    results = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert sorted(results) == ["stale"] * 5 + ["won"]
    winner = results.index("won")
    assert (repo.root / "README.md").read_text() == f"process {winner}\n"


def test_state_ref_lookup(repo: Repo) -> None:
    (repo.root / ".env").write_text("K=V\n")
    lookup = make_state_ref_lookup(repo)
    assert lookup("README.md") == sha(b"hello\n")
    assert lookup("nope.txt") == ABSENT_STATE_REF
    assert lookup(".env") is None
    assert lookup("../outside") is None
    assert lookup("") is None


def test_path_under_a_file_refused(repo: Repo) -> None:
    with pytest.raises(PathRefused) as err:
        write_if_matches(repo, "README.md/child.txt", ABSENT_STATE_REF, "x")
    assert err.value.reason == "not_a_file"
    assert (repo.root / "README.md").read_text() == "hello\n"
