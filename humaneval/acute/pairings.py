"""Build ACUTE-Eval pairings (docs/formats.md, "ACUTE pairings") from Conversations logs named by model.

The logs are ParlAI Conversations or chat-format (OpenAI messages) JSONL, both read by `humaneval.conversations`.

A pairing puts one conversation of model A beside one of model B and names, in each, the speaker
the worker judges. Getting that speaker wrong silently evaluates the human or the teacher, so the
rule is explicit, logged, and overridable (docs/acute_pairings.md):

1. `speaker=ID` given for the model: the turns of that speaker id.
2. `speaker_position=0|1` given: the act at that position in every dialog pair.
3. a chat-format file: the `assistant` messages (the human partner writes the `user` ones). The model
   is the one named on the command line; a `model` key on the lines is not used, but more than one
   distinct value in a file is reported (a log of several models would be judged as one).
4. sidecar says `self_chat: true`: position 0, the side that opens each chat (ParlAI's
   `speaker_idx=0`); both sides are the model, so one is picked consistently.
5. the model's own name is a speaker id in the file: that speaker.
6. sidecar `speakers` names exactly two ids: the second (`[teacher, model]` in `eval_model
   --world-logs` logs, `[human, bot]` in ParlAI human–model chats).
7. only one speaker id in the whole file: that one.
8. every dialog pair holds two acts (the last may hold one): position 1, the replying side (same
   convention as 6).
Otherwise building stops and asks for `speaker=` / `speaker_position=`. If the chosen id speaks on
both sides of a pair (a self-chat whose two sides share one id), position 0 is used instead.

In the pairing, the evaluated speaker's turns carry the model name (so `speakers_to_eval` are
model names, which the export and the analysis report); other speakers keep their ids unless one
equals a model name, which becomes `other_speaker`. Context acts (personas, topics; top-level or
inside `dialog`) are kept in each dialogue's `context` — ParlAI's fast pipeline drops them.

Choosing conversations: for every unordered model pair, `pairs_per_model_pair` conversations of
each model are drawn, least-used first with seeded random tie-breaks. So within a matchup no
conversation repeats unless the model has fewer conversations than pairs requested, and across
matchups every conversation of a model is used as evenly as possible. The pairs are then shuffled
(seeded) so that a queue served in file order mixes matchups. Same inputs + same seed = same file.

Files are streamed twice (scan, then build only the selected conversations), so memory grows with
the pairs written, not with the size of the logs.
"""

from __future__ import annotations

import itertools
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from humaneval.acute.pairings_validation import assign_pair_ids
from humaneval.conversations import (
    ASSISTANT_ID,
    CHAT_SHAPE,
    Conversation,
    Metadata,
    iter_conversations,
    read_metadata,
)
from humaneval.input_errors import InputError
from humaneval.jsonl import write_jsonl
from humaneval.page_images import (
    ALT_KEY,
    DEFAULT_ALT,
    IMAGE_KEY,
    EpisodeImage,
    PageImages,
    folder_of,
    line_image,
    portable_src,
)

logger = logging.getLogger(__name__)

OTHER_SPEAKER = "other_speaker"
DEFAULT_PAIRS_PER_MODEL_PAIR = 60
DEFAULT_SEED = 42

ProgressCallback = Callable[[str], None]


@dataclass(frozen=True)
class ModelLogs:
    """One model's conversations file and, optionally, how to find its speaker in it."""

    model: str
    path: Path
    speaker: str | None = None
    speaker_position: int | None = None


@dataclass(frozen=True)
class SpeakerChoice:
    """Which turns of a conversation are the model's: by speaker id or by position in each act pair."""

    speaker: str | None
    position: int | None
    rule: str

    def describe(self) -> str:
        target = f"speaker id {self.speaker!r}" if self.speaker is not None else f"act {self.position} of every pair"
        return f"{target} ({self.rule})"


@dataclass
class FileScan:
    """What the first pass learns about a file: enough to choose the speaker and the conversations."""

    count: int = 0
    metadata: Metadata | None = None
    speakers: dict[str, None] = field(default_factory=dict)
    every_pair_has_two_acts: bool = True
    ids_on_both_sides: set[str] = field(default_factory=set)
    chat_format: bool = False
    line_models: dict[str, None] = field(default_factory=dict)
    """Distinct `model` keys of the lines (chat logs from LLM stacks carry one), in order of appearance."""


@dataclass
class PairingsReport:
    """What was built, for the CLI summary and the tests."""

    pairs: int
    conversations: dict[str, int]
    speakers: dict[str, SpeakerChoice]
    per_model_pair: dict[tuple[str, str], int]
    reused_within_matchup: dict[tuple[str, str], int]


PROGRESS_EVERY = 10_000


def scan_file(logs: ModelLogs, progress: ProgressCallback | None = None) -> FileScan:
    """First pass: count and check every conversation and collect the speaker facts."""
    scan = FileScan(metadata=read_metadata(logs.path))
    for conv in iter_conversations(logs.path):
        scan.count += 1
        scan.chat_format = conv.shape == CHAT_SHAPE  # one shape per file: iter_conversations checks it
        line_model = conv.extra.get("model")
        if isinstance(line_model, str):
            scan.line_models.setdefault(line_model, None)
        if progress is not None and scan.count % PROGRESS_EVERY == 0:
            progress(f"  {scan.count} conversations read")
        last = len(conv.dialog) - 1
        for k, pair in enumerate(conv.dialog):
            acts = [turn for turn in pair if not turn.is_context]
            # A chat may end on an unanswered first act: [human, bot], ..., [human].
            if len(acts) != 2 and not (k == last and len(acts) == 1):
                scan.every_pair_has_two_acts = False
            if len(acts) >= 2 and acts[0].speaker == acts[1].speaker:
                scan.ids_on_both_sides.add(acts[0].speaker)
            for turn in acts:
                scan.speakers.setdefault(turn.speaker, None)
    if scan.count == 0:
        raise InputError(f"no conversations for model {logs.model!r}", path=logs.path)
    return scan


def resolve_speaker(logs: ModelLogs, scan: FileScan) -> SpeakerChoice:
    """Apply the rule of the module docstring; raise `InputError` when it cannot decide."""
    choice = _resolve_speaker_raw(logs, scan)
    if choice.speaker is not None and choice.speaker in scan.ids_on_both_sides and logs.speaker is None:
        return SpeakerChoice(None, 0, f"{choice.speaker!r} speaks on both sides of a pair: the side that opens each chat")
    return choice


def _resolve_speaker_raw(logs: ModelLogs, scan: FileScan) -> SpeakerChoice:
    if logs.speaker is not None:
        return SpeakerChoice(logs.speaker, None, "given")
    if logs.speaker_position is not None:
        if logs.speaker_position not in (0, 1):
            raise InputError(f"speaker position must be 0 or 1, got {logs.speaker_position}", field="--speaker-position")
        return SpeakerChoice(None, logs.speaker_position, "given")
    if scan.chat_format:
        return SpeakerChoice(ASSISTANT_ID, None, "the assistant messages of a chat-format file")
    meta = scan.metadata
    if meta is not None and meta.self_chat:
        return SpeakerChoice(None, 0, "self-chat: the side that opens each chat, as ParlAI's speaker_idx=0")
    if logs.model in scan.speakers:
        return SpeakerChoice(logs.model, None, "the model's name is a speaker id")
    if meta is not None and meta.speakers is not None and len(meta.speakers) == 2:
        return SpeakerChoice(meta.speakers[1], None, "second of the two metadata speakers, [teacher or human, model]")
    if len(scan.speakers) == 1:
        return SpeakerChoice(next(iter(scan.speakers)), None, "the only speaker in the file")
    if scan.every_pair_has_two_acts:
        return SpeakerChoice(None, 1, "second act of every [teacher or human act, model act] pair")
    raise InputError(
        f"cannot tell which speaker is model {logs.model!r} (speakers seen: {', '.join(list(scan.speakers)[:6])}); "
        f"name it with --speaker {logs.model}=ID or --speaker-position {logs.model}=0|1",
        path=logs.path,
    )


def acute_dialogue(
    conv: Conversation, model: str, choice: SpeakerChoice, *, index: int, reserved_ids: frozenset[str],
    images: PageImages | None = None, image_base: Path | None = None,
) -> dict[str, Any]:
    """One conversation as an ACUTE dialogue dict, the evaluated speaker renamed to the model.

    `reserved_ids` are all model names of the run: a non-evaluated speaker with one of those ids is
    renamed so that a speaker id in a pairing always means one thing. The conversation's picture (the
    first `image_src` of the line, its context or its acts) is checked by `images` and kept as the
    dialogue's `image_src`/`image_alt`, a path made relative to `image_base` (the pairings file's folder).
    """
    dialogue: list[dict[str, Any]] = []
    others: dict[str, str] = {}
    evaluated_ids: list[str] = []
    for pair in conv.dialog:
        position = 0
        for turn in pair:
            if turn.is_context:
                continue
            is_model = turn.speaker == choice.speaker if choice.speaker is not None else position == choice.position
            position += 1
            if is_model:
                speaker = model
                if turn.speaker not in evaluated_ids:
                    evaluated_ids.append(turn.speaker)
            else:
                speaker = others.get(turn.speaker) or others.setdefault(
                    turn.speaker, _other_name(turn.speaker, reserved_ids, set(others.values()))
                )
            entry: dict[str, Any] = {"id": speaker, "text": turn.text}
            image = turn.extra.get("image_src")
            if isinstance(image, str):
                entry["image_src"] = image
            dialogue.append(entry)
    if not evaluated_ids:
        raise InputError(
            f"the evaluated speaker of model {model!r}, {choice.describe()}, has no turn in this conversation",
            path=conv.source_path,
            line=conv.source_line,
            field="messages" if conv.shape == CHAT_SHAPE else "dialog",
        )
    built = {
        "speakers": [model, *others.values()],
        "id": f"{model}:{index}",
        "dialogue": dialogue,
        "context": [{"id": turn.speaker, "text": turn.text} for turn in conv.context_turns],
        "source": {"line": conv.source_line, "speaker": evaluated_ids[0]},
    }
    image = conversation_image(conv)
    if image is not None:
        (images or PageImages()).view(image)
        built[IMAGE_KEY] = portable_src(image, image_base or Path.cwd())
        if image.alt != DEFAULT_ALT:
            built[ALT_KEY] = image.alt
    return built


def conversation_image(conv: Conversation) -> EpisodeImage | None:
    """The picture a conversation is about (`page_images.line_image`), relative to its file's folder."""
    base = folder_of(conv.source_path) if conv.source_path else Path.cwd()
    return line_image(conv.to_json(), base, conv.source_path, conv.source_line)


def _other_name(speaker: str, reserved: frozenset[str], taken: set[str]) -> str:
    if speaker not in reserved:
        return speaker
    name, n = OTHER_SPEAKER, 1
    while name in taken or name in reserved:
        n += 1
        name = f"{OTHER_SPEAKER}_{n}"
    return name


def pick_least_used(use_counts: list[int], n: int, rng: random.Random) -> list[int]:
    """`n` indices, least used first (random among equals); repeats only once all were taken this call."""
    chosen: list[int] = []
    while len(chosen) < n:
        keys = [(count, rng.random()) for count in use_counts]
        order = sorted(range(len(use_counts)), key=keys.__getitem__)
        for i in order[: min(n - len(chosen), len(use_counts))]:
            chosen.append(i)
            use_counts[i] += 1
    return chosen


def model_pairs_for(models: Sequence[str], restrict: Sequence[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    """Every unordered pair of models (names sorted within and across pairs), or the given subset."""
    if restrict is None:
        return list(itertools.combinations(sorted(models), 2))
    result: list[tuple[str, str]] = []
    for a, b in restrict:
        for name in (a, b):
            if name not in models:
                raise InputError(f"model {name!r} in --model-pairs has no conversations file", field="--model-pairs")
        if a == b:
            raise InputError(f"identical models in model pair {a}:{b}", field="--model-pairs")
        pair = (min(a, b), max(a, b))
        if pair not in result:
            result.append(pair)
    return sorted(result)


def build_pairings(
    logs: Sequence[ModelLogs],
    *,
    pairs_per_model_pair: int = DEFAULT_PAIRS_PER_MODEL_PAIR,
    seed: int = DEFAULT_SEED,
    model_pairs: Sequence[tuple[str, str]] | None = None,
    progress: ProgressCallback | None = None,
    image_base: Path | None = None,
) -> tuple[list[dict[str, Any]], PairingsReport]:
    """Pairs (with `pair_id`) for every model pair, and a report of the choices made; conversations' pictures
    are checked and their paths made relative to `image_base` (where the pairings file goes).

    Raises `InputError` for bad logs or arguments before anything could be written.
    """
    say = progress or (lambda message: logger.info("%s", message))
    models = [entry.model for entry in logs]
    if len(models) < 2:
        raise InputError("need conversations of at least two models", field="--conversations")
    for name in models:
        if not name or name == "context":
            raise InputError(f"invalid model name {name!r}", field="--conversations")
    duplicates = sorted({m for m in models if models.count(m) > 1})
    if duplicates:
        raise InputError(f"model named twice: {', '.join(duplicates)}", field="--conversations")
    if pairs_per_model_pair < 1:
        raise InputError(f"pairs per model pair must be at least 1, got {pairs_per_model_pair}", field="--pairs-per-model-pair")
    matchups = model_pairs_for(models, model_pairs)
    by_model = {entry.model: entry for entry in logs}

    scans: dict[str, FileScan] = {}
    choices: dict[str, SpeakerChoice] = {}
    for name in sorted(models):
        say(f"scanning {by_model[name].path} ({name})")
        scans[name] = scan_file(by_model[name], say)
        choices[name] = resolve_speaker(by_model[name], scans[name])
        say(f"  {scans[name].count} conversations; evaluated speaker: {choices[name].describe()}")
        if len(scans[name].line_models) > 1:
            say(f"  warning: the lines of {by_model[name].path} name {len(scans[name].line_models)} models "
                f"({', '.join(list(scans[name].line_models)[:4])}); all are judged as {name}")

    rng = random.Random(seed)
    use_counts = {name: [0] * scans[name].count for name in models}
    selections: list[tuple[str, str, list[int], list[int]]] = []
    reused: dict[tuple[str, str], int] = {}
    for a, b in matchups:
        picks_a = pick_least_used(use_counts[a], pairs_per_model_pair, rng)
        picks_b = pick_least_used(use_counts[b], pairs_per_model_pair, rng)
        reused[(a, b)] = (len(picks_a) - len(set(picks_a))) + (len(picks_b) - len(set(picks_b)))
        if reused[(a, b)]:
            logger.warning(
                "%s vs %s: %d pairs requested but only %d / %d conversations: %d conversation uses repeat within the matchup",
                a, b, pairs_per_model_pair, scans[a].count, scans[b].count, reused[(a, b)],
            )
        selections.append((a, b, picks_a, picks_b))

    needed: dict[str, set[int]] = {name: set() for name in models}
    for a, b, picks_a, picks_b in selections:
        needed[a].update(picks_a)
        needed[b].update(picks_b)
    reserved = frozenset(models)
    images = PageImages()
    dialogues: dict[str, dict[int, dict[str, Any]]] = {}
    for name in sorted(models):
        say(f"building {len(needed[name])} dialogues of {name}")
        built: dict[int, dict[str, Any]] = {}
        for index, conv in enumerate(iter_conversations(by_model[name].path)):
            # Every conversation is checked, not only the selected ones: a bad log should fail the
            # same way whatever the seed.
            dialogue = acute_dialogue(conv, name, choices[name], index=index, reserved_ids=reserved,
                                      images=images, image_base=image_base)
            if (index + 1) % PROGRESS_EVERY == 0:
                say(f"  {index + 1} / {scans[name].count} conversations checked")
            if index in needed[name]:
                built[index] = dialogue
        dialogues[name] = built

    offsets: dict[str, int] = {}
    total = 0
    for name in sorted(models):
        offsets[name] = total
        total += scans[name].count

    raw_pairs: list[dict[str, Any]] = []
    for a, b, picks_a, picks_b in selections:
        for i, j in zip(picks_a, picks_b):
            raw_pairs.append(
                {
                    "is_onboarding": False,
                    "speakers_to_eval": [a, b],
                    "dialogue_ids": [offsets[a] + i, offsets[b] + j],
                    "dialogue_dicts": [dialogues[a][i], dialogues[b][j]],
                }
            )
    rng.shuffle(raw_pairs)
    pairs = [pair for _, pair in assign_pair_ids((None, p) for p in raw_pairs)]
    report = PairingsReport(
        pairs=len(pairs),
        conversations={name: scans[name].count for name in sorted(models)},
        speakers=choices,
        per_model_pair={(a, b): len(pa) for a, b, pa, _ in selections},
        reused_within_matchup=reused,
    )
    return pairs, report


def write_pairings(path: str | Path, pairs: Sequence[dict[str, Any]]) -> int:
    """Write pairs atomically, one per line; a failure leaves no file behind."""
    return write_jsonl(path, pairs)
