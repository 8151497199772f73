"""`python -m humaneval.acute validate FILE`: check a pairings file before launching on it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from humaneval.acute.onboarding import load_onboarding
from humaneval.acute.pairings_validation import iter_pairings_with_lines, summarize_pairings, with_page_images
from humaneval.input_errors import InputError, exit_on_input_error
from humaneval.page_images import PageImages


@exit_on_input_error
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m humaneval.acute validate",
        description="Check an ACUTE pairings JSONL (ours, ParlAI's or hand-made) against docs/formats.md (section 'ACUTE pairings'). Prints a "
        "summary and exits 0, or names the file, line and problem of the first bad pair and exits 2.",
    )
    parser.add_argument("file", type=Path, help="pairings JSONL (or, with --onboarding, an onboarding .jsonl/.json)")
    parser.add_argument(
        "--onboarding", action="store_true", help="the file holds onboarding pairs only (is_onboarding + correct_answer)"
    )
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    # Streamed: a 60k-pair file is checked without holding it in memory; pictures are checked as at launch
    # (with the default size bound, mephisto.blueprint.max_image_mb).
    images = PageImages()
    pairs = load_onboarding(args.file, images) if args.onboarding else (
        with_page_images(pair, images, args.file, line) for line, pair in iter_pairings_with_lines(args.file))
    summary = summarize_pairings(pairs)
    if summary["pairs"] == 0:
        raise InputError("no pairs in the file", path=args.file)
    print(f"{args.file}: OK, {summary['pairs']} pairs ({summary['onboarding']} onboarding)")
    for (a, b), n in summary["per_model_pair"].items():
        print(f"  {a} vs {b}: {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
