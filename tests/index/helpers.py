"""A small multilingual corpus and index builders shared by the index and serve tests (tiny backbone)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# (id, language, text): parallel-ish sentences in four languages, enough for three shards of 10
SENTENCES = {
    "en": [
        "The cat sleeps on the warm mat.",
        "Stock markets fell sharply on Monday.",
        "Rain is expected in the north tomorrow.",
        "She plays the violin in an orchestra.",
        "The bridge was closed for repairs.",
        "Children learn languages quickly.",
        "The museum opens at nine o'clock.",
    ],
    "fr": [
        "Le chat dort sur le tapis chaud.",
        "Les marchés boursiers ont fortement chuté lundi.",
        "De la pluie est attendue dans le nord demain.",
        "Elle joue du violon dans un orchestre.",
        "Le pont a été fermé pour travaux.",
        "Les enfants apprennent vite les langues.",
        "Le musée ouvre à neuf heures.",
    ],
    "de": [
        "Die Katze schläft auf der warmen Matte.",
        "Die Aktienmärkte fielen am Montag stark.",
        "Morgen wird im Norden Regen erwartet.",
        "Sie spielt Geige in einem Orchester.",
        "Die Brücke wurde wegen Reparaturen gesperrt.",
        "Kinder lernen Sprachen schnell.",
    ],
    "ru": [
        "Кошка спит на тёплом коврике.",
        "Фондовые рынки резко упали в понедельник.",
        "Завтра на севере ожидается дождь.",
        "Она играет на скрипке в оркестре.",
        "Мост закрыли на ремонт.",
    ],
}


def documents() -> list[dict[str, str]]:
    docs = []
    for lang, texts in SENTENCES.items():
        for i, text in enumerate(texts):
            docs.append({"_id": f"{lang}-{i}", "text": text, "language": lang})
    return docs


def write_corpus(path: Path, docs: list[dict[str, str]] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for doc in docs if docs is not None else documents():
            handle.write(json.dumps(doc, ensure_ascii=False) + "\n")
    return path


def row_ids(index: Any) -> list[str]:
    """Document ids of a loaded :class:`~babelir.index.Index` in faiss row order (what shards, merges and
    resumes must preserve)."""
    docs = index.store.get(range(len(index)))
    return [docs[row][0] for row in range(len(index))]
