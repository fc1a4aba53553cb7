"""Client-facing text in the client's language.

One JSON file per language in static/i18n/ holds every client-facing string, for the browser
pages and for what the server writes (reminders, invites, notices) alike: adding a language is
adding one file. Missing keys fall back to English.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from pathlib import Path

I18N_DIR = Path(__file__).resolve().parents[1] / "static" / "i18n"
DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class Translations:
    """All languages' texts, loaded once at start-up."""

    texts: dict[str, dict[str, str]]

    @classmethod
    def load(cls, directory: Path = I18N_DIR) -> Translations:
        texts = {
            path.stem: json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(directory.glob("*.json"))
        }
        if DEFAULT_LANGUAGE not in texts:
            raise FileNotFoundError(f"{directory / 'en.json'} is missing")
        return cls(texts)

    @property
    def languages(self) -> list[str]:
        return sorted(self.texts)

    def language(self, preferred: str | None) -> str:
        """The best language we have for a preference such as 'es-MX'."""
        if preferred:
            for candidate in (preferred, preferred.split("-")[0]):
                if candidate in self.texts:
                    return candidate
        return DEFAULT_LANGUAGE

    def text(self, language: str | None, key: str, **values: object) -> str:
        """The text for `key`, with {placeholders} filled in."""
        chosen = self.texts[self.language(language)]
        template = chosen.get(key) or self.texts[DEFAULT_LANGUAGE].get(key)
        if template is None:
            raise KeyError(f"no text {key!r} in {I18N_DIR / 'en.json'}")
        return string.Formatter().vformat(template, (), values)
