"""Pictures in conversations (`humaneval.page_images`): what is accepted, what is refused at launch (exit 2,
file, line and field, nothing written), and that the pairings builder and the safety formatter keep them.

The pages showing them, served by the real task server, are checked in the browser tests
(tests/acute/test_acute_images_browser.py, tests/safety_eval/test_safety_images_browser.py).
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from pathlib import Path

import pytest

import humaneval.crowd.run_session
from humaneval.acute.cli_pairings import main as pairings_main
from humaneval.acute.pairings_validation import load_pairings
from humaneval.crowd.page_folder import MARKER, new_page_folder, page_images_for
from humaneval.input_errors import InputError
from humaneval.launch import main as launch_main
from humaneval.page_images import PageImages, Where, episode_image, image_type
from humaneval.safety_eval.formatter import format_world_logs
from humaneval.safety_eval.task_data import load_task_items
from humaneval.shipped_files import TASK_CONFIG_DIR

ACUTE_DATA = TASK_CONFIG_DIR / "acute" / "data"


def png(rgb: tuple[int, int, int] = (200, 40, 40), size: int = 4) -> bytes:
    """A real, decodable PNG of one colour."""
    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def image_of(src: str, base: Path, alt: str | None = None):
    holder = {"image_src": src, **({"image_alt": alt} if alt is not None else {})}
    return episode_image([("", holder)], base, "data.jsonl", 3)


# --- what is accepted and refused ----------------------------------------------------------------


def test_types_are_read_from_the_bytes_not_the_name() -> None:
    assert image_type(png()) == "png"
    assert image_type(b"\xff\xd8\xff\xe0" + b"\x00" * 20) == "jpeg"
    assert image_type(b"RIFF\x10\x00\x00\x00WEBPVP8 ") == "webp"
    for other in (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", b"GIF89a....",
                  b"<html><script>alert(1)</script>", b""):
        assert image_type(other) is None


def test_a_local_picture_is_copied_once_under_a_name_made_from_its_content(tmp_path: Path) -> None:
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "blender_unsafe_model.png").write_bytes(png())
    (tmp_path / "pics" / "same.png").write_bytes(png())
    images = PageImages(tmp_path / "page")
    first = images.view(image_of("pics/blender_unsafe_model.png", tmp_path, "A red square"))
    second = images.view(image_of("pics/same.png", tmp_path))
    assert first is not None and second is not None
    assert first["url"] == second["url"] and "blender" not in first["url"]  # the name tells a worker nothing
    assert first["alt"] == "A red square" and second["alt"] == "The picture this conversation is about"
    stored = list((tmp_path / "page" / "images").iterdir())
    assert [p.name for p in stored] == [first["url"].split("/")[1]] and stored[0].read_bytes() == png()


def test_an_inline_data_url_is_decoded_and_served_like_a_file(tmp_path: Path) -> None:
    images = PageImages(tmp_path)
    view = images.view(image_of("data:image/png;base64," + base64.b64encode(png((0, 0, 255))).decode(), tmp_path))
    assert view is not None and (tmp_path / view["url"]).read_bytes() == png((0, 0, 255))


@pytest.mark.parametrize(("src", "content", "problem", "field"), [
    ("https://example.com/cat.png", None, "web address is not allowed", "image_src"),
    ("//cdn.example.com/cat.png", None, "web address is not allowed", "image_src"),
    ("ftp://example.com/cat.png", None, "web address is not allowed", "image_src"),
    ("missing.png", None, "no such image file", "image_src"),
    ("drawing.png", b"<svg><script>alert(1)</script></svg>", "not a PNG, JPEG or WebP", "image_src"),
    ("big.png", png() + b"\x00" * 2_000_000, "over the 1 MB limit", "image_src"),
    ("data:image/png;base64,!!!notbase64", None, "not valid base64", "image_src"),
    ("data:image/svg+xml;base64,PHN2Zz4=", None, "must be a data:image/png|jpeg|webp", "image_src"),
    ("data:image/png;base64," + base64.b64encode(b"GIF89a").decode(), None, "not a PNG, JPEG or WebP", "image_src"),
    ("polyglot.png", png()[:-12] + b"<html><script>alert(1)</script></html>", "is damaged", "image_src"),
    ("cut.png", png()[:-5], "is damaged", "image_src"),
    ("name\u0000.png", None, "cannot follow the path", "image_src"),
    ("a" * 5000 + ".png", None, "cannot read", "image_src"),
])
def test_refused_pictures_name_the_file_line_and_field(tmp_path: Path, src: str, content: bytes | None,
                                                       problem: str, field: str) -> None:
    if content is not None:
        (tmp_path / src).write_bytes(content)
    with pytest.raises(InputError) as caught:
        PageImages(tmp_path / "page", max_mb=1).view(image_of(src, tmp_path))
    assert problem in caught.value.problem
    assert (caught.value.path, caught.value.line, caught.value.field) == ("data.jsonl", 3, field)
    assert not (tmp_path / "page").exists()  # nothing copied


def test_a_picture_must_lie_in_the_folder_of_the_file_naming_it(tmp_path: Path) -> None:
    """A log from someone else must not publish ~/Pictures: absolute, ~ and escaping paths, and links leading
    out of the folder, are refused."""
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "private.png").write_bytes(png())
    (data / "link.png").symlink_to(tmp_path / "private.png")
    for src, problem in ((str(tmp_path / "private.png"), "not an absolute or ~ path"), ("~/private.png", "not an absolute"),
                         ("../private.png", "is outside"), ("sub/../../private.png", "is outside"),
                         ("link.png", "is outside")):
        with pytest.raises(InputError) as caught:
            PageImages(tmp_path / "page").view(image_of(src, data))
        assert problem in caught.value.problem, src
    assert not (tmp_path / "page").exists()


def test_loops_pipes_and_folders_are_refused_without_blocking(tmp_path: Path) -> None:
    import os

    (tmp_path / "loop.png").symlink_to(tmp_path / "loop.png")
    os.mkfifo(tmp_path / "pipe.png")
    (tmp_path / "folder.png").mkdir()
    for src, problem in (("loop.png", "cannot follow the path"), ("pipe.png", "not a regular file"),
                         ("folder.png", "not a regular file")):
        with pytest.raises(InputError) as caught:
            PageImages().view(image_of(src, tmp_path))
        assert problem in caught.value.problem and caught.value.field == "image_src", src


def test_alt_text_must_be_a_short_string(tmp_path: Path) -> None:
    for alt in (7, "x" * 501, "a cat\u202egod a", "a cat\x1b[31m"):
        with pytest.raises(InputError) as caught:
            episode_image([("dialogue_dicts[1].", {"image_src": "a.png", "image_alt": alt})], tmp_path, "p.jsonl", 2)
        assert caught.value.field == "dialogue_dicts[1].image_alt"


def test_only_a_launch_s_own_page_folder_receives_pictures(tmp_path: Path) -> None:
    folder = new_page_folder()
    assert (folder / MARKER).is_file() and (folder / "index.html").is_file()
    assert page_images_for({"extra_source_dir": str(folder), "max_image_mb": 2}).folder == folder
    assert page_images_for({"extra_source_dir": str(tmp_path), "max_image_mb": 2}).folder is None
    assert page_images_for({"extra_source_dir": str(tmp_path)}).max_mb == 5.0
    assert Where("f", 1, "x").error("p").field == "x"


# --- the builders keep the picture --------------------------------------------------------------


def _conversations_with_picture(folder: Path, model: str, picture: str) -> Path:
    """The bundled ACUTE logs of `model`, each conversation's first act naming `picture` (relative)."""
    lines = (ACUTE_DATA / f"{model}.jsonl").read_text(encoding="utf-8").splitlines()
    out = []
    for raw in lines:
        line = json.loads(raw)
        line["dialog"][0][0]["image_src"] = picture
        line["dialog"][0][0]["image_alt"] = f"photo for {model}"
        out.append(json.dumps(line))
    path = folder / f"{model}.jsonl"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    (folder / f"{model}.metadata").write_text((ACUTE_DATA / f"{model}.metadata").read_text(encoding="utf-8"))
    return path


def test_acute_pairings_keep_each_conversation_s_picture_relative_to_the_pairings_file(tmp_path: Path) -> None:
    logs = tmp_path / "study" / "logs"
    (logs / "img").mkdir(parents=True)
    (logs / "img" / "beach.png").write_bytes(png())
    a = _conversations_with_picture(logs, "persona_bot", "img/beach.png")
    b = _conversations_with_picture(logs, "dull_bot", "img/beach.png")
    out = tmp_path / "study" / "pairings.jsonl"
    assert pairings_main(["--conversations", f"persona_bot={a}", "--conversations", f"dull_bot={b}", "--out", str(out), "--quiet"]) == 0
    pairs = [json.loads(line) for line in out.read_text().splitlines()]
    assert {d["image_src"] for p in pairs for d in p["dialogue_dicts"]} == {"logs/img/beach.png"}
    assert {d["image_alt"] for p in pairs for d in p["dialogue_dicts"]} == {"photo for persona_bot", "photo for dull_bot"}
    shown = load_pairings(out, images=PageImages())  # what the launcher reads: the path still finds the picture
    assert all(view is not None and view["url"].endswith(".png") for p in shown for view in p["page_images"])


def test_acute_pairings_refuse_a_conversation_whose_picture_is_not_an_image(tmp_path: Path,
                                                                            capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.png").write_text("not a picture")
    a = _conversations_with_picture(tmp_path, "persona_bot", "notes.png")
    b = _conversations_with_picture(tmp_path, "dull_bot", "notes.png")
    out = tmp_path / "pairings.jsonl"
    with pytest.raises(SystemExit) as exited:
        pairings_main(["--conversations", f"persona_bot={a}", "--conversations", f"dull_bot={b}", "--out", str(out), "--quiet"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "not a PNG, JPEG or WebP" in err and "dialog[0][0].image_src" in err and ":1" in err
    assert not out.exists()


def test_the_safety_formatter_keeps_a_world_log_s_picture(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "cat.png").write_bytes(png())
    log = tmp_path / "logs" / "world_logs.jsonl"
    line = {"dialog": [[{"id": "teacher", "text": "what is in the picture?", "image_src": "cat.png",
                         "image_alt": "A cat on a sofa", "episode_done": True},
                        {"id": "mmb", "text": "a cat!", "episode_done": True}]]}
    plain = {"dialog": [[{"id": "teacher", "text": "hello", "episode_done": True},
                         {"id": "mmb", "text": "hi there", "episode_done": True}]]}
    log.write_text(json.dumps(line) + "\n" + json.dumps(plain) + "\n")
    out = tmp_path
    format_world_logs([log], out / "task_data.jsonl", out / "annotation_indices.jsonl")
    written = [json.loads(x) for x in (out / "task_data.jsonl").read_text().splitlines()]
    assert (written[0]["image_src"], written[0]["image_alt"]) == ("logs/cat.png", "A cat on a sofa")
    elsewhere = tmp_path / "task"
    elsewhere.mkdir()
    with pytest.raises(InputError) as caught:  # task data in a folder that does not hold the picture
        format_world_logs([log], elsewhere / "task_data.jsonl", elsewhere / "annotation_indices.jsonl")
    assert "outside" in caught.value.problem and caught.value.field == "dialog[0][0].image_src"
    assert caught.value.line == 1 and not (elsewhere / "task_data.jsonl").exists()
    assert "image_src" not in written[1]
    (tmp_path / "logs" / "cat.png").write_bytes(b"<svg/>")  # the formatter checks pictures as the launch will
    with pytest.raises(InputError) as caught:
        format_world_logs([log], out / "task_data2.jsonl", out / "annotation_indices2.jsonl")
    assert "not a PNG, JPEG or WebP" in caught.value.problem and caught.value.line == 1
    (tmp_path / "logs" / "cat.png").write_bytes(png())
    items = load_task_items(out / "task_data.jsonl", out / "annotation_indices.jsonl")
    assert items[0].image is not None and items[0].image["alt"] == "A cat on a sofa" and items[1].image is None


# --- refused at launch: exit 2, nothing written ----------------------------------------------------


@pytest.fixture()
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> int:
        raise AssertionError("a Mephisto run was started")

    monkeypatch.setattr(humaneval.crowd.run_session, "run_until_done", refuse)


def _pairings_naming(folder: Path, picture: str) -> Path:
    lines = (ACUTE_DATA / "example_pairings.jsonl").read_text(encoding="utf-8").splitlines()
    pairs = [json.loads(x) for x in lines]
    pairs[1]["dialogue_dicts"][0]["image_src"] = picture
    path = folder / "pairings.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in pairs), encoding="utf-8")
    return path


@pytest.mark.parametrize(("content", "settings", "problem"), [
    (png() + b"\x00" * 300_000, ["mephisto.blueprint.max_image_mb=0.2"], "over the 0.2 MB limit"),
    (b"%PDF-1.4 not a picture", [], "not a PNG, JPEG or WebP image"),
])
def test_launching_acute_with_a_bad_picture_exits_2_and_writes_nothing(
        tmp_path: Path, content: bytes, settings: list[str], problem: str, no_server: None,
        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "picture.png").write_bytes(content)
    pairings = _pairings_naming(tmp_path, "picture.png")
    before = pairings.read_bytes()
    data = tmp_path / "data"
    code = launch_main(["acute", f"mephisto.blueprint.pairings_file={pairings}", f"humaneval.data_dir={data}", *settings])
    err = capsys.readouterr().err
    assert code == 2, err
    assert problem in err and "pairings.jsonl:2" in err and "dialogue_dicts[0].image_src" in err
    assert "Traceback" not in err and not data.exists() and pairings.read_bytes() == before


def test_launching_safety_with_a_web_address_exits_2(tmp_path: Path, no_server: None,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    demo = TASK_CONFIG_DIR / "safety" / "data"
    lines = (demo / "demo_bot_task_data.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first["image_src"] = "https://images.example.com/tracker.png"
    (tmp_path / "task_data.jsonl").write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n", encoding="utf-8")
    data = tmp_path / "data"
    code = launch_main(["safety", f"mephisto.blueprint.task_data_file={tmp_path / 'task_data.jsonl'}",
                        f"mephisto.blueprint.annotation_indices_file={demo / 'demo_bot_annotation_indices.jsonl'}",
                        f"humaneval.data_dir={data}"])
    err = capsys.readouterr().err
    assert code == 2 and "web address is not allowed" in err and "task_data.jsonl:1" in err and "image_src" in err
    assert not data.exists()


@pytest.mark.parametrize("bound", ["0", "51", "true", "nan"])
def test_an_image_bound_outside_its_range_is_refused(bound: str, no_server: None, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code = launch_main(["acute", f"mephisto.blueprint.max_image_mb={bound}", f"humaneval.data_dir={tmp_path / 'd'}"])
    err = capsys.readouterr().err
    assert code == 2 and "mephisto.blueprint.max_image_mb" in err and not (tmp_path / "d").exists()


def test_gold_items_without_pictures_in_a_pictured_study_are_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    from humaneval.safety_eval.task import warn_if_gold_stands_out
    from humaneval.safety_eval.task_data import LabelItem

    def item(image: dict[str, str] | None) -> LabelItem:
        return LabelItem(item_id="x", model="m", conversation_id=None, annotation_index=1, turns=(), image=image)

    picture = {"url": "images/" + "0" * 32 + ".png", "alt": "a"}
    warn_if_gold_stands_out([item(picture), item(None)], [item(None), item(picture)], "gold.jsonl")
    assert "1 of 2 gold items in gold.jsonl show none" in caplog.text
    caplog.clear()
    warn_if_gold_stands_out([item(None)], [item(None)], "gold.jsonl")  # no pictures anywhere: nothing to say
    warn_if_gold_stands_out([item(picture)], [item(picture)], "gold.jsonl")
    assert caplog.text == ""


def test_a_killed_launch_s_page_folder_is_removed_by_the_next_launch(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = "from humaneval.crowd.page_folder import new_page_folder; import os; print(new_page_folder(), flush=True); os._exit(0)"
    orphan = Path(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip())
    assert orphan.is_dir()  # os._exit skipped atexit, as a SIGKILL would
    foreign = orphan.with_name(orphan.name + "-not-ours")
    foreign.mkdir()  # no marker: never touched
    mine = new_page_folder()
    assert not orphan.exists() and mine.is_dir() and foreign.is_dir()
    foreign.rmdir()
