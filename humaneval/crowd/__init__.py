"""Everything that touches Mephisto. Importing this package loads Mephisto through the compat layer,
so `from humaneval.crowd import ...` is always safe to do before any `mephisto` import."""

import importlib

from humaneval.crowd.mephisto_compat import load_mephisto

load_mephisto()
# Registers our `prolific` crowd provider with Mephisto, so every process can rebuild Prolific rows.
importlib.import_module("humaneval.crowd.prolific.provider")
