"""`mpac-bridge transcript`: check the hash chain of an audit transcript, or export it (§9.6.3)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bridge.store.transcript import export_transcript, verify_file

HELP = "Verify an audit transcript's hash chain, or export it in causal order."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Every accepted message and every coordinator decision is appended to a transcript "
        "(<data dir>/transcripts/<session>.jsonl), each record hashed together with the previous "
        "record's hash. 'verify' recomputes the chain and names the first altered, removed or "
        "reordered record. 'export' writes the session's messages in causal (Lamport) order as one "
        "JSON document. Without FILE, the transcripts of the repository around the current "
        "directory are used."
    )
    parser.add_argument(
        "action", choices=["verify", "export"], help="verify the chain, or export the messages"
    )
    parser.add_argument(
        "file",
        nargs="?",
        type=Path,
        metavar="FILE",
        help="a transcript file (default: the repository's)",
    )
    parser.add_argument(
        "--workspace",
        default=".",
        metavar="PATH",
        help="a path inside the repository when FILE is not given",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="OUT",
        help="export: write here instead of standard output",
    )


def _files(args: argparse.Namespace) -> list[Path]:
    if args.file is not None:
        return [args.file]
    from bridge.workspace.repo import NotARepository, find_repo

    try:
        repo = find_repo(Path(args.workspace))
    except NotARepository as exc:
        raise SystemExit(f"mpac-bridge transcript: {exc}; pass a transcript FILE") from None
    found = sorted((repo.data_dir / "transcripts").glob("*.jsonl"))
    if not found:
        raise SystemExit(
            f"mpac-bridge transcript: no transcripts under {repo.data_dir / 'transcripts'}; pass a transcript FILE"
        )
    return found


def run(args: argparse.Namespace) -> int:
    files = _files(args)
    for path in files:
        if not path.is_file():
            print(f"mpac-bridge transcript: {path}: no such file", file=sys.stderr)
            return 2
    if args.action == "verify":
        bad = 0
        for path in files:
            result = verify_file(path)
            if result.ok:
                print(f"{path}: intact, {result.records} records")
            else:
                bad += 1
                print(
                    f"{path}: BROKEN at line {result.bad_line}: {result.reason} ({result.records} records before it are intact)"
                )
        return 1 if bad else 0
    if len(files) > 1 and args.file is None:
        print(
            "mpac-bridge transcript export: several transcripts found; pass one FILE:\n  "
            + "\n  ".join(map(str, files)),
            file=sys.stderr,
        )
        return 2
    try:
        doc = export_transcript(files[0], files[0].stem)
    except (OSError, ValueError, KeyError) as exc:
        print(
            f"mpac-bridge transcript export: {files[0]} is not a readable transcript ({exc}); run 'verify' first",
            file=sys.stderr,
        )
        return 1
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    if args.output is not None:
        args.output.write_text(text + "\n", encoding="utf-8")
        print(f"exported {len(doc['messages'])} messages to {args.output}")
    else:
        print(text)
    return 0
