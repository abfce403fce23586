"""The keyword side's own scoring and caches: same results as Whoosh, and never stale."""
import random

import numpy as np
import pytest

from search import bm25
from search.base import Document, clean_query
from search.keyword import KeywordBackend
from search.vocab import Vocabulary, distance
from tests.threads import run_together

WORDS = ("ticket supporto rimborso conto carta bonifico refund card account transfer payment "
         "delivery cunostinte baza articol ghid client problema cliente azienda").split()


def _docs(n, seed=1, prefix="d"):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        loc = ("it", "ro", "en", "xx")[i % 4]
        out.append(Document(
            slug=f"{prefix}{i}", locale=loc, category=("a", "b", "c")[i % 3], title=" ".join(rng.sample(WORDS, 2)),
            tags=tuple(rng.sample(WORDS, 2)), summary=" ".join(rng.choices(WORDS, k=5)),
            body=" ".join(rng.choices(WORDS, k=rng.randint(3, 60)))))
    return out


def _multi_segment(path):
    """An index of several segments with deletions: the case that takes care to get right."""
    kb = KeywordBackend(path)
    kb.rebuild(_docs(60))
    for batch, seed in (("e", 2), ("f", 3)):
        writer = kb._open().writer()
        for doc in _docs(25, seed, batch):
            writer.add_document(**kb._fields(doc))
        writer.commit(merge=False)          # keep the segments apart
    kb.remove(["d3", "e4", "f7"])
    kb.index([Document(slug="d5", title="rimborso carta", locale="it", body="rimborso " * 7)])
    return kb


QUERIES = ["rimborso carta", "refund card account", "ticket", "cunostinte ghid", "payment delivery azienda",
           "tiket suporto", "card", "client problema cliente conto"]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("flt", [(None, None), ("it", None), (None, "b"), ("en", "a")])
def test_numpy_scores_equal_whoosh(tmp_path, query, flt):
    kb = _multi_segment(tmp_path / "k")
    searcher = kb._get_searcher()
    assert len(searcher.reader().leaf_readers()) > 1 and searcher.reader().has_deletions()
    parsed = kb.analyze(clean_query(query)[0], flt[0], searcher.reader())
    q = kb._query(parsed, searcher.reader())
    want = searcher.search(q, limit=20, filter=kb._filter(*flt), optimize=False)
    rows, _, total = kb.scored(query, *flt, limit=20)
    assert total == len(want)
    assert [(r[0], r[1]) for r in rows] == [(searcher.stored_fields(d)["slug"], s) for s, d in want.top_n]


def test_ties_rank_by_document_order_as_in_whoosh(tmp_path):
    kb = KeywordBackend(tmp_path / "k")
    kb.index([Document(slug=f"s{i}", title="same", body="same words") for i in range(12)])
    rows, _, total = kb.scored("same", limit=5)
    assert total == 12 and [r[0] for r in rows] == ["s0", "s1", "s2", "s3", "s4"]


def test_a_tiny_postings_cache_evicts_without_changing_results(tmp_path):
    kb = _multi_segment(tmp_path / "k")
    before = [kb.scored(q, limit=10)[0] for q in QUERIES]
    kb._arrays = bm25.SegmentArrays(cached_postings=8)
    kb._scorer = None
    after = [kb.scored(q, limit=10)[0] for q in QUERIES for _ in (1, 2)][::2]
    assert [[r[:2] for r in rows] for rows in after] == [[r[:2] for r in rows] for rows in before]
    assert kb._arrays._cached <= 8


def test_search_sees_publish_update_and_remove_after_caches_warmed(tmp_path):
    kb = KeywordBackend(tmp_path / "k")
    kb.index(_docs(30))
    for q in ("carta rimborso", "quokka", "quokkaz"):       # warm every cache on these terms
        kb.search(q)
        kb.search(q, locale="en", category="a")
    kb.index([Document(slug="new", title="Quokka carta", locale="en", category="a", body="quokka rimborso")])
    assert kb.search("quokka").hits[0].slug == "new"
    assert kb.search("quokka", locale="en", category="a").hits[0].slug == "new"
    assert kb.search("quokkaz").suggestion == "quokka"        # the new word is known to corrections
    kb.index([Document(slug="new", title="Wombat", locale="en", category="a", body="wombat")])
    assert kb.search("quokka").total == 0 and kb.search("wombat").hits[0].slug == "new"
    kb.remove(["new"])
    assert kb.search("wombat").total == 0
    assert kb.search("wombat", locale="en", category="a").total == 0


def test_rebuild_replaces_cached_segments(tmp_path):
    kb = KeywordBackend(tmp_path / "k")
    kb.rebuild(_docs(20))
    kb.search("carta rimborso")
    kb.rebuild([Document(slug="only", title="Carta", locale="it", body="carta")])
    res = kb.search("carta rimborso")
    assert [h.slug for h in res.hits] == ["only"] and res.total == 1


def test_another_instance_sees_the_writes(tmp_path):
    reader, writer = KeywordBackend(tmp_path / "k"), KeywordBackend(tmp_path / "k")
    writer.index(_docs(10))
    reader.search("carta")
    writer.index([Document(slug="z", title="Zebra", body="zebra")])
    assert [h.slug for h in reader.search("zebra").hits] == ["z"]


def test_vocabulary_finds_every_word_within_the_distance(tmp_path):
    kb = _multi_segment(tmp_path / "k")
    reader = kb._get_searcher().reader()
    vocab, rng = Vocabulary("words"), random.Random(4)
    every = {t.decode() if isinstance(t, bytes) else t for t in reader.lexicon("words")}
    typos = []
    for w in WORDS:
        i = rng.randrange(1, len(w))
        typos += [w[:i] + w[i + 1:], w[:i] + "x" + w[i:], w[:i] + "e" + w[i + 1:], w[:i] + w[i + 1:i + 2] + w[i] + w[i + 2:]]
    for typo in typos:
        for maxdist in (1, 2):
            # every word of every segment sharing the first two letters, by brute force
            want = {w: distance(typo, w) for w in every if w[:2] == typo[:2] and distance(typo, w) <= maxdist}
            assert dict(vocab.within(reader, typo, maxdist)) == want


def test_distance_counts_an_adjacent_swap_as_one_edit():
    assert distance("ticket", "tiket") == 1
    assert distance("ticket", "tikcet") == 1
    assert distance("email", "emial") == 1          # issue 17: missed when a swap cost two
    assert distance("abc", "xyzabc") == 3
    assert distance("", "ab") == 2


def test_segment_files_are_not_copied_and_threads_read_their_own_position(tmp_path):
    import sys

    import mmap

    from whoosh.filedb import compound, structfile

    from search import mapped
    kb = KeywordBackend(tmp_path / "k")
    kb.rebuild(_docs(400))
    queries = [" ".join(random.Random(i).sample(WORDS, 3)) for i in range(40)]
    want = {q: [r[:2] for r in kb.scored(q, limit=10)[0]] for q in queries}
    postings = kb._get_searcher().reader()._terms._postfile
    assert isinstance(postings, mapped.MappedFile) and isinstance(postings._buf.obj, mmap.mmap)
    assert compound.BufferFile is structfile.BufferFile      # Whoosh's own module is untouched
    shared = KeywordBackend(tmp_path / "k")
    shared._arrays = bm25.SegmentArrays(cached_postings=0)  # every search reads the files
    errors, wrong = [], []

    def run(seed):
        rng = random.Random(seed)
        try:
            for _ in range(60):
                q = rng.choice(queries)
                if [r[:2] for r in shared.scored(q, limit=10)[0]] != want[q]:
                    wrong.append(q)
        except Exception as exc:  # noqa: BLE001 - any error is the failure
            errors.append(exc)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)         # threads take turns often, as under load
    try:
        run_together(run, 6)
    finally:
        sys.setswitchinterval(interval)
    assert not errors and not wrong


def test_has_terms_matches_the_postings_of_every_segment(tmp_path):
    kb = _multi_segment(tmp_path / "k")
    searcher = kb._get_searcher()
    scorer = kb._scorer_for(searcher)
    reader = searcher.reader()
    terms = [("body_it", "rimbors"), ("title_en", "card"), ("words", "cunostinte"), ("body_xx", "absent")]
    docnums = np.arange(reader.doc_count_all())
    want = np.zeros((len(docnums), len(terms)), bool)
    for j, (field, text) in enumerate(terms):
        if (field, text) in reader:
            want[list(reader.postings(field, text).all_ids()), j] = True   # Whoosh's own reading
    assert want[:, :3].any(axis=0).all()
    live = scorer.live          # Whoosh's reading skips deleted documents; has_terms is asked about live ones
    assert not live.all()
    assert (scorer.has_terms(docnums, terms)[live] == want[live]).all()
    some = docnums[live][::-7]                                               # any order, any subset
    assert (scorer.has_terms(some, terms) == want[some]).all()


def test_the_index_keeps_frequencies_but_no_positions(tmp_path):
    kb = KeywordBackend(tmp_path / "k")
    kb.rebuild([Document(slug="a", title="carta", locale="it", body="rimborso rimborso carta")])
    reader = kb._get_searcher().reader()
    assert not reader.schema["body_it"].format.supports("positions")
    assert dict(reader.postings("body_it", "rimbors").items_as("frequency")) == {0: 2}
