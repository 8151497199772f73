"""The checkbox buckets' rates as a report shows them, for every study whose records carry `buckets`.

Safety labels and BAD turn labels both may carry ParlAI-style checkbox buckets (analysis/stats/multilabel.py):
their reports show the same chart and table of each bucket's rate per model with its 95% Wilson interval, or
"not enough data" where the study's rule leaves the interval out (BAD: too few conversations).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.report.charts import rate_intervals
from analysis.report.html_parts import breakable, interval, not_enough_data, percent, wide
from analysis.stats.multilabel import ALL, rates_by_bucket


def bucket_rates_html(table: pd.DataFrame, colors: Sequence[str], axis_label: str) -> str:
    """Chart and table of a `bucket_table`'s per-model rows. A rate without an interval gets no dot in the
    chart: a lone dot would read as a rate known exactly."""
    names, series = rates_by_bucket(table)
    chart = rate_intervals(names, [(m, [r if np.isfinite(lo) else np.nan for r, (lo, _) in zip(rates, cis)], cis,
                                    colors[i % len(colors)]) for i, (m, rates, cis) in enumerate(series)], axis_label)
    order = {n: i for i, n in enumerate(names)}
    per_model = table[table["scope"] != ALL].sort_values("bucket", kind="stable", key=lambda c: c.map(order))
    rows = "".join(
        f"<tr><td class='t'>{breakable(r.bucket)}</td><td class='t'>{breakable(r.scope)}</td>"
        f"<td>{percent(r.rate) if r.asked else 'not asked'}</td>"
        f"<td>{not_enough_data(r.ci_not_enough_data.removeprefix('needs ')) if r.ci_not_enough_data else interval(r.ci_low, r.ci_high, '.1%')}</td>"
        f"<td>{r.ticked:,} / {r.asked:,}</td></tr>"
        for r in per_model.itertuples(index=False))
    return (f"{chart}<div class='scroll'>" + wide(
        "<table><thead><tr><th class='t'>bucket</th><th class='t'>model</th><th>rate</th><th>95% Wilson</th>"
        f"<th>ticked / asked</th></tr></thead><tbody>{rows}</tbody></table>") + "</div>")
