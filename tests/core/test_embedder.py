"""Embedding precision: bf16 where the CPU does it natively, chosen by config, same vectors as fp32."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from brand_dna.embedder import SentenceEmbedder, cpu_has_native_bf16, resolve_precision
from monitor.config import ConfigError, load_settings

ZEN4 = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512bw avx512_bf16 avx512_vnni\n"
SKYLAKE = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512bw avx512_vnni\n"
SAPPHIRE = "flags\t\t: avx512f amx_bf16 amx_tile amx_int8\n"


def test_native_bf16_detected_from_cpu_flags() -> None:
    assert cpu_has_native_bf16(ZEN4)
    assert cpu_has_native_bf16(SAPPHIRE)
    assert not cpu_has_native_bf16(SKYLAKE)  # avx512 without bf16: torch would emulate it, slower
    assert not cpu_has_native_bf16("")  # no flags line (not Linux x86): stay fp32


def test_resolve_precision(monkeypatch: pytest.MonkeyPatch) -> None:
    import brand_dna.embedder as embedder

    monkeypatch.setattr(embedder, "cpu_has_native_bf16", lambda cpuinfo=None: True)
    assert resolve_precision("auto") == "bf16"
    monkeypatch.setattr(embedder, "cpu_has_native_bf16", lambda cpuinfo=None: False)
    assert resolve_precision("auto") == "fp32"
    for p in ("fp32", "bf16", "int8"):
        assert resolve_precision(p) == p
    with pytest.raises(ValueError, match="fp16"):
        resolve_precision("fp16")


def test_precision_is_part_of_model_id_so_indexes_rebuild() -> None:
    fp32 = SentenceEmbedder(precision="fp32")
    bf16 = SentenceEmbedder(precision="bf16")
    assert not fp32.loaded and not bf16.loaded  # model_id is known before loading the model
    assert fp32.model_id != bf16.model_id
    assert bf16.model_id.endswith(" bf16")


def test_bad_precision_in_config_names_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[model]\nprecision = "fp16"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"model\.precision") as err:
        load_settings(str(path))
    assert str(path) in str(err.value)


def test_bf16_vectors_agree_with_fp32() -> None:
    texts = [
        "Sinner wins the ATP Finals in Turin",
        "Caffè espresso, la tradizione italiana del mattino",
        "Earthquake in southern Italy: three killed",
        "x",
    ]
    fp32 = SentenceEmbedder(precision="fp32", cache_size=0).encode(texts)
    bf16 = SentenceEmbedder(precision="bf16", cache_size=0).encode(texts)
    assert bf16.dtype == np.float32 and bf16.shape == fp32.shape
    np.testing.assert_allclose(np.linalg.norm(bf16, axis=1), 1.0, atol=1e-5)
    agreement = (fp32 * bf16).sum(axis=1)
    assert agreement.min() > 0.995, agreement
    # Still meaning, not noise: the closest fp32 row of each bf16 row is its own text.
    assert list((bf16 @ fp32.T).argmax(axis=1)) == list(range(len(texts)))


def test_bf16_pads_token_lengths_to_a_few_shapes() -> None:
    """oneDNN caches a bf16 kernel per input shape: every length is padded to a multiple of 16."""
    emb = SentenceEmbedder(precision="bf16", cache_size=0)
    emb.load()
    model = emb._model
    lengths = set()
    for n in range(1, 40, 3):
        features = model.preprocess([" ".join(["word"] * n)])
        lengths.add(int(features["input_ids"].shape[1]))
    assert lengths and all(length % 16 == 0 for length in lengths), lengths
    assert len(lengths) <= 3  # 3..41 tokens -> 16, 32, 48
