"""Word error rate and the text normalization it relies on."""

from __future__ import annotations

import pytest

from transcription.wer import (
    corpus_word_error_rate,
    normalize,
    number_words,
    word_error_rate,
    word_errors,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The next visit is on Tuesday at 10.", "the next visit is on tuesday at ten"),
        ("See you at 10:30 a.m.!", "see you at ten thirty am"),
        ("Meet at 9:05", "meet at nine oh five"),
        ("I haven't been eating; I can't sleep.", "i have not been eating i can not sleep"),
        ("They won't come, I'm sure", "they will not come i am sure"),
        ("On the 21st and the 3rd", "on the twenty first and the third"),
        (
            "Rent is $1,250, or 2.5% more",
            "rent is one thousand two hundred fifty dollars or two point five percent more",
        ),
        ("Her well-being \u2014 it\u2019s fine", "her well being its fine"),
    ],
)
def test_normalize_removes_formatting_differences(text: str, expected: str) -> None:
    """Case, punctuation, contractions, numbers, times and symbols are normalized."""
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (0, "zero"),
        (15, "fifteen"),
        (40, "forty"),
        (99, "ninety nine"),
        (100, "one hundred"),
        (1205, "one thousand two hundred five"),
        (2_000_017, "two million seventeen"),
    ],
)
def test_number_words(number: int, words: str) -> None:
    """Integers are spelled out the way they are said."""
    assert number_words(number) == words


def test_formatting_alone_is_no_error() -> None:
    """Whisper's '10.' for the reference's 'ten' costs nothing."""
    assert word_error_rate("Tuesday at ten", "Tuesday at 10.") == 0.0


def test_substitution_deletion_and_insertion_each_count_once() -> None:
    """One wrong, one missing and one extra word are three errors."""
    assert word_errors("a b c d", "a x c") == (2, 4)
    assert word_errors("a b c d", "a b c d e") == (1, 4)
    assert word_error_rate("one two three four", "one too three") == 0.5


def test_text_heard_in_silence_counts_per_word() -> None:
    """With an empty reference every heard word is an error; nothing heard is perfect."""
    assert word_error_rate("", "") == 0.0
    assert word_error_rate("", "thank you") == 2.0


def test_corpus_rate_weights_by_reference_length() -> None:
    """Many pairs: total errors over total reference words, not a mean of rates."""
    pairs = [("a b c d e f g h i j", "a b c d e f g h i j"), ("x y", "x")]
    assert corpus_word_error_rate(pairs) == pytest.approx(1 / 12)
