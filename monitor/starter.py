"""First run: where a new user's configuration and brand live, and writing them (`onda init`).

`onda` and `onda watch` need a brand to watch. A new user has no config file, and outside the
source checkout the default brand path (examples/brands/lavazza.toml) does not exist:
`setup_problem` says so and `setup_message` tells how to fix it. `write_brand` / `write_example`
create `config.toml` (if there is none) and `brands/<name>.toml` beside it, from a name and a few
plain statements or from a bundled example brand: the examples are package data
(`brand_dna.data.brands`), so an installed Onda has them without the checkout (the demo can use
`example_brand_text` too). `run_init` is `onda init` (flags, or asking a name and three
statements); `ensure_brands` is the first-run check of `onda` / `onda watch`, which offers the same
on a terminal. Nothing here prints or reads the terminal: the CLI passes `ask` / `say` callables
(`ask` None = not a terminal, nothing can be asked).
"""

from __future__ import annotations

import os
import re
import tomllib
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from brand_dna.dna import MAX_STATEMENT_CHARS, BrandFileError, brand_values, parse_brand
from brand_dna.toml_edit import edit_table
from monitor.config import BrandSettings, Settings, user_config_path

EXAMPLES_PACKAGE = "brand_dna.data.brands"
DEFAULT_EXAMPLE = "lavazza"
BRANDS_DIR = "brands"
STATEMENTS_ASKED = 3

Ask = Callable[[str], str]  # like input(): shows a prompt, returns the line, raises EOFError at end of input
Say = Callable[[str], None]


class StarterError(Exception):
    """The starter files cannot be made; the message is one line for the user."""


# -- bundled example brands ----------------------------------------------------------------
def example_brand_names() -> list[str]:
    """The bundled example brands by file stem: ["ducati", "lavazza", "oreo"]."""
    files = resources.files(EXAMPLES_PACKAGE).iterdir()
    return sorted(f.name.removesuffix(".toml") for f in files if f.name.endswith(".toml"))


def example_brand_text(name: str) -> str:
    """The TOML text of a bundled example brand, comments included."""
    names = example_brand_names()
    if name not in names:
        raise StarterError(f"no bundled example brand {name!r} (there are: {', '.join(names)})")
    return resources.files(EXAMPLES_PACKAGE).joinpath(f"{name}.toml").read_text(encoding="utf-8")


# -- where things go -----------------------------------------------------------------------
def init_config_path(explicit: str | None = None) -> Path:
    """Where `onda init` writes the config: --config, else $ONDA_CONFIG, else the user config dir."""
    chosen = explicit or os.environ.get("ONDA_CONFIG")
    return Path(chosen).expanduser() if chosen else user_config_path()


def file_stem(name: str) -> str:
    """A file name for a brand: "Caffè Rossi & Figli" -> "caffe-rossi-figli"."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-") or "brand"


# -- what is missing -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SetupProblem:
    """Brand files the settings name but that do not exist."""

    missing: tuple[Path, ...]
    config: Path | None  # the config file in use; None = none was found
    first_run: bool  # no config file and the default brand path: nothing was ever set up


def setup_problem(settings: Settings) -> SetupProblem | None:
    """Why `onda` / `onda watch` cannot start for lack of files, or None when every brand file exists."""
    missing = tuple(p for p in settings.brand_files() if not p.is_file())
    if not missing:
        return None
    config = Path(settings.source_file) if settings.source_file else None
    return SetupProblem(missing, config, config is None and settings.brand.files == BrandSettings().files)


def setup_message(problem: SetupProblem, target: Path) -> str:
    """What is missing, where Onda looked, and the exact commands that create it (`target`: init's config)."""
    if not problem.first_run:
        where = f"[brand] files in {problem.config}" if problem.config else "[brand] files (ONDA_BRAND__FILES)"
        return (
            f"brand file not found: {problem.missing[0]} (listed in {where}).\n"
            f"Fix that list, or write a starter brand with: onda init --name NAME --statement \"...\""
        )
    return "\n".join(
        [
            "nothing to watch yet: no config file and no brand.",
            f"  looked for: --config PATH, $ONDA_CONFIG, ./config.toml, {target}",
            f"Create {target} and a starter brand in {target.parent / BRANDS_DIR} with one of:",
            "  onda init                # asks a brand name and three plain sentences about it",
            f"  onda init --example      # copies the bundled example brand ({DEFAULT_EXAMPLE.capitalize()})",
            '  onda init --name "Acme Coffee" --statement "..." --statement "..." --statement "..."',
        ]
    )


# -- writing -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Starter:
    """What `write_brand` / `write_example` did."""

    config: Path
    brand: Path
    brand_written: bool  # False: the same file was already there (a re-run changes nothing)
    config_written: bool  # False: the config existed and was left as it is
    config_lists_brand: bool  # the config's [brand] files include the new brand

    def summary(self) -> list[str]:
        """Lines for the user: what was created and what to do next."""
        lines = [f"created {self.brand}" if self.brand_written else f"{self.brand} is already there, unchanged"]
        entry = f"{BRANDS_DIR}/{self.brand.name}"
        if self.config_written:
            lines.append(f"created {self.config} (it watches {entry})")
        elif self.config_lists_brand:
            lines.append(f"{self.config} already watches {entry}")
        else:
            lines.append(f'{self.config} exists and was left as it is: add "{entry}" to its [brand] files')
        lines.append("next: `onda --offline` (a replay of a real news day) or `onda` (the live sources)")
        return lines


_CONFIG_TEXT = """\
# Onda configuration, written by `onda init`. Every other key is optional and keeps its default:
# see "Configuration" in the README for [model], [sources.*], [alerts], [storage], ...
# The environment overrides this file (ONDA_<SECTION>__<KEY>); the Slack webhook comes only from
# ONDA_SLACK__WEBHOOK_URL.

[brand]
# Brand DNA files to watch for (relative paths are relative to this file).
files = [{entry}]
"""

_BRAND_HEADER = """\
# {name}'s brand DNA, written by `onda init`: plain sentences, one idea each. Edit them here or in
# the dashboard's Brand DNA screen. Optional lists: positioning, audience, avoid, allow, entities
# (see "Brand DNA file" in the README).

"""


def write_brand(config: Path, name: str, statements: Sequence[str]) -> Starter:
    """A brand file from a name and plain statements (validated like any brand file), plus the config."""
    try:
        brand = parse_brand({"brand": {"name": name, "dna": list(statements)}}, "the new brand")
    except BrandFileError as exc:
        raise StarterError(str(exc)) from None
    text = _BRAND_HEADER.format(name=brand.name.replace("\n", " ")) + edit_table(None, "brand", brand_values(brand))
    return _write(config, text, file_stem(brand.name))


def write_example(config: Path, example: str = DEFAULT_EXAMPLE) -> Starter:
    """A copy of a bundled example brand, plus the config."""
    return _write(config, example_brand_text(example), example)


def _write(config: Path, brand_text: str, stem: str) -> Starter:
    """Create the brand file (an identical one may exist: re-running init is harmless) and a missing config."""
    brand_path = config.parent / BRANDS_DIR / f"{stem}.toml"
    try:
        brand_path.parent.mkdir(parents=True, exist_ok=True)
        brand_written = not _same_text(brand_path, brand_text)
        if brand_written:
            _create(brand_path, brand_text)
        written = not config.exists()
        if written:
            entry = f'"{BRANDS_DIR}/{stem}.toml"'
            _create(config, _CONFIG_TEXT.format(entry=entry))
    except FileExistsError as exc:
        raise StarterError(f"{exc.filename} already exists: choose another name, or edit that file") from None
    except OSError as exc:
        raise StarterError(f"cannot write {exc.filename}: {exc.strerror}") from None
    return Starter(config, brand_path, brand_written, written, written or _lists(config, brand_path))


def _same_text(path: Path, text: str) -> bool:
    try:
        return path.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        return False


def _create(path: Path, text: str) -> None:
    """Write a new file; never replace one (mode "x")."""
    with path.open("x", encoding="utf-8") as fh:
        fh.write(text)


def _lists(config: Path, brand: Path) -> bool:
    """Whether an existing config's [brand] files name `brand`."""
    try:
        with config.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False
    section = data.get("brand")
    files = section.get("files", BrandSettings().files) if isinstance(section, dict) else BrandSettings().files
    if not isinstance(files, list):
        return False
    targets = {(config.parent / Path(str(f)).expanduser()).resolve() for f in files}
    return brand.resolve() in targets


# -- asking --------------------------------------------------------------------------------
def offer_first_run(config: Path, ask: Ask, say: Say) -> Starter | None:
    """On a first run in a terminal: offer to create the config and a brand; None = the user declined."""
    say("Welcome to Onda. There is no configuration and no brand to watch yet.")
    answer = ask(f"Create {config} and a starter brand now? [Y/n] ").strip().lower()
    if answer not in ("", "y", "yes"):
        return None
    return interactive_init(config, ask, say)


def interactive_init(config: Path, ask: Ask, say: Say) -> Starter:
    """Ask a brand name and three statements (or none: copy the bundled example) and write them."""
    example = DEFAULT_EXAMPLE.capitalize()
    name = " ".join(ask(f"Brand name (Enter: copy the bundled example brand, {example}): ").split())
    if not name:
        return write_example(config)
    say(
        f"Describe {name} in {STATEMENTS_ASKED} plain sentences, one idea each: what it makes or does, "
        "what it stands for, who it speaks to (Enter on an empty line to stop early)."
    )
    statements: list[str] = []
    while len(statements) < STATEMENTS_ASKED:
        line = " ".join(ask(f"  {len(statements) + 1}: ").split())
        if not line and statements:
            break
        if not line:
            say("  at least one sentence, please")
        elif len(line) > MAX_STATEMENT_CHARS:
            say(f"  at most {MAX_STATEMENT_CHARS} characters, please: one idea per sentence")
        else:
            statements.append(line)
    return write_brand(config, name, statements)


def run_init(
    config: Path,
    *,
    name: str | None,
    statements: Sequence[str],
    example: str | None,
    ask: Ask | None,
    say: Say,
) -> Starter:
    """`onda init`: a bundled example (`example`), a brand from `name` + `statements`, or ask for them."""
    statements = [" ".join(s.split()) for s in statements if s.strip()]
    if example and (name or statements):
        raise StarterError("give either --example or --name with --statement, not both")
    if example:
        return write_example(config, example)
    if name or statements:
        if not (name and name.strip()) or not statements:
            raise StarterError('give --name NAME and at least one --statement "..." (three are a good start)')
        return write_brand(config, name, statements)
    if ask is None:
        raise StarterError(
            f'nothing can be asked here (not a terminal): give --example, or --name NAME and --statement "..." '
            f"(repeated); the files go to {config.parent}"
        )
    return interactive_init(config, ask, say)


def ensure_brands(settings: Settings, target: Path, *, ask: Ask | None, say: Say) -> Path | None:
    """None when every brand file exists; the new config after an accepted first-run offer (`target`).

    Otherwise raises StarterError with `setup_message`: what is missing and the commands that fix it.
    """
    problem = setup_problem(settings)
    if problem is None:
        return None
    if problem.first_run and ask is not None:
        try:
            done = offer_first_run(target, ask, say)
        except EOFError:
            done = None
        if done is not None:
            for line in done.summary()[:-1]:  # not "next: ...": the caller goes on with the new config
                say(line)
            return done.config
        say("")
    raise StarterError(setup_message(problem, target))
