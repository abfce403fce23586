"""Fixtures for the search library: small documents and backends in a temp folder (no Flask)."""
import pytest

from search.base import Document
from search.registry import create_backend

DOCS = [
    Document(slug="it-support-ticket", title="Ticket di supporto", locale="it", category="glossary",
             tags=("ticket", "supporto"), concept="support-ticket",
             body="# Ticket di supporto\n\nUn ticket di supporto è un registro che descrive il problema di un cliente."),
    Document(slug="ro-knowledge-base", title="Bază de cunoștințe", locale="ro", category="glossary",
             tags=("kb",), concept="knowledge-base",
             body="O bază de cunoştinţe este o bibliotecă online de articole și ghiduri."),
    Document(slug="it-journey", title="Customer journey", locale="it", category="glossary",
             concept="customer-journey",
             body="Capire dove e perché l'azienda perde clienti, passo dopo passo."),
    Document(slug="en-refund", title="Refund not showing up", locale="en", category="banking",
             tags=("refund",), concept="refund",
             body="Customers ask this in many ways:\n\n- Why is my refund not showing up?\n- I need my refund"),
    Document(slug="en-card", title="Card arrival", locale="en", category="banking", concept="card",
             body="When will my new card arrive? Cards arrive within a week of ordering."),
    Document(slug="it-refund", title="Rimborso non visibile", locale="it", category="banking",
             concept="refund", body="Il rimborso richiesto non compare ancora sul conto."),
]


@pytest.fixture
def docs():
    return list(DOCS)


@pytest.fixture(params=["keyword", "semantic", "hybrid"])
def any_backend(request, tmp_path, docs):
    backend = create_backend(request.param, tmp_path / "idx", encoder="fake")
    backend.index(docs)
    return backend


@pytest.fixture
def keyword(tmp_path, docs):
    backend = create_backend("keyword", tmp_path / "idx")
    backend.index(docs)
    return backend


@pytest.fixture
def hybrid(tmp_path, docs):
    backend = create_backend("hybrid", tmp_path / "idx", encoder="fake")
    backend.index(docs)
    return backend
