"""ParlAI transformer/classifier conversion, checked against an independent forward pass written here.

No real classifier checkpoint is available offline, so the test builds one in ParlAI's layout (parameter
names, opt, dictionary), converts it with `import-parlai`, and compares our module's scores with a
from-scratch functional implementation of ParlAI's TransformerEncoder + TransformerLinearWrapper.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from humaneval.input_errors import InputError
from humaneval.models.parlai_classifier import ParlAIClassifier, bad_classifier_input, decide
from humaneval.models.parlai_import import import_parlai

WORDS = [f"tok{i}" for i in range(40)]
DIM, HEADS, FFN, LAYERS, POSITIONS = 16, 2, 24, 2, 32


def _parlai_state(variant: str, n_classes: int, n_segments: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
    vocab = 4 + len(WORDS)

    def r(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=gen) * 0.3

    state = {
        "transformer.embeddings.weight": r(vocab, DIM),
        "transformer.position_embeddings.weight": r(POSITIONS, DIM),
        "transformer.norm_embeddings.weight": 1 + r(DIM),
        "transformer.norm_embeddings.bias": r(DIM),
        "additional_linear_layer.weight": r(n_classes, DIM),
        "additional_linear_layer.bias": r(n_classes),
    }
    if n_segments:
        state["transformer.segment_embeddings.weight"] = r(n_segments, DIM)
    for i in range(LAYERS):
        p = f"transformer.layers.{i}."
        for lin in ("q_lin", "k_lin", "v_lin", "out_lin"):
            state[p + f"attention.{lin}.weight"] = r(DIM, DIM)
            state[p + f"attention.{lin}.bias"] = r(DIM)
        state[p + "ffn.lin1.weight"], state[p + "ffn.lin1.bias"] = r(FFN, DIM), r(FFN)
        state[p + "ffn.lin2.weight"], state[p + "ffn.lin2.bias"] = r(DIM, FFN), r(DIM)
        for norm in ("norm1", "norm2"):
            state[p + f"{norm}.weight"], state[p + f"{norm}.bias"] = 1 + r(DIM), r(DIM)
    return state


def _reference_forward(state: dict[str, torch.Tensor], opt: dict, ids: torch.Tensor) -> torch.Tensor:
    """ParlAI's encoder, written out with functional ops (no shared code with the module under test)."""
    t = "transformer."
    mask = ids != 0
    positions = (mask.long().cumsum(1) - 1).clamp(min=0)
    x = F.embedding(ids, state[t + "embeddings.weight"]) * math.sqrt(DIM)
    x = x + F.embedding(positions, state[t + "position_embeddings.weight"])
    if opt["n_segments"]:
        x = x + state[t + "segment_embeddings.weight"][0]
    ln = lambda v, name: F.layer_norm(v, (DIM,), state[name + ".weight"], state[name + ".bias"], 1e-5)  # noqa: E731
    pre = opt["variant"] == "prelayernorm"
    if not pre:
        x = ln(x, t + "norm_embeddings")
    x = x * mask[..., None]
    for i in range(LAYERS):
        p = f"{t}layers.{i}."
        lin = lambda v, name: F.linear(v, state[p + name + ".weight"], state[p + name + ".bias"])  # noqa: E731
        h = ln(x, p + "norm1") if pre else x
        b, n, _ = h.shape
        q = lin(h, "attention.q_lin").view(b, n, HEADS, -1).permute(0, 2, 1, 3)
        k = lin(h, "attention.k_lin").view(b, n, HEADS, -1).permute(0, 2, 1, 3)
        v = lin(h, "attention.v_lin").view(b, n, HEADS, -1).permute(0, 2, 1, 3)
        att = torch.einsum("bhqd,bhkd->bhqk", q, k) / math.sqrt(DIM // HEADS)
        att = att.masked_fill(~mask[:, None, None, :], -1e20).softmax(-1)
        out = lin(torch.einsum("bhqk,bhkd->bhqd", att, v).permute(0, 2, 1, 3).reshape(b, n, DIM), "attention.out_lin")
        x = x + out
        if not pre:
            x = ln(x, p + "norm1")
        h = ln(x, p + "norm2") if pre else x
        act = F.gelu if opt["activation"] == "gelu" else F.relu
        x = x + lin(act(lin(h, "ffn.lin1")), "ffn.lin2")
        if not pre:
            x = ln(x, p + "norm2")
        x = x * mask[..., None]
    if pre:
        x = ln(x, t + "norm_embeddings")
    x = x * opt["output_scaling"]
    if opt["reduction_type"] == "first":
        pooled = x[:, 0]
    elif opt["reduction_type"] == "max":
        pooled = x.max(1).values
    else:
        pooled = x.sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
    return F.linear(pooled, state["additional_linear_layer.weight"], state["additional_linear_layer.bias"])


def _write_zoo(root: Path, opt: dict, state: dict[str, torch.Tensor]) -> Path:
    root.mkdir(parents=True)
    torch.save({"model": state, "optimizer": {"state": {}}, "number_training_updates": 3}, root / "model")
    (root / "model.opt").write_text(json.dumps(opt))
    lines = ["__null__\t1", "__start__\t1", "__end__\t1", "__unk__\t1", *[f"{w}\t5" for w in WORDS]]
    (root / "model.dict").write_text("\n".join(lines) + "\n")
    return root


CASES = {
    # BAD-like: xlm, segments, output scaling, mean pooling, two classes with a cautious threshold
    "bad_like": dict(variant="xlm", n_segments=2, output_scaling=0.5, reduction_type="mean", activation="gelu",
                     classes=["__notok__", "__ok__"], threshold=0.3),
    # sensitive-topics-like: six classes, first-token pooling
    "topics_like": dict(variant="xlm", n_segments=0, output_scaling=1.0, reduction_type="first", activation="relu",
                        classes=["none", "politics", "religion", "medical", "nsfw", "drugs"], threshold=0.5),
    "prelayernorm_max": dict(variant="prelayernorm", n_segments=0, output_scaling=1.0, reduction_type="max",
                             activation="gelu", classes=["__notok__", "__ok__"], threshold=0.5),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_converted_classifier_matches_independent_forward(case: str, tmp_path: Path) -> None:
    spec = CASES[case]
    opt = {
        "model": "transformer/classifier", "embedding_size": DIM, "n_layers": LAYERS, "n_heads": HEADS, "ffn_size": FFN,
        "n_positions": POSITIONS, "embeddings_scale": True, "learn_positional_embeddings": True, "dict_tokenizer": "split",
        "dict_lower": False, "text_truncate": 12, "delimiter": "\n", **spec,
    }
    gen = torch.Generator().manual_seed(7)
    state = _parlai_state(spec["variant"], len(spec["classes"]), spec["n_segments"], gen)
    out = import_parlai(_write_zoo(tmp_path / "zoo", opt, state), tmp_path / "clf").out_dir
    clf = ParlAIClassifier.load(out, name="t")
    assert clf.classes == tuple(spec["classes"])

    texts = ["tok1 tok2 tok3", "tok5 unknownword tok7 . tok9", " ".join(WORDS[:20])]  # the last is truncated
    ids = [clf.encode(t) for t in texts]
    assert ids[0] == [1, 5, 6, 7, 2]  # __start__ + tokens + __end__ (tok0 is id 4)
    assert ids[1][2] == 3  # unknown word -> __unk__
    assert len(ids[2]) == 12 and ids[2][-1] == 2 and ids[2][0] != 1  # ParlAI truncates from the left
    padded = torch.zeros(len(ids), max(map(len, ids)), dtype=torch.long)
    for i, row in enumerate(ids):
        padded[i, : len(row)] = torch.tensor(row)
    expected = _reference_forward(state, opt, padded)
    got = clf.scores(texts)
    assert torch.allclose(got, expected, atol=1e-5), (got - expected).abs().max()

    preds = clf.predict(texts)
    for pred, row in zip(preds, expected.softmax(-1).tolist(), strict=True):
        assert pred.label == decide(row, tuple(spec["classes"]), spec["threshold"])
        assert abs(sum(pred.probs.values()) - 1) < 1e-5


def test_threshold_rule_is_parlais() -> None:
    classes = ("__notok__", "__ok__")
    assert decide([0.4, 0.6], classes, 0.5) == "__ok__"  # 0.5 = argmax
    assert decide([0.4, 0.6], classes, 0.3) == "__notok__"  # P(class 0) > threshold -> class 0
    assert decide([0.2, 0.8], classes, 0.3) == "__ok__"
    assert decide([0.3, 0.7], classes, 0.3) == "__ok__"  # strictly greater
    assert decide([0.1, 0.2, 0.7], ("a", "b", "c"), 0.9) == "c"  # multi-class: argmax


def test_bad_input_is_last_four_turns() -> None:
    assert bad_classifier_input(["a", "b", "c", "d", "e"]) == "b\nc\nd\ne"
    assert bad_classifier_input(["x"], n_turns=4) == "x"


def test_class_count_mismatch_is_bad_input(tmp_path: Path) -> None:
    opt = {"model": "transformer/classifier", "embedding_size": DIM, "n_layers": LAYERS, "n_heads": HEADS,
           "ffn_size": FFN, "n_positions": POSITIONS, "variant": "xlm", "dict_tokenizer": "split",
           "classes": ["a", "b", "c"], "reduction_type": "mean"}
    state = _parlai_state("xlm", 2, 0, torch.Generator().manual_seed(1))
    with pytest.raises(InputError, match="classes"):
        import_parlai(_write_zoo(tmp_path / "zoo", opt, state), tmp_path / "clf")
    assert not (tmp_path / "clf").exists()


def test_classes_from_file(tmp_path: Path) -> None:
    opt = {"model": "transformer/classifier", "embedding_size": DIM, "n_layers": LAYERS, "n_heads": HEADS,
           "ffn_size": FFN, "n_positions": POSITIONS, "variant": "xlm", "dict_tokenizer": "split",
           "classes": None, "classes_from_file": "/somewhere/else/classes.txt", "reduction_type": "mean"}
    zoo = _write_zoo(tmp_path / "zoo", opt, _parlai_state("xlm", 2, 0, torch.Generator().manual_seed(2)))
    (zoo / "classes.txt").write_text("__notok__\n__ok__\n")
    clf = ParlAIClassifier.load(import_parlai(zoo, tmp_path / "clf").out_dir)
    assert clf.classes == ("__notok__", "__ok__")
    assert clf.predict(["tok1"])[0].label in clf.classes


def _converted_bad_like(tmp_path: Path, **opt_changes: object) -> ParlAIClassifier:
    opt = {"model": "transformer/classifier", "embedding_size": DIM, "n_layers": LAYERS, "n_heads": HEADS,
           "ffn_size": FFN, "n_positions": POSITIONS, "embeddings_scale": True, "dict_tokenizer": "split",
           "dict_lower": False, "text_truncate": 12, "delimiter": "\n", **CASES["bad_like"], **opt_changes}
    opt = {key: value for key, value in opt.items() if value is not None}
    state = _parlai_state("xlm", 2, 2, torch.Generator().manual_seed(11))
    return ParlAIClassifier.load(import_parlai(_write_zoo(tmp_path / "zoo", opt, state), tmp_path / "clf").out_dir)


HUGE_MESSAGE = " ".join(WORDS[i % 37] if i % 5 else "unknownword" for i in range(400_000))  # 2.7 MB


@pytest.mark.parametrize(("text_truncate", "kept"), [(12, 12), (None, POSITIONS)])
def test_huge_message_is_tokenized_only_as_far_as_the_kept_tokens(tmp_path: Path, text_truncate: int | None,
                                                                   kept: int) -> None:
    """The ids equal tokenize-everything-then-cut; the tokenizer sees a bounded end of the text. Without
    text_truncate the bound is n_positions, so the message can still be scored (the old code crashed)."""
    from test_long_input import RecordingTokenizer

    from humaneval.models.model_input import CEILING_CHARS_PER_TOKEN

    clf = _converted_bad_like(tmp_path, text_truncate=text_truncate)
    assert clf.config.text_truncate == text_truncate
    expected = [1, *clf.encoder.tokenize(HUGE_MESSAGE), 2][-kept:]
    recorder = RecordingTokenizer(clf.encoder.tokenizer)
    clf.encoder.tokenizer = recorder
    assert clf.encode(HUGE_MESSAGE) == expected
    assert max(recorder.lengths) <= CEILING_CHARS_PER_TOKEN * kept < len(HUGE_MESSAGE) // 100
    assert torch.equal(clf.scores([HUGE_MESSAGE]), clf.model(torch.tensor([expected])).detach())


def _classifier_zoo(tmp_path: Path, **opt_changes: object) -> Path:
    opt = {"model": "transformer/classifier", "embedding_size": DIM, "n_layers": LAYERS, "n_heads": HEADS,
           "ffn_size": FFN, "n_positions": POSITIONS, "variant": "xlm", "dict_tokenizer": "split",
           "classes": ["__notok__", "__ok__"], "reduction_type": "mean", **opt_changes}
    return _write_zoo(tmp_path / "zoo", opt, _parlai_state("xlm", 2, 0, torch.Generator().manual_seed(3)))


# The classifier reads the same kind of opt fields as the generator: same rules (each used to crash,
# build a model as big as the opt said, or be accepted silently).
BAD_OPTS = {
    "huge n_layers": ({"n_layers": 10_000_000}, "n_layers", "checkpoint has 2 encoder layers"),
    "embedding_size off": ({"embedding_size": 32}, "embedding_size", "checkpoint has 16"),
    "n_heads 0": ({"n_heads": 0}, "n_heads", "must be >= 1"),
    "n_heads 3": ({"n_heads": 3}, "n_heads", "does not divide the embedding size 16"),
    "embedding_size list": ({"embedding_size": [1]}, "embedding_size", "must be an integer"),
    "output_scaling text": ({"output_scaling": "x"}, "output_scaling", "must be a finite number"),
    "threshold above 1": ({"threshold": 2}, "threshold", "between 0 and 1"),
    "text_truncate text": ({"text_truncate": "abc"}, "text_truncate", "must be an integer"),
    "unknown activation": ({"activation": "swish"}, "activation", "not supported"),
    "repeated class": ({"classes": ["ok", "ok"]}, "classes", "distinct"),
    "class not a string": ({"classes": ["ok", {"a": 1}]}, "classes", "strings"),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", sorted(BAD_OPTS))
def test_bad_classifier_opt_is_input_error(case: str, tmp_path: Path) -> None:
    changes, field, problem = BAD_OPTS[case]
    zoo = _classifier_zoo(tmp_path, **changes)
    with pytest.raises(InputError) as err:
        import_parlai(zoo, tmp_path / "clf")
    assert (err.value.path, err.value.field) == (str(zoo / "model.opt"), field)
    assert problem in err.value.problem
    assert sorted(p.name for p in tmp_path.iterdir()) == ["zoo"]


@pytest.mark.parametrize(
    ("key", "tensor", "problem"),
    [
        ("transformer.layers.0.ffn.lin2.weight", torch.zeros(1).expand(DIM, FFN), "storage of 4 bytes"),
        ("transformer.layers.1.attention.q_lin.bias", torch.zeros(3), f"has shape 3, the model needs {DIM}"),
    ],
)
def test_bad_classifier_tensor_is_input_error(key: str, tensor: torch.Tensor, problem: str, tmp_path: Path) -> None:
    zoo = _classifier_zoo(tmp_path)
    state = torch.load(zoo / "model", weights_only=True)["model"]
    state[key] = tensor
    torch.save({"model": state}, zoo / "model")
    with pytest.raises(InputError) as err:
        import_parlai(zoo, tmp_path / "clf")
    assert (err.value.path, err.value.field) == (str(zoo / "model"), key)
    assert problem in err.value.problem
    assert not (tmp_path / "clf").exists()
