"""`models generate --ray`: the contexts answered in shards by Ray workers, resumably.

Why shards and not Ray Data: a shard is the unit that is both generated and saved, so a job killed after
hours loses only the shards in flight. Each shard is a run of whole batches of consecutive contexts, so a
worker builds the very batches the single-process run builds for them (`answer_episodes`), and the replies
it returns are written by the driver to the work folder beside the output (`<out>.shards/`): first to a
hidden file, then renamed into place, so a shard file that exists is complete. A rerun with the same
input and settings (checked against the folder's plan.json) generates only the missing shards; when all
are there the world log is built from them in input order by `cli_generate` exactly as a single-process
run builds it, and the folder is removed.

Identical output needs deterministic decoding: greedy and beam decoding give every context the same reply
whatever else is in flight, while sampling would draw from one random stream split differently, so
sampling recipes (topk, nucleus) are refused here, as are remote models (an openai_compatible engine
scales itself). Only the `ray_*` modules import Ray (humaneval[scale]).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from humaneval.input_errors import InputError
from humaneval.models.cli_generate import Episode, answer_episodes, recipe_of
from humaneval.models.ray_session import ray_session
from humaneval.models.registry import ModelSpec

SHARD_BATCHES = 4  # default shard: 4 batches, small enough to lose little to a kill, big enough to batch
SAMPLING_INFERENCE = ("topk", "nucleus")


@dataclass(frozen=True)
class RayGenerateOptions:
    """The `generate` flags that shape a Ray run."""

    registry: str | None
    batch_size: int
    seed: int
    split_lines: bool
    shard_size: int | None = None  # contexts per shard (rounded up to whole batches); None: SHARD_BATCHES
    workers: int | None = None  # model copies at once; None: the cluster's CPUs
    address: str | None = None  # an existing cluster; None: a local instance on 127.0.0.1


def shard_bounds(count: int, batch_size: int, shard_size: int | None) -> list[tuple[int, int]]:
    """[start, end) of each shard: whole batches of consecutive contexts, the last one possibly short."""
    batches = -(-(shard_size or batch_size * SHARD_BATCHES) // batch_size)
    size = batches * batch_size
    return [(start, min(start + size, count)) for start in range(0, count, size)]


def work_folder_for(out: Path) -> Path:
    """Where the shards of `out` wait: beside it, so a rerun of the same command finds them."""
    return out.with_name(out.name + ".shards")


class ShardFolder:
    """The work folder: plan.json (what run the shards belong to) and shard-NNNNN.json files."""

    def __init__(self, path: Path, plan: dict[str, Any]) -> None:
        self.path = path
        self.plan = plan
        plan_path = path / "plan.json"
        if plan_path.exists():
            existing = json.loads(plan_path.read_text(encoding="utf-8"))
            if existing != plan:
                changed = sorted(k for k in plan.keys() | existing.keys() if plan.get(k) != existing.get(k))
                raise InputError(f"holds shards of another run (differs in {', '.join(changed)}); delete the folder "
                                 "to start over, or rerun with the settings of that run", path=path, field="--out")

    def create(self) -> None:
        """The folder with its plan, made once Ray is up: a run that cannot reach its cluster leaves nothing."""
        if not (self.path / "plan.json").exists():
            self.path.mkdir(parents=True, exist_ok=True)
            _write_atomically(self.path / "plan.json", self.plan)

    def shard_path(self, index: int) -> Path:
        return self.path / f"shard-{index:05d}.json"

    def complete(self, index: int) -> bool:
        return self.shard_path(index).exists()

    def write(self, index: int, replies: list[list[str]], recipe: dict[str, Any]) -> None:
        _write_atomically(self.shard_path(index), {"recipe": recipe, "replies": replies})

    def read(self, index: int, size: int) -> tuple[list[list[str]], dict[str, Any]]:
        data = json.loads(self.shard_path(index).read_text(encoding="utf-8"))
        if len(data["replies"]) != size:
            raise InputError(f"holds {len(data['replies'])} items, the plan {size}; delete it to regenerate it",
                             path=self.shard_path(index))
        return data["replies"], data["recipe"]

    def remove(self) -> None:
        shutil.rmtree(self.path)


def _write_atomically(path: Path, data: Any) -> None:
    staged = path.with_name(f".{path.name}.tmp")
    staged.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(staged, path)


def run_plan(inputs_sha256: str, spec: ModelSpec, options: RayGenerateOptions, bounds: list[tuple[int, int]],
             **settings: Any) -> dict[str, Any]:
    """What makes two runs' shards interchangeable: the inputs, the model and the settings."""
    return {
        "source_sha256": inputs_sha256,
        "model": spec.name,
        **{k: str(v) for k, v in spec.provenance().items()},
        "device": spec.device,
        "dtype": spec.dtype,
        "batch_size": options.batch_size,
        "shards": [list(b) for b in bounds],
        "seed": options.seed,
        **settings,
    }


class ShardWorker:
    """One copy of the model on a Ray worker (made an actor by `run_sharded`): answers shards."""

    def __init__(self, spec: ModelSpec, batch_size: int, threads: int) -> None:
        import torch

        from humaneval.models.registry import load_generator

        torch.set_num_threads(threads)
        self.model = load_generator(spec)
        self.model.max_batch_size = batch_size

    def recipe(self) -> dict[str, Any]:
        return recipe_of(self.model)

    def answer(self, index: int, episodes: list[Episode], seed: int, split_lines: bool) -> tuple[int, list[list[str]]]:
        """`generate`'s work on one shard of episodes: each episode's replies."""
        import torch

        torch.manual_seed(seed)
        answer_episodes(self.model, episodes, split_lines, lambda _: None)
        return index, [e.replies for e in episodes]

    def self_chat(self, index: int, chats: list[Any], turns: int, opening: str, seed: int) -> tuple[int, list[list[str]]]:
        """`self-chat`'s work on one shard of chats: each chat's utterances."""
        import torch

        from humaneval.models.cli_self_chat import run_self_chats

        torch.manual_seed(seed)
        return index, run_self_chats(self.model, chats, turns, opening, lambda _: None)


def generate_on_ray(source: Path, out: Path, spec: ModelSpec, episodes: list[Episode],
                    options: RayGenerateOptions) -> tuple[dict[str, Any], float, float]:
    """Fill every episode's replies from shards (generating the missing ones on Ray); returns the recipe and
    (start-up s, generate s) as the single-process run does."""
    started = time.time()

    def job(shard: list[Episode]) -> tuple[str, tuple[Any, ...]]:
        fresh = [dataclasses.replace(copy.deepcopy(e), replies=[]) for e in shard]
        return "answer", (fresh, options.seed, options.split_lines)

    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    recipe, replies, startup = run_sharded(out, spec, options, episodes, job, digest, split_lines=options.split_lines)
    for episode, said in zip(episodes, replies, strict=True):
        episode.replies[:] = said
    return recipe, startup, time.time() - started - startup


def self_chat_on_ray(out: Path, spec: ModelSpec, chats: list[Any], turns: int, opening: str,
                     options: RayGenerateOptions) -> tuple[dict[str, Any], list[list[str]]]:
    """`self-chat --ray`: every chat's utterances from shards of chats; returns (recipe, utterances)."""
    def job(shard: list[Any]) -> tuple[str, tuple[Any, ...]]:
        return "self_chat", (shard, turns, opening, options.seed)

    digest = hashlib.sha256(json.dumps([vars(c) for c in chats], sort_keys=True).encode()).hexdigest()
    recipe, utterances, _ = run_sharded(out, spec, options, chats, job, digest, turns=turns, opening=opening)
    return recipe, utterances


def run_sharded(out: Path, spec: ModelSpec, options: RayGenerateOptions, items: list[Any],
                job: Callable[[list[Any]], tuple[str, tuple[Any, ...]]], inputs_sha256: str,
                **settings: Any) -> tuple[dict[str, Any], list[list[str]], float]:
    """Each item's strings, in order, from the shards of `items` (the missing ones run on Ray as `job(shard)`:
    a ShardWorker method and its arguments); returns (recipe, strings per item, start-up seconds)."""
    if spec.kind != "generator":
        raise InputError(f"--ray runs local generators; {spec.name!r} is {spec.kind} (its engine scales itself)",
                         field="--ray")
    bounds = shard_bounds(len(items), options.batch_size, options.shard_size)
    folder = ShardFolder(work_folder_for(out), run_plan(inputs_sha256, spec, options, bounds, **settings))
    missing = [i for i in range(len(bounds)) if not folder.complete(i)]
    print(f"ray: {len(bounds)} shards of up to {bounds[0][1] - bounds[0][0]} items in {folder.path}: "
          f"{len(bounds) - len(missing)} already complete, running {len(missing)}", file=sys.stderr, flush=True)
    jobs = {i: job(items[bounds[i][0]:bounds[i][1]]) for i in missing}
    startup = _run_shards(folder, spec, options, jobs) if jobs else 0.0
    recipe: dict[str, Any] = {}
    results: list[list[str]] = []
    for index, (start, end) in enumerate(bounds):
        shard, recipe = folder.read(index, end - start)
        results += shard
    folder.remove()
    return recipe, results, startup


def _run_shards(folder: ShardFolder, spec: ModelSpec, options: RayGenerateOptions,
                jobs: dict[int, tuple[str, tuple[Any, ...]]]) -> float:
    """Run the shards' jobs on an actor pool, writing each as it arrives; returns the start-up seconds."""
    started = time.time()
    with ray_session(options.address) as ray:
        from ray.util import ActorPool

        cpus = int(ray.cluster_resources().get("CPU", 1))
        count = max(1, min(options.workers or cpus, len(jobs)))
        actor = ray.remote(num_cpus=1)(ShardWorker)
        workers = [actor.remote(spec, options.batch_size, 1) for _ in range(count)]
        try:
            recipe = ray.get(workers[0].recipe.remote())
            if recipe.get("inference") in SAMPLING_INFERENCE:
                raise InputError(f"--ray needs deterministic decoding (greedy or beam) to reproduce the single-process "
                                 f"output; {spec.name!r} samples ({recipe['inference']})", field="--ray")
            folder.create()
            startup = time.time() - started
            pool = ActorPool(workers)
            for index, (method, args) in jobs.items():
                pool.submit(lambda w, call: getattr(w, call[0]).remote(call[1], *call[2]), (method, index, args))
            while pool.has_next():
                index, strings = pool.get_next_unordered()
                folder.write(index, strings, recipe)
        finally:
            for worker in workers:
                ray.kill(worker)
    return startup
