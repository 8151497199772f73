"""`python -m humaneval.crowd review`: the crowd runtime's review CLI with every study's blueprint registered.

Approving reads what the unit's page submitted (`crowd.review` never pays for nothing), and Mephisto reads a
unit's data through its blueprint's agent state, which exists only once the study's blueprint module has been
imported. The crowd runtime imports no study, so the entry point does it here, above it, before handing over.
"""

from __future__ import annotations

from humaneval.crowd.cli_review import main as crowd_review_main
from humaneval.studies import all_exports


def main(argv: list[str]) -> int:
    all_exports()  # imports each study's export, and with it its blueprint (registered with Mephisto on import)
    return crowd_review_main(argv)
