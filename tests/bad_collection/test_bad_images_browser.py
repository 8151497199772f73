"""Headless Chromium on the real BAD chat page when the bot's persona names a picture (issue 21): the picture is
the conversation's topic, shown beside the persona ("Talk about this image"), fetched from the task server itself
at desktop and phone widths, enlarged on click and closed by Escape; the chat works under it; the stored
conversation records the picture the page showed; the page asks nothing of any other server."""

from __future__ import annotations

from pathlib import Path

import pytest

from humaneval.bad_collection.export import all_conversations
from humaneval.bad_collection.task import build_task
from humaneval.crowd.data_dir import open_database
from humaneval.crowd.launcher import LaunchSettings
from humaneval.jsonl import write_jsonl
from tests.axe import axe_violations
from tests.crowd.conftest import BackgroundRun, wait_for
from tests.page_image_checks import NetworkLog, check_image_shown, check_zoom, png

pytestmark = [pytest.mark.integration, pytest.mark.browser]

BEACH = ("A crowded beach at sunset", (400, 300), png(400, 300, (230, 120, 60)))
PERSONA = ["i sell ice cream on the beach.", "i hate seagulls."]


def test_a_persona_picture_is_the_chats_topic_from_the_task_server(page, tmp_path: Path) -> None:
    (tmp_path / "beach.png").write_bytes(BEACH[2])
    personas = tmp_path / "personas.jsonl"
    write_jsonl(personas, [{"persona": PERSONA, "image_src": "beach.png", "image_alt": BEACH[0]}])
    data_dir = tmp_path / "mephisto"
    cfg, state = build_task([
        f"humaneval.data_dir={data_dir}",
        "mephisto.blueprint.models={echo: 1}",
        f"mephisto.blueprint.personas_file={personas}",
        "mephisto.blueprint.onboarding_qualification=null",
        "mephisto.blueprint.min_turns=1",
        "mephisto.task.task_name=bad-images-browser",
    ])
    log = NetworkLog.of(page)
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        assert wait_for(lambda: run.task_run.get_assignment_statuses().get("launched", 0) > 0, timeout=30)
        page.goto(run.worker_url("image_worker", "image_assignment_1"))
        page.get_by_label("Your message").wait_for(timeout=30_000)
        alt, size, sent = BEACH
        for width in (1280, 420):
            page.set_viewport_size({"width": width, "height": 800})
            shown = check_image_shown(page, log, "topic-image", alt, size, sent)
            assert shown.inner_text().startswith("Talk about this image.")
            # the topic: beside the persona on a desktop, above it on a phone
            persona, image = page.get_by_test_id("persona").bounding_box(), shown.bounding_box()
            if width == 1280:
                assert image["x"] + image["width"] <= persona["x"] and abs(image["y"] - persona["y"]) < 2
            else:
                assert image["y"] + image["height"] <= persona["y"]
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            assert axe_violations(page) == []
            check_zoom(page, shown, alt, size)
        page.get_by_label("Your message").fill("what flavour goes best with a sunset?")
        page.keyboard.press("Enter")
        page.get_by_test_id("transcript").get_by_test_id("turn-bot").first.wait_for(timeout=30_000)
        assert page.get_by_test_id("topic-image").is_visible()  # still there while chatting
        url = page.get_by_test_id("topic-image").get_by_test_id("image-open").locator("img").get_attribute("src")
        assert wait_for(lambda: len(list(all_conversations(open_database(data_dir), "bad-images-browser"))) == 1,
                        timeout=30)
        stored = list(all_conversations(open_database(data_dir), "bad-images-browser"))

    conversation = stored[0].conversation
    assert conversation.persona == PERSONA and conversation.topic_image == {"url": url, "alt": alt}
    assert log.elsewhere(page.url) == []
    assert page.errors == [], page.errors
