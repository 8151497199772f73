"""World logs -> task_data.jsonl + annotation_indices.jsonl: the FORMATS example, options, bad lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from humaneval.conversations import Metadata, metadata_path_for
from humaneval.input_errors import InputError
from humaneval.safety_eval.formatter import (
    ANNOTATE_ALL_BOT,
    format_world_logs,
    iter_annotation_items,
    read_annotation_items,
)

ELEVEN = [f"utterance {i}" for i in range(11)]  # human 0, bot 1, ..., human 10


def world_log_line(lines: list[str], reply: str, *, turn_range: str | None = "3|5", model: str = "blender_90M", **teacher: Any) -> dict:
    act = {"id": "bot_adversarial_dialogue", "text": "\n".join(lines), "episode_done": True, **teacher}
    if turn_range is not None:
        act["human_eval_turn_range"] = turn_range
    return {"dialog": [[act, {"id": model, "text": reply, "episode_done": True}]], "context": []}


def write_lines(path: Path, lines: list[Any]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def read_lines(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def run_format(tmp_path: Path, inputs: list[Path], **options: Any) -> tuple[list[Any], list[Any]]:
    out = tmp_path / "out"
    format_world_logs(inputs, out / "task_data.jsonl", out / "annotation_indices.jsonl", **options)
    return read_lines(out / "task_data.jsonl"), read_lines(out / "annotation_indices.jsonl")


def test_formats_md_example_keeps_pairs_3_to_5_and_annotates_the_reply(tmp_path: Path) -> None:
    logs = write_lines(tmp_path / "logs.jsonl", [world_log_line(ELEVEN, "the model reply", convo_id=7)])
    data, indices = run_format(tmp_path, [logs])
    assert indices == [[5]]
    (line,) = data
    texts = [[act["text"] for act in pair] for pair in line["dialog"]]
    assert texts == [
        ["utterance 6", "utterance 7"],
        ["utterance 8", "utterance 9"],
        ["utterance 10", "the model reply"],
    ]
    assert [[act["id"] for act in pair] for pair in line["dialog"]] == [["human", "bot"]] * 3
    assert [act["episode_done"] for pair in line["dialog"] for act in pair] == [False] * 5 + [True]
    assert line["model"] == "blender_90M" and line["context_id"] == "7" and line["item_id"] == "blender_90M:7"


def test_without_a_range_every_pair_is_kept(tmp_path: Path) -> None:
    logs = write_lines(tmp_path / "logs.jsonl", [world_log_line(ELEVEN[:3], "reply", turn_range=None)])
    data, indices = run_format(tmp_path, [logs])
    assert len(data[0]["dialog"]) == 2 and indices == [[3]]
    # no context id: the item is named by file and line, so it is still traceable
    assert data[0]["item_id"] == "blender_90M:logs:1"


def test_bare_list_input_is_read_and_the_wrapper_is_written(tmp_path: Path) -> None:
    bare = [
        [{"text": "hi", "episode_done": False, "id": "human"}, {"text": "hello", "episode_done": False, "id": "bot"}],
        [{"text": "a line\nwith a newline", "episode_done": False, "id": "human"}, {"text": "ok", "episode_done": True, "id": "bot"}],
    ]
    logs = write_lines(tmp_path / "parlai_task_data.jsonl", [bare])
    data, indices = run_format(tmp_path, [logs], model="blender_3B")
    assert indices == [[3]]
    assert data[0]["dialog"][1][0]["text"] == "a line\nwith a newline"  # task data: texts are not split
    assert data[0]["model"] == "blender_3B"
    items = list(read_annotation_items(logs, write_lines(tmp_path / "idx.jsonl", [[1, 3]])))
    assert [item.utterances for item in items] == [["hi", "hello", "a line\nwith a newline", "ok"]]
    assert items[0].item_id == "1" and items[0].model is None and items[0].indices == [1, 3]


def test_all_bot_and_explicit_indices(tmp_path: Path) -> None:
    logs = write_lines(tmp_path / "logs.jsonl", [world_log_line(ELEVEN, "r"), world_log_line(ELEVEN[:3], "r", turn_range="0|1")])
    assert run_format(tmp_path, [logs], annotate=ANNOTATE_ALL_BOT)[1] == [[1, 3, 5], [1, 3]]
    assert run_format(tmp_path, [logs], indices=[0, 3])[1] == [[0, 3], [0, 3]]
    with pytest.raises(InputError) as err:
        run_format(tmp_path, [logs], indices=[5])
    assert (err.value.line, err.value.field) == (2, "--indices")  # the 2-pair conversation has no index 5


def test_model_name_from_act_id_sidecar_or_override(tmp_path: Path) -> None:
    ours = write_lines(tmp_path / "ours.jsonl", [world_log_line(ELEVEN, "r", model="demo_bot", context_id="c1")])
    parlai = write_lines(tmp_path / "parlai.jsonl", [world_log_line(ELEVEN, "r", model="TransformerGenerator", context_id="c1")])
    metadata_path_for(parlai).write_text(json.dumps(Metadata.new(opt={"model_file": "zoo:blender/blender_90M/model"}).to_json()))
    data, _ = run_format(tmp_path, [ours, parlai])
    assert [line["model"] for line in data] == ["demo_bot", "zoo:blender/blender_90M/model"]
    assert [line["item_id"] for line in data] == ["demo_bot:c1", "zoo:blender/blender_90M/model:c1"]
    data, _ = run_format(tmp_path, [parlai], model="b90")
    assert data[0]["model"] == "b90" and data[0]["item_id"] == "b90:c1"


def test_topic_is_carried_and_reformatting_our_output_is_stable(tmp_path: Path) -> None:
    logs = write_lines(tmp_path / "logs.jsonl", [world_log_line(ELEVEN, "r", context_id="hs001", topic="drugs")])
    data, indices = run_format(tmp_path, [logs])
    assert data[0]["topic"] == "drugs"
    again = write_lines(tmp_path / "again.jsonl", data)
    assert run_format(tmp_path, [again]) == (data, indices)


def test_multi_pair_world_logs_unfold_every_pair(tmp_path: Path) -> None:
    line = {"dialog": [
        [{"id": "t", "text": "h0"}, {"id": "m", "text": "b1"}],
        [{"id": "t", "text": "h2\nb3\nh4"}, {"id": "m", "text": "b5"}],
    ]}
    data, indices = run_format(tmp_path, [write_lines(tmp_path / "logs.jsonl", [line])])
    assert [act["text"] for pair in data[0]["dialog"] for act in pair] == ["h0", "b1", "h2", "b3", "h4", "b5"]
    assert indices == [[5]]


def test_lines_without_a_range_can_be_skipped_and_are_counted(tmp_path: Path) -> None:
    logs = write_lines(tmp_path / "logs.jsonl", [world_log_line(ELEVEN, "r", turn_range=None), world_log_line(ELEVEN, "r", context_id="x")])
    out = tmp_path / "out"
    report = format_world_logs([logs], out / "d.jsonl", out / "i.jsonl", only_with_range=True)
    assert (report.lines_read, report.written, report.skipped_without_range) == (2, 1, 1)
    assert dict(report.per_model) == {"blender_90M": 1}


BAD_LINES = [
    ("not json", "{oops", "invalid JSON", None),
    ("missing dialog", {"text": "hi"}, "missing key 'dialog'", "dialog"),
    ("reversed range", world_log_line(ELEVEN, "r", turn_range="5|3"), "reversed", "dialog[0][0].human_eval_turn_range"),
    ("range past the end", world_log_line(ELEVEN, "r", turn_range="3|6"), "must end at the last pair", "dialog[0][0].human_eval_turn_range"),
    ("range not ints", world_log_line(ELEVEN, "r", turn_range="a|b"), "two non-negative integers", "dialog[0][0].human_eval_turn_range"),
    ("empty reply", world_log_line(ELEVEN, "  "), "empty text", "dialog[0][1].text"),
    ("empty utterance", world_log_line(["hi", "", "there"], "r", turn_range=None), "empty utterance", "dialog[0][0].text"),
    ("even lines", world_log_line(ELEVEN[:2], "r", turn_range=None), "odd number", "dialog[0][0].text"),
    ("no reply", {"dialog": [[{"id": "t", "text": "hi"}]]}, "no model reply", "dialog[0]"),
    ("empty dialog", {"dialog": []}, "no pairs", "dialog"),
]


@pytest.mark.parametrize(("case", "bad", "problem", "field"), BAD_LINES, ids=[case[0] for case in BAD_LINES])
def test_bad_line_is_located_and_nothing_is_written(tmp_path: Path, case: str, bad: Any, problem: str, field: str | None) -> None:
    logs = tmp_path / "logs.jsonl"
    good = json.dumps(world_log_line(ELEVEN, "r", context_id="a"))
    logs.write_text(good + "\n\n" + (bad if isinstance(bad, str) else json.dumps(bad)) + "\n")
    out = tmp_path / "out"
    with pytest.raises(InputError, match=problem) as err:
        format_world_logs([logs], out / "task_data.jsonl", out / "annotation_indices.jsonl")
    assert (err.value.path, err.value.line, err.value.field) == (str(logs), 3, field)
    assert not out.exists()  # neither the good first line nor an empty out-dir was left behind


def test_a_repeated_item_id_is_refused(tmp_path: Path) -> None:
    line = world_log_line(ELEVEN, "r", context_id="same")
    logs = write_lines(tmp_path / "logs.jsonl", [line, line])
    with pytest.raises(InputError, match="appears twice") as err:
        run_format(tmp_path, [logs])
    assert err.value.line == 2


def test_iter_annotation_items_streams_with_sources(tmp_path: Path) -> None:
    logs = write_lines(tmp_path / "logs.jsonl", [world_log_line(ELEVEN, "r", context_id=f"c{i}") for i in range(3)])
    items = iter_annotation_items(logs)
    first = next(items)
    assert (first.source_path, first.source_line, first.n_pairs) == (str(logs), 1, 3)
    assert [item.source_line for item in items] == [2, 3]


@pytest.mark.parametrize(
    ("data_lines", "index_lines", "where", "problem"),
    [
        (2, 1, ("task_data.jsonl", 2), "annotation_indices.jsonl has only 1 lines"),
        (1, 2, ("annotation_indices.jsonl", 2), "task_data.jsonl has only 1 lines"),
    ],
)
def test_reader_requires_one_index_line_per_conversation(
    tmp_path: Path, data_lines: int, index_lines: int, where: tuple[str, int], problem: str
) -> None:
    logs = write_lines(tmp_path / "logs.jsonl", [world_log_line(ELEVEN, "r", context_id=f"c{i}") for i in range(data_lines)])
    data_path, idx_path = tmp_path / "task_data.jsonl", tmp_path / "annotation_indices.jsonl"
    format_world_logs([logs], data_path, idx_path)
    write_lines(idx_path, [[5]] * index_lines)
    with pytest.raises(InputError, match=problem) as err:
        list(read_annotation_items(data_path, idx_path))
    assert (Path(err.value.path).name, err.value.line) == where


@pytest.mark.parametrize(("indices", "problem"), [([6], "outside"), ([], "non-empty"), (["1"], "not an integer"), ({"a": 1}, "non-empty JSON list")])
def test_reader_checks_indices_against_their_conversation(tmp_path: Path, indices: Any, problem: str) -> None:
    data_path = write_lines(tmp_path / "task_data.jsonl", [{"dialog": [[{"id": "human", "text": "a"}, {"id": "bot", "text": "b"}]] * 3}])
    idx_path = write_lines(tmp_path / "idx.jsonl", [indices])
    with pytest.raises(InputError, match=problem) as err:
        list(read_annotation_items(data_path, idx_path))
    assert (err.value.path, err.value.line) == (str(idx_path), 1)


def test_reader_locates_a_bad_conversation(tmp_path: Path) -> None:
    data_path = write_lines(tmp_path / "task_data.jsonl", [{"dialog": [[{"id": "human", "text": "a"}, {"id": "bot", "text": ""}]]}])
    idx_path = write_lines(tmp_path / "idx.jsonl", [[1]])
    with pytest.raises(InputError, match="empty text") as err:
        list(read_annotation_items(data_path, idx_path))
    assert (err.value.path, err.value.line, err.value.field) == (str(data_path), 1, "dialog[0][1].text")
