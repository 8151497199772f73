"""`models generate --ray` on a local Ray instance (CPU, 127.0.0.1, started and stopped here): the world log
equals the single-process one byte for byte, and a rerun after a driver that died mid-run generates only
the shards that were missing. The model is the tiny imported fixture (greedy), so Ray's own start-up is
most of the time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from generator_fixtures import tiny_registry

from humaneval.models.__main__ import main

ray = pytest.importorskip("ray", reason="humaneval[scale] not installed")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One Ray instance for the module; afterwards none of the processes it started may be alive."""
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False,
             configure_logging=False)
    started = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
    assert any("raylet" in p.name() for p in started)
    yield
    ray.shutdown()
    _, alive = psutil.wait_procs(started, timeout=30)
    assert [p.pid for p in alive] == []


def _contexts(path: Path) -> Path:
    lines: list[dict[str, Any]] = [{"id": "bad_eval", "text": f"hi there\nwhat do you think of topic {i}?"} for i in range(9)]
    lines.insert(3, {"dialog": [[{"text": "hello"}, {"text": "x"}], [{"text": "do you like music?"}, {"text": "y"}]],
                     "context": [{"id": "context", "text": "your persona: i like jazz."}]})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def _generate(folder: Path, contexts: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> int:
    """Run generate in `folder` with a relative --out, so the lines' metadata_path is the same in every run."""
    folder.mkdir(exist_ok=True)
    registry = tiny_registry(folder.parent)
    monkeypatch.chdir(folder)
    return main(["generate", str(contexts), "--out", "logs.jsonl", "--registry", str(registry), "--batch-size", "2",
                 "--no-progress", *extra])


def _sidecar_without_date(folder: Path) -> dict[str, Any]:
    meta = json.loads((folder / "logs.metadata").read_text())
    meta.pop("date")
    return meta


class DriverKilled(Exception):
    """Stands for the driver dying after some shards were saved."""


def test_killed_then_rerun_ray_output_equals_the_single_process_output(
        local_ray: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """One test for both (each Ray run costs seconds of worker start-up): the driver dies after two shards,
    the rerun generates only the other three, and what it writes is the single-process world log, byte
    for byte, with the same sidecar."""
    from humaneval.models.ray_generate import ShardFolder

    contexts = _contexts(tmp_path / "contexts.jsonl")
    assert _generate(tmp_path / "single", contexts, monkeypatch) == 0
    write = ShardFolder.write
    saved: list[int] = []

    def write_two_then_die(self: ShardFolder, index: int, *args: Any) -> None:
        if len(saved) == 2:
            raise DriverKilled
        write(self, index, *args)
        saved.append(index)

    monkeypatch.setattr(ShardFolder, "write", write_two_then_die)
    with pytest.raises(DriverKilled):
        _generate(tmp_path / "ray", contexts, monkeypatch, "--ray", "--shard-size", "2")
    work = tmp_path / "ray" / "logs.jsonl.shards"
    assert sorted(p.name for p in work.glob("shard-*.json")) == [f"shard-{i:05d}.json" for i in sorted(saved)]
    assert not (tmp_path / "ray" / "logs.jsonl").exists()
    monkeypatch.setattr(ShardFolder, "write", write)
    capsys.readouterr()

    assert _generate(tmp_path / "ray", contexts, monkeypatch, "--ray", "--shard-size", "2") == 0
    assert "5 shards of up to 2 items" in (err := capsys.readouterr().err)
    assert "2 already complete, running 3" in err
    single, sharded = tmp_path / "single" / "logs.jsonl", tmp_path / "ray" / "logs.jsonl"
    assert sharded.read_bytes() == single.read_bytes()
    assert len(single.read_bytes().splitlines()) == 10
    assert _sidecar_without_date(tmp_path / "ray") == _sidecar_without_date(tmp_path / "single")
    assert not work.exists()  # the work folder goes once the log is written


def test_shards_of_another_run_are_refused(local_ray: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    contexts = _contexts(tmp_path / "contexts.jsonl")
    work = tmp_path / "ray" / "logs.jsonl.shards"
    work.mkdir(parents=True)
    (work / "plan.json").write_text(json.dumps({"model": "tiny", "seed": 7}))
    with pytest.raises(SystemExit) as exc:
        _generate(tmp_path / "ray", contexts, monkeypatch, "--ray")
    assert exc.value.code == 2
    assert "holds shards of another run" in capsys.readouterr().err


def test_ray_self_chats_equal_the_single_process_ones(local_ray: None, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    registry = tiny_registry(tmp_path)
    outputs = {}
    for name, extra in (("single", []), ("ray", ["--ray", "--shard-size", "2"])):
        (tmp_path / name).mkdir()
        monkeypatch.chdir(tmp_path / name)
        assert main(["self-chat", "--out", "chats.jsonl", "--registry", str(registry), "--num-chats", "6",
                     "--turns", "2", "--batch-size", "2", "--no-progress", *extra]) == 0
        outputs[name] = (tmp_path / name / "chats.jsonl").read_bytes()
    assert outputs["ray"] == outputs["single"] and len(outputs["single"].splitlines()) == 6
