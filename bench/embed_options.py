"""Embedding speed options for the packaged all-MiniLM-L6-v2 on CPU, with their quality cost.

    python bench/embed_options.py                # all variants, 1000 trend texts, calibrate F1
    python bench/embed_options.py --n 500 --no-f1

Variants (same 1000 distinct trend texts, title + 3 headlines, ~56 tokens):
  fp32            SentenceTransformer.encode as shipped (max_seq_length 256, batch 64)
  fp32-seq128     max_seq_length 128 (a trend text is < 128 tokens, so ~no effect: ST pads to the batch's longest)
  fp32-batch16/128  batch size (ST sorts by length; smaller batches waste less padding)
  bf16            the model cast to bfloat16 (SentenceEmbedder(precision="bf16"); "auto" on AVX512-BF16/AMX CPUs)
  int8            torch dynamic int8 quantisation of every nn.Linear (SentenceEmbedder(precision="int8"))
  onnx / onnx-int8  onnxruntime on a locally exported graph (no hub, no optimum), int8 = ORT dynamic
                  quantisation; only if `onnxruntime` and `onnx` import (e.g. PYTHONPATH=/tmp/onnxpkgs).

Reported per variant: texts/s (best of --reps), speed-up vs fp32, cosine agreement with fp32
(mean and min over the texts), and the leave-one-brand-out F1 of `fit` from bench/calibrate.py
re-run with that variant's vectors (weights re-fitted per fold, exactly as calibrate does).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import load_avg, make_trends, md_table, write_result

from brand_dna.embedder import SentenceEmbedder, normalise_rows, packaged_model_path
from monitor.models import TrendInput
from monitor.risk import trend_text

EncodeFn = Callable[[list[str]], np.ndarray]


class FnEmbedder:
    """Embedder protocol over a plain encode function (no cache), for calibrate.load_sets."""

    def __init__(self, name: str, fn: EncodeFn, dim: int) -> None:
        self._name, self._fn, self._dim = name, fn, dim

    @property
    def model_id(self) -> str:
        return f"bench-{self._name}"

    @property
    def dim(self) -> int:
        return self._dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        return self._fn(list(texts)).astype(np.float32)


def st_encoder(model: Any, batch_size: int) -> EncodeFn:
    def fn(texts: list[str]) -> np.ndarray:
        return normalise_rows(
            model.encode(
                texts, batch_size=batch_size, normalize_embeddings=False, convert_to_numpy=True, show_progress_bar=False
            )
        )

    return fn


def onnx_encoders(st_model: Any, threads: int, workdir: Path) -> dict[str, EncodeFn]:
    """Export the transformer to ONNX locally and wrap onnxruntime sessions (fp32 and int8)."""
    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    auto = st_model[0].auto_model

    class Wrap(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.m = auto

        def forward(self, ids: Any, mask: Any, types: Any) -> Any:
            return self.m(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state

    hf = Wrap().eval()
    tok = st_model[0].tokenizer
    enc = tok(["hello world", "a longer example sentence"], padding=True, return_tensors="pt")
    fp32_path = workdir / "model.onnx"
    torch.onnx.export(
        hf,
        (enc["input_ids"], enc["attention_mask"], enc["token_type_ids"]),
        str(fp32_path),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["last_hidden_state"],
        dynamic_axes={k: {0: "batch", 1: "seq"} for k in ("input_ids", "attention_mask", "token_type_ids")}
        | {"last_hidden_state": {0: "batch", 1: "seq"}},
        opset_version=17,
        dynamo=False,
    )
    int8_path = workdir / "model_int8.onnx"
    quantize_dynamic(str(fp32_path), str(int8_path), weight_type=QuantType.QInt8)

    def make(path: Path) -> EncodeFn:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

        def fn(texts: list[str], batch_size: int = 64) -> np.ndarray:
            order = np.argsort([-len(t) for t in texts], kind="stable")
            out = np.zeros((len(texts), 384), dtype=np.float32)
            for start in range(0, len(texts), batch_size):
                idx = order[start : start + batch_size]
                batch = tok([texts[i] for i in idx], padding=True, truncation=True, max_length=256, return_tensors="np")
                feeds = {k: batch[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")}
                hidden = sess.run(None, feeds)[0]
                mask = feeds["attention_mask"][..., None].astype(np.float32)
                out[idx] = normalise_rows((hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None))
            return out

        return fn

    return {"onnx": make(fp32_path), "onnx-int8": make(int8_path)}


def time_encode(fn: EncodeFn, texts: list[str], reps: int) -> float:
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn(texts)
        best = min(best, time.perf_counter() - t0)
    return len(texts) / best


def loo_f1(embedder: Any) -> dict[str, float]:
    """bench/calibrate.py's pooled leave-one-brand-out F1 of `fit`, with this embedder's vectors."""
    import calibrate as cal

    sets = cal.load_sets(embedder)
    ys, preds = [], []
    for held in sets:
        others = [s for s in sets if s is not held]
        w, b = cal.train(others)
        preds.append((cal.predict(held, w, b) >= 0.5).astype(float))
        ys.append(held.y)
    p, r, f = cal.f1(np.concatenate(ys), np.concatenate(preds))
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-f1", action="store_true")
    parser.add_argument("--no-onnx", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(args.threads)
    texts = [trend_text(TrendInput.from_json(d)) for d in make_trends(args.n, seed=7)]
    warm = [trend_text(TrendInput.from_json(d)) for d in make_trends(64, seed=8)]

    base = SentenceTransformer(packaged_model_path(), device="cpu")
    seq128 = SentenceTransformer(packaged_model_path(), device="cpu")
    seq128.max_seq_length = 128
    q_embedder = SentenceEmbedder(threads=args.threads, precision="int8", cache_size=0)
    q_embedder.load()
    b_embedder = SentenceEmbedder(threads=args.threads, precision="bf16", cache_size=0)
    b_embedder.load()
    variants: dict[str, EncodeFn] = {
        "fp32": st_encoder(base, 64),
        "fp32-seq128": st_encoder(seq128, 64),
        "fp32-batch16": st_encoder(base, 16),
        "fp32-batch128": st_encoder(base, 128),
        "bf16": st_encoder(b_embedder._model, 64),
        "int8": st_encoder(q_embedder._model, 64),
    }
    notes: dict[str, str] = {}
    if not args.no_onnx:
        try:
            tmp = Path(tempfile.mkdtemp(prefix="onda-onnx-"))
            variants |= onnx_encoders(base, args.threads, tmp)
        except Exception as exc:
            notes["onnx"] = f"unavailable: {type(exc).__name__}: {exc}"[:300]
            print(notes["onnx"], file=sys.stderr)

    ref = variants["fp32"](texts)
    rows, results = [], []
    fp32_rate = 0.0
    for name, fn in variants.items():
        fn(warm)
        load = load_avg()
        rate = time_encode(fn, texts, args.reps)
        if name == "fp32":
            fp32_rate = rate
        vecs = fn(texts)
        agree = (vecs * ref).sum(axis=1)
        f1 = {} if args.no_f1 else loo_f1(FnEmbedder(name, fn, 384))
        res = {
            "variant": name,
            "texts_per_s": round(rate, 1),
            "speedup": round(rate / fp32_rate, 2) if fp32_rate else None,
            "cos_mean": round(float(agree.mean()), 4),
            "cos_min": round(float(agree.min()), 4),
            "loo_fit": f1,
            "load_avg": load,
        }
        results.append(res)
        rows.append(
            [
                name,
                f"{rate:.0f}",
                f"{res['speedup']:.2f}×",
                f"{res['cos_mean']:.4f} / {res['cos_min']:.4f}",
                f"{f1['f1']:.3f} (P {f1['precision']:.2f} R {f1['recall']:.2f})" if f1 else "-",
                load,
            ]
        )
        print(f"  {name}: {rate:.0f}/s  load {load}", file=sys.stderr)
    print(
        md_table(
            ["variant", "texts/s", "vs fp32", "cos vs fp32 mean / min", "LOBO fit F1", "load avg"],
            rows,
        )
    )
    path = write_result(
        "embed_options_speed" if args.no_f1 else "embed_options",
        {"n_texts": len(texts), "threads": args.threads, "results": results, "notes": notes},
    )
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
