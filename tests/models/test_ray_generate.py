"""`models generate --ray` on a local Ray instance (CPU, 127.0.0.1 only, started and stopped here): the world
log equals the single-process one byte for byte, and a rerun after a job killed with SIGKILL generates only
the shards that were missing. The model is the tiny imported fixture (greedy), so Ray's own start-up is
most of the time."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from generator_fixtures import FAST_RECIPE, tiny_registry
from local_ray import RAY_MISSING, listeners_beyond_loopback, local_ray_instance, ray_processes, refused_address

from humaneval.models.__main__ import main
from humaneval.input_errors import InputError
from humaneval.models.ray_session import auto_target, cluster_address, on_loopback

pytestmark = pytest.mark.skipif(RAY_MISSING, reason="humaneval[scale] not installed")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One Ray instance for the module; afterwards none of the processes it started may be alive."""
    with local_ray_instance():
        yield


def _contexts(path: Path, count: int = 9) -> Path:
    lines: list[dict[str, Any]] = [{"id": "bad_eval", "text": f"hi there\nwhat do you think of topic {i}?"}
                                   for i in range(count)]
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


def _start_generate(folder: Path, contexts: Path, registry: Path, log: Path, *extra: str,
                    **environment: str) -> subprocess.Popen[bytes]:
    """`generate --ray` as a user runs it: its own process (with `environment` added to ours), which starts
    its own local Ray instance; its output goes to `log` (a pipe nobody reads while it runs could fill and
    stall it)."""
    folder.mkdir(exist_ok=True)
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "humaneval.models", "generate", str(contexts), "--out", "logs.jsonl",
             "--registry", str(registry), "--batch-size", "1", "--shard-size", "1", "--no-progress", "--ray",
             *extra],
            cwd=folder, env=dict(os.environ, PYTHONPATH=str(REPO), **environment), stdout=out,
            stderr=subprocess.STDOUT)


def _kill_after_first_shards(job: subprocess.Popen[bytes], work: Path, log: Path) -> list[str]:
    """SIGKILL the job once shards are being saved; returns what listened beyond loopback while it ran."""
    deadline = time.monotonic() + 240
    while not any(work.glob("shard-*.json")):
        assert job.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "no shard was saved in 240 s"
        time.sleep(0.02)
    root = psutil.Process(job.pid)
    exposed = listeners_beyond_loopback(root)  # the CLI's own instance, with its workers at work
    servers = ray_processes(root)
    assert servers  # the job's GCS and raylet, which must not outlive it
    job.send_signal(signal.SIGKILL)
    job.wait(timeout=30)
    _, alive = psutil.wait_procs(servers, timeout=30)
    for process in alive:  # never leave a Ray instance running, then fail
        process.kill()
    assert [p.name() for p in alive] == []
    return exposed


def test_a_job_killed_with_sigkill_reruns_only_the_missing_shards(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The job is killed (SIGKILL, no clean-up of any kind) while its workers save shards; its Ray instance
    dies with it, the rerun generates only the shards that were not saved, and the world log it writes is
    the single-process one, byte for byte, with the same sidecar."""
    contexts = _contexts(tmp_path / "contexts.jsonl", count=80)
    registry = tiny_registry(tmp_path)
    folder, work = tmp_path / "ray", tmp_path / "ray" / "logs.jsonl.shards"
    log = tmp_path / "job.log"
    killed = _start_generate(folder, contexts, registry, log)
    assert _kill_after_first_shards(killed, work, log) == []
    saved = len(list(work.glob("shard-*.json")))
    assert 1 <= saved < 81 and not (folder / "logs.jsonl").exists()

    rerun = _start_generate(folder, contexts, registry, log)
    assert rerun.wait(timeout=600) == 0, log.read_text()
    assert f"81 shards of up to 1 items in logs.jsonl.shards: {saved} already complete, running {81 - saved}" in log.read_text()
    assert not work.exists()  # the work folder goes once the log is written

    assert _generate(tmp_path / "single", contexts, monkeypatch, "--batch-size", "1") == 0
    single, sharded = tmp_path / "single" / "logs.jsonl", folder / "logs.jsonl"
    assert sharded.read_bytes() == single.read_bytes()
    assert len(single.read_bytes().splitlines()) == 81
    assert _sidecar_without_date(folder) == _sidecar_without_date(tmp_path / "single")


def test_no_address_means_a_local_instance_even_with_ray_address_set(tmp_path: Path) -> None:
    """RAY_ADDRESS is how Ray finds a cluster (a shell on a cluster node may export it). With no address
    configured, `--ray` still starts its own instance on loopback, and says it did not use the variable;
    Ray itself, given no address, tried to join that cluster and failed with a traceback."""
    contexts = _contexts(tmp_path / "contexts.jsonl", count=2)
    log = tmp_path / "job.log"
    with refused_address() as nothing:
        job = _start_generate(tmp_path / "ray", contexts, tiny_registry(tmp_path), log, RAY_ADDRESS=nothing)
        assert job.wait(timeout=300) == 0, log.read_text()
    assert "RAY_ADDRESS is set but not used" in log.read_text()
    assert len((tmp_path / "ray" / "logs.jsonl").read_bytes().splitlines()) == 3


@pytest.mark.parametrize("address", [None, "", " ", "local"])
def test_every_way_of_saying_no_cluster_gets_the_loopback_instance(address: str | None) -> None:
    """"local" is Ray's own word for a new local instance; taken for a cluster address, it skipped the
    loopback switch and check, and the instance listened on every interface."""
    assert cluster_address(address) is None


@pytest.mark.parametrize(("address", "cluster"), [("auto", "auto"), ("10.0.0.5:6379", "10.0.0.5:6379"),
                                                 (" head-1.example:6379 ", "head-1.example:6379"),
                                                 ("[::1]:6379", "[::1]:6379"), ("head_1:06379", "head_1:06379")])
def test_a_cluster_address_is_kept(address: str, cluster: str) -> None:
    assert cluster_address(address) == cluster


@pytest.mark.parametrize("address", ["nonsense", "10.0.0.5", "10.0.0.5:0", "10.0.0.5:65536", "ray://10.0.0.5:10001",
                                     "10.0.0.5:6379/x", "head node:6379", "[1.2.3.4]:6379", "0.0.0.0:6379",
                                     "[::]:6379", "-:6379", "..:6379", "10.0.0.5:\u0666\u0663\u0667\u0669"])
def test_a_malformed_address_is_refused_before_anything_is_written(address: str, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Ray refused these only when it connected, with a traceback, after the work folder was made."""
    contexts = _contexts(tmp_path / "contexts.jsonl", count=2)
    with pytest.raises(SystemExit) as exc:
        _generate(tmp_path / "ray", contexts, monkeypatch, "--ray", f"--ray-address={address}")
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--ray-address" in err and "is not a Ray cluster address" in err and "Traceback" not in err
    assert list((tmp_path / "ray").iterdir()) == []  # the folder it ran in: no work folder, no output


@pytest.mark.timeout(120)
@pytest.mark.parametrize("how", ["--ray-address", "RAY_ADDRESS with auto"])
def test_an_address_nothing_answers_on_fails_at_once(how: str, tmp_path: Path) -> None:
    """Ray retried such an address without end (still waiting after 10 minutes, printing gRPC warnings). Its
    own process, as a user runs it: in this one a Ray instance of another test would be used instead."""
    contexts = _contexts(tmp_path / "contexts.jsonl", count=2)
    with refused_address() as closed:
        flag, environment = (closed, {}) if how == "--ray-address" else ("auto", {"RAY_ADDRESS": closed})
        job = _start_generate(tmp_path / "ray", contexts, tiny_registry(tmp_path), tmp_path / "job.log",
                              "--ray-address", flag, **environment)
        assert job.wait(timeout=100) == 2
    said = (tmp_path / "job.log").read_text()
    assert f"no Ray cluster answers at {closed}" in said and "Traceback" not in said, said
    assert list((tmp_path / "ray").iterdir()) == []


def test_auto_finds_the_cluster_as_ray_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`auto` is RAY_ADDRESS, else the last `ray start` here (Ray's ray_current_cluster file): a loopback one
    gets the loopback switch, and the address is checked before Ray is asked."""
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path))
    assert auto_target() is None and not on_loopback("auto")
    (tmp_path / "ray").mkdir()
    (tmp_path / "ray" / "ray_current_cluster").write_text("127.0.0.1:6380\n")
    assert auto_target() == "127.0.0.1:6380" and on_loopback("auto")
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.5:6379")
    assert auto_target() == "10.0.0.5:6379" and not on_loopback("auto")
    for bad in ("nonsense", "http://10.0.0.5:8265", "local"):
        monkeypatch.setenv("RAY_ADDRESS", bad)
        with pytest.raises(InputError) as err:
            on_loopback("auto")
        assert err.value.field == "RAY_ADDRESS"


@pytest.mark.parametrize("flag", [["--ray-address", "auto"], ["--ray-workers", "2"], ["--shard-size", "2"]])
@pytest.mark.parametrize("verb", ["generate", "self-chat"])
def test_a_ray_flag_without_ray_is_refused(flag: list[str], verb: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Without --ray the run would quietly be a single-process one."""
    contexts = _contexts(tmp_path / "contexts.jsonl", count=2)
    inputs = [str(contexts)] if verb == "generate" else []
    with pytest.raises(SystemExit) as exc:
        main([verb, *inputs, "--out", str(tmp_path / "out.jsonl"), *flag])
    assert exc.value.code == 2
    assert f"{flag[0]} only applies with --ray" in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists()


def test_ray_output_equals_the_single_process_output(local_ray: None, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    contexts = _contexts(tmp_path / "contexts.jsonl")
    assert _generate(tmp_path / "single", contexts, monkeypatch) == 0
    assert _generate(tmp_path / "ray", contexts, monkeypatch, "--ray", "--shard-size", "2") == 0
    single, sharded = tmp_path / "single" / "logs.jsonl", tmp_path / "ray" / "logs.jsonl"
    assert sharded.read_bytes() == single.read_bytes()
    assert len(single.read_bytes().splitlines()) == 10
    assert _sidecar_without_date(tmp_path / "ray") == _sidecar_without_date(tmp_path / "single")
    assert listeners_beyond_loopback(psutil.Process()) == []


def test_a_sampling_recipe_is_refused_and_leaves_nothing(local_ray: None, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    contexts = _contexts(tmp_path / "contexts.jsonl", count=2)
    registry = tiny_registry(tmp_path, recipe={**FAST_RECIPE, "inference": "topk", "topk": 5})
    (tmp_path / "ray").mkdir()
    monkeypatch.chdir(tmp_path / "ray")
    with pytest.raises(SystemExit) as exc:
        main(["generate", str(contexts), "--out", "logs.jsonl", "--registry", str(registry), "--no-progress", "--ray"])
    assert exc.value.code == 2 and "needs deterministic decoding" in capsys.readouterr().err
    assert list((tmp_path / "ray").iterdir()) == []  # no work folder with a plan for a run that cannot be


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
