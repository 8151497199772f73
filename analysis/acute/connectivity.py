"""What order the comparison graph can give: groups never compared with each other, and perfect separation.

Bradley–Terry (and Davidson's model) can only order models the data link. Two cases make a fitted strength a
product of the ridge penalty instead of the data (Zermelo 1929; Ford 1957):

- **Disconnected groups.** When the models fall into groups never compared with each other (m1–m2 and m3–m4
  only), the likelihood says nothing about one group against another: the fit centres every group at the
  same place and "m1 = m4" is an artefact. Any judgement links its two models, a tie included (a tie says
  the two are close), so the groups are the connected components of the graph of all judgements.
- **Perfect separation.** Within a group, when every judgement between two sets of models went one way
  (a model that won every comparison it had), the maximum-likelihood strengths are infinitely apart: the
  ridge alone sets the value shown, and every bootstrap resample repeats it, so an interval around it is
  narrow for no reason. An edge i → j means "i did at least as well as j once" (i beat j, or they tied);
  the strengths are finite exactly when every group is strongly connected by these edges.

Pure: sets of model indices and plain sentences, no HTML. The graphs have one node per model, so components
are read off the graph's transitive closure (`_reach`) instead of `scipy.sparse.csgraph`, whose import (with
`scipy.linalg`) took 11 MB of every report.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Separation:
    """Every judgement between `winners` and `losers` (model indices) went to `winners`: `n` of them."""

    winners: tuple[int, ...]
    losers: tuple[int, ...]
    n: int
    #: "comparisons", or "decisive comparisons" when ties between the two sets were left out (Davidson)
    what: str = "comparisons"

    def sentence(self, models: list[str]) -> str:
        """'m1 won all 50 comparisons with m2' (sets of several models in braces)."""
        return f"{_names(self.winners, models)} won all {self.n:,} {self.what} with {_names(self.losers, models)}"


def _names(indices: tuple[int, ...], models: list[str]) -> str:
    names = ", ".join(models[i] for i in indices)
    return names if len(indices) == 1 else "{" + names + "}"


def _reach(edges: np.ndarray) -> np.ndarray:
    """K×K: j can be reached from i along `edges` (K×K booleans) in zero or more steps (Warshall's algorithm,
    one intermediate model at a time: K steps of a K×K operation)."""
    reach = edges.astype(bool) | np.eye(edges.shape[0], dtype=bool)
    for middle in range(edges.shape[0]):
        reach |= reach[:, middle : middle + 1] & reach[middle : middle + 1, :]
    return reach


def _components(reach: np.ndarray) -> np.ndarray:
    """Per model: the label of its component (models that reach each other both ways), labels counted from 0
    in order of each component's first model."""
    both_ways = reach & reach.T
    label = np.full(reach.shape[0], -1)
    for i in range(reach.shape[0]):
        if label[i] < 0:
            label[both_ways[i]] = label.max() + 1
    return label


def comparison_groups(wins: np.ndarray, ties: np.ndarray) -> list[list[int]]:
    """Model indices in groups linked by judgements (decisive or tied), each sorted, in order of their first model.
    A model never judged is a group of its own."""
    linked = (wins + wins.T + ties) > 0
    label = _components(_reach(linked))
    groups: dict[int, list[int]] = {}
    for i, g in enumerate(label.tolist()):
        groups.setdefault(g, []).append(i)
    return list(groups.values())


def separations(wins: np.ndarray, ties: np.ndarray, ties_bound: bool = True) -> list[Separation]:
    """Pairs of strongly connected blocks where every judgement between them went one way (empty when every
    strength is estimable): blocks of the graph i → j when i beat j or tied with j.

    `ties_bound` False: ties do not link (Davidson's model). There a tie's probability ν/(2·cosh(d/2) + ν) stays put
    when the difference d and ν grow together, so 1 win and 100 ties have no finite maximum (the ridge alone stops
    it: Elo 1292 vs 708 at ridge 0.01, 1456 vs 544 at 0.001); only decisive judgements both ways bound d.
    """
    at_least_as_good = (wins + (ties if ties_bound else 0)) > 0
    block = _components(_reach(at_least_as_good))
    n_blocks = int(block.max()) + 1 if block.size else 0
    members = [tuple(np.flatnonzero(block == b).tolist()) for b in range(n_blocks)]
    out = []
    for a in range(n_blocks):
        for b in range(n_blocks):
            if a == b:
                continue
            n = int(wins[np.ix_(members[a], members[b])].sum())
            if n:  # a judgement from b over a (or a tie) would have merged the two blocks
                out.append(Separation(members[a], members[b], n,
                                      "comparisons" if ties_bound else "decisive comparisons"))
    out.sort(key=lambda s: (s.winners, s.losers))
    return out
