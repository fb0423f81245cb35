"""FAISS index of a brand's statements, persisted with a sidecar that says what it was built from.

`IndexIDMap2(IndexFlatIP)` over L2-normalised vectors: inner product = cosine. The
sidecar (model id, dim, statements hash, statements) lets `load_or_build` notice
when the statements or the model changed and rebuild instead of returning stale hits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from brand_dna.embedder import Embedder, Vectors


class IndexMetaMismatch(Exception):
    """A persisted index was built from other statements or another model."""


def statements_hash(statements: Sequence[str]) -> str:
    h = hashlib.sha256()
    for s in statements:
        h.update(s.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class Hit:
    """One DNA statement found near a query vector, with its cosine score."""

    id: int
    statement: str
    score: float


class StatementIndex:
    """Statements + their vectors in a FAISS inner-product index with stable int64 ids."""

    def __init__(self, dim: int, model_id: str) -> None:
        self.dim = dim
        self.model_id = model_id
        self.index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self.statements: dict[int, str] = {}
        self._next_id = 0

    # -- build / mutate ---------------------------------------------------------------
    @classmethod
    def build(cls, statements: Sequence[str], embedder: Embedder) -> StatementIndex:
        idx = cls(embedder.dim, embedder.model_id)
        idx.add(statements, embedder.encode(list(statements)) if statements else None)
        return idx

    def add(self, statements: Sequence[str], vectors: Vectors | None) -> list[int]:
        if not statements:
            return []
        assert vectors is not None and vectors.shape == (len(statements), self.dim)
        ids = np.arange(self._next_id, self._next_id + len(statements), dtype=np.int64)
        self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        for i, s in zip(ids.tolist(), statements, strict=True):
            self.statements[i] = s
        self._next_id += len(statements)
        return ids.tolist()

    def remove(self, ids: Sequence[int]) -> int:
        removed = int(self.index.remove_ids(np.asarray(list(ids), dtype=np.int64)))  # type: ignore[arg-type]
        for i in ids:
            self.statements.pop(i, None)
        return removed

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    def ordered_statements(self) -> list[str]:
        return [self.statements[i] for i in sorted(self.statements)]

    # -- query --------------------------------------------------------------------------
    def search(self, queries: Vectors, k: int) -> list[list[Hit]]:
        """Top-k hits per query row; FAISS' -1 padding (k > ntotal) is dropped."""
        if self.ntotal == 0 or len(queries) == 0:
            return [[] for _ in range(len(queries))]
        k = min(k, self.ntotal)
        scores, ids = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        out: list[list[Hit]] = []
        for srow, irow in zip(scores, ids, strict=True):
            out.append(
                [Hit(int(i), self.statements[int(i)], float(s)) for s, i in zip(srow, irow, strict=True) if i != -1]
            )
        return out

    def all_scores(self, queries: Vectors) -> tuple[list[int], np.ndarray]:
        """Cosine of every query to every statement: (ids, matrix[n_queries, n_statements])."""
        ids = sorted(self.statements)
        if not ids:
            return ids, np.zeros((len(queries), 0), dtype=np.float32)
        mat = np.vstack([self.index.reconstruct(i) for i in ids]).astype(np.float32)
        return ids, queries @ mat.T

    # -- persistence -------------------------------------------------------------------
    def meta(self) -> dict[str, object]:
        statements = self.ordered_statements()
        return {
            "model_id": self.model_id,
            "dim": self.dim,
            "statements_hash": statements_hash(statements),
            "statements": statements,
            "ids": sorted(self.statements),
        }

    def save(self, path: Path) -> None:
        """Write `<path>.faiss` and `<path>.json` atomically (temp file + rename)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".faiss.tmp")
        faiss.write_index(self.index, str(tmp))
        tmp.replace(path.with_suffix(".faiss"))
        meta_tmp = path.with_suffix(".json.tmp")
        meta_tmp.write_text(json.dumps(self.meta(), ensure_ascii=False, indent=1), encoding="utf-8")
        meta_tmp.replace(path.with_suffix(".json"))

    @classmethod
    def load(cls, path: Path, *, model_id: str, statements: Sequence[str]) -> StatementIndex:
        """Load a persisted index; raises IndexMetaMismatch if it is not for these statements/model."""
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        if meta.get("model_id") != model_id:
            raise IndexMetaMismatch(f"index built with model {meta.get('model_id')!r}, not {model_id!r}")
        if meta.get("statements_hash") != statements_hash(statements):
            raise IndexMetaMismatch("index built from other statements")
        idx = cls(int(meta["dim"]), model_id)
        idx.index = faiss.read_index(str(path.with_suffix(".faiss")))  # type: ignore[assignment]
        if idx.index.ntotal != len(statements) or idx.index.d != idx.dim:
            raise IndexMetaMismatch("index file does not match its sidecar")
        idx.statements = dict(zip(meta["ids"], meta["statements"], strict=True))
        idx._next_id = max(meta["ids"], default=-1) + 1
        return idx

    @classmethod
    def load_or_build(cls, path: Path, statements: Sequence[str], embedder: Embedder) -> tuple[StatementIndex, bool]:
        """The persisted index if still valid, else a fresh one (saved). Returns (index, rebuilt)."""
        try:
            return cls.load(path, model_id=embedder.model_id, statements=statements), False
        except (OSError, ValueError, KeyError, IndexMetaMismatch, RuntimeError):
            idx = cls.build(statements, embedder)
            try:
                idx.save(path)
            except OSError:
                pass  # a read-only cache dir only costs a rebuild next time
            return idx, True
