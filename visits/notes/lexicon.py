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
        "can't afford food", "cannot afford food", "nothing to eat", "no groceries",
        "went without eating", "ran out of food", "go to bed hungry",
    ),
    "loss of income": ("lost my job", "laid off", "fired", "no income", "can't pay", "cannot pay"),
    "eviction or homelessness": (
        "evict", "eviction", "homeless", "nowhere to stay", "behind on rent", "kicked out",
        "sleeping in my car", "sleeping in the car", "lose the apartment", "notice to quit",
        "nowhere to go", "couch surfing",
    ),
    "violence or abuse": (
        "hit me", "hits me", "hurt me", "abuse", "afraid of him", "afraid of her", "threatened",
        "beats me", "beat me", "hurts me", "domestic violence", "choked", "pushed me",
        "scared to go home", "restraining order",
    ),
    "self-harm": (
        "hurt myself", "hurting myself", "kill myself", "end my life", "end it all", "suicide",
        "suicidal", "no reason to live", "want to die", "cutting myself", "better off dead",
    ),
    "substance use": (
        "drinking again", "using again", "relapse", "relapsed", "overdose", "drinking a lot",
        "drinking every day", "high again", "been using",
    ),
    "missed medication": (
        "stopped taking", "ran out of my medication", "missed my medication", "ran out of my pills",
        "skipped my pills", "skipping my medication", "can't afford my medication",
        "haven't taken my", "not taking my medication", "off my meds",
    ),
    "child safety": (
        "left alone", "home alone", "nobody to watch", "unsupervised", "no one to watch",
        "alone with the kids", "kids alone", "children alone", "hit the kids", "hits the kids",
    ),
}  # fmt: skip

# Sentences that commit someone to do something ("I will send", "you need to bring").
ACTION_CUES: tuple[str, ...] = (
    "i will", "i'll", "we will", "we'll", "you need to", "you will need", "please bring",
    "you should", "next visit", "next appointment", "follow up", "i can help you",
    "remember to", "don't forget", "is going to", "are going to", "needs to", "has to",
    "have to", "i need you to", "make sure",
)  # fmt: skip

# Requests said as commands ("Bring your lease", "Call the landlord"): a sentence that opens
# with one of these verbs (after "please", "so", "and" or "then") is an action item.
ACTION_VERBS: tuple[str, ...] = (
    "bring", "call", "send", "email", "text", "mail", "fill out", "sign", "apply", "ask",
    "drop off", "pick up", "take", "get", "check", "contact", "schedule", "book", "visit",
)  # fmt: skip

# People named by how they relate to someone ("my sister will drive me"): owners of actions.
RELATIONS: tuple[str, ...] = (
    "sister", "brother", "mother", "mom", "father", "dad", "aunt", "uncle", "grandmother",
    "grandfather", "daughter", "son", "partner", "husband", "wife", "neighbor", "friend",
    "landlord", "doctor", "teacher", "lawyer", "counselor", "supervisor", "boss",
)  # fmt: skip

# What makes a statement worth keeping as data: numbers, needs, changes, decisions.
SUBSTANCE_CUES: tuple[str, ...] = (
    "lost", "need", "help", "started", "stopped", "moved", "doing well", "hard", "can't",
    "cannot", "will", "next", "apply", "job", "rent", "school", "food", "money",
)  # fmt: skip
