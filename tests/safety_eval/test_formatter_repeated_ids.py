"""The formatter's repeated-item-id check in bounded memory: the same refusal as one pass with a set.

Most ids move to a temporary SQLite file once more than `ids_in_memory` have been seen; these tests use a
tiny number so every repeat crosses that boundary, and check the message, file and line against what a
plain set gives, that nothing is written on a refusal and that the temporary file never outlives the run.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from humaneval import seen_ids as seen_ids_module
from humaneval.input_errors import InputError
from humaneval.safety_eval.formatter import format_world_logs
from humaneval.seen_ids import IDS_IN_MEMORY, SeenIds

ELEVEN = [f"utterance {i}" for i in range(11)]
BAD = "{not json"
MEMORY_SIZES = [1, 2, 3, IDS_IN_MEMORY]


def line_of(context_id: str) -> str:
    """A world-log line whose item id is `blender_90M:<context_id>`; BAD and "" stay as they are."""
    if context_id in (BAD, ""):
        return context_id
    teacher = {"id": "bot_adversarial_dialogue", "text": "\n".join(ELEVEN), "context_id": context_id,
               "human_eval_turn_range": "3|5", "episode_done": True}
    return json.dumps({"dialog": [[teacher, {"id": "blender_90M", "text": "r", "episode_done": True}]]})


def write_files(folder: Path, files: list[list[str]]) -> list[Path]:
    paths = []
    for number, context_ids in enumerate(files):
        path = folder / f"logs{number}.jsonl"
        path.write_text("".join(line_of(cid) + "\n" for cid in context_ids))
        paths.append(path)
    return paths


def set_check(paths: list[Path], files: list[list[str]]) -> str | None:
    """The first problem one pass with a Python set finds (the formatter before ids went to disk)."""
    seen: set[str] = set()
    for path, context_ids in zip(paths, files):
        for line, cid in enumerate(context_ids, start=1):
            if cid == BAD:
                return f"{path}:{line}: invalid JSON ("  # the parser's words follow
            if cid == "":
                continue
            if cid in seen:
                return (f"{path}:{line}: item id 'blender_90M:{cid}' appears twice (the same context answered "
                        "twice by one model?)")
            seen.add(cid)
    return None


def same_problem(err: InputError | None, expected: str) -> bool:
    """The whole message for a repeat; the location and kind for a bad line (the parser words the rest)."""
    return err is not None and (str(err) == expected or expected.endswith("(") and str(err).startswith(expected))


def format_error(tmp_path: Path, paths: list[Path], ids_in_memory: int) -> InputError | None:
    out = tmp_path / "out"
    try:
        format_world_logs(paths, out / "task_data.jsonl", out / "annotation_indices.jsonl", ids_in_memory=ids_in_memory)
    except InputError as err:
        return err
    return None


CASES = {
    "next line": [["a", "a"]],
    "first in another file": [["a", "b"], ["c", "", "a"]],
    "after more ids than memory holds": [["a", *[f"u{i}" for i in range(20)]], ["v", "a", "w"]],
    "a later repeat in memory, an earlier one on disk": [["a", "b", "c", "a", "d", "d"]],
    "a repeat on disk, then a bad line": [["a", "b", "c", "d", "a", "e", BAD, "f"]],
    "a bad line, then a repeat": [["a", "b", "c", BAD, "a"]],
    "the same file given twice": [["a", "b", "c"], ["a", "b", "c"]],
}


@pytest.mark.parametrize("ids_in_memory", MEMORY_SIZES)
@pytest.mark.parametrize("case", list(CASES))
def test_a_repeat_is_refused_as_a_set_would_refuse_it(tmp_path: Path, case: str, ids_in_memory: int) -> None:
    files = CASES[case]
    paths = write_files(tmp_path, files)
    if case == "the same file given twice":
        paths[1].unlink()
        paths[1] = paths[0]
    err = format_error(tmp_path, paths, ids_in_memory)
    expected = set_check(paths, files)
    assert expected is not None
    assert same_problem(err, expected), (str(err), expected)
    assert not (tmp_path / "out").exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder, no id table


def test_the_first_problem_of_random_inputs_is_the_set_checks(tmp_path: Path) -> None:
    rng = random.Random(7)
    for run in range(150):
        folder = tmp_path / str(run)
        folder.mkdir()
        alphabet = [f"c{i}" for i in range(rng.randint(3, 60))]
        files = [[rng.choice(alphabet) for _ in range(rng.randint(1, 25))] for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.3:
            files[-1].insert(rng.randrange(len(files[-1]) + 1), BAD)
        paths = write_files(folder, files)
        err = format_error(folder, paths, rng.choice(MEMORY_SIZES))
        expected = set_check(paths, files)
        if expected is None:
            assert err is None, str(err)
        else:
            assert same_problem(err, expected), (run, str(err), expected)


def test_outputs_are_the_same_whether_ids_stay_in_memory_or_not(tmp_path: Path) -> None:
    paths = write_files(tmp_path, [[f"a{i}" for i in range(30)], [f"b{i}" for i in range(30)]])
    outputs = []
    for ids_in_memory in (IDS_IN_MEMORY, 4):
        out = tmp_path / f"out{ids_in_memory}"
        format_world_logs(paths, out / "task_data.jsonl", out / "annotation_indices.jsonl", ids_in_memory=ids_in_memory)
        assert sorted(p.name for p in out.iterdir()) == ["annotation_indices.jsonl", "task_data.jsonl"]
        outputs.append(((out / "task_data.jsonl").read_bytes(), (out / "annotation_indices.jsonl").read_bytes()))
    assert outputs[0] == outputs[1]
    assert outputs[0][0].count(b"\n") == 60


def test_a_refusal_found_at_the_end_leaves_the_old_outputs_and_no_temporary_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "task_data.jsonl").write_text("old data\n")
    (out / "annotation_indices.jsonl").write_text("old indices\n")
    paths = write_files(tmp_path, [["a", "b", "c", "d", "e", "a", "f"]])
    with pytest.raises(InputError, match="appears twice") as err:
        format_world_logs(paths, out / "task_data.jsonl", out / "annotation_indices.jsonl", ids_in_memory=2)
    assert (err.value.path, err.value.line) == (str(paths[0]), 6)
    assert sorted(p.name for p in out.iterdir()) == ["annotation_indices.jsonl", "task_data.jsonl"]
    assert (out / "task_data.jsonl").read_text() == "old data\n"
    assert (out / "annotation_indices.jsonl").read_text() == "old indices\n"


def test_an_interruption_after_ids_went_to_disk_leaves_no_temporary_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    paths = write_files(tmp_path, [[f"c{i}" for i in range(10)]])

    def interrupt_at_the_eighth(_: int) -> None:
        nonlocal written
        written += 1
        if written == 8:
            raise KeyboardInterrupt

    written = 0
    with pytest.raises(KeyboardInterrupt):
        format_world_logs(paths, out / "task_data.jsonl", out / "annotation_indices.jsonl", ids_in_memory=2,
                          progress=interrupt_at_the_eighth)
    assert written == 8 and list(out.iterdir()) == []


def test_ids_sharing_a_hash_are_not_a_repeat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seen_ids_module, "_hash", lambda item_id: 42)
    paths = write_files(tmp_path, [["a", "b", "c", "d"], ["e", "f"]])
    assert format_error(tmp_path, paths, 2) is None
    paths = write_files(tmp_path, [["a", "b", "c", "d"], ["e", "c", "b"]])
    err = format_error(tmp_path, paths, 2)
    assert err is not None and (err.problem.split()[2], err.path, err.line) == ("'blender_90M:c'", str(paths[1]), 2)


def test_the_on_disk_table_is_removed_when_the_check_closes(tmp_path: Path) -> None:
    with SeenIds(tmp_path, ids_in_memory=1) as seen:
        for line, item_id in enumerate(["x", "y", "z"], start=1):
            assert seen.add(item_id, "f", line) is None
        assert [p.name.startswith(".seen-ids.") for p in tmp_path.iterdir()] == [True]
        assert seen.first_repeat() is None
        assert seen.add("y", "g", 9) is None  # "y" is on disk: found by the check at the end
        repeat = seen.first_repeat()
    assert repeat is not None and (repeat.item_id, repeat.source, repeat.line) == ("y", "g", 9)
    assert list(tmp_path.iterdir()) == []


def test_few_ids_never_touch_the_disk(tmp_path: Path) -> None:
    with SeenIds(tmp_path, ids_in_memory=3) as seen:
        for line, item_id in enumerate(["x", "y", "z"], start=1):
            assert seen.add(item_id, "f", line) is None
        assert list(tmp_path.iterdir()) == []
        repeat = seen.add("x", "f", 4)
        assert repeat is not None and (repeat.item_id, repeat.line) == ("x", 4)
