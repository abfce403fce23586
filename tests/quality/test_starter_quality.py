"""Search quality on the starter articles, scored like shared/eval/score.py (real model).

The labelled queries live beside this file (starter-queries.tsv); bench/quality.py prints the
same figures for every mode. These floors are set a little under what was measured, so a
change that makes search worse fails here.
"""
import os
import pathlib

import pytest

from bench.quality import run_set

ROOT = pathlib.Path(__file__).resolve().parents[2]
QUERIES = ROOT / "tests" / "quality" / "starter-queries.tsv"

# mode -> minimum nDCG@10 on the starter set with the default encoder
FLOORS = {"keyword": 0.60, "hybrid": 0.72}


@pytest.mark.model
@pytest.mark.slow
def test_starter_queries_quality(tmp_path):
    encoder = os.environ.get("SPORTELLO_EMBEDDING_MODEL", "minilm")
    cache = str(ROOT / ".cache" / "embeddings")
    res = run_set("starter", ROOT / "articles", QUERIES, list(FLOORS), encoder, cache, home=str(tmp_path))
    for mode, floor in FLOORS.items():
        assert res[mode]["ndcg@10"] >= floor, (mode, res[mode])
    assert res["hybrid"]["ndcg@10"] >= res["keyword"]["ndcg@10"] - 0.01
