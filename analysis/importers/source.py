"""What every importer returns, so the `import` verb can write, count and explain it the same way."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Imported:
    """Records in one of our export formats (docs/formats.md, section 'Exports'), plus what was lost.

    `task` is the records' `task` value (`acute`, `safety` or `bad`): it names the analysis verb that reads
    them. `not_carried` says, one sentence each, what the source had no place for or did not record (e.g.
    "ParlAI's results CSV has no left/right side: `left` is unknown"): the verb prints every one, so a
    researcher never believes a field was carried over when it was left unknown. `origins`, when the
    importer tracks them, says where each record came from ("file:line", or the file), one per record: the
    verb names it when the analysis's reader would refuse that record.
    """

    task: str
    records: list[dict[str, Any]]
    not_carried: list[str] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)
