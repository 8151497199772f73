"""Bot personas: a few lines that give the bot a character, shown to the worker and to the model.

ParlAI's BAD collection gave the bot a persona (ConvAI2 style) so that workers had something to talk
about. File format (JSONL, one persona per line): `{"persona": ["i love hiking.", "i have two dogs."]}`;
the bundled default is task_configs/bad/data/personas.jsonl. A line may also name a picture the chat is
about (`image_src`, `image_alt`, as in every file that carries one: `humaneval.page_images`), shown to the
worker as the conversation's topic; the bot is not shown it (our models read text only).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from humaneval.input_errors import InputError
from humaneval.jsonl import iter_jsonl_objects
from humaneval.page_images import PageImages, episode_image, folder_of


@dataclass(frozen=True)
class Persona:
    """A persona's lines and the topic picture the page shows with it (`{"url", "alt"}`), if any."""

    lines: list[str]
    image: dict[str, str] | None = None


def load_personas(path: str | Path, images: PageImages | None = None) -> list[Persona]:
    """The file's personas; their pictures checked and copied by `images` (default: checked only)."""
    images = images or PageImages()
    base = folder_of(path)
    personas: list[Persona] = []
    for line, obj in iter_jsonl_objects(path):
        lines = obj.get("persona")
        if not isinstance(lines, list) or not lines or not all(isinstance(t, str) and t.strip() for t in lines):
            raise InputError("must be a non-empty list of non-empty strings", path=path, line=line, field="persona")
        personas.append(Persona([t.strip() for t in lines], images.view(episode_image([("", obj)], base, path, line))))
    if not personas:
        raise InputError("no personas in the file", path=path)
    return personas
