"""Headless Chromium on the real ACUTE page of a study whose conversations are about images (issue 21): one
conversation names a picture file beside the pairings file, the other an inline data URL in its first turn
(ParlAI's place). Each side shows its own picture, fetched from the task server itself, at both desktop and
phone widths; a click enlarges it in a dialog that Escape closes; the page asks nothing of any other server."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from humaneval.acute.task import build_task
from humaneval.crowd.launcher import LaunchSettings
from humaneval.jsonl import write_jsonl
from tests.acute.test_work_queue import study_pairings
from tests.axe import axe_violations
from tests.crowd.conftest import BackgroundRun, completed_units, wait_for
from tests.page_image_checks import NetworkLog, check_image_shown, check_zoom, png

pytestmark = [pytest.mark.integration, pytest.mark.browser]

BUS = ("A red bus on a rainy street", (320, 240), png(320, 240, (200, 40, 40)))
DOGS = ("Two dogs playing on a beach", (240, 320), png(240, 320, (40, 110, 200)))


def image_pairings(tmp_path: Path) -> Path:
    """Pairings whose left-hand conversation (as written) names bus.png by a path relative to the file, and
    whose other conversation carries the dogs inline in its first turn."""
    (tmp_path / "pictures").mkdir()
    (tmp_path / "pictures" / "bus.png").write_bytes(BUS[2])
    inline = "data:image/png;base64," + base64.b64encode(DOGS[2]).decode("ascii")
    pairs = study_pairings(tmp_path, pairs_per_model_pair=1)
    for pair in pairs:
        first, second = pair["dialogue_dicts"]
        first.update(image_src="pictures/bus.png", image_alt=BUS[0])
        second["dialogue"][0].update(image_src=inline, image_alt=DOGS[0])
    pairings = tmp_path / "image_pairings.jsonl"
    write_jsonl(pairings, pairs)
    return pairings


def image_task(tmp_path: Path, comparisons: int, task_name: str) -> tuple[Any, Any, Path]:
    """The image pairings as a study without onboarding, `comparisons` per unit: (config, state, data folder)."""
    data_dir = tmp_path / "mephisto"
    cfg, state = build_task([
        f"humaneval.data_dir={data_dir}",
        f"mephisto.blueprint.pairings_file={image_pairings(tmp_path)}",
        "mephisto.blueprint.onboarding_qualification=null",
        f"mephisto.blueprint.subtasks_per_unit={comparisons}",
        f"mephisto.task.task_name={task_name}",
    ])
    return cfg, state, data_dir


def test_an_image_grounded_pair_shows_both_images_from_the_task_server(page, tmp_path: Path) -> None:
    cfg, state, data_dir = image_task(tmp_path, 1, "acute-images-browser")
    log = NetworkLog.of(page)
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        assert wait_for(lambda: run.task_run.get_assignment_statuses().get("launched", 0) > 0, timeout=30)
        page.goto(run.worker_url("image_worker", "image_assignment_1"))
        page.get_by_text("Comparison 1 of 1").wait_for(timeout=30_000)
        images = {alt: (size, sent) for alt, size, sent in (BUS, DOGS)}
        sides = {side: page.get_by_test_id(f"image-{side}").get_by_test_id("image-open").locator("img")
                 .get_attribute("alt") for side in ("left", "right")}
        assert sorted(sides.values()) == sorted(images)  # each conversation its own picture, whichever side it is on
        for width in (1280, 420):
            page.set_viewport_size({"width": width, "height": 800})
            for side, alt in sides.items():
                shown = check_image_shown(page, log, f"image-{side}", alt, *images[alt])
                # the picture comes first in its conversation, before the persona lines and the turns
                context = page.get_by_test_id(f"context-{side}").bounding_box()
                assert shown.bounding_box()["y"] + shown.bounding_box()["height"] <= context["y"]
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            assert axe_violations(page) == []
            check_zoom(page, page.get_by_test_id("image-left"), sides["left"], images[sides["left"]][0])
        page.set_viewport_size({"width": 1280, "height": 800})
        page.get_by_test_id("choose-right").click()
        page.get_by_label("Why?").fill("the right one describes its picture")
        page.get_by_test_id("next").click()
        page.get_by_test_id("submitted").wait_for(timeout=30_000)
        assert wait_for(lambda: completed_units(run) == 1, timeout=30), run.task_run.get_assignment_statuses()

    assert log.elsewhere(page.url) == []
    assert sum("/images/" in url for url in log.requests) == 2  # each picture fetched once, then cached
    assert page.errors == [], page.errors


# Image values the server never sends (humaneval.page_images names every copy images/<32 hex>.<type>): a third
# party, a scheme-relative address, a way out of the images folder, a script URL, an SVG. Should one reach the
# page all the same, it shows no picture and fetches nothing.
FOREIGN_URLS = ["https://example.invalid/images/" + "a" * 32 + ".png", "//example.invalid/" + "a" * 32 + ".png",
                "images/../task_config.json", "javascript:alert(1)//images/" + "a" * 32 + ".png",
                "images/" + "a" * 32 + ".svg"]
MISSING_URL = "images/" + "0" * 32 + ".png"  # the right shape, but no such file on the server
XSS_ALT = "<img src=x onerror=alert(1)>"


def test_the_page_shows_only_the_task_servers_own_images(page, tmp_path: Path) -> None:
    """The page data is altered on its way to the page: in 4 comparisons, the first 5 conversations' images get
    FOREIGN_URLS, the 6th a missing file, the last two keep theirs (the very last with markup as its alt text).
    Only those two pictures are shown, the alt as text; the missing one is said in words; nothing else is
    fetched and nothing runs."""
    cfg, state, data_dir = image_task(tmp_path, 4, "acute-foreign-images")
    kept: list[str] = []

    def alter(route) -> None:  # type: ignore[no-untyped-def]
        response = route.fetch()
        body = response.json()
        conversations = [c for comparison in body["data"]["init_task_data"]["comparisons"]
                         for c in comparison["conversations"]]
        assert len(conversations) == 8 and all("image" in c for c in conversations)
        for conversation, url in zip(conversations, [*FOREIGN_URLS, MISSING_URL]):
            conversation["image"]["url"] = url
        conversations[-1]["image"]["alt"] = XSS_ALT
        kept.extend(c["image"]["url"] for c in conversations[-2:])
        route.fulfill(response=response, json=body)

    page.route("**/request_agent*", alter)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    log = NetworkLog.of(page)
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        assert wait_for(lambda: run.task_run.get_assignment_statuses().get("launched", 0) > 0, timeout=30)
        page.goto(run.worker_url("tampered_worker", "tampered_assignment_1"))
        for i in range(4):
            page.get_by_text(f"Comparison {i + 1} of 4").wait_for(timeout=30_000)
            assert page.get_by_test_id("conversation-left").locator("li").count() > 0  # the text is all there
            images = page.locator("[data-testid^=conversation-] img")
            if i < 2:
                assert images.count() == 0
            elif i == 2:  # left: an SVG, not shown; right: a missing file, said in words with its description
                missing = page.get_by_test_id("image-right").get_by_test_id("image-missing")
                missing.wait_for(timeout=10_000)
                assert missing.inner_text().endswith(f"It shows: {DOGS[0]}") or \
                    missing.inner_text().endswith(f"It shows: {BUS[0]}")
                assert images.count() == 0 and page.get_by_test_id("image-left").count() == 0
                assert axe_violations(page) == []
            else:  # both as served, the right one's alt text is markup
                for side in ("left", "right"):
                    shown = page.get_by_test_id(f"image-{side}").get_by_test_id("image-open").locator("img")
                    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=shown.element_handle())
                assert shown.get_attribute("alt") == XSS_ALT
                assert page.get_by_role("button", name=f"Enlarge image: {XSS_ALT}", exact=True).is_visible()
            page.get_by_test_id("choose-left").click()
            page.get_by_label("Why?").fill("the left one")
            page.get_by_test_id("next").click()
        page.get_by_test_id("submitted").wait_for(timeout=30_000)

    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
    assert sorted(url for url in log.requests if "images/" in url) == sorted(
        f"{origin}/{url}" for url in [MISSING_URL, *kept])
    assert log.elsewhere(page.url) == []
    assert all(message != "1" for message in dialogs), dialogs
    # the one error is the missing file's 404, as the browser reports it
    not_found = "Failed to load resource: the server responded with a status of 404 (Not Found)"
    assert page.errors == [not_found], page.errors
