"""Words that point at topics and at possible risks in what was said at a visit.

Kept as plain data so a team can review and extend them. Risk words only ever make
suggestions: the caseworker confirms or dismisses each one before signing.
"""

from __future__ import annotations

TOPICS: dict[str, tuple[str, ...]] = {
    "housing": ("rent", "landlord", "evict", "apartment", "housing", "shelter", "lease", "home"),
    "employment": ("job", "work", "employer", "hired", "laid off", "fired", "shift", "warehouse"),
    "income and benefits": (
        "benefit", "assistance", "snap", "wic", "income", "money", "pay", "bills", "apply",
    ),
    "food": ("food", "eating", "meal", "hungry", "groceries", "food bank"),
    "children and school": ("children", "kids", "school", "daycare", "childcare", "teacher"),
    "health": ("doctor", "clinic", "medication", "medicine", "hospital", "sick", "health"),
    "mental health": ("stress", "anxious", "depressed", "counselor", "therapy", "overwhelmed"),
    "family and support": ("sister", "brother", "mother", "father", "family", "grandmother"),
    "transport": ("bus", "car", "ride", "transport"),
    "safety": ("safe", "unsafe", "threat", "police", "hurt"),
    "substance use": ("alcohol", "drinking", "drugs", "using again", "relapse"),
}  # fmt: skip

RISKS: dict[str, tuple[str, ...]] = {
    "food insecurity": (
        "not been eating", "not eating", "no food", "skipping meals", "hungry",
        "can't afford food", "cannot afford food",
    ),
    "loss of income": ("lost my job", "laid off", "fired", "no income", "can't pay", "cannot pay"),
    "eviction or homelessness": (
        "evict", "eviction", "homeless", "nowhere to stay", "behind on rent", "kicked out",
    ),
    "violence or abuse": (
        "hit me", "hits me", "hurt me", "abuse", "afraid of him", "afraid of her", "threatened",
    ),
    "self-harm": ("hurt myself", "kill myself", "end my life", "suicide", "no reason to live"),
    "substance use": ("drinking again", "using again", "relapse", "overdose"),
    "missed medication": ("stopped taking", "ran out of my medication", "missed my medication"),
    "child safety": ("left alone", "home alone", "nobody to watch", "unsupervised"),
}  # fmt: skip

# Sentences that commit someone to do something ("I will send", "you need to bring").
ACTION_CUES: tuple[str, ...] = (
    "i will", "i'll", "we will", "we'll", "you need to", "you will need", "please bring",
    "you should", "next visit", "next appointment", "follow up", "i can help you",
    "remember to", "don't forget",
)  # fmt: skip

# What makes a statement worth keeping as data: numbers, needs, changes, decisions.
SUBSTANCE_CUES: tuple[str, ...] = (
    "lost", "need", "help", "started", "stopped", "moved", "doing well", "hard", "can't",
    "cannot", "will", "next", "apply", "job", "rent", "school", "food", "money",
)  # fmt: skip
