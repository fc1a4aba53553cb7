"""Word error rate, after normalizing away differences that are not recognition errors.

Whisper writes "Tuesday at 10." where the reference says "Tuesday at ten", and "haven't"
where it says "have not"; neither is a mistake a caseworker would care about. Both texts are
lower-cased, contractions expanded, numbers spelled out and punctuation dropped before words
are compared.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from types import MappingProxyType

logger = logging.getLogger(__name__)

# fmt: off
_ONES = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
# fmt: on
_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred"))
_ORDINALS = MappingProxyType(
    {
        "one": "first",
        "two": "second",
        "three": "third",
        "five": "fifth",
        "eight": "eighth",
        "nine": "ninth",
        "twelve": "twelfth",
    }
)
# Longest first, so "won't" is not read as "wo" + "n't".
_CONTRACTIONS = (
    ("won't", "will not"),
    ("can't", "can not"),
    ("cannot", "can not"),
    ("n't", " not"),
    ("'m", " am"),
    ("'re", " are"),
    ("'ve", " have"),
    ("'ll", " will"),
)
_SYMBOLS = (("%", " percent "), ("&", " and "), ("+", " plus "))


def number_words(number: int) -> str:
    """Spell out a non-negative integer: 1205 -> 'one thousand two hundred five'."""
    if number < 20:
        return _ONES[number]
    if number < 100:
        tens, ones = divmod(number, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    for scale, word in _SCALES:
        if number >= scale:
            high, rest = divmod(number, scale)
            return f"{number_words(high)} {word}" + (f" {number_words(rest)}" if rest else "")
    raise AssertionError("unreachable")


def _ordinal(cardinal: str) -> str:
    *head, last = cardinal.split()
    if last in _ORDINALS:
        last = _ORDINALS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return " ".join([*head, last])


def _spell_time(match: re.Match[str]) -> str:
    hours, minutes = int(match[1]), int(match[2])
    if minutes == 0:
        return f" {number_words(hours)} "
    joiner = " oh " if minutes < 10 else " "
    return f" {number_words(hours)}{joiner}{number_words(minutes)} "


def _spell_number(match: re.Match[str]) -> str:
    whole, fraction, suffix = match[1].replace(",", ""), match[2], match[3]
    words = number_words(int(whole))
    if fraction:
        words += " point " + " ".join(_ONES[int(digit)] for digit in fraction)
    if suffix:
        words = _ordinal(words)
    return f" {words} "


def normalize(text: str) -> str:
    """Lower-case words without punctuation, contractions expanded, numbers spelled out."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    text = re.sub(r"\b(\d{1,2}):(\d{2})\b", _spell_time, text)  # 10:30 -> ten thirty
    text = re.sub(r"\$(\d[\d,]*)", r"\1 dollars", text)
    text = re.sub(r"\b(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(st|nd|rd|th)?\b", _spell_number, text)
    for symbol, words in _SYMBOLS:
        text = text.replace(symbol, words)
    for short, long in _CONTRACTIONS:
        text = text.replace(short, long)
    text = re.sub(r"\b([a-z])\.(?=[a-z]\.)", r"\1", text)  # a.m. -> am.
    text = re.sub(r"[^\w\s]|_", " ", text.replace("'", ""))
    return " ".join(text.split())


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    """Fewest word substitutions, insertions and deletions turning one list into the other."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, start=1):
        current = [i]
        for j, hyp_word in enumerate(hypothesis, start=1):
            current.append(
                min(
                    previous[j] + 1,  # deletion
                    current[j - 1] + 1,  # insertion
                    previous[j - 1] + (ref_word != hyp_word),  # substitution or match
                )
            )
        previous = current
    return previous[-1]


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(word errors, reference word count) after normalizing both texts."""
    ref_words, hyp_words = normalize(reference).split(), normalize(hypothesis).split()
    return edit_distance(ref_words, hyp_words), len(ref_words)


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Errors per reference word (text heard in an empty reference counts per word heard)."""
    errors, words = word_errors(reference, hypothesis)
    return errors / max(words, 1)


def corpus_word_error_rate(pairs: Iterable[tuple[str, str]]) -> float:
    """WER over many (reference, hypothesis) pairs: total errors over total reference words."""
    errors = words = 0
    for reference, hypothesis in pairs:
        pair_errors, pair_words = word_errors(reference, hypothesis)
        errors += pair_errors
        words += pair_words
    return errors / max(words, 1)
