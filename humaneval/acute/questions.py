"""The ACUTE-Eval question a worker answers, as a preset with ParlAI's exact wording or a custom one.

Results are only comparable with published ACUTE numbers when the wording is identical, so the
presets copy ParlAI's text character for character. A choice is written once, as a template with the
placeholder `<Speaker 1>`; the second choice is the same sentence with `<Speaker 2>` (ParlAI's
`s1_choice` / `s2_choice` pairs are always built that way).
"""

from __future__ import annotations

from dataclasses import dataclass

from humaneval.input_errors import InputError

SPEAKER_1 = "<Speaker 1>"
SPEAKER_2 = "<Speaker 2>"
DEFAULT_PRESET = "engaging"


@dataclass(frozen=True)
class Question:
    """One ACUTE question: its short `name`, the `text` shown, and the choice sentence template."""

    name: str
    text: str
    choice_template: str

    def choice(self, speaker_number: int) -> str:
        """The label next to the radio button for speaker 1 or 2 (`<Speaker N>` left in for the page)."""
        if speaker_number == 1:
            return self.choice_template
        if speaker_number == 2:
            return self.choice_template.replace(SPEAKER_1, SPEAKER_2)
        raise ValueError(f"speaker_number must be 1 or 2, got {speaker_number!r}")

    @property
    def s1_choice(self) -> str:
        """ParlAI's name for the first choice (blueprint args `s1_choice`)."""
        return self.choice(1)

    @property
    def s2_choice(self) -> str:
        """ParlAI's name for the second choice (blueprint args `s2_choice`)."""
        return self.choice(2)


PRESETS: dict[str, Question] = {
    q.name: q
    for q in (
        Question(
            "engaging",
            "Who would you prefer to talk to for a long conversation?",
            "I would prefer to talk to <Speaker 1>",
        ),
        Question("human", "Which speaker sounds more human?", "<Speaker 1> sounds more human"),
        Question(
            "interesting",
            "If you had to say one of these speakers is interesting and one is boring, "
            "who would you say is more interesting?",
            "<Speaker 1> is more interesting",
        ),
        Question(
            "knowledgeable",
            "If you had to say that one speaker is more knowledgeable and one is more ignorant, "
            "who is more knowledgeable?",
            "<Speaker 1> is more knowledgeable",
        ),
    )
}


def resolve_question(
    preset: str | None = DEFAULT_PRESET,
    *,
    text: str | None = None,
    choice: str | None = None,
    name: str = "custom",
) -> Question:
    """A preset by name, or a custom question when `text` and `choice` are given.

    A custom `choice` must contain `<Speaker 1>` exactly once, so that both choices can be built and
    the page can put the speaker's label in. Problems are `InputError`s (field `question`), so a
    launcher reports them like any other bad input (exit code 2).
    """
    if text is not None or choice is not None:
        if not text or not text.strip():
            raise InputError("a custom question needs its text", field="question.text")
        if not choice or choice.count(SPEAKER_1) != 1:
            raise InputError(
                f"a custom choice must contain the placeholder {SPEAKER_1} exactly once "
                f"(e.g. '{SPEAKER_1} is more polite'); got {choice!r}",
                field="question.choice",
            )
        if SPEAKER_2 in choice:
            raise InputError(f"write the choice for speaker 1 only (with {SPEAKER_1}); got {choice!r}", field="question.choice")
        return Question(name=name, text=text.strip(), choice_template=choice.strip())
    key = (preset or "").strip().lower()
    if key not in PRESETS:
        raise InputError(
            f"unknown question preset {preset!r}; choose one of {', '.join(PRESETS)} or give a custom text and choice",
            field="question",
        )
    return PRESETS[key]
