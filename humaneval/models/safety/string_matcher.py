"""A word-list matcher that fixes ParlAI's misses without its false positives.

ParlAI's `OffensiveStringMatcher` splits on whitespace after padding a few punctuation marks, then expands
every listed word with generic prefixes and suffixes. That misses "(shit)" (brackets stay glued to the word),
"shitty" (no doubled consonant) and "bullshit" (no compounds), and it flags ordinary words ("spicy" = spic+y,
"buttery" = butt+ery), which ParlAI then patches with an allow list.

This matcher tokenises on letters and digits (so punctuation never hides a word), inflects each entry with
English spelling rules (doubling, e-dropping, y→ies) instead of generic affixes, matches inside words only
for stems marked as safe to do so (`shit*` → "bullshit", but `cunt` is whole-word → "Scunthorpe" is fine),
and keeps an explicit allow list. The entries and their markers live in `word_list.txt`.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from humaneval.input_errors import InputError
from humaneval.models.safety.checks import Verdict

logger = logging.getLogger(__name__)

DEFAULT_WORD_LIST = Path(__file__).with_name("word_list.txt")

_TOKEN = re.compile(r"[a-z0-9]+")
_VOWELS = set("aeiou")
# Inflections that turn a listed word into another form of the same word. Deliberately no "ery", "ish",
# "less" or prefixes: those are what made ParlAI flag "buttery" and friends.
_SUFFIXES = ("s", "es", "ed", "er", "ers", "ing", "in", "y", "ier", "iest", "ies")
_DOUBLING_SUFFIXES = ("ed", "er", "ers", "ing", "in", "y", "ier", "iest", "ies")


def tokenize(text: str) -> list[str]:
    """Lowercase word tokens; apostrophes are dropped first so "motherfuckin'" and "don't" stay one token."""
    return list(iter_tokens(text))


def iter_tokens(text: str) -> Iterator[str]:
    """`tokenize`, one token at a time: a long message is scanned without holding a list of its words
    (millions of small strings for a few megabytes of text)."""
    folded = unicodedata.normalize("NFKC", text).lower().replace("'", "").replace("\u2019", "")
    return (match.group() for match in _TOKEN.finditer(folded))


def inflections(word: str) -> set[str]:
    """The word and its regular English inflections (shit → shits, shitty, shitting; rape → raped, raping)."""
    forms = {word}
    forms.update(word + suffix for suffix in _SUFFIXES)
    if word.endswith("e"):
        forms.update(word[:-1] + suffix for suffix in ("ed", "er", "ers", "ing", "in", "y", "ier", "iest", "ies"))
    if word.endswith("y") and len(word) > 2 and word[-2] not in _VOWELS:
        forms.update(word[:-1] + suffix for suffix in ("ies", "ier", "iest", "ied"))
    # Consonant-vowel-consonant endings double the last consonant: shit -> shitty, crap -> crappy.
    if len(word) >= 3 and word[-1] not in _VOWELS | {"w", "x", "y"} and word[-2] in _VOWELS and word[-3] not in _VOWELS:
        forms.update(word + word[-1] + suffix for suffix in _DOUBLING_SUFFIXES)
    return forms


@dataclass(frozen=True)
class WordList:
    """Parsed `word_list.txt`: whole-word forms, phrases (as token tuples), infix stems and allowed words."""

    words: frozenset[str]
    phrases: frozenset[tuple[str, ...]]
    infixes: tuple[str, ...]
    allowed: frozenset[str]

    @classmethod
    def load(cls, path: str | Path = DEFAULT_WORD_LIST) -> "WordList":
        path = Path(path)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise InputError("word list not found", path=path) from None
        return cls.parse(lines, source=path)

    @classmethod
    def parse(cls, lines: Iterable[str], *, source: str | Path = "<word list>") -> "WordList":
        words: set[str] = set()
        phrases: set[tuple[str, ...]] = set()
        infixes: list[str] = []
        allowed: set[str] = set()
        for lineno, raw in enumerate(lines, start=1):
            entry = raw.split("#", 1)[0].strip().lower()
            if not entry:
                continue
            marker = entry[0] if entry[0] in "=!" else ""
            infix = entry.endswith("*")
            body = entry.lstrip("=!").rstrip("*")
            tokens = tokenize(body)
            if not tokens or " ".join(tokens) != body.strip():
                raise InputError(f"entry {raw.strip()!r} must be lowercase letters/digits separated by spaces",
                                 path=source, line=lineno)
            if marker and len(tokens) > 1 or infix and (marker or len(tokens) > 1):
                raise InputError(f"entry {raw.strip()!r}: markers '=', '!' and '*' apply to single words only",
                                 path=source, line=lineno)
            if marker == "!":
                allowed.add(body)
            elif marker == "=":
                words.add(body)
            elif len(tokens) > 1:
                phrases.update(tuple(tokens[:-1]) + (form,) for form in inflections(tokens[-1]))
            else:
                words.update(inflections(body))
                if infix:
                    infixes.append(body)
        return cls(frozenset(words), frozenset(phrases), tuple(sorted(infixes, key=len, reverse=True)),
                   frozenset(allowed))


class StringMatcher:
    """Flags text containing a listed word or phrase; score 1.0 on a match, else 0.0."""

    def __init__(self, word_list: WordList | None = None, *, name: str = "string_matcher", threshold: float = 0.5):
        self.name = name
        self.configured = True
        self.threshold = threshold
        self.word_list = word_list if word_list is not None else WordList.load()
        self._max_phrase = max((len(p) for p in self.word_list.phrases), default=0)

    def find(self, text: str) -> list[str]:
        """Every offending token or phrase in `text`, in order (each reported with what it matched): the
        words in text order, then the phrases, shortest first. One pass over the tokens, keeping only the
        last few for phrases, so a huge message costs its normalized copy and not a list of its words."""
        wl = self.word_list
        hits: list[str] = []
        phrase_hits: dict[int, list[str]] = {size: [] for size in range(2, self._max_phrase + 1)}
        recent: deque[str] = deque(maxlen=max(self._max_phrase, 1))
        for token in iter_tokens(text):
            recent.append(token)
            if len(recent) >= 2:
                last = tuple(recent)
                for size in range(2, len(last) + 1):
                    if last[-size:] in wl.phrases:
                        phrase_hits[size].append(repr(" ".join(last[-size:])))
            if token in wl.allowed:
                continue
            if token in wl.words:
                hits.append(repr(token))
                continue
            stem = next((s for s in wl.infixes if s in token), None)
            if stem is not None:
                hits.append(f"{token!r} (contains {stem!r})")
        return hits + [hit for size in sorted(phrase_hits) for hit in phrase_hits[size]]

    def check(self, text: str, context: Sequence[str] = ()) -> Verdict:
        hits = self.find(text)
        score = 1.0 if hits else 0.0
        if hits:
            reason = "word list match: " + ", ".join(hits)
        else:
            reason = "no word list match"
        return Verdict(unsafe=score >= self.threshold, score=score, reason=reason)
