"""Images a conversation is about (Multi-Modal BlenderBot, Image-Chat): read, checked, and served beside the page.

An episode's image is named by `image_src` (ParlAI's key in its image tasks) and described by `image_alt`. The
value is a local path (relative to the file that names it) or a `data:image/...;base64,` URL, the way ParlAI's
image chat stores a picture inline. A web address is refused: a worker's browser must fetch nothing from a
third party (the host would learn who works on the study, and could swap the picture mid-study), so a picture
is downloaded once by the researcher and served by the task server itself.

Every image is checked before anything starts: at most `max_mb` megabytes, in the folder of the file naming
it, and a whole PNG, JPEG or WebP by its bytes (not its name: an SVG can carry script, and a file named `.png`
can be anything; a cut-off one shows workers a broken picture). A checked
image is copied into the folder Mephisto serves beside the page, under a name made from its content
(`images/<sha256>.<ext>`): the same picture used by many conversations is stored once, and the name tells a
worker nothing about the model or the file it came from.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from humaneval.input_errors import InputError

log = logging.getLogger(__name__)

IMAGE_KEY = "image_src"
ALT_KEY = "image_alt"
DEFAULT_ALT = "The picture this conversation is about"
DEFAULT_MAX_MB = 5.0
LIMIT_KEY = "mephisto.blueprint.max_image_mb"
MAX_IMAGE_MB_LIMIT = 50.0  # a page that loads more than this per picture is unusable on a worker's connection
MAX_ALT_CHARS = 500
IMAGES_FOLDER = "images"  # under the page's static folder; the page's URLs are relative to it

_DATA_URL = re.compile(r"data:image/(png|jpeg|jpg|webp);base64,(.*)", re.DOTALL | re.IGNORECASE)
_HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_REMOTE = re.compile(r"[a-z][a-z0-9+.-]*://|//", re.IGNORECASE)


def image_type(data: bytes) -> str | None:
    """'png', 'jpeg' or 'webp' from the file's signature, else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


@dataclass(frozen=True)
class Where:
    """Where an `image_src` was given, for error messages (file, line, field)."""

    path: str | Path | None
    line: int | None = None
    field: str = IMAGE_KEY

    def error(self, problem: str, field: str | None = None) -> InputError:
        return InputError(problem, path=self.path, line=self.line, field=field or self.field)


@dataclass(frozen=True)
class EpisodeImage:
    """An episode's image as its file names it: `src` (path or data URL), `alt`, the folder `src` is
    relative to, and where it was given (for errors found when it is read)."""

    src: str
    alt: str
    base_dir: Path
    where: Where

    @property
    def is_inline(self) -> bool:
        return self.src[:5].lower() == "data:"

    def local_path(self) -> Path:
        """The picture's file, which must lie inside `base_dir` once links are followed (see `inside`)."""
        try:
            path = (self.base_dir / self.src).resolve()
        except (RuntimeError, OSError, ValueError) as err:  # a link loop, a name too long, a NUL byte
            raise self.where.error(f"cannot follow the path {self.src!r}: {err}") from None
        if not inside(path, self.base_dir):
            raise self.where.error(f"the picture {self.src!r} is outside {self.base_dir.resolve()}, the folder of the file "
                                   "naming it: pictures must be in that folder or below it")
        return path


def inside(path: Path, folder: Path) -> bool:
    """Whether `path` (resolved) lies in `folder` (resolved) or below it.

    Why: a file of conversations may come from someone else, and whatever picture it names is published to
    every worker; confined to the file's own folder, a crafted `image_src` cannot reach `~/Pictures` or any
    other picture on the researcher's machine."""
    return path.resolve().is_relative_to(folder.resolve())


def folder_of(path: str | Path) -> Path:
    """The folder a file's relative `image_src` paths start from: its real folder, links followed.
    `os.path.realpath`, not `Path.resolve`: a symlink loop given as the file must reach its reader, which
    reports it with the file's name, not raise here."""
    return Path(os.path.realpath(path)).parent


def episode_image(holders: Iterable[tuple[str, Any]], base_dir: Path, path: str | Path | None,
                  line: int | None = None) -> EpisodeImage | None:
    """The first `image_src` among `holders` — `(field prefix, object)`: an episode's own keys, then its
    acts or turns, in order — with the `image_alt` given beside it; None when no holder names one."""
    for prefix, holder in holders:
        if not isinstance(holder, Mapping) or IMAGE_KEY not in holder:
            continue
        where = Where(path, line, f"{prefix}{IMAGE_KEY}")
        src, alt = holder[IMAGE_KEY], holder.get(ALT_KEY)
        if not isinstance(src, str) or not src.strip():
            raise where.error("must be a non-empty string: a local path or a data:image/...;base64, URL")
        if alt is not None and (not isinstance(alt, str) or len(alt) > MAX_ALT_CHARS):
            raise where.error(f"must be a string of at most {MAX_ALT_CHARS} characters", f"{prefix}{ALT_KEY}")
        if alt is not None and any(_HIDDEN.match(char) for char in alt):
            raise where.error("holds a control character or a text-direction override, which would show workers "
                              "something other than what the file seems to say", f"{prefix}{ALT_KEY}")
        if _REMOTE.match(src.strip()):
            raise where.error("a web address is not allowed: workers' browsers fetch nothing from third parties; "
                              "download the picture and give its local path (relative to this file)")
        if src.strip()[:5].lower() != "data:" and (src.strip().startswith("~") or Path(src.strip()).is_absolute()):
            raise where.error("must be a path relative to this file's folder (pictures live in that folder or below "
                              "it), not an absolute or ~ path")
        return EpisodeImage(src.strip(), (alt or "").strip() or DEFAULT_ALT, base_dir, where)
    return None


def line_image(obj: Any, base_dir: Path, path: str | Path | None = None, line: int | None = None) -> EpisodeImage | None:
    """The picture of a Conversations (world-log) line: the first `image_src` of the line itself, its context
    acts, then its acts in order (ParlAI's image tasks put it on the first act)."""
    if type(obj) is not dict:
        return None

    def holders() -> Iterator[tuple[str, Any]]:
        yield "", obj
        for i, act in enumerate(obj.get("context") or []):
            yield f"context[{i}].", act
        for i, pair in enumerate(obj.get("dialog") or []):
            for j, act in enumerate(pair if type(pair) is list else []):
                yield f"dialog[{i}][{j}].", act

    return episode_image(holders(), base_dir, path, line)


def is_whole(kind: str, data: bytes) -> bool:
    """Whether a picture of `kind` ends as that format ends: a truncated download, or a PNG signature followed
    by something else (a page, a script), would show workers a broken picture."""
    if kind == "png":
        return data.endswith(b"IEND\xaeB`\x82")
    if kind == "jpeg":
        return b"\xff\xd9" in data[-64:]
    return int.from_bytes(data[4:8], "little") + 8 in (len(data), len(data) - 1)  # webp: RIFF size (+ pad byte)


def image_bytes(image: EpisodeImage, max_mb: float) -> bytes:
    """The picture's bytes, checked: readable, at most `max_mb` MB, a PNG, JPEG or WebP."""
    where = image.where
    limit = int(max_mb * 1_000_000)
    if image.is_inline:
        match = _DATA_URL.fullmatch(image.src)
        if match is None:
            raise where.error("an inline image must be a data:image/png|jpeg|webp;base64, URL")
        if len(match.group(2)) > limit * 4 // 3 + 4:
            raise where.error(f"the inline image is larger than the {max_mb:g} MB limit ({LIMIT_KEY})")
        try:
            data = base64.b64decode(match.group(2), validate=True)
        except (binascii.Error, ValueError):
            raise where.error("the inline image is not valid base64") from None
        name = "the inline image"
    else:
        path = image.local_path()
        name = str(path)
        try:
            if not path.exists():
                raise where.error(f"no such image file: {path}")
            if not path.is_file():
                raise where.error(f"{path} is not a regular file (a folder, a pipe or a device cannot be a picture)")
            size = path.stat().st_size
            if size > limit:
                raise where.error(f"{path} is {size / 1e6:.1f} MB, over the {max_mb:g} MB limit ({LIMIT_KEY})")
            data = path.read_bytes()
        except OSError as err:
            raise where.error(f"cannot read {path}: {err.strerror}") from None
    if len(data) > limit:
        raise where.error(f"{name} is over the {max_mb:g} MB limit ({LIMIT_KEY})")
    kind = image_type(data)
    if kind is None:
        raise where.error(f"{name} is not a PNG, JPEG or WebP image")
    if not is_whole(kind, data):
        raise where.error(f"{name} is damaged: it starts as a {kind.upper()} but does not end as one "
                          "(a cut-off download, or something else behind the signature)")
    return data


def portable_src(image: EpisodeImage, new_base: Path) -> str:
    """`image.src` as a file in `new_base` must name it: data URLs as they are, paths relative to `new_base`
    (how a builder that copies an episode into a new file keeps its picture findable)."""
    if image.is_inline:
        return image.src
    path = image.local_path()
    if not inside(path, new_base):
        raise image.where.error(f"the picture {path} is outside {new_base.resolve()}, where the new file goes, whose "
                                "pictures must be in its folder or below: write the new file into a folder that "
                                "holds the pictures (e.g. beside the logs)")
    return str(path.relative_to(new_base.resolve()))


class PageImages:
    """The images one study shows, checked and (with a `folder`) copied into the page's static folder.

    `view` gives the page's `{"url", "alt"}`; asking again for the same picture reads nothing twice.
    Without a folder it only checks (how the launcher's input checks and the builders use it).
    """

    def __init__(self, folder: Path | None = None, max_mb: float = DEFAULT_MAX_MB) -> None:
        self.folder = folder
        self.max_mb = max_mb
        self._urls: dict[tuple[str, str], str] = {}

    def view(self, image: EpisodeImage | None) -> dict[str, str] | None:
        if image is None:
            return None
        key = (image.src, str(image.base_dir))
        url = self._urls.get(key)
        if url is None:
            data = image_bytes(image, self.max_mb)
            url = f"{IMAGES_FOLDER}/{hashlib.sha256(data).hexdigest()[:32]}.{image_type(data)}"
            if self.folder is not None:
                self._store(url, data)
            self._urls[key] = url
        return {"url": url, "alt": image.alt}

    def _store(self, url: str, data: bytes) -> None:
        target = self.folder / url  # type: ignore[operator]
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.part")
        temporary.write_bytes(data)
        temporary.replace(target)
        log.debug("image %s copied for the page", url)
