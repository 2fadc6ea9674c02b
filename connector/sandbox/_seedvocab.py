"""Word lists and weights the synthetic world is drawn from (data, kept apart from the logic)."""

from __future__ import annotations

from typing import Final

from connector.funnel import ActivityKind, Direction, Outcome, Seniority

__all__ = [
    "ADJECTIVES",
    "COUNTRIES",
    "DISQUALIFIED_REASONS",
    "FIRST_NAMES",
    "INDUSTRIES",
    "INDUSTRY_FIT",
    "LAST_NAMES",
    "NOUNS",
    "ONE_WAY_HUBSPOT",
    "ONE_WAY_SALESFORCE",
    "SENIORITY_FIT",
    "SENIORITY_WEIGHTS",
    "SUFFIXES",
    "TITLES",
    "TLDS",
    "TWO_WAY_ACTIVITIES",
]

FIRST_NAMES: Final = (
    "Ada", "Alan", "Amara", "Anna", "Arjun", "Beatriz", "Ben", "Carla", "Chen", "Chloe",
    "Daniel", "Dmitri", "Elena", "Emeka", "Emma", "Fatima", "Felix", "Grace", "Hana", "Hugo",
    "Ines", "Isaac", "Jana", "Jonas", "Julia", "Kai", "Kenji", "Lara", "Leon", "Lina",
    "Lucas", "Maya", "Mateo", "Mia", "Nadia", "Noah", "Olga", "Omar", "Paula", "Priya",
    "Rafael", "Rosa", "Sami", "Sara", "Sofia", "Tariq", "Theo", "Uma", "Victor", "Wen",
    "Yara", "Yusuf", "Zoe", "Marta", "Pedro", "Ingrid", "Kofi", "Lea", "Ravi", "Aiko",
)  # fmt: skip

LAST_NAMES: Final = (
    "Abara", "Almeida", "Andersen", "Bauer", "Becker", "Chen", "Costa", "Dubois", "Eriksen",
    "Fischer", "Garcia", "Gomez", "Hansen", "Hoffmann", "Ito", "Jensen", "Kaur", "Khan",
    "Kim", "Kowalski", "Lambert", "Larsen", "Lopez", "Martin", "Meyer", "Moreau", "Murphy",
    "Nakamura", "Nguyen", "Novak", "Okafor", "Olsen", "Patel", "Petrov", "Rossi", "Santos",
    "Schmidt", "Silva", "Singh", "Smith", "Suzuki", "Tanaka", "Taylor", "Walker", "Wagner",
    "Weber", "Wong", "Yilmaz", "Zhang", "Ferreira", "Haddad", "Ivanova", "Mensah", "Obi",
)  # fmt: skip

ADJECTIVES: Final = (
    "Acme", "Blue", "Bright", "Cedar", "Clear", "Copper", "Delta", "Evergreen", "First",
    "Golden", "Granite", "Harbor", "Iron", "Juniper", "Keystone", "Lumen", "Maple", "Nimbus",
    "North", "Orbit", "Pacific", "Pinnacle", "Quantum", "Red", "Silver", "Summit", "Swift",
    "Terra", "United", "Vector", "Vertex", "Willow", "Zenith", "Atlas", "Beacon", "Crescent",
)  # fmt: skip

NOUNS: Final = (
    "Analytics", "Bio", "Capital", "Cloud", "Dynamics", "Energy", "Foods", "Freight",
    "Health", "Labs", "Logistics", "Media", "Motors", "Networks", "Partners", "Pharma",
    "Retail", "Robotics", "Security", "Software", "Solutions", "Systems", "Textiles", "Works",
)  # fmt: skip

SUFFIXES: Final = ("Inc.", "Ltd", "GmbH", "LLC", "Group", "AG", "SA", "Corp.")

TLDS: Final = ("com", "com", "com", "io", "net", "co", "de", "fr", "co.uk")

# Salesforce's standard Industry picklist values.
INDUSTRIES: Final = (
    "Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications",
    "Construction", "Consulting", "Education", "Electronics", "Energy", "Engineering",
    "Entertainment", "Environmental", "Finance", "Food & Beverage", "Government", "Healthcare",
    "Hospitality", "Insurance", "Machinery", "Manufacturing", "Media", "Not For Profit",
    "Recreation", "Retail", "Shipping", "Technology", "Telecommunications", "Transportation",
    "Utilities", "Other",
)  # fmt: skip

# How well each industry fits the synthetic seller (a B2B software vendor): 0..1.
INDUSTRY_FIT: Final[dict[str, float]] = {
    "Technology": 1.0, "Finance": 0.9, "Banking": 0.85, "Healthcare": 0.8,
    "Telecommunications": 0.8, "Insurance": 0.75, "Biotechnology": 0.7, "Consulting": 0.65,
    "Electronics": 0.6, "Manufacturing": 0.55, "Media": 0.5, "Communications": 0.5,
    "Energy": 0.45, "Retail": 0.45, "Transportation": 0.4, "Engineering": 0.4,
    "Utilities": 0.35, "Chemicals": 0.35, "Machinery": 0.3, "Shipping": 0.3,
    "Entertainment": 0.3, "Education": 0.25, "Government": 0.2, "Food & Beverage": 0.2,
    "Construction": 0.2, "Hospitality": 0.15, "Apparel": 0.15, "Environmental": 0.15,
    "Recreation": 0.1, "Agriculture": 0.1, "Not For Profit": 0.1, "Other": 0.1,
}  # fmt: skip

COUNTRIES: Final = (
    ("United States", 40), ("United Kingdom", 10), ("Germany", 10), ("France", 7),
    ("Canada", 6), ("Netherlands", 4), ("Spain", 4), ("Brazil", 4), ("India", 5),
    ("Japan", 4), ("Australia", 3), ("Sweden", 3),
)  # fmt: skip

SENIORITY_WEIGHTS: Final = (
    (Seniority.EXECUTIVE, 6), (Seniority.VP, 8), (Seniority.DIRECTOR, 14),
    (Seniority.MANAGER, 24), (Seniority.INDIVIDUAL, 38), (Seniority.STUDENT, 4),
    (Seniority.UNKNOWN, 6),
)  # fmt: skip

SENIORITY_FIT: Final[dict[Seniority, float]] = {
    Seniority.EXECUTIVE: 1.0, Seniority.VP: 0.9, Seniority.DIRECTOR: 0.75,
    Seniority.MANAGER: 0.5, Seniority.INDIVIDUAL: 0.25, Seniority.STUDENT: 0.0,
    Seniority.UNKNOWN: 0.2,
}  # fmt: skip

TITLES: Final[dict[Seniority, tuple[str, ...]]] = {
    Seniority.EXECUTIVE: ("CEO", "CTO", "CFO", "COO", "Chief Revenue Officer", "Founder"),
    Seniority.VP: ("VP Sales", "VP Engineering", "VP Marketing", "VP Operations"),
    Seniority.DIRECTOR: ("Director of IT", "Director of Sales", "Marketing Director"),
    Seniority.MANAGER: ("IT Manager", "Sales Manager", "Marketing Manager", "Product Manager"),
    Seniority.INDIVIDUAL: ("Software Engineer", "Analyst", "Account Executive", "Designer"),
    Seniority.STUDENT: ("Student", "Intern"),
    Seniority.UNKNOWN: ("Consultant", "Advisor", "Associate"),
}

DISQUALIFIED_REASONS: Final = (
    "No budget", "Not a fit", "Competitor", "Unresponsive", "Student or job seeker",
    "Bought elsewhere",
)  # fmt: skip

Spec = tuple[ActivityKind, Direction, tuple[Outcome, ...]]

# One-way activity, by the system that typically logs it.
ONE_WAY_HUBSPOT: Final[tuple[Spec, ...]] = (
    (ActivityKind.EMAIL, Direction.OUTBOUND, (Outcome.SENT, Outcome.OPENED, Outcome.CLICKED)),
    (ActivityKind.PAGE_VIEW, Direction.NONE, (Outcome.VIEWED,)),
    (ActivityKind.FORM_SUBMISSION, Direction.INBOUND, (Outcome.SUBMITTED,)),
)
ONE_WAY_SALESFORCE: Final[tuple[Spec, ...]] = (
    (ActivityKind.EMAIL, Direction.OUTBOUND, (Outcome.SENT,)),
    (ActivityKind.CALL, Direction.OUTBOUND, (Outcome.NO_ANSWER, Outcome.LEFT_VOICEMAIL)),
    (ActivityKind.CAMPAIGN_RESPONSE, Direction.NONE, (Outcome.RESPONDED,)),
    (ActivityKind.MEETING, Direction.OUTBOUND, (Outcome.NO_SHOW,)),
)
# Two-way activity (see connector.funnel.TWO_WAY); any system may log it.
TWO_WAY_ACTIVITIES: Final[tuple[Spec, ...]] = (
    (ActivityKind.EMAIL, Direction.INBOUND, (Outcome.REPLIED,)),
    (ActivityKind.CALL, Direction.OUTBOUND, (Outcome.CONNECTED,)),
    (ActivityKind.MEETING, Direction.OUTBOUND, (Outcome.HELD,)),
    (ActivityKind.FORM_SUBMISSION, Direction.INBOUND, (Outcome.DEMO_REQUESTED,)),
)
