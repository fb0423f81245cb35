"""Property tests for user-written inputs: brand TOML, `onda score` lines, config files and ONDA_* variables.

The contract: a bad input gives exactly the documented error type (BrandFileError, an error line
naming the line number, ConfigError) with a message that names the file and the key; nothing else
ever escapes (no UnicodeDecodeError, RecursionError, OverflowError, pydantic internals). And a
good input is read (`*_valid_*`), so a reader that rejects everything cannot pass.
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hardening_strategies import HOSTILE_TEXT, JSON_VALUES, TOML_SCALARS, TOML_VALUES, toml_document
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from brand_dna.dna import KNOWN_KEYS, BrandDNA, BrandFileError, load_brand, parse_brand
from monitor.commands.common import open_input
from monitor.commands.score import read_trend_batches
from monitor.config import ConfigError, Settings, load_settings
from monitor.models import TrendInput

REPO = Path(__file__).resolve().parents[2]

PROPS = settings(max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
_TMP = Path(tempfile.mkdtemp(prefix="onda-hardening-"))


def write_tmp(name: str, data: bytes) -> Path:
    path = _TMP / name
    path.write_bytes(data)
    return path


# -- brand TOML ------------------------------------------------------------------------------------------
BRAND_KEYS = st.one_of(st.sampled_from(sorted(KNOWN_KEYS)), st.text(max_size=10))
BRAND_VALUES = st.one_of(
    TOML_VALUES,
    st.lists(HOSTILE_TEXT.filter(lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s)), max_size=4),
    st.text(min_size=490, max_size=520, alphabet="ab "),
)
BRAND_TABLE = st.dictionaries(BRAND_KEYS, BRAND_VALUES, max_size=7)
BRAND_DOCS = st.one_of(
    st.fixed_dictionaries({"brand": BRAND_TABLE}),
    st.fixed_dictionaries({"brand": BRAND_TABLE}, optional={"extra": TOML_VALUES}),
    st.dictionaries(st.text(max_size=8), TOML_VALUES, max_size=3),
)


def check_brand(brand: BrandDNA) -> None:
    assert brand.name and brand.name == brand.name.strip()
    assert brand.dna and all(isinstance(s, str) and s.strip() for s in brand.dna)
    assert -1 <= brand.alert_threshold <= 1 and math.isfinite(brand.alert_threshold)
    for key in ("dna", "positioning", "audience", "avoid", "allow", "entities"):
        values = getattr(brand, key)
        assert len(values) == len(set(values))
        assert all(len(v) <= 500 for v in values)


@PROPS
@given(BRAND_DOCS)
@example({"brand": {"name": "X", "dna": ["a"], "alert_threshold": float("nan")}})
@example({"brand": {"name": "X", "dna": ["a"], "alert_threshold": True}})
@example({"brand": {"name": " ", "dna": ["a"]}})
@example({"brand": {"name": "X", "dna": []}})
@example({"brand": {"name": "X", "dna": ["a"], "language": ""}})
@example({"brand": {"name": "X", "dna": ["a" * 501]}})
def test_brand_structured(doc: dict[str, Any]) -> None:
    """Random decoded TOML -> BrandDNA or BrandFileError naming the file and, for key problems, the key."""
    path = write_tmp("brand.toml", toml_document(doc).encode("utf-8"))
    try:
        brand = load_brand(path)
    except BrandFileError as exc:
        msg = str(exc)
        assert msg.startswith(str(path)), msg
        assert "\n" not in msg.split(": not valid TOML:")[0]
        if "not valid TOML" not in msg:
            assert "[brand]" in msg or "key " in msg, msg
        return
    check_brand(brand)
    assert parse_brand(doc, "x") == brand  # the file and the dict say the same thing


@PROPS
@given(st.one_of(st.binary(max_size=300), HOSTILE_TEXT.map(lambda s: s.encode("utf-8", "surrogatepass"))))
@example(b"\xff\xfe[brand]\nname = 'x'\n")
@example(b"[brand]\nname = 'caf\xe9'\ndna = ['x']\n")
@example(b"a = " + b"[" * 3000 + b"]" * 3000)
@example(b"a = " + b"{b = " * 2000 + b"1" + b"}" * 2000)
def test_brand_random_bytes(data: bytes) -> None:
    path = write_tmp("brand_bytes.toml", data)
    try:
        check_brand(load_brand(path))
    except BrandFileError as exc:  # the exception is allowed, not required: pytest.raises does not fit
        assert str(exc).startswith(str(path)), str(exc)  # noqa: PT017


WORDS = st.from_regex(r"[A-Za-zàèé][A-Za-z0-9àèé]{0,11}( [A-Za-z0-9àèé]{1,11}){0,5}", fullmatch=True)


@PROPS
@given(
    WORDS,
    st.lists(WORDS, min_size=1, max_size=5, unique=True),
    st.lists(WORDS, max_size=3, unique=True),
    st.floats(min_value=-1, max_value=1),
    st.sampled_from(["it", "en", None]),
)
def test_brand_valid_files_load(
    name: str, dna: list[str], avoid: list[str], threshold: float, lang: str | None
) -> None:
    table: dict[str, Any] = {"name": name, "dna": dna, "avoid": avoid, "alert_threshold": threshold}
    if lang is not None:
        table["language"] = lang
    path = write_tmp("brand_valid.toml", toml_document({"brand": table}).encode("utf-8"))
    brand = load_brand(path)
    check_brand(brand)
    assert (brand.name, brand.dna, brand.avoid) == (name, tuple(dna), tuple(avoid))
    assert brand.alert_threshold == threshold and brand.language == lang


def test_brand_file_missing_and_directory(tmp_path: Path) -> None:
    with pytest.raises(BrandFileError, match="not found"):
        load_brand(tmp_path / "nope.toml")
    with pytest.raises(BrandFileError, match=str(tmp_path)):
        load_brand(tmp_path)


# -- `onda score` input lines ---------------------------------------------------------------------------
VALID_TREND = st.fixed_dictionaries(
    {"id": st.one_of(st.text(max_size=8), st.integers()), "title": st.text(min_size=1, max_size=30).filter(str.strip)},
    optional={"lang": st.sampled_from(["it", "en"]), "context": st.lists(st.text(max_size=20), max_size=3)},
)
LINES = st.lists(
    st.one_of(
        VALID_TREND.map(lambda o: json.dumps(o, ensure_ascii=False)),
        VALID_TREND.map(json.dumps),  # \uXXXX escapes, including lone surrogates from st.text
        JSON_VALUES.map(lambda v: json.dumps(v, ensure_ascii=True)),
        st.fixed_dictionaries(
            {"id": JSON_VALUES, "title": JSON_VALUES},
            optional={"context": JSON_VALUES, "urls": JSON_VALUES, "lang": JSON_VALUES},
        ).map(json.dumps),
        st.text(max_size=40).map(lambda s: s.replace("\n", " ").replace("\r", " ")),
        st.sampled_from(
            [
                '{"id": 1, "title": "x"',
                "[" * 50_000,
                '{"id": 1, "title": ' + "9" * 5000 + "}",
                "",
                "   ",
                '{"id": "a", "title": "\\ud800 broken"}',
                '{"id": "\\udfff", "title": "ok"}',
                "NaN",
                "\x00",
            ]
        ),
    ),
    max_size=8,
)


def check_lines(lines_out: list[tuple[int, Any, str | None]], label: str, nonblank: list[int]) -> None:
    assert [n for n, _, _ in lines_out] == nonblank, "one result per non-blank line, in order"
    for lineno, trend, error in lines_out:
        if error is not None:
            assert trend is None
            assert error.startswith(f"{label}:{lineno}: "), error
            assert len(error.splitlines()) == 1
        else:
            assert isinstance(trend, TrendInput)
            assert trend.title.strip()
            # everything is echoed to stdout as UTF-8 JSON: no lone surrogates may survive
            json.dumps({"id": trend.id, "title": trend.title, "c": list(trend.context)}, ensure_ascii=False).encode(
                "utf-8"
            )



def read_trend_lines(stream: Any, label: str) -> list[tuple[int, Any, str | None]]:
    """Every parsed line of `onda score`'s input, whatever batches it arrived in."""
    return [line for batch in read_trend_batches(stream, label) for line in batch]

@PROPS
@given(LINES)
def test_score_lines_text(lines: list[str]) -> None:
    text = "\n".join(lines) + "\n"
    out = read_trend_lines(io.StringIO(text), "in.jsonl")
    nonblank = [i for i, line in enumerate(text.split("\n")[:-1], 1) if line.strip()]  # a stream splits on \n only
    check_lines(out, "in.jsonl", nonblank)


@PROPS
@given(st.lists(st.tuples(st.integers(0, 10**6), WORDS), min_size=1, max_size=6))
def test_score_valid_lines_are_read(trends: list[tuple[int, str]]) -> None:
    text = "".join(
        json.dumps({"id": i, "title": t, "lang": "it"}, ensure_ascii=n % 2 == 0) + "\n"
        for n, (i, t) in enumerate(trends)
    )
    out = list(read_trend_lines(io.StringIO(text), "in.jsonl"))
    assert [error for _, _, error in out] == [None] * len(trends)
    assert [(trend.title, trend.lang) for _, trend, _ in out] == [(t, "it") for _, t in trends]


@PROPS
@given(
    st.lists(
        st.one_of(st.binary(max_size=40), LINES.map(lambda ls: "\n".join(ls).encode("utf-8", "surrogatepass"))),
        max_size=5,
    )
)
@example([b'{"id": 1, "title": "caf\xe9"}', b'{"id": 2, "title": "ok"}'])
@example([b"\xff\xfe\x00{", b'{"id": 3, "title": "ok"}'])
def test_score_lines_bytes_from_file(chunks: list[bytes]) -> None:
    """A file with broken UTF-8 still yields one result per line (bad bytes never abort the run)."""
    data = b"\n".join(chunks) + b"\n"
    path = write_tmp("lines.jsonl", data)
    stream = open_input(str(path))
    try:
        out = read_trend_lines(stream, str(path))
    finally:
        stream.close()
    text = data.decode("utf-8", errors="replace")
    nonblank = [i for i, line in enumerate(io.StringIO(text, newline=None), 1) if line.strip()]
    check_lines(out, str(path), nonblank)


# -- config files -----------------------------------------------------------------------------------------
def _sections() -> dict[str, type[BaseModel]]:
    return {
        name: f.annotation
        for name, f in Settings.model_fields.items()
        if isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel)
    }


SECTIONS = _sections()
SECTION_NAMES = st.one_of(st.sampled_from(sorted(SECTIONS)), st.text(max_size=8))


@st.composite
def config_docs(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for section in draw(st.lists(SECTION_NAMES, max_size=3, unique=True)):
        model = SECTIONS.get(section)
        known = sorted(model.model_fields) if model is not None else []
        keys = st.one_of(st.sampled_from(known), st.text(max_size=8)) if known else st.text(max_size=8)
        doc[section] = draw(st.dictionaries(keys, st.one_of(TOML_SCALARS, TOML_VALUES), max_size=4))
    if draw(st.booleans()):
        doc[draw(st.sampled_from(["_env_file", "_cli_parse_args", "_secrets_dir", "source_file", "x"]))] = draw(
            TOML_SCALARS
        )
    return doc


@contextmanager
def clean_env(extra: dict[str, str] | None = None) -> Iterator[None]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONDA_")}
    env.update(extra or {})
    with mock.patch.dict(os.environ, env, clear=True):
        yield


def finite_numbers(model: BaseModel) -> Iterator[tuple[str, float]]:
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            yield from ((f"{name}.{k}", v) for k, v in finite_numbers(value))
        elif isinstance(value, float):
            yield name, value


@PROPS
@given(config_docs())
@example({"_cli_parse_args": True})
@example({"_env_file": "/etc/passwd"})
@example({"http": {"max_backoff_s": float("inf")}})
@example({"sources": {"rss": {"interval_s": float("nan")}}})
@example({"sources": {"plugins": {"x": 1}}})
def test_config_file(doc: dict[str, Any]) -> None:
    path = write_tmp("config.toml", toml_document(doc).encode("utf-8"))
    with clean_env():
        try:
            settings_ = load_settings(str(path))
        except ConfigError as exc:
            msg = str(exc)
            assert msg.startswith(str(path)), msg
            if "not valid TOML" not in msg:
                assert "key " in msg, msg
                assert len(msg.splitlines()) == 1
            return
    for key, value in finite_numbers(settings_):
        assert math.isfinite(value), f"{key} = {value} accepted"


VALID_CONFIG = st.fixed_dictionaries(
    {},
    optional={
        "http": st.fixed_dictionaries(
            {},
            optional={
                "max_bytes": st.integers(2048, 10**9),
                "total_timeout_s": st.floats(0.1, 600),
                "user_agent": WORDS,
            },
        ),
        "sources": st.fixed_dictionaries(
            {},
            optional={
                "jitter": st.floats(0, 0.5),
                "rss": st.fixed_dictionaries(
                    {
                        "enabled": st.booleans(),
                        "feeds": st.lists(st.from_regex(r"https://[a-z]{1,10}\.example/[a-z]{0,8}", fullmatch=True)),
                    }
                ),
                "gdelt": st.fixed_dictionaries({"interval_s": st.floats(1, 86400), "query": WORDS}),
            },
        ),
        "alerts": st.fixed_dictionaries(
            {}, optional={"max_per_hour": st.integers(1, 1000), "quiet_hours": st.just("")}
        ),
    },
)


def _flatten(doc: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in doc.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


@PROPS
@given(VALID_CONFIG)
def test_config_valid_files_load(doc: dict[str, Any]) -> None:
    """Well-formed values for known keys load, and every one of them reaches Settings unchanged."""
    data = toml_document(doc)  # nested tables ([sources] rss = {...}) are inline tables
    path = write_tmp("config_valid.toml", data.encode("utf-8"))
    with clean_env():
        settings_ = load_settings(str(path))
    for dotted, value in _flatten(doc):
        got: Any = settings_
        for part in dotted.split("."):
            got = getattr(got, part)
        assert got == value, dotted


@PROPS
@given(st.binary(max_size=200))
@example(b"\xff\xfe[http]\n")
@example(b"a = " + b"[" * 3000 + b"]" * 3000)
def test_config_random_bytes(data: bytes) -> None:
    path = write_tmp("config_bytes.toml", data)
    with clean_env():
        try:
            load_settings(str(path))
        except ConfigError as exc:  # allowed, not required
            assert str(exc).startswith(str(path)), str(exc)  # noqa: PT017


ENV_NAMES = st.one_of(
    st.sampled_from(
        [
            "ONDA_HTTP__MAX_BYTES",
            "ONDA_SOURCES__RSS__FEEDS",
            "ONDA_BRAND",
            "ONDA_SOURCES",
            "ONDA_ALERTS__ENABLED",
            "ONDA_SLACK__WEBHOOK_URL",
            "ONDA_SOURCES__GDELT__INTERVAL_S",
            "ONDA_TUI__THEME",
            "ONDA_BRAND__FILES",
            "ONDA_SOURCES__PLUGINS",
            "ONDA_HTTP",
            "ONDA_STORAGE__KEEP_DAYS",
        ]
    ),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ_", min_size=1, max_size=12).map(lambda s: "ONDA_" + s),
)
ENV_VALUES = st.one_of(
    st.text(max_size=20).filter(lambda s: "\x00" not in s and not any(0xD800 <= ord(c) <= 0xDFFF for c in s)),
    st.sampled_from(["{", "[", "{}", "[]", '["a"]', '{"x": 1}', "null", "inf", "nan", "-1", "1e400", "true", "0"]),
)


@PROPS
@given(st.dictionaries(ENV_NAMES, ENV_VALUES, max_size=3))
@example({"ONDA_BRAND": "{"})
@example({"ONDA_SOURCES__RSS__FEEDS": "not json"})
@example({"ONDA_HTTP__TOTAL_TIMEOUT_S": "inf"})
def test_config_env_overrides(env: dict[str, str]) -> None:
    """ONDA_* variables with any value: Settings or one ConfigError line naming the variable or key."""
    path = write_tmp("config_env.toml", b"[http]\nmax_bytes = 100000\n")
    with clean_env(env):
        try:
            settings_ = load_settings(str(path))
        except ConfigError as exc:
            msg = str(exc)
            assert len(msg.splitlines()) == 1
            assert msg.startswith((str(path), "environment ONDA_")), msg
            assert "ONDA_" in msg or "key '" in msg, msg
            return
    for key, value in finite_numbers(settings_):
        assert math.isfinite(value), f"{key} = {value} accepted"


def test_score_stdin_with_broken_utf8_is_read_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    """`onda score` reads stdin (strict UTF-8 by default): bad bytes become a bad line, not a crash."""
    raw = b'{"id": 1, "title": "ok"}\n\xff\xfe{"id": 2\n{"id": 3, "title": "caf\xe9"}\n'
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", errors="strict"))
    stream = open_input("-")
    out = read_trend_lines(stream, "<stdin>")
    assert [n for n, _, _ in out] == [1, 2, 3]
    assert out[0][1] is not None and out[0][1].title == "ok"
    assert out[1][2] is not None and out[1][2].startswith("<stdin>:2: invalid JSON")
    assert out[2][1] is not None and out[2][1].title == "caf\ufffd"


def test_eval_labels_with_only_hostile_lines_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`onda eval` reads its labels like `onda score`: every bad line is reported, then one error, no traceback."""
    from monitor.commands.common import UserError
    from monitor.commands.score import cmd_eval

    labels = tmp_path / "labels.jsonl"
    labels.write_bytes(b"[" * 50_000 + b"\n" + b'{"id": 1, "title": ' + b"9" * 5000 + b"}\n\xff\xfe\n[1, 2]\n")
    with clean_env(), pytest.raises(UserError, match="no labelled lines"):
        cmd_eval(Settings(), str(REPO / "examples" / "brands" / "lavazza.toml"), str(labels))
    err = capsys.readouterr().err.splitlines()
    assert [line.split("labels.jsonl:")[1].split(":")[0] for line in err] == ["1", "2", "3", "4"], err
    assert all(line.startswith("onda eval: skipped ") for line in err)
