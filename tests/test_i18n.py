"""Client-facing text: every language file has every English key and the same placeholders."""

from __future__ import annotations

import re

from visits.i18n import I18N_DIR, Translations


def test_every_language_translates_every_key_with_the_same_placeholders() -> None:
    """A language file missing a key or a {placeholder} would show clients broken text."""
    translations = Translations.load()
    english = translations.texts["en"]
    for language, texts in translations.texts.items():
        assert set(texts) == set(english), f"{I18N_DIR / language}.json differs in keys"
        for key, text in texts.items():
            assert set(re.findall(r"\{(\w+)\}", text)) == set(
                re.findall(r"\{(\w+)\}", english[key])
            ), key


def test_language_choice_falls_back_sensibly() -> None:
    """es-MX gets Spanish, an unknown language gets English."""
    translations = Translations.load()
    assert translations.language("es-MX") == "es"
    assert translations.language("tlh") == "en"
    assert translations.text("es", "app.name") == "Visitas Virtuales"
