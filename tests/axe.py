"""axe-core (npm, frontend/node_modules; pinned in frontend/package.json) run in the real browser page: the
accessibility rules a careful study review would check — labels, contrast, roles, focusable names.

It is evaluated through the browser's DevTools protocol (Playwright's `evaluate`), which a page's
Content-Security-Policy does not govern, so pages that forbid inline scripts (the review page) are checked as
they are served.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parents[1] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


def axe_violations(page: Any, impacts: tuple[str, ...] = SERIOUS) -> list[str]:
    """The page's axe-core violations of these impacts, one line each (rule, impact, first offending targets)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    found = page.evaluate("""async () => {
        const result = await window.axe.run(document, {resultTypes: ["violations"]});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                            targets: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
    }""")
    return [f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(v['targets'])}" for v in found
            if v["impact"] in impacts]
