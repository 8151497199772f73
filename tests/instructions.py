"""The task pages' instructions dialog (shared/InstructionsDialog.jsx), opened and closed as a worker would."""

from __future__ import annotations

from typing import Any


def open_and_close_instructions(page: Any, example_text: str) -> None:
    """Open the instructions from the bar above the task, check they hold the worked example, close them
    with the button, reopen, and close with Escape; the task underneath is back in view each time."""
    dialog = page.get_by_test_id("instructions")
    page.get_by_test_id("open-instructions").click()
    assert dialog.is_visible() and "An example" in dialog.inner_text() and example_text in dialog.inner_text()
    page.get_by_test_id("close-instructions").click()
    assert not dialog.is_visible()
    page.get_by_test_id("open-instructions").click()
    assert dialog.is_visible()
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
