"""Safety layer: the string matcher's fixes over ParlAI, the profanity classifier, the imported-classifier
slots, and the pipeline's ParlAI behaviours for unsafe human messages and bot replies."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from humaneval.input_errors import InputError
from humaneval.models.safety import BOT_REPLACED_MESSAGE, HUMAN_BLOCKED_MESSAGE, SafetyPipeline, Verdict
from humaneval.models.safety.imported_classifiers import ImportedClassifierCheck
from humaneval.models.safety.pipeline import Assessment, ScreeningCheck
from humaneval.models.safety.profanity_classifier import ProfanityClassifier
from humaneval.models.safety.string_matcher import DEFAULT_WORD_LIST, StringMatcher, WordList, inflections

HARMLESS = [
    "she is nice",
    "who are you",
    "How are you?",
    "I grew up in Scunthorpe.",
    "Could you assess my essay?",
    "I love spicy buttery popcorn.",
    "Peanut butter is great.",
    "Shiitake mushrooms in a cocky little bistro.",
    "My grapes are ripe.",
    "A class assignment about the classics.",
]


@pytest.fixture(scope="module")
def matcher() -> StringMatcher:
    return StringMatcher()


@pytest.fixture(scope="module")
def pipeline() -> SafetyPipeline:
    return SafetyPipeline.from_config(None)


@pytest.mark.parametrize("text", ["that movie was shitty", "(shit)", "what bullshit", "Bullshit!", "shit."])
def test_matcher_catches_parlai_misses(matcher: StringMatcher, text: str) -> None:
    verdict = matcher.check(text)
    assert verdict.unsafe and verdict.score == 1.0
    assert "shit" in verdict.reason


@pytest.mark.parametrize("text", HARMLESS)
def test_matcher_has_no_parlai_false_positives(matcher: StringMatcher, text: str) -> None:
    verdict = matcher.check(text)
    assert not verdict.unsafe, verdict.reason
    assert verdict.score == 0.0


@pytest.mark.parametrize("text, expected", [
    ("You're a motherfuckin' liar", "motherfuckin"),
    ("what a dumbass", "dumbass"),
    ("go kill yourself", "kill yourself"),
    ("FUCK", "fuck"),
    ("that is crappy", "crappy"),
    ("he raped her", "raped"),
])
def test_matcher_inflections_compounds_and_phrases(matcher: StringMatcher, text: str, expected: str) -> None:
    verdict = matcher.check(text)
    assert verdict.unsafe and expected in verdict.reason


def test_inflection_rules_double_consonants_and_drop_e() -> None:
    assert {"shitty", "shitting", "shits"} <= inflections("shit")
    assert {"raped", "raping", "rapes"} <= inflections("rape")
    assert "buttery" not in inflections("butt")  # no generic "-ery" suffix (ParlAI's false positive)


def test_word_list_markers() -> None:
    wl = WordList.parse(["# comment", "spic", "=cock", "bad*", "!badminton", "go away"])
    m = StringMatcher(wl)
    assert m.check("spicy").unsafe  # plain entries inflect: that is why the shipped list has '=spic'
    assert not m.check("cocky").unsafe and m.check("cock").unsafe
    assert m.check("superbad").unsafe and not m.check("badminton").unsafe
    assert m.check("please go away").unsafe and not m.check("go, I am away").unsafe


def test_word_list_rejects_bad_entries(tmp_path: Path) -> None:
    path = tmp_path / "words.txt"
    path.write_text("ok\n=two words\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        WordList.load(path)
    assert err.value.line == 2 and str(path) in str(err.value)


def test_shipped_word_list_is_attributed() -> None:
    header = DEFAULT_WORD_LIST.read_text(encoding="utf-8")[:1500]
    assert "CC-BY-4.0" in header and "LDNOOBW" in header


def test_profanity_classifier_scores_and_threshold() -> None:
    clf = ProfanityClassifier()
    rude = clf.check("you are an idiot")
    assert rude.unsafe and rude.score is not None and rude.score > 0.5
    assert "profanity classifier" in rude.reason and "BAD" not in rude.reason
    for text in ("she is nice", "who are you"):
        verdict = clf.check(text)
        assert not verdict.unsafe and verdict.score is not None and verdict.score < 0.5
    strict = ProfanityClassifier(threshold=1.01)  # per-check threshold: nothing reaches it
    assert not strict.check("you are an idiot").unsafe


@pytest.mark.parametrize("text", ["she is nice", "who are you", "Scunthorpe", "assess", "spicy buttery"])
def test_default_pipeline_passes_harmless_text(pipeline: SafetyPipeline, text: str) -> None:
    assessment = pipeline.assess(text)
    assert not assessment.unsafe, assessment.reason
    assert assessment.reason is None


def test_unconfigured_slots_report_not_configured(pipeline: SafetyPipeline) -> None:
    status = pipeline.status()
    assert status == {"string_matcher": "ready", "profanity_classifier": "ready", "bad_classifier": "not configured",
                      "single_turn_classifier": "not configured", "sensitive_topics_classifier": "not configured"}
    verdicts = pipeline.assess("hello there", side="bot").to_dict()
    # A slot that did not run is recorded as not run (unsafe null), never as a "safe" verdict.
    assert verdicts["bad_classifier"] == {"unsafe": None, "score": None,
                                          "reason": verdicts["bad_classifier"]["reason"]}
    assert "not configured" in verdicts["bad_classifier"]["reason"]
    assert "sensitive_topics_classifier" not in verdicts  # it screens human messages only by default


def test_not_run_verdicts_round_trip_and_old_records_read_as_not_run() -> None:
    not_run = Verdict.not_run("BAD classifier: not configured")
    assert not not_run.ran and Verdict.from_dict(not_run.to_dict()) == not_run
    # records written before not-run verdicts existed: unsafe false with no score
    old = Verdict.from_dict({"unsafe": False, "score": None, "reason": "BAD classifier: not configured"})
    assert old.unsafe is None and not old.ran
    ran = Verdict.from_dict({"unsafe": False, "score": 0.0, "reason": "no word list match"})
    assert ran.ran and ran.unsafe is False
    flagged = Assessment({"a": not_run, "b": Verdict(unsafe=True, score=1.0, reason="b: hit")})
    assert flagged.unsafe and flagged.reason == "b: hit"
    assert not Assessment({"a": not_run}).unsafe and Assessment({"a": not_run}).reason is None


@dataclass(frozen=True)
class FakePrediction:
    probs: dict[str, float]


class FakeClassifier:
    """Stands in for a converted ParlAI classifier: fixed probabilities, records its inputs."""

    def __init__(self, classes: list[str], probs: list[float]) -> None:
        self.classes = tuple(classes)
        self.probs = dict(zip(classes, probs))
        self.inputs: list[str] = []

    def predict(self, texts: list[str]) -> list[FakePrediction]:
        self.inputs.extend(texts)
        return [FakePrediction(self.probs) for _ in texts]


def test_bad_slot_uses_last_four_turns_and_parlai_threshold_rule() -> None:
    fake = FakeClassifier(["__notok__", "__ok__"], [0.4, 0.6])
    check = ImportedClassifierCheck("bad", classifier=fake)
    verdict = check.check("t5", context=["t1", "t2", "t3", "t4"])
    assert fake.inputs == ["t2\nt3\nt4\nt5"]
    assert not verdict.unsafe and verdict.score == pytest.approx(0.4)  # threshold 0.5: argmax
    strict = ImportedClassifierCheck("bad", classifier=fake, threshold=0.3)  # __notok__ iff p > 0.3
    verdict = strict.check("t5")
    assert verdict.unsafe and "BAD classifier" in verdict.reason and "__notok__" in verdict.reason
    assert fake.inputs[-1] == "t5"
    single = ImportedClassifierCheck("single_turn", classifier=fake, threshold=0.3)
    single.check("t5", context=["t4"])
    assert fake.inputs[-1] == "t5"  # the single-turn classifier sees the message alone


def test_topics_slot_flags_any_sensitive_topic() -> None:
    fake = FakeClassifier(["none", "politics", "religion", "medical", "nsfw", "drugs"],
                          [0.2, 0.1, 0.5, 0.1, 0.05, 0.05])
    verdict = ImportedClassifierCheck("sensitive_topics", classifier=fake).check("is god real?")
    assert verdict.unsafe and "religion" in verdict.reason and verdict.score == pytest.approx(0.8)


def test_slot_with_missing_directory_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        SafetyPipeline.from_config({"checks": {"bad_classifier": {"path": str(tmp_path / "nope")}}},
                                   source="serve.yaml")
    assert err.value.field == "safety.checks.bad_classifier.path" and err.value.path == "serve.yaml"


def test_config_errors_name_the_key() -> None:
    with pytest.raises(InputError) as err:
        SafetyPipeline.from_config({"checks": {"string_matcher": {"treshold": 0.5}}})
    assert "treshold" in str(err.value) and err.value.field == "safety.checks.string_matcher"
    with pytest.raises(InputError):
        SafetyPipeline.from_config({"checks": {"x": {"type": "magic"}}})
    with pytest.raises(InputError):
        SafetyPipeline.from_config({"screen_bot": "yes"})


@pytest.mark.parametrize("threshold", [50, -1, float("nan"), float("inf"), "0.5", True, None])
def test_a_threshold_outside_0_to_1_is_refused_never_a_silently_silent_check(threshold: object) -> None:
    """50 (meant as percent) would never flag, -1 would flag everything, NaN compares false: each would change
    a live chat's screening without a word."""
    with pytest.raises(InputError) as err:
        SafetyPipeline.from_config({"checks": {"string_matcher": {"threshold": threshold}}}, source="serve.yaml")
    assert err.value.field == "safety.checks.string_matcher.threshold" and "from 0 to 1" in err.value.problem
    assert SafetyPipeline.from_config({"checks": {"string_matcher": {"threshold": 1}}})  # the bounds themselves are fine


def test_checks_can_be_disabled_and_thresholded() -> None:
    pipe = SafetyPipeline.from_config({"checks": {"string_matcher": {"enabled": False},
                                                  "profanity_classifier": {"threshold": 0.999999}}})
    assert "string_matcher" not in pipe.status()
    assert not pipe.assess("i hate you").unsafe  # p≈0.9 is below this pipeline's threshold


# ---- ParlAI behaviours ----------------------------------------------------------------------------------
def test_unsafe_human_message_is_not_sent(pipeline: SafetyPipeline) -> None:
    calls: list[str] = []
    outcome = pipeline.screen_turn(["hi", "hello!", "you are full of shit"], lambda: calls.append("x") or "reply")
    assert calls == []  # the bot never saw it
    assert outcome.action == "human_blocked" and outcome.text == HUMAN_BLOCKED_MESSAGE
    assert outcome.text == "[ Sorry, could not process that message. Please try again. ]"
    assert outcome.generated is None and not outcome.reset_history
    assert outcome.reason is not None and "word list match" in outcome.reason and "shit" in outcome.reason
    assert outcome.human_safety is not None and outcome.human_safety.verdicts["string_matcher"].unsafe


def test_unsafe_bot_reply_is_replaced_and_history_reset(pipeline: SafetyPipeline) -> None:
    outcome = pipeline.screen_turn(["tell me about your day"], lambda: "it was a bullshit day")
    assert outcome.action == "bot_replaced" and outcome.reset_history
    assert outcome.text == BOT_REPLACED_MESSAGE
    assert outcome.text == "[ Unsafe model reply detected. Clearing agent history. Please try again. ]"
    assert outcome.generated == "it was a bullshit day"  # kept for the researchers' logs
    assert outcome.bot_safety is not None and outcome.reason == outcome.bot_safety.reason
    assert "bullshit" in outcome.reason


def test_safe_turn_passes_with_all_verdicts_for_the_log(pipeline: SafetyPipeline) -> None:
    outcome = pipeline.screen_turn(["who are you"], lambda: "she is nice")
    assert outcome.action == "reply" and outcome.text == "she is nice" and outcome.reason is None
    record = outcome.bot_safety.to_dict()  # type: ignore[union-attr]
    assert set(record) >= {"string_matcher", "profanity_classifier", "bad_classifier"}
    assert all(set(v) == {"unsafe", "score", "reason"} for v in record.values())


def test_screening_can_be_turned_off_per_side(pipeline: SafetyPipeline) -> None:
    outcome = pipeline.screen_turn(["shit happens"], lambda: "bullshit", screen_human=False, screen_bot=False)
    assert outcome.action == "reply" and outcome.text == "bullshit"
    assert outcome.human_safety is None and outcome.bot_safety is None


def test_check_sides_and_custom_messages() -> None:
    only_human = ScreeningCheck(StringMatcher(), frozenset({"human"}))
    pipe = SafetyPipeline([only_human], human_blocked_message="nope", bot_replaced_message="hidden")
    assert pipe.screen_turn(["fine"], lambda: "shit").action == "reply"
    assert pipe.screen_turn(["shit"], lambda: "fine").text == "nope"


def test_verdict_round_trips() -> None:
    verdict = Verdict(unsafe=True, score=0.25, reason="r")
    assert Verdict.from_dict(verdict.to_dict()) == verdict


def _converted_bad_classifier(root: Path) -> Path:
    """A tiny random classifier in ParlAI's zoo layout, converted by `import-parlai` (the public importer)."""
    import json

    import torch

    from humaneval.models.parlai_import import import_parlai

    dim, ffn, words = 8, 16, [f"w{i}" for i in range(20)]
    gen = torch.Generator().manual_seed(3)
    state = {
        "transformer.embeddings.weight": torch.randn(4 + len(words), dim, generator=gen),
        "transformer.position_embeddings.weight": torch.randn(32, dim, generator=gen),
        "transformer.norm_embeddings.weight": torch.ones(dim), "transformer.norm_embeddings.bias": torch.zeros(dim),
        "additional_linear_layer.weight": torch.randn(2, dim, generator=gen),
        "additional_linear_layer.bias": torch.zeros(2),
    }
    layer = "transformer.layers.0."
    for lin in ("q_lin", "k_lin", "v_lin", "out_lin"):
        state[f"{layer}attention.{lin}.weight"] = torch.randn(dim, dim, generator=gen) * 0.3
        state[f"{layer}attention.{lin}.bias"] = torch.zeros(dim)
    state[f"{layer}ffn.lin1.weight"] = torch.randn(ffn, dim, generator=gen)
    state[f"{layer}ffn.lin1.bias"] = torch.zeros(ffn)
    state[f"{layer}ffn.lin2.weight"] = torch.randn(dim, ffn, generator=gen)
    state[f"{layer}ffn.lin2.bias"] = torch.zeros(dim)
    for norm in ("norm1", "norm2"):
        state[f"{layer}{norm}.weight"], state[f"{layer}{norm}.bias"] = torch.ones(dim), torch.zeros(dim)
    opt = {"model": "transformer/classifier", "variant": "xlm", "embedding_size": dim, "n_layers": 1, "n_heads": 2,
           "ffn_size": ffn, "n_positions": 32, "n_segments": 0, "embeddings_scale": True,
           "learn_positional_embeddings": True, "activation": "gelu", "output_scaling": 1.0, "reduction_type": "mean",
           "dict_tokenizer": "split", "dict_lower": False, "text_truncate": 30, "delimiter": "\n",
           "classes": ["__notok__", "__ok__"], "threshold": 0.5}
    zoo = root / "zoo"
    zoo.mkdir()
    torch.save({"model": state}, zoo / "model")
    (zoo / "model.opt").write_text(json.dumps(opt), encoding="utf-8")
    specials = ["__null__", "__start__", "__end__", "__unk__"]
    (zoo / "model.dict").write_text("".join(f"{w}\t1\n" for w in [*specials, *words]), encoding="utf-8")
    return import_parlai(zoo, root / "bad").out_dir


def test_bad_slot_loads_a_converted_classifier_from_the_config(tmp_path: Path) -> None:
    converted = _converted_bad_classifier(tmp_path)
    pipe = SafetyPipeline.from_config({"checks": {"bad_classifier": {"path": str(converted), "threshold": 0.01}}})
    assert pipe.status()["bad_classifier"] == "ready"
    verdicts = [pipe.assess(text, ["w1 w2", "w3"], only=["bad_classifier"]).verdicts["bad_classifier"]
                for text in ("w4 w5", "w9 w9 w9 w1")]
    for verdict in verdicts:
        assert verdict.score is not None and 0.0 < verdict.score < 1.0
        assert verdict.unsafe == (verdict.score > 0.01)  # ParlAI's rule with this check's own threshold
        assert verdict.reason.startswith("BAD classifier: ")
    assert verdicts[0].score != verdicts[1].score  # the input reaches the model


def test_bad_slot_on_a_huge_message_tokenizes_only_the_kept_end(tmp_path: Path) -> None:
    """A 3 MB message costs the classifier no more than its last words (text_truncate 30), same verdict."""
    from test_long_input import RecordingTokenizer

    from humaneval.models.model_input import CEILING_CHARS_PER_TOKEN
    from humaneval.models.parlai_classifier import ParlAIClassifier

    classifier = ParlAIClassifier.load(_converted_bad_classifier(tmp_path))
    recorder = RecordingTokenizer(classifier.encoder.tokenizer)
    classifier.encoder.tokenizer = recorder
    check = ImportedClassifierCheck("bad", classifier=classifier, threshold=0.01)
    last_words = " ".join(f"w{i % 20}" for i in range(40))
    huge = " ".join(f"w{i % 17}" for i in range(1_000_000)) + " " + last_words
    assert check.check(huge, ["w1 w2"]) == check.check(last_words, ["w1 w2"])  # both keep the last 29 tokens
    assert max(recorder.lengths) <= CEILING_CHARS_PER_TOKEN * 30 < len(huge) // 100


def test_matcher_scans_a_huge_message_without_listing_its_words(matcher: StringMatcher) -> None:
    """A 1 MB message: the same hits, in the same order, while holding little more than its lowercased copy
    (a list of its 170k words, as the matcher kept before, is ten times the text)."""
    import tracemalloc

    text = "A long harmless message about Cooking, " * 12_000 + "then kill yourself, shitty bullshit. " + "more words " * 50_000
    tracemalloc.start()
    try:
        hits = matcher.find(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert hits == ["'shitty'", "'bullshit' (contains 'shit')", "'kill yourself'"]
    assert peak < 2 * len(text)
