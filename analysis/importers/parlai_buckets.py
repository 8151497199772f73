"""The checkbox buckets of ParlAI's per-turn annotation tasks → our `buckets` and OK / NOT OK, one rule for both.

ParlAI's `model_chat` and `turn_annotations_static` ask workers to tick, for each bot turn, any of several
problem buckets (contradiction, repetitive, off-topic, ...) or the one "none" bucket (`none_all_good`). Our
records keep every bucket the worker was shown (`buckets`) and derive one OK / NOT OK `label` from them, so
the `bad` and `safety` analyses can read ParlAI's results. The rule is the same for both importers, so it
lives here once:

- NOT OK when at least one problem bucket (any bucket but the "none" one) is ticked, OK otherwise;
- nothing ticked at all is OK: the worker reported no problem (ParlAI's pages normally require a tick, and
  `model_chat` runs without a "none" bucket have nothing else to tick for a good turn); counted and said;
- "none" ticked together with a problem is NOT OK (a problem was reported), or dropped with
  `--drop-none-with-problem`, which is ParlAI's own filter in `turn_annotations_static`'s analysis.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

from humaneval.input_errors import InputError

#: ParlAI's "no problem" bucket
PARLAI_OK_BUCKET = "none_all_good"


def add_bucket_options(parser: argparse.ArgumentParser) -> None:
    """The options of the rule above, the same in both importers."""
    parser.add_argument("--ok-bucket", default=None, metavar="NAME",
                        help=f"the bucket that means 'no problem' (default: ParlAI's {PARLAI_OK_BUCKET}); every other "
                             "ticked bucket makes the turn NOT OK. A name given here must occur in the input: a typo "
                             "would make every ticked turn NOT OK")
    parser.add_argument("--drop-none-with-problem", action="store_true",
                        help="leave out annotations that tick the 'no problem' bucket together with a problem (ParlAI's "
                             "turn_annotations_static filter); by default they are NOT OK")


def check_bucket_name(name: str, path: Path, field: str) -> None:
    """A bucket name with nothing but white space would be a blank column in every table of the report."""
    if not name.strip():
        raise InputError(f"a bucket name must not be blank, got {name!r}", path=path, field=field)


def is_not_ok(buckets: dict[str, bool], ok_bucket: str) -> bool:
    """A problem bucket is ticked."""
    return any(ticked for name, ticked in buckets.items() if name != ok_bucket)


@dataclass
class BucketTally:
    """What the rule met, for the importers' "not carried over" sentences, and the bucket names seen, to refuse
    an `--ok-bucket` naming none of them (`check_names`). `given_ok_bucket` is the option, None when not given."""

    given_ok_bucket: str | None
    drop_none_with_problem: bool
    nothing_ticked: int = 0
    none_with_problem: int = 0
    seen: set[str] = field(default_factory=set)

    @property
    def ok_bucket(self) -> str:
        return self.given_ok_bucket or PARLAI_OK_BUCKET

    def keep(self, buckets: dict[str, bool]) -> bool:
        """Count the annotation's special cases; False when `--drop-none-with-problem` leaves it out."""
        self.seen.update(buckets)
        if not any(buckets.values()):
            self.nothing_ticked += 1
        elif buckets.get(self.ok_bucket) is True and is_not_ok(buckets, self.ok_bucket):
            self.none_with_problem += 1
            return not self.drop_none_with_problem
        return True

    def check_names(self) -> None:
        """Refuse an `--ok-bucket` that is no bucket of the input (the default may be absent: `model_chat` runs
        without a "none" bucket have none), listing the names there are."""
        if self.given_ok_bucket is not None and self.given_ok_bucket not in self.seen:
            raise InputError(f"{self.given_ok_bucket!r} is no bucket of the input, so every ticked turn would be NOT OK; "
                             f"the buckets are: {', '.join(sorted(self.seen))}", field="--ok-bucket")

    def sentences(self, unit: str) -> list[str]:
        """One sentence per special case met (`unit` names what was annotated, e.g. "bot turns")."""
        out = []
        if self.nothing_ticked:
            out.append(f"{self.nothing_ticked} {unit} had no bucket ticked: imported as OK (no problem reported)")
        if self.none_with_problem:
            fate = ("left out (--drop-none-with-problem)" if self.drop_none_with_problem
                    else "imported as NOT OK (pass --drop-none-with-problem to leave them out, as ParlAI's "
                         "turn_annotations_static analysis does)")
            out.append(f"{self.none_with_problem} {unit} ticked '{self.ok_bucket}' together with a problem bucket: {fate}")
        return out
