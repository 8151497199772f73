"""Headless Chromium works through the real BAD chat page against the real blueprint, router and model
layer: the labelling quiz (a verdict with why under each label, the label then fixed), then three turns with a bot that echoes the worker after a second (so the
typing indicator has time to show) and fails its very first reply (the error is shown with Retry, the
worker's message is kept, a reload still offers Retry), Send held back until the bot's message is
labelled, re-labelling, the final rating, and the stored conversation. Markup typed by the worker and
echoed by the bot is shown as text and never runs."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from humaneval.bad_collection.bundled_data import DEFAULT_ONBOARDING_PATH
from humaneval.bad_collection.chat_record import BOT, HUMAN, NOT_OK, OK
from humaneval.bad_collection.export import all_conversations
from humaneval.bad_collection.onboarding import load_onboarding
from humaneval.bad_collection.task import build_task
from humaneval.crowd.data_dir import open_database
from humaneval.crowd.launcher import LaunchSettings
from humaneval.models.reply_model import DialogueContext
from tests.axe import axe_violations
from tests.instructions import open_and_close_instructions
from tests.crowd.conftest import BackgroundRun, completed_units, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.browser]

XSS = "<img src=x onerror=alert(1)>"
LONG_WORD = "unbelievably" * 12  # one 144-character word: it must wrap, not widen the page
MESSAGES = [XSS, "what do you think about\nyour neighbours?", f"tell me something you would never say {LONG_WORD}"]
LABELS = [OK, NOT_OK, OK]  # the first is given as NOT OK, then changed to OK
FINAL_LABELS = [OK, OK, OK]  # the second is changed afterwards, with the visible "Change label" control
BUTTON = {OK: "label-ok", NOT_OK: "label-notok"}



@dataclass
class FlakyEcho:
    """Echoes the worker after `delay_s`, but its first reply fails (the model layer reports an error)."""

    name: str = "flaky"
    delay_s: float = 1.0
    failures_left: int = 1
    max_batch_size: int = 4

    def generate_batch(self, contexts: list[DialogueContext]) -> list[str]:
        time.sleep(self.delay_s)
        if self.failures_left > 0:
            self.failures_left -= 1
            raise RuntimeError("flaky echo fails on purpose")
        return [c.turns[-1] for c in contexts]


def flaky_echo(name: str = "flaky", device: str = "cpu") -> FlakyEcho:
    """The model server's factory signature."""
    return FlakyEcho(name=name)


# Records, in the page, whether the typing indicator ever appeared and whether Send was disabled then:
# the slow echo answers within about a second, so polling from the test could miss it.
WATCH_TYPING = """() => {
  window.__typing = [];
  new MutationObserver(() => {
    if (document.querySelector('[data-testid=typing]'))
      window.__typing.push(document.querySelector('[data-testid=send]').disabled);
  }).observe(document.body, {childList: true, subtree: true});
}"""


def test_worker_chats_labels_and_submits_in_the_browser(page, tmp_path: Path) -> None:
    data_dir = tmp_path / "mephisto"
    cfg, state = build_task([
        f"humaneval.data_dir={data_dir}",
        f"+mephisto.blueprint.model_factories.flaky={__name__}:flaky_echo",
        "mephisto.blueprint.models={flaky: 1}",
        "mephisto.blueprint.min_turns=3",
        "mephisto.blueprint.bot_timeout_seconds=20",
        "mephisto.task.task_name=bad-browser",
    ])
    quiz = {item.item_id: item.label for item in load_onboarding(DEFAULT_ONBOARDING_PATH)}
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        assert wait_for(lambda: run.task_run.get_assignment_statuses().get("launched", 0) > 0, timeout=30)
        page.goto(run.worker_url("browser_worker", "browser_assignment_1"))

        # The labelling quiz: each label is checked at once, its verdict and why shown under the message, and
        # then fixed. The first is labelled wrong (5 of 6 still pass), the rest right; Submit once all are labelled.
        page.get_by_test_id("onboarding").wait_for(timeout=30_000)
        items = page.get_by_test_id("onboarding-item")
        assert items.count() == len(quiz)
        submit_quiz = page.get_by_test_id("onboarding-submit")
        for n in range(items.count()):
            assert submit_quiz.is_disabled()
            item = items.nth(n)
            right = "NOT OK" if quiz[item.get_attribute("data-item-id")] == NOT_OK else "OK"
            given = ("OK" if right == "NOT OK" else "NOT OK") if n == 0 else right
            item.get_by_role("button", name=given, exact=True).click()
            feedback = item.get_by_test_id("practice-feedback")
            feedback.wait_for(timeout=10_000)
            verdict = feedback.get_by_role("status").inner_text()
            assert verdict.startswith(f"{'Not quite' if n == 0 else 'Right'}: this message is {right} to send. ")
            assert len(verdict) > len(f"Right: this message is {right} to send. ")  # the file's explanation
            # the label is fixed: shown as text, no buttons left to change it
            assert item.get_by_test_id("label-badge").inner_text() == f"your label: {given}"
            assert item.get_by_role("button", name="OK", exact=True).count() == 0
            if n == 0:
                assert axe_violations(page) == []  # the quiz with a verdict shown
                # the verdict's button has the focus; Enter goes on to the next message's labels
                assert page.evaluate("document.activeElement.dataset.testid") == "practice-continue"
                page.keyboard.press("Enter")
                assert page.evaluate("document.activeElement.dataset.testid") == "onboarding-1-ok"
        submit_quiz.click()

        # The chat: instructions, the bot's persona, the counter; nothing to label yet.
        box = page.get_by_label("Your message")
        box.wait_for(timeout=30_000)
        assert page.get_by_role("heading", name="Try to make the bot say something unsafe").is_visible()
        assert "insults, hate or harassment" in page.get_by_test_id("unsafe-kinds").inner_text()
        assert page.get_by_test_id("persona").locator("li").count() > 0
        counter = page.get_by_test_id("counter")
        page.get_by_text("0 of 3 messages").wait_for(timeout=30_000)
        send = page.get_by_role("button", name="Send")
        assert send.is_disabled()  # empty message

        transcript = page.get_by_test_id("transcript")
        for turn, (message, label) in enumerate(zip(MESSAGES, LABELS)):
            page.evaluate(WATCH_TYPING)
            box.click()
            first, _, rest = message.partition("\n")
            page.keyboard.type(first)
            if rest:  # Shift+Enter is a new line, not a send
                page.keyboard.press("Shift+Enter")
                page.keyboard.type(rest)
            assert box.input_value() == message and send.is_enabled()
            page.keyboard.press("Enter")
            if turn == 0:
                # The model fails: its error as text, the message kept, Send held back until Retry.
                page.get_by_test_id("retry").wait_for(timeout=30_000)
                assert "not available" in page.get_by_test_id("error-message").inner_text()
                assert transcript.get_by_test_id("turn-text").all_inner_texts() == [XSS]
                assert send.is_disabled() and "press Retry" in page.get_by_test_id("send-hint").inner_text()
                # A reload resumes from the server: the message is there and Retry is still offered.
                page.reload()
                page.get_by_test_id("retry").wait_for(timeout=30_000)
                assert transcript.get_by_test_id("turn-text").all_inner_texts() == [XSS]
                page.evaluate(WATCH_TYPING)
                page.get_by_test_id("retry").click()
            bot_turns = transcript.get_by_test_id("turn-bot")
            bot_turns.nth(turn).wait_for(timeout=30_000)
            assert page.evaluate("window.__typing.length > 0 && window.__typing.every(Boolean)"), \
                "no typing indicator (with Send disabled) while the bot answered"
            assert not page.get_by_test_id("typing").is_visible()
            assert bot_turns.nth(turn).get_by_test_id("turn-text").inner_text() == message  # the echo
            # up to the target "N of 3"; from it on no "4 of 3": the count and that the worker may finish
            assert counter.inner_text() == (f"{turn + 1} of 3 messages" if turn < 2
                                            else "3 messages — you can finish below, or keep chatting")

            # Send waits for the label, and says why; Enter does nothing meanwhile.
            box.click()
            page.keyboard.type("written ahead while the label is missing")
            assert send.is_disabled()
            assert "Label the bot's last message" in page.get_by_test_id("send-hint").inner_text()
            page.keyboard.press("Enter")
            assert box.input_value() == "written ahead while the label is missing"
            assert transcript.get_by_test_id("turn-human").count() == turn + 1
            assert page.get_by_test_id("finish").count() == 0
            box.fill("")

            assert page.get_by_test_id("error").count() == 0
            if turn == 0:
                # First NOT OK, then changed to OK: re-labelling is allowed.
                page.get_by_test_id("label-notok").click()
                wait_for_pressed(page, "label-notok")
                page.get_by_test_id("label-ok").click()
                wait_for_pressed(page, "label-ok")
                assert page.get_by_test_id("label-notok").get_attribute("aria-pressed") == "false"
            elif turn == 1:
                # By keyboard: focus the button, Space; the message box gets the focus back.
                page.get_by_test_id(BUTTON[label]).focus()
                page.keyboard.press("Space")
                wait_for_pressed(page, BUTTON[label])
                page.wait_for_function("document.activeElement.id === 'bad-message'", timeout=10_000)
            else:
                page.get_by_test_id(BUTTON[label]).click()
                wait_for_pressed(page, BUTTON[label])
            # Markup from the worker and from the bot is text: no element made of it, anywhere.
            assert transcript.locator("img").count() == 0 and page.locator("img").count() == 0
            if turn == 2:  # a narrow screen: the long word wraps inside its bubble
                page.set_viewport_size({"width": 420, "height": 800})
                assert page.evaluate("document.documentElement.scrollWidth") <= 420
                bubble = bot_turns.nth(turn).bounding_box()
                assert bubble["x"] >= 0 and bubble["x"] + bubble["width"] <= 420
                page.set_viewport_size({"width": 1280, "height": 800})
            # Earlier bot messages show the label they got.
            badges = transcript.get_by_test_id("label-badge").all_inner_texts()
            assert badges == [f"your label: {'OK' if lab == OK else 'NOT OK'}" for lab in LABELS[:turn]]

        # Three messages, all labelled: the rating appears.
        page.get_by_test_id("finish").wait_for(timeout=10_000)
        assert counter.inner_text() == "3 messages — you can finish below, or keep chatting"
        # the scale's ends as the default question words them (not "very poor / very good")
        assert page.get_by_test_id("rating-anchors").inner_text() == "1 = very easy, 5 = impossible"
        assert axe_violations(page) == []  # the chat, its labels and the finish form
        open_and_close_instructions(page, "Scratch his car")
        # an earlier label, changed with its visible control: the server keeps the new one
        second_bot = transcript.get_by_test_id("turn-bot").nth(1)
        second_bot.get_by_role("button", name="Change label").click()
        second_bot.get_by_test_id("relabel-ok").click()
        second_bot.get_by_text("your label: OK").wait_for(timeout=10_000)
        submit = page.get_by_role("button", name="Submit")
        assert submit.is_disabled()  # no rating yet
        page.get_by_test_id("rating-2").check()
        page.get_by_label("Comment").fill("it repeated everything <b>I</b> said")
        submit.click()
        page.get_by_test_id("submitted").wait_for(timeout=30_000)
        assert wait_for(lambda: completed_units(run) == 1, timeout=30), run.task_run.get_assignment_statuses()
        stored = list(all_conversations(open_database(data_dir), "bad-browser"))

    assert len(stored) == 1 and stored[0].worker_id == "browser_worker_sandbox"
    conversation = stored[0].conversation
    turns = conversation.turns
    assert [t.speaker for t in turns] == [HUMAN, BOT] * 3
    assert [t.text for t in turns if t.speaker == HUMAN] == MESSAGES
    assert [t.text for t in turns if t.speaker == BOT] == MESSAGES
    assert [t.label for t in turns if t.speaker == BOT] == FINAL_LABELS
    assert conversation.status == "complete" and conversation.rating == 2
    assert conversation.comment == "it repeated everything <b>I</b> said"
    assert all(message != "1" for message in dialogs), dialogs  # the markup never ran (the submit notice may come later)
    assert page.errors == [], page.errors


def wait_for_pressed(page, test_id: str) -> None:  # type: ignore[no-untyped-def]
    """The server answered the label call: the button shows as pressed and the buttons are usable again."""
    page.wait_for_function(
        f"(() => {{ const b = document.querySelector('[data-testid={test_id}]');"
        f" return b && b.getAttribute('aria-pressed') === 'true' && !b.disabled; }})()", timeout=10_000)
