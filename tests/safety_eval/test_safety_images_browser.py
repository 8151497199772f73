"""Headless Chromium on the real safety page of a study whose items are about images (issue 21): one item names
a picture file beside the task data file, the other an inline data URL; the hidden gold item has none. Each
item shows its own picture above its turns, fetched from the task server itself, at desktop and phone widths; a
click enlarges it in a dialog that Escape closes; the page asks nothing of any other server."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from humaneval.crowd.data_dir import open_database
from humaneval.crowd.export import export_records
from humaneval.crowd.launcher import LaunchSettings
from humaneval.jsonl import write_jsonl
from humaneval.safety_eval.task import build_task
from humaneval.studies import all_exports
from tests.axe import axe_violations
from tests.crowd.conftest import BackgroundRun, completed_units, wait_for
from tests.page_image_checks import NetworkLog, check_image_shown, check_zoom, png
from tests.safety_eval.test_safety_integration import write_study

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CAKE = ("A birthday cake with candles", (320, 240), png(320, 240, (220, 150, 40)))
CAT = ("A black cat on a windowsill", (300, 300), png(300, 300, (60, 60, 70)))


def image_study(tmp_path: Path) -> tuple[Path, Path, dict[str, tuple[str, tuple[int, int], bytes]]]:
    """Two items, the first with cake.png (a path relative to the task data file), the second with the cat
    inline. Returns the task data, the annotation indices, and the picture each judged reply is about."""
    task_data, indices = write_study(tmp_path, n_items=2)
    (tmp_path / "pictures").mkdir()
    (tmp_path / "pictures" / "cake.png").write_bytes(CAKE[2])
    sources = ["pictures/cake.png", "data:image/png;base64," + base64.b64encode(CAT[2]).decode("ascii")]
    lines = [json.loads(line) for line in task_data.read_text().splitlines()]
    about = {}
    for line, src, image in zip(lines, sources, (CAKE, CAT)):
        line.update(image_src=src, image_alt=image[0])
        about[line["dialog"][-1][1]["text"]] = image
    write_jsonl(task_data, lines)
    return task_data, indices, about


def test_items_about_images_show_them_from_the_task_server(page, tmp_path: Path) -> None:
    task_data, indices, about = image_study(tmp_path)
    data_dir = tmp_path / "mephisto"
    cfg, state = build_task([
        f"humaneval.data_dir={data_dir}",
        f"mephisto.blueprint.task_data_file={task_data}",
        f"mephisto.blueprint.annotation_indices_file={indices}",
        "mephisto.blueprint.items_per_unit=2",
        "mephisto.blueprint.annotations_per_item=1",
        "mephisto.blueprint.onboarding_qualification=null",
        "mephisto.task.task_name=safety-images-browser",
    ])
    log = NetworkLog.of(page)
    shown_with_image = []
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        assert wait_for(lambda: run.task_run.get_assignment_statuses().get("launched", 0) > 0, timeout=30)
        page.goto(run.worker_url("image_worker", "image_assignment_1"))
        for i in range(3):
            page.get_by_text(f"Item {i + 1} of 3").wait_for(timeout=30_000)
            judged = page.get_by_test_id("judged-turn").locator(".safety-text").inner_text()
            if judged not in about:  # the hidden gold item is about no picture
                assert page.get_by_test_id("item-image").count() == 0 and page.locator("img").count() == 0
            else:
                alt, size, sent = about[judged]
                shown_with_image.append(alt)
                for width in (1280, 420):
                    page.set_viewport_size({"width": width, "height": 800})
                    shown = check_image_shown(page, log, "item-image", alt, size, sent)
                    first_turn = page.get_by_test_id("conversation").locator("li").first.bounding_box()
                    assert shown.bounding_box()["y"] + shown.bounding_box()["height"] <= first_turn["y"]
                    assert page.evaluate("document.documentElement.scrollWidth") <= width
                    assert axe_violations(page) == []
                    check_zoom(page, shown, alt, size)
                page.set_viewport_size({"width": 1280, "height": 800})
            page.get_by_test_id("choose-ok").click()
            page.get_by_test_id("next").click()
        page.get_by_test_id("submitted").wait_for(timeout=30_000)
        assert wait_for(lambda: completed_units(run) == 1, timeout=30), run.task_run.get_assignment_statuses()
        records = list(export_records(open_database(data_dir), "safety-images-browser", all_exports()))

    assert sorted(shown_with_image) == sorted([CAKE[0], CAT[0]])
    assert [r["label"] for r in records] == ["ok"] * 3
    assert log.elsewhere(page.url) == []
    assert page.errors == [], page.errors
