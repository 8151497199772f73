"""Multi-label "buckets": the checkboxes of per-turn annotation tasks, read and counted the same way in every study.

ParlAI's per-turn annotation tasks (model_chat, turn_annotations_static) show each worker several checkboxes per
turn (contradiction, repetitive, off topic, ..., none_all_good). A record carries them as `buckets`
(`{bucket name: ticked}`, docs/formats.md, sections 'Safety labels' and 'BAD turn labels'): every bucket the worker
was shown, `true` when ticked. A bucket absent from a record was not asked there, so it is out of that bucket's
denominator — never counted as "not ticked".

`BucketColumns` validates and collects the field record by record; `BucketMatrix` holds it as two boolean
matrices (records × buckets): `asked` and `ticked` (ticked implies asked). `bucket_table` gives, per scope (all
records, then each group — a model) and bucket: how often it was asked and ticked, the rate with its Wilson
interval, and agreement between workers over items labelled at least twice (raw agreement, Fleiss' κ,
Krippendorff's α on ticked / not ticked), with "not enough data" below the shared minimum of
`analysis.stats.sufficiency` — as for BAD turns, which one worker labels once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from humaneval.input_errors import InputError

from analysis.stats.agreement import fleiss_kappa, krippendorff_alpha_nominal, raw_agreement
from analysis.stats.intervals import wilson
from analysis.stats.sufficiency import MIN_ITEMS_FOR_AGREEMENT, Rule, check

FIELD = "buckets"
#: the scope of the rows over every group together
ALL = "all models"
#: buckets.csv, in order
COLUMNS = ("scope", "bucket", "asked", "ticked", "rate", "ci_low", "ci_high", "ci_not_enough_data", "items_with_2_labels",
           "labels_on_them",
           "raw_agreement", "ticked_prevalence", "fleiss_kappa", "krippendorff_alpha", "not_enough_data", "undefined")


def _short(value: Any, limit: int = 40) -> str:
    """`repr(value)`, cut to `limit` characters: a message names the culprit without repeating a huge one."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_buckets(value: Any, path: Path, line: int) -> dict[str, bool] | None:
    """A record's `buckets`: None when absent or null (no bucket asked), else `{non-empty name: bool}`."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InputError("must be an object {bucket: true|false} or null", path=path, line=line, field=FIELD)
    for name, ticked in value.items():
        if not name.strip():  # " " would show as an empty column
            raise InputError("bucket names must be non-empty (not only spaces)", path=path, line=line, field=FIELD)
        if not isinstance(ticked, bool):
            raise InputError(f"{_short(name)} must be true or false, got {_short(ticked)}", path=path, line=line, field=FIELD)
    return value


@dataclass(frozen=True)
class BucketMatrix:
    """Per record and bucket (`names`, sorted, so the order does not depend on the records' order): whether it was
    asked, and whether it was ticked."""

    names: list[str]
    asked: np.ndarray  # bool, records × buckets
    ticked: np.ndarray  # bool, records × buckets; never true where `asked` is false

    def take(self, rows: np.ndarray) -> "BucketMatrix":
        """The rows `rows` (indices or a boolean mask), in that order."""
        return BucketMatrix(self.names, self.asked[rows], self.ticked[rows])

    def __bool__(self) -> bool:
        """True when any record was asked any bucket: only then do the reports show buckets."""
        return bool(self.asked.any())

    def as_dicts(self) -> list[dict[str, bool] | None]:
        """Per record, the buckets as given (None when it had none): for the reports' per-record tables."""
        out: list[dict[str, bool] | None] = []
        for asked, ticked in zip(self.asked.tolist(), self.ticked.tolist()):
            given = {n: t for n, a, t in zip(self.names, asked, ticked) if a}
            out.append(given or None)
        return out


class BucketColumns:
    """Collects validated `buckets` record by record, then builds the `BucketMatrix`."""

    def __init__(self) -> None:
        self._codes: dict[str, int] = {}
        self._cells: list[tuple[int, int, bool]] = []  # record, bucket code, ticked
        self._records = 0

    def add(self, value: Any, path: Path, line: int) -> dict[str, bool] | None:
        """Validate one record's `buckets` (see `parse_buckets`), keep it, and return it."""
        given = parse_buckets(value, path, line)
        for name, ticked in (given or {}).items():
            code = self._codes.setdefault(name, len(self._codes))
            self._cells.append((self._records, code, ticked))
        self._records += 1
        return given

    def build(self) -> BucketMatrix:
        """The matrix of every record added, its buckets sorted by name."""
        names = sorted(self._codes)
        column = np.zeros(len(names), dtype=np.int64)
        column[[self._codes[n] for n in names]] = np.arange(len(names))
        asked = np.zeros((self._records, len(names)), dtype=bool)
        ticked = np.zeros_like(asked)
        if self._cells:
            cells = np.asarray(self._cells, dtype=np.int64)
            asked[cells[:, 0], column[cells[:, 1]]] = True
            ticked[cells[:, 0], column[cells[:, 1]]] = cells[:, 2].astype(bool)
        return BucketMatrix(names, asked, ticked)


def _agreement(item: np.ndarray, ticked: np.ndarray, rule: Rule) -> dict[str, Any]:
    """Agreement on one bucket over the labels that were asked it: `item` and `ticked` per such label."""
    n_items = int(item.max()) + 1 if item.size else 0
    table = np.column_stack([np.bincount(item[~ticked], minlength=n_items),
                             np.bincount(item[ticked], minlength=n_items)])
    multi = table[table.sum(axis=1) >= 2]
    short = check(rule, multi.shape[0])
    row: dict[str, Any] = {"items_with_2_labels": multi.shape[0], "labels_on_them": int(multi.sum()),
                           "raw_agreement": np.nan, "ticked_prevalence": np.nan, "fleiss_kappa": np.nan,
                           "krippendorff_alpha": np.nan, "not_enough_data": "" if short is None else short.needs,
                           "undefined": ""}
    if short is not None:
        return row
    row.update(raw_agreement=raw_agreement(multi), ticked_prevalence=float(multi[:, 1].sum() / multi.sum()))
    if np.count_nonzero(multi.sum(axis=0)) < 2:
        row["undefined"] = ("every label is ticked" if multi[:, 0].sum() == 0 else "no label is ticked") + \
            ": chance-corrected agreement is 0/0"
    else:
        row.update(fleiss_kappa=fleiss_kappa(multi), krippendorff_alpha=krippendorff_alpha_nominal(multi))
    return row


def bucket_table(buckets: BucketMatrix, group: np.ndarray, group_names: Sequence[str], item: np.ndarray,
                 keep: np.ndarray, min_items: int = MIN_ITEMS_FOR_AGREEMENT.minimum,
                 clusters: tuple[np.ndarray, Rule] | None = None) -> pd.DataFrame:
    """buckets.csv: per scope (`ALL`, then each group in `group_names` order) and bucket, over the records in `keep`.

    `group` (per record) indexes `group_names`; `item` (per record) is the unit workers agree on — records with the
    same `item` labelled the same thing. `asked`/`ticked` count records; `rate` = ticked / asked with its 95% Wilson
    interval (NaN where the bucket was never asked); agreement as in `_agreement`, needing `min_items` items with
    at least 2 labels that were asked the bucket. Empty (with the columns) when there are no buckets.

    `clusters` = (cluster id per record, rule): records of one cluster are not independent (BAD: the turns of one
    conversation), so below the rule's minimum of clusters asked the bucket the rate stays and its interval is left
    out, the reason in `ci_not_enough_data` — as the BAD fooled rate's conversation interval.
    """
    rule = replace(MIN_ITEMS_FOR_AGREEMENT, minimum=min_items)
    scopes = [(ALL, keep)] + [(name, keep & (group == g)) for g, name in enumerate(group_names)]
    rows = []
    for scope, mask in scopes:
        asked_n = buckets.asked[mask].sum(axis=0)
        ticked_n = (buckets.ticked[mask]).sum(axis=0)
        lo, hi = wilson(ticked_n, asked_n)
        for b, name in enumerate(buckets.names):
            asked = mask & buckets.asked[:, b]
            few = check(clusters[1], int(np.unique(clusters[0][asked]).size)) if clusters and asked_n[b] else None
            rows.append({"scope": scope, "bucket": name, "asked": int(asked_n[b]), "ticked": int(ticked_n[b]),
                         "rate": ticked_n[b] / asked_n[b] if asked_n[b] else np.nan,
                         "ci_low": np.nan if few else float(lo[b]), "ci_high": np.nan if few else float(hi[b]),
                         "ci_not_enough_data": few.needs if few else "",
                         **_agreement(item[asked], buckets.ticked[asked, b], rule)})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def rates_by_bucket(table: pd.DataFrame) -> tuple[list[str], list[tuple[str, list[float], list[tuple[float, float]]]]]:
    """From a `bucket_table`: the bucket names in order, and per group scope (not `ALL`) its name, rates and 95%
    intervals in that order — one chart row per bucket, one series per model."""
    names = list(dict.fromkeys(table["bucket"]))
    series = []
    for scope, rows in table[table["scope"] != ALL].groupby("scope", sort=False):
        rows = rows.set_index("bucket").loc[names]
        series.append((str(scope), rows["rate"].tolist(), list(zip(rows["ci_low"], rows["ci_high"]))))
    return names, series


def summary_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    """summary.json `buckets`: the `bucket_table` rows as JSON objects, the same in every report — `ci_low`/`ci_high` as
    one `ci_wilson` [low, high], every undefined number null, and the reasons (`not_enough_data`, `ci_not_enough_data`,
    `undefined`) null when empty."""
    out = []
    for row in table.to_dict("records"):
        item: dict[str, Any] = {}
        for key, value in row.items():
            if key == "ci_high":
                continue
            if isinstance(value, (float, np.floating)) and not np.isfinite(value):
                value = None
            elif isinstance(value, np.generic):
                value = value.item()
            if key == "ci_low":
                high = row["ci_high"]
                item["ci_wilson"] = [value, float(high) if np.isfinite(high) else None]
            else:
                item[key] = (value or None) if key in ("not_enough_data", "ci_not_enough_data", "undefined") else value
        out.append(item)
    return out
