"""Peak memory of `generate` and `self-chat` when one input line is huge (a hostile user's 50 MB message).

Text is cut to a bounded end before tokenizing (humaneval/models/model_input.py), so a huge context or
seed should cost its own bytes (read, parsed, written back out) and no more; before, the whole text was
tokenized to keep 128 tokens of it (9.9 GB for self-chat on a 50 MB seed). Each command runs on the bundled
demo bot in a child process of its own (bench/child_process.run_child), on three kinds of line: words
with spaces (ASCII, and with multi-byte characters) and text with no whitespace at all (the case the cut
cannot align with a word boundary), beside the floor: the same command on one short line. Lines over the
readers' 4 MiB bound (humaneval/jsonl.py MAX_LINE_BYTES) are refused with exit 2 before they are held in
memory: the table reports that refusal's peak, which is the bound's whole cost. `--mb 1` measures lines
the commands accept.

The old-code anchor is the cost the bound avoids: the demo bot's tokenizer given the whole of a smaller
text (--anchor-mb, default 5), also in a child, reported per MB of text over the same child on one line.

    python bench/long_input_memory.py            # 50 MB lines
    python bench/long_input_memory.py --mb 5     # quicker
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import IO

sys.path.insert(0, str(Path(__file__).resolve().parent))

from child_process import measure_child, run_child  # noqa: E402

MODEL = "demo_bot"  # task_configs/models.yaml: the bundled demo bot (the registry's default)
TARGET_MB = 500

# The kinds of huge line: Python holds ASCII in 1 byte a character and text with an emoji in 4, so each
# copy the CLI makes of the line (read, decoded, parsed, written back) costs 1x or 4x its length.
SHAPES = {
    "ascii words": "hello there, how are you doing today? i am fine thanks. don't stop now ok ",
    "multi-byte words": "hello there héllo wörld naïve 日本語 🙂 don't stop, ok? ",
    "no whitespace": "日本語のテキスト、句読点。w5ab🙂é-no-spaces-at-all",
}


def write_repeated(out: IO[str], unit: str, size: int) -> None:
    """`size` characters of `unit` repeated, written a megabyte at a time.

    The bench never holds the huge text itself: `run_child` reads a child's peak with `wait4`, and a child
    spawned by a process that once held N MB reports at least N MB (the kernel carries the parent's
    high-water mark into the child at exec), which would put the bench's own memory into every row.
    """
    block = unit * (1_000_000 // len(unit) + 1)
    while size > 0:
        piece = block[:size]
        out.write(piece)
        size -= len(piece)


def write_huge_line(path: Path, fields: dict[str, tuple[str, int]]) -> Path:
    """One JSON object line whose string fields (key -> (unit, size)) are huge; a field whose key ends
    in [] is a one-element list. The units need no JSON escaping."""
    with path.open("w", encoding="utf-8") as out:
        out.write("{")
        for index, (key, (unit, size)) in enumerate(fields.items()):
            is_list = key.endswith("[]")
            out.write(f'{", " if index else ""}"{key.removesuffix("[]")}": {"[" if is_list else ""}"')
            write_repeated(out, unit, size)
            out.write(f'"{"]" if is_list else ""}')
        out.write("}\n")
    return path


def anchor_argv(path: Path) -> list[str]:
    """A child that tokenizes the whole text with the demo bot's tokenizer: what every call cost before."""
    code = (
        "import sys\n"
        "from transformers import AutoTokenizer\n"
        "from humaneval.models.registry import DEMO_BOT_PATH\n"
        "tokenizer = AutoTokenizer.from_pretrained(str(DEMO_BOT_PATH), local_files_only=True)\n"
        "text = open(sys.argv[1], encoding='utf-8').read()\n"
        "ids = tokenizer(text, add_special_tokens=False)['input_ids']\n"
        "print(len(ids))\n"
    )
    return [sys.executable, "-c", code, str(path)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=50, help="size of the huge line's text in MB of characters (default 50)")
    parser.add_argument("--anchor-mb", type=float, default=5, help="text size the old-way anchor tokenizes whole (default 5; 0 skips it)")
    args = parser.parse_args(argv)
    size = int(args.mb * 1_000_000)
    python = [sys.executable, "-m", "humaneval.models"]
    rows: list[tuple[str, str, float, float, str]] = []  # command, text, seconds, peak MB, outcome
    with tempfile.TemporaryDirectory(prefix="long-input-bench.") as tmp:
        root = Path(tmp)
        baseline = write_huge_line(root / "baseline.jsonl", {"text": ("hello there, how are you?", 25)})
        seconds, peak = run_child([*python, "generate", str(baseline), "--out", str(root / "baseline_out.jsonl"),
                                   "--model", MODEL, "--no-progress"])
        rows.append(("generate", "one short line (the floor: torch, model, beam search)", seconds, peak, "ran"))
        for shape, unit in SHAPES.items():
            contexts = write_huge_line(root / "contexts.jsonl", {"text": (unit, size)})
            # the seed's opening is side A's first utterance, answered by side B; a persona line as big
            # goes through the persona join of the first utterance
            seeds = write_huge_line(root / "seeds.jsonl", {"opening": (unit, size // 2), "persona_b[]": (unit, size // 2)})
            commands = {
                "generate": [*python, "generate", str(contexts), "--out", str(root / "world_logs.jsonl"),
                             "--model", MODEL, "--no-progress"],
                "self-chat": [*python, "self-chat", "--seeds", str(seeds), "--out", str(root / "selfchat.jsonl"),
                              "--model", MODEL, "--num-chats", "1", "--turns", "2", "--no-progress"],
            }
            for name, command in commands.items():
                run = measure_child(command)
                if run.code not in (0, 2):
                    raise SystemExit(f"{name} ({shape}) failed with exit {run.code}: {run.last_error_line}")
                outcome = "ran" if run.code == 0 else "refused (exit 2)"
                rows.append((name, shape, run.seconds, run.peak_mb, outcome))
                print(f"  {name} ({shape}): {outcome}, {run.seconds:.1f} s, peak {run.peak_mb:.0f} MB"
                      + (f": {run.last_error_line}" if run.code else ""), file=sys.stderr)
        anchor = None
        if args.anchor_mb > 0:
            anchor_text, one_line = root / "anchor.txt", root / "one_line.txt"
            with anchor_text.open("w", encoding="utf-8") as out:
                write_repeated(out, SHAPES["ascii words"], int(args.anchor_mb * 1_000_000))
            one_line.write_text("hello there, how are you?", encoding="utf-8")
            _, floor = run_child(anchor_argv(one_line))
            seconds, peak = run_child(anchor_argv(anchor_text))
            anchor = (seconds, peak, (peak - floor) / args.anchor_mb)

    print(f"\nOne {args.mb:g} MB line, model {MODEL} (target: peak under {TARGET_MB} MB)\n")
    print(f"| command | text | outcome | wall s | peak RSS MB | under {TARGET_MB} MB |")
    print("|---|---|---|---:|---:|---|")
    for name, shape, seconds, peak, outcome in rows:
        print(f"| {name} | {shape} | {outcome} | {seconds:.1f} | {peak:.0f} | {'yes' if peak < TARGET_MB else 'NO'} |")
    if anchor is not None:
        seconds, peak, per_mb = anchor
        print(f"\nOld way, for scale: tokenizing a {args.anchor_mb:g} MB text whole took {seconds:.1f} s and peaked at "
              f"{peak:.0f} MB, {per_mb:.0f} MB per MB of text over tokenizing one line; "
              f"at that rate a {args.mb:g} MB line needs ~{per_mb * args.mb / 1024:.1f} GB for each tokenization.")
    return 0 if all(peak < TARGET_MB for *_, peak, _outcome in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
