"""`python -m humaneval.crowd prepare-router`: install Mephisto's node router packages (once)."""

from __future__ import annotations

import argparse

from humaneval.crowd.node_router import ROUTER_SOURCE, prepare_router


def main(argv: list[str]) -> int:
    argparse.ArgumentParser(prog="python -m humaneval.crowd prepare-router", description=__doc__).parse_args(argv)
    installed = prepare_router()
    print(f"node router {'installed' if installed else 'already installed'} in {ROUTER_SOURCE}")
    return 0
