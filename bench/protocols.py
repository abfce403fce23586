"""The dev protocols for "does the portal know when it has no answer?", built from the shared sets.

Each protocol is plain data: a corpus folder (or a filtered list of its documents) and labelled
queries, so that the in-process harness (bench/noanswer.py) and tests can both use it.

* off-topic: the glossary corpus; its dev queries are answerable; SQuAD-it's dev questions
  (Italian Wikipedia trivia), gibberish and everyday questions in it/ro/en are not.
* near misses: the Banking77 corpus with a random quarter of its intents removed (a seed per
  run); the dev phrasings of the removed intents are unanswerable, those of the kept intents
  answerable (and their intent is the article that should answer).
* gaps and contact form reuse the near-miss split (see bench/noanswer.py).
"""
from __future__ import annotations

import pathlib
import random
from dataclasses import dataclass

from bench.corpus import load_documents
from bench.quality import _metrics, sets

# Everyday questions nobody would file under a customer-service glossary or a bank's FAQ,
# written for these protocols (it/ro/en), plus support questions of other products.
EVERYDAY = {
    "en": [
        "how long should I boil an egg", "what is the weather like in London tomorrow",
        "best pizza recipe with sourdough", "who won the world cup in 2006",
        "how to change a flat bicycle tyre", "cheap flights to Lisbon in May",
        "why is the sky blue", "how many calories in a banana",
        "my printer is not working", "how do I fix a leaking tap",
        "train times from Milan to Rome", "how to grow tomatoes on a balcony",
        "what time does the museum open on sunday", "translate good morning into japanese",
        "symptoms of the flu in children", "how to tie a tie",
        "when did Napoleon die", "recommend a good science fiction novel",
        "how do I reset my wifi router", "what is the capital of Australia",
    ],
    "it": [
        "come si cucina il risotto alla milanese", "che tempo farà domani a Napoli",
        "chi ha vinto il campionato di calcio nel 2010", "come si cambia una gomma della bicicletta",
        "orari dei treni da Bologna a Firenze", "quante calorie ha una mela",
        "la mia stampante non stampa", "come si coltiva il basilico in casa",
        "quando è morto Napoleone", "ricetta della torta di mele della nonna",
        "come si ripara un rubinetto che perde", "migliori spiagge in Sardegna",
        "perché il cielo è blu", "come si fa il nodo della cravatta",
        "sintomi dell'influenza nei bambini", "a che ora apre il museo la domenica",
        "consigliami un buon romanzo giallo", "quanto costa un biglietto per il Colosseo",
        "come si resetta il router wifi", "qual è la capitale dell'Australia",
    ],
    "ro": [
        "cum se face ciorba de perisoare", "cum va fi vremea mâine la Cluj",
        "cine a câștigat campionatul mondial de fotbal în 2014", "cum schimb camera la bicicletă",
        "mersul trenurilor de la București la Brașov", "câte calorii are o banană",
        "imprimanta mea nu mai printează", "cum cresc roșii pe balcon",
        "când a murit Napoleon", "rețetă de cozonac cu nucă",
        "cum repar un robinet care picură", "cele mai frumoase plaje din Grecia",
        "de ce este cerul albastru", "cum se leagă o cravată",
        "simptomele gripei la copii", "la ce oră se deschide muzeul duminica",
        "recomandă-mi o carte bună de citit", "cât costă un bilet de avion la Paris",
        "cum resetez routerul wifi", "care este capitala Australiei",
    ],
}


def gibberish(n: int = 40, seed: int = 7) -> list[str]:
    """Strings of made-up words (some with a real word mixed in), like `xqzv frobnicator`."""
    rng = random.Random(seed)
    consonants, vowels = "bcdfghjklmnpqrstvwxz", "aeiou"
    real = ["ticket", "cliente", "cont", "printer", "card", "servizio", "agent"]
    out = []
    for i in range(n):
        words = []
        for _ in range(rng.randint(1, 3)):
            word = "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.randint(2, 4)))
            words.append(word + rng.choice(["", "x", "q", "or", "ator"]))
        if i % 4 == 3:
            words.insert(rng.randint(0, len(words)), rng.choice(real))
        out.append(" ".join(words))
    return out


@dataclass(frozen=True)
class LabelledQuery:
    """A query with the locale it was asked in, whether the KB answers it, and by which article(s)."""

    text: str
    locale: str
    answerable: bool
    kind: str = ""                  # where it comes from: dev, squad-it, gibberish, everyday, removed, kept
    relevant: tuple[str, ...] = ()  # slugs of the articles that answer it (answerable queries)
    intent: str = ""                # banking77: the intent (the removed article for unanswerable ones)


@dataclass(frozen=True)
class Protocol:
    """A knowledge base (documents) and labelled queries to run against it."""

    name: str
    documents: tuple
    queries: tuple[LabelledQuery, ...]
    locales: tuple[str, ...] = ()


def _labelled(path, locales, kind, answerable=True) -> list[LabelledQuery]:
    load_queries, qrels = _metrics()[0], _metrics()[1]
    out = []
    for _qid, locale, text, judged in load_queries(path):
        rel = qrels(locale, judged, locales)
        best = max(rel.values()) if rel else 0
        out.append(LabelledQuery(text, locale, answerable, kind,
                                 tuple(sorted(s for s, g in rel.items() if g == best))))
    return out


def offtopic(squad_limit: int | None = None) -> Protocol:
    """The glossary KB: its dev queries against SQuAD-it questions, gibberish and everyday ones."""
    available = sets()
    corpus, queries = available["glossary"]
    docs = load_documents(corpus)
    locales = tuple(sorted(p.name for p in pathlib.Path(corpus).iterdir() if p.is_dir()))
    labelled = _labelled(queries, locales, "dev")
    if "squad-it" in available:
        squad = _labelled(available["squad-it"][1], locales, "squad-it", answerable=False)
        labelled += [LabelledQuery(q.text, q.locale, False, "squad-it") for q in squad[:squad_limit]]
    labelled += [LabelledQuery(t, "", False, "gibberish") for t in gibberish()]
    labelled += [LabelledQuery(t, loc, False, "everyday") for loc, texts in EVERYDAY.items() for t in texts]
    return Protocol("off-topic", tuple(docs), tuple(labelled), locales)


def banking_split(seed: int, share: float = 0.25) -> tuple[list[str], list[str]]:
    """(kept intents, removed intents) of Banking77: a random `share` of the intents removed."""
    corpus = sets()["banking77"][0]
    intents = sorted(d.slug for d in load_documents(corpus))
    removed = sorted(random.Random(seed).sample(intents, round(len(intents) * share)))
    return [i for i in intents if i not in removed], removed


def near_misses(seed: int) -> Protocol:
    """Banking77 without a quarter of its intents: the removed intents' phrasings are unanswerable."""
    corpus, queries = sets()["banking77"]
    kept, removed = banking_split(seed)
    docs = [d for d in load_documents(corpus) if d.slug in set(kept)]
    labelled = []
    for q in _labelled(queries, ("en",), "dev"):
        intent = q.relevant[0]
        if intent in removed:
            labelled.append(LabelledQuery(q.text, q.locale, False, "removed", (), intent))
        else:
            labelled.append(LabelledQuery(q.text, q.locale, True, "kept", q.relevant, intent))
    return Protocol(f"near-miss/{seed}", tuple(docs), tuple(labelled), ("en",))


def starter() -> Protocol:
    """The starter KB (articles/) with the project's own labelled queries, all answerable."""
    corpus, queries = sets()["starter"]
    docs = load_documents(corpus)
    return Protocol("starter", tuple(docs), tuple(_labelled(queries, ("en", "it", "ro"), "dev")), ("en", "it", "ro"))


NEAR_MISS_SEEDS = (11, 23, 37, 41, 53)
