"""The compat layer makes Mephisto importable on this Python and refuses any other Mephisto version."""

from __future__ import annotations

import subprocess
import sys

import pytest

from humaneval.crowd import mephisto_compat


def test_installed_mephisto_is_the_supported_version() -> None:
    import mephisto

    assert mephisto.__version__ == mephisto_compat.SUPPORTED_MEPHISTO_VERSION, (
        f"Mephisto {mephisto.__version__} is installed but the compat layer supports "
        f"{mephisto_compat.SUPPORTED_MEPHISTO_VERSION} only: re-run scripts/setup.sh"
    )


def test_plain_import_fails_without_the_layer_and_works_with_it() -> None:
    """Guards the reason the layer exists: if Mephisto ever imports bare on this Python, drop the layer."""
    bare = subprocess.run([sys.executable, "-c", "import mephisto"], capture_output=True, text=True)
    assert bare.returncode != 0 and "mutable default" in bare.stderr
    layered = subprocess.run(
        [sys.executable, "-c", "import humaneval.crowd, mephisto, dataclasses; print(mephisto.__version__)"],
        capture_output=True,
        text=True,
    )
    assert layered.returncode == 0, layered.stderr
    assert layered.stdout.strip() == mephisto_compat.SUPPORTED_MEPHISTO_VERSION


def test_dataclass_decorator_is_restored_and_other_dataclasses_stay_unhashable() -> None:
    import dataclasses

    @dataclasses.dataclass
    class Plain:
        x: int = 0

    assert Plain.__hash__ is None


def test_wrong_version_is_refused() -> None:
    with pytest.raises(mephisto_compat.MephistoVersionError, match="supports Mephisto 1.1.1 exactly, but 1.2.0"):
        mephisto_compat.check_version("1.2.0")
    mephisto_compat.check_version("1.1.1")
