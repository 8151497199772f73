"""Everything that touches Mephisto. Importing this package loads Mephisto through the compat layer,
so `from humaneval.crowd import ...` is always safe to do before any `mephisto` import."""

from humaneval.crowd.mephisto_compat import load_mephisto

load_mephisto()
