"""Client-facing text: every language file has every English key and the same placeholders."""

from __future__ import annotations

import json
import re

from tests.scheduling import outbox
from tests.world import add_case, add_team, book, database, link_persona, staff_persona
from visits.i18n import I18N_DIR, Translations
from visits.models import Client, StaffRole


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


STATIC = I18N_DIR.parent
KEY = r"([A-Za-z0-9_.-]+)"


def keys_used_by_pages() -> set[str]:
    """Every translation key the pages name: data-i18n* attributes and t("...") calls."""
    used: set[str] = set()
    for page in STATIC.rglob("*.html"):
        used |= set(re.findall(rf'data-i18n(?:-label|-placeholder)?="{KEY}"', page.read_text()))
    for script in (STATIC / "js").glob("*.js"):
        used |= set(re.findall(rf'\bt\(\s*"{KEY}"', script.read_text()))
    return used


def test_every_key_a_page_uses_is_translated_in_every_language() -> None:
    """A key missing from a language file would show the client the raw key."""
    translations = Translations.load()
    used = keys_used_by_pages()
    assert len(used) > 40  # the client pages really are translated
    for language, texts in translations.texts.items():
        assert used <= set(texts), f"{language}.json lacks {sorted(used - set(texts))}"


def test_a_language_is_added_by_adding_one_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for path in I18N_DIR.glob("*.json"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    french = Translations.load(I18N_DIR).texts["en"] | {"app.name": "Visites virtuelles"}
    (tmp_path / "fr.json").write_text(json.dumps(french), encoding="utf-8")
    translations = Translations.load(tmp_path)
    assert translations.languages == ["en", "es", "fr"]
    assert translations.language("fr-CA") == "fr"
    assert translations.text("fr", "app.name") == "Visites virtuelles"


async def test_a_spanish_speaking_client_gets_messages_and_invites_in_spanish(client) -> None:  # type: ignore[no-untyped-def]
    """Texts and the client's calendar invite follow the client's preferred language."""
    team = await add_team(client, "North")
    casey = await staff_persona(client, "casey", StaffRole.CASEWORKER, team)
    case, person = await add_case(client, casey, "C-7", "Dana Rivera")
    async with database(client).transaction() as session:
        (await session.get(Client, person.id)).preferred_language = "es-MX"  # type: ignore[union-attr]
    booking = await book(client, casey, case, person)
    sent = [n for n in await outbox(client, audience="client") if n.kind == "confirmed"]
    assert sent
    assert sent[0].body.startswith("Su visita está reservada para el ")
    assert "Dana" not in sent[0].body  # no names in texts to clients
    token = link_persona("client", booking).link_token
    invite = await client.get("/api/link/invite.ics", headers={"Authorization": f"Bearer {token}"})
    assert invite.status == 200
    assert "SUMMARY:Visita virtual" in await invite.text()
