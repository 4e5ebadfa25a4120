"""What makes generated data look like a real account's: names, currencies, amounts, and weighted choices."""

from __future__ import annotations

import random
import string

HOUR = 3600
DAY = 86_400
MONTH = 30 * DAY

ALNUM = string.ascii_letters + string.digits

# fmt: off
FIRST_NAMES = (
    "Jenny", "Ada", "Grace", "Alan", "Linus", "Margaret", "Ken", "Barbara", "Edsger", "Frances", "Donald", "Radia",
    "Tim", "Hedy", "Dennis", "Sophie", "Yukihiro", "Guido", "Anders", "Katherine", "Niklaus", "Shafi", "Leslie",
    "John", "Mary", "Ravi", "Wei", "Amara", "Lucia", "Omar",
)
LAST_NAMES = (
    "Rosen", "Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Thompson", "Liskov", "Dijkstra", "Allen",
    "Knuth", "Perlman", "Berners-Lee", "Lamarr", "Ritchie", "Wilson", "Matsumoto", "Rossum", "Hejlsberg", "Johnson",
    "Wirth", "Goldwasser", "Lamport", "Backus", "Shaw", "Kannan", "Zhang", "Okafor", "Moreno", "Haddad",
)
ADJECTIVES = (
    "Basic", "Premium", "Pro", "Team", "Enterprise", "Starter", "Growth", "Classic", "Deluxe", "Annual", "Cloud",
    "Insight",
)
NOUNS = (
    "Plan", "Seat", "Storage", "Support", "Analytics", "Widget", "T-shirt", "Mug", "Hoodie", "License", "Credits",
    "Bandwidth",
)
# fmt: on
SHIPPING_NAMES = ("Ground shipping", "Express", "Next day air", "Economy", "International", "Free shipping")
CURRENCIES = ("usd",) * 7 + ("eur", "eur", "gbp")


def weighted(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    r = rng.random() * sum(weight for _, weight in table)
    for value, weight in table:
        r -= weight
        if r < 0:
            return value
    return table[-1][0]
