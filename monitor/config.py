"""Settings: `config.toml` + `ONDA_<SECTION>__<KEY>` environment overrides.

Lookup order for the file: `--config`, `$ONDA_CONFIG`, `./config.toml`, the user
config dir. Environment variables win over the file. Unknown keys, unknown
`ONDA_<SECTION>__...` sections and wrong types raise `ConfigError` whose message
names the file or the variable, the dotted key and the nearest valid name, so the
CLI can print one line and exit 2.

`ONDA_` variables without `__` are not settings and are never checked here:
`ONDA_CONFIG`, `ONDA_LOG_LEVEL`, and secrets such as `ONDA_WEBHOOK_SECRET`,
`ONDA_YOUTUBE_API_KEY` or the per-brand Slack webhooks named in the config.

A little over 400 lines as one job: the settings model (one class per `[section]`, a
docstring per field) and the lookup and validation that turn a file plus the environment
into it; splitting the model from its validation would put each key in two places.
"""

from __future__ import annotations

import difflib
import getpass
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, SettingsError

APP_NAME = "onda"
ENV_PREFIX = "ONDA_"
ENV_DELIMITER = "__"


class ConfigError(Exception):
    """Bad configuration: the message is one line naming the file and the key."""


class Section(BaseModel):
    """Base of every config section: unknown keys and non-finite numbers are errors."""

    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)  # inf interval = crash


class BrandSettings(Section):
    """The `[brand]` section: which brand DNA files to monitor for."""

    files: list[str] = Field(default_factory=lambda: ["examples/brands/lavazza.toml"])
    """Brand DNA TOML files to monitor for (relative paths are resolved against the config file)."""


class ModelSettings(Section):
    """The `[model]` section: which embedding model scores the trends."""

    backend: Literal["use-multilingual", "sentence-transformers"] = "use-multilingual"
    """use-multilingual = the packaged Universal Sentence Encoder multilingual v3 (Italian + English in one
    space, offline, no torch); sentence-transformers = the model in `name` (empty: packaged all-MiniLM-L6-v2)."""
    name: str = ""
    """sentence-transformers model name or path (backend = "sentence-transformers"); empty = all-MiniLM-L6-v2."""
    threads: int = Field(default=2, ge=1, le=64)
    """CPU threads used for embedding (BLAS for use-multilingual, torch for sentence-transformers)."""
    batch_size: int = Field(default=16, ge=1, le=4096)
    precision: Literal["auto", "fp32", "bf16", "int8"] = "auto"
    """sentence-transformers only: auto = bf16 on CPUs with native bf16 (AVX512-BF16/AMX), else fp32; int8 is faster but less exact."""
    cache_dir: str = ""
    """Where FAISS indexes are persisted; empty = user cache dir."""

    @field_validator("name")
    @classmethod
    def _name_needs_sentence_transformers(cls, name: str, info: Any) -> str:
        if name and info.data.get("backend") == "use-multilingual":
            raise ValueError('a model name is for backend = "sentence-transformers"; set it too, or leave name empty')
        return name


class StorageSettings(Section):
    """The `[storage]` section: where the store lives (a SQLite file, or PostgreSQL for a team) and how long trends are kept."""

    path: str = ""
    """SQLite file; empty = onda.db in the user data dir."""
    url: str = ""
    """PostgreSQL store shared by a team, `postgresql://user@host:5432/db`; wins over `path`. Better keep the
    password out of it (PGPASSWORD, ~/.pgpass or a libpq service file work); messages show it as ***."""
    keep_days: int = Field(default=14, ge=1)
    """Trends not seen for this many days are pruned."""


class ScoringSettings(Section):
    """The `[scoring]` section: how strict the fit verdict is."""

    margin: float = Field(default=0.0, ge=-1.0, le=1.0)
    """Added to the calibrated fit threshold: raise it to be stricter, lower it to see more."""
    kinds_file: str = ""
    """A `name<TAB>kind` file of your own ("padel<TAB>racket sport"), added to the packaged list of what
    names in titles are (brand_dna/data/kinds.tsv); yours win on the same name. Relative to this file."""


class HttpSettings(Section):
    """The `[http]` section: timeouts and size cap of every source request."""

    connect_timeout_s: float = Field(default=5.0, gt=0)
    total_timeout_s: float = Field(default=20.0, gt=0)
    max_bytes: int = Field(default=5_000_000, gt=1024)
    """Responses larger than this are refused, not parsed."""
    user_agent: str = "Onda/0.1 (+https://github.com/onda-monitor/onda; instant-marketing monitor)"
    max_backoff_s: float = Field(default=3600.0, gt=0)


class SourceSettings(Section):
    """Settings every source has: on/off, poll interval, endpoint override."""

    enabled: bool = True
    interval_s: float = Field(default=600.0, gt=0)
    url: str = ""
    """Override the endpoint (empty = the source's public default)."""


class GoogleTrendsSettings(SourceSettings):
    """The `[sources.google_trends]` section."""

    geo: str = "IT"


class RssSettings(SourceSettings):
    """The `[sources.rss]` section: the news feeds to poll."""

    interval_s: float = Field(default=900.0, gt=0)
    feeds: list[str] = Field(
        default_factory=lambda: [
            "https://www.ansa.it/sito/ansait_rss.xml",
            "https://www.repubblica.it/rss/homepage/rss2.0.xml",
            "https://xml2.corriereobjects.it/rss/homepage.xml",
            "https://feeds.bbci.co.uk/news/world/rss.xml",
        ]
    )


class GdeltSettings(SourceSettings):
    """The `[sources.gdelt]` section: the GDELT query and its time span."""

    interval_s: float = Field(default=900.0, gt=0)
    query: str = "sourcelang:italian"
    timespan: str = "1h"


class WikipediaSettings(SourceSettings):
    """The `[sources.wikipedia]` section: which Wikipedia project's most-read pages."""

    interval_s: float = Field(default=3600.0, gt=0)
    project: str = "it.wikipedia"


class MastodonSettings(SourceSettings):
    """The `[sources.mastodon]` section: which instance's trending tags."""

    instance: str = "https://mastodon.uno"


class BlueskySettings(SourceSettings):
    """The `[sources.bluesky]` section (only the common source settings)."""


class JetstreamSettings(SourceSettings):
    """The `[sources.jetstream]` section: bursts Onda finds itself in the Bluesky Jetstream firehose."""

    enabled: bool = False
    """Off by default: a websocket open all the time (the offline replay turns it on)."""
    interval_s: float = Field(default=60.0, gt=0)
    """How often the bursts found so far go through the pipeline."""
    urls: list[str] = Field(
        default_factory=lambda: [
            "wss://jetstream1.us-east.bsky.network/subscribe",
            "wss://jetstream2.us-east.bsky.network/subscribe",
            "wss://jetstream1.us-west.bsky.network/subscribe",
            "wss://jetstream2.us-west.bsky.network/subscribe",
        ]
    )
    """Jetstream instances, tried in turn (failover); `url` set puts one instance in their place."""
    langs: list[str] = Field(default_factory=lambda: ["it", "en"])
    """Post languages watched (the post's own `langs` tags); empty = every language."""
    bucket_s: float = Field(default=60.0, ge=1)
    """Width of one counting bucket: a story is reported at the end of the bucket it burst in."""
    min_authors: int = Field(default=5, ge=2)
    """Distinct accounts needed in one bucket (one account posting 50 times is not a trend)."""
    z_score: float = Field(default=3.0, gt=0)
    min_ratio: float = Field(default=3.0, ge=1)
    """A key's count in a bucket must be this many times its usual count (EWMA)."""
    warmup_buckets: int = Field(default=5, ge=0)
    """Buckets watched before anything is reported, while the usual counts settle."""
    max_keys: int = Field(default=20_000, ge=100)
    """Keys (hashtags, phrases, words, links) tracked at most: the memory cap."""
    rewind_s: float = Field(default=5.0, ge=0)
    """On reconnect, resume this long before the last event seen (duplicates are dropped)."""
    idle_timeout_s: float = Field(default=30.0, gt=0)
    catchup_timeout_s: float = Field(default=20.0, gt=0)
    """The first poll waits at most this long for the stream to catch up with the present."""


class KeyedSourceSettings(SourceSettings):
    """A source that needs an API key (YouTube): off unless enabled."""

    enabled: bool = False
    """Off by default: needs an API key from the environment."""


class SourcesSettings(Section):
    """The `[sources]` section: one subsection per built-in source, plus plugin settings."""

    google_trends: GoogleTrendsSettings = Field(default_factory=GoogleTrendsSettings)
    rss: RssSettings = Field(default_factory=RssSettings)
    gdelt: GdeltSettings = Field(default_factory=GdeltSettings)
    wikipedia: WikipediaSettings = Field(default_factory=WikipediaSettings)
    mastodon: MastodonSettings = Field(default_factory=MastodonSettings)
    bluesky: BlueskySettings = Field(default_factory=BlueskySettings)
    youtube: KeyedSourceSettings = Field(default_factory=KeyedSourceSettings)
    jetstream: JetstreamSettings = Field(default_factory=JetstreamSettings)
    jitter: float = Field(default=0.1, ge=0, le=0.5)
    """Random +/- share of each interval, so sources do not all fire at once."""
    plugins: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Settings for third-party sources (entry-point group `onda.sources`), by source name."""


class RiskSettings(Section):
    """The `[risk]` section: the fact-check feeds polled and where the credibility lists live."""

    factcheck_feeds: list[str] = Field(
        default_factory=lambda: [
            "https://facta.news/feed/",
            "https://pagellapolitica.it/rss",
            "https://www.open.online/c/fact-checking/feed/",
        ]
    )
    factcheck_interval_s: float = Field(default=1800.0, gt=0)
    credibility_dir: str = ""
    """Where `onda data update` puts the credibility lists; empty = user data dir."""


class FactChecksSettings(Section):
    """The `[factchecks]` section: ClaimReview feeds fetched by `onda data update`."""

    claimreview_urls: list[str] = Field(default_factory=list)
    """schema.org ClaimReview feeds (DataFeed JSON, JSON array / lines, claims:search) that
    `onda data update` downloads into the store, like `onda data import-factchecks FILE`."""
    max_age_days: int = Field(default=30, ge=0)
    """A debunk counts for trends seen up to this many days after it was published ..."""
    lag_days: int = Field(default=7, ge=0)
    """... and for trends seen up to this many days before (a hoax spreads first, the debunk follows)."""


class AlertSettings(Section):
    """The `[alerts]` section: when an opportunity or a risk becomes an alert."""

    enabled: bool = True
    min_fit: float = Field(default=0.0, ge=-1.0, le=1.0)
    """Extra fit needed above the brand's calibrated threshold before an alert is sent."""
    require_rising: bool = True
    cooldown_min: float = Field(default=240.0, ge=0)
    max_per_hour: int = Field(default=10, ge=1)
    digest_min: float = Field(default=0.0, ge=0)
    """0 = one message per alert; N = one digest message every N minutes."""
    quiet_hours: str = ""
    """e.g. "22:00-07:00" (local time); alerts wait in the outbox meanwhile."""


class SlackSettings(Section):
    """The `[slack]` section: webhook URLs, only ever from the environment."""

    webhook_url: SecretStr | None = None
    """Only from the environment: ONDA_SLACK__WEBHOOK_URL. Never in a file."""
    brand_webhook_env: dict[str, str] = Field(default_factory=dict)
    """Per-brand routing: brand name -> name of the env var holding that brand's webhook URL."""


class WebhookSettings(Section):
    """The `[webhook]` section: a generic signed JSON webhook."""

    url: str = ""
    """Generic JSON webhook (POST); empty = off."""
    secret_env: str = "ONDA_WEBHOOK_SECRET"
    """Env var holding the HMAC-SHA256 key for the X-Onda-Signature header."""


class TuiSettings(Section):
    """The `[tui]` section: dashboard preferences."""

    recent_rescore: int = Field(default=200, ge=1)
    """How many recent trends the DNA screen re-scores after a save."""
    theme: Literal["dark", "light"] = "dark"


class UserSettings(Section):
    """The `[user]` section: who is at this dashboard or worker."""

    name: str = ""
    """Recorded on feedback marks and brand DNA edits; empty = the login name ($USER)."""


class Settings(BaseSettings):
    """All of Onda's settings: defaults, then config.toml, then ONDA_ environment variables on top."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_DELIMITER,
        extra="forbid",
        case_sensitive=False,
        validate_default=True,
    )

    brand: BrandSettings = Field(default_factory=BrandSettings)
    model: ModelSettings = Field(default_factory=ModelSettings)
    factchecks: FactChecksSettings = Field(default_factory=FactChecksSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    scoring: ScoringSettings = Field(default_factory=ScoringSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    sources: SourcesSettings = Field(default_factory=SourcesSettings)
    risk: RiskSettings = Field(default_factory=RiskSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    tui: TuiSettings = Field(default_factory=TuiSettings)
    user: UserSettings = Field(default_factory=UserSettings)

    # Not settable by file or env: where the file came from (for relative paths and messages).
    source_file: str = Field(default="", exclude=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's content arrives as init kwargs; env must win over it.
        return (env_settings, init_settings)

    # -- derived paths -------------------------------------------------------------------
    def resolve(self, path: str) -> Path:
        """A path from the config file, relative to that file's folder."""
        p = Path(path).expanduser()
        if p.is_absolute() or not self.source_file:
            return p
        return Path(self.source_file).parent / p

    def brand_files(self) -> list[Path]:
        return [self.resolve(f) for f in self.brand.files]

    def store_target(self, db: str | None = None) -> str | Path:
        """Where the store is: `db` (--db), else `[storage] url`, else `[storage] path` / the user data dir.

        A PostgreSQL URL comes back as it is (str); a SQLite store as its file (a Path).
        """
        from monitor.db import sqlite_path

        if db:
            return sqlite_path(db) or db
        if self.storage.url:
            path = sqlite_path(self.storage.url)
            return self.storage.url if path is None else self.resolve(str(path))
        return self.db_path()

    def user_name(self) -> str:
        """Who marks stories and edits brands here: `[user] name`, else the login name, else "unknown"."""
        if self.user.name.strip():
            return self.user.name.strip()
        try:
            return getpass.getuser()
        except (OSError, KeyError):  # no USER/LOGNAME and no passwd entry (some containers)
            return "unknown"

    def db_path(self) -> Path:
        if self.storage.path:
            return self.resolve(self.storage.path)
        return Path(platformdirs.user_data_dir(APP_NAME)) / "onda.db"

    def cache_dir(self) -> Path:
        if self.model.cache_dir:
            return self.resolve(self.model.cache_dir)
        return Path(platformdirs.user_cache_dir(APP_NAME))

    def kinds_path(self) -> Path | None:
        """`[scoring] kinds_file`, relative to the config file; None when not set."""
        return self.resolve(self.scoring.kinds_file) if self.scoring.kinds_file else None

    def credibility_dir(self) -> Path:
        if self.risk.credibility_dir:
            return self.resolve(self.risk.credibility_dir)
        return Path(platformdirs.user_data_dir(APP_NAME)) / "credibility"


def user_config_path() -> Path:
    """The per-user config file (last in the lookup order; `onda init` writes it)."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def find_config(explicit: str | None) -> Path | None:
    """The config file to use, following the documented lookup order; None = defaults only."""
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found (given with --config)")
        return path
    env = os.environ.get("ONDA_CONFIG")
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found (given by ONDA_CONFIG)")
        return path
    local = Path("config.toml")
    if local.is_file():
        return local
    user = user_config_path()
    if user.is_file():
        return user
    return None


def _dotted(loc: tuple[int | str, ...]) -> str:
    key = ".".join(str(p) for p in loc)
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in key)  # a key with a newline stays one line


def _keys_under(loc: tuple[int | str, ...]) -> list[str]:
    """The valid key names inside the table at `loc` (empty when it is not a settings table)."""
    model: type[BaseModel] = Settings
    for part in loc:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return [name for name in model.model_fields if name != "source_file"]


def _nearest(name: str, loc: tuple[int | str, ...]) -> str | None:
    """The valid key under `loc` closest to a misspelt `name`, if one is close."""
    match = difflib.get_close_matches(name.lower(), _keys_under(loc), n=1, cutoff=0.6)
    return match[0] if match else None


def _env_respelt(name: str, depth: int, key: str) -> str:
    """`name` (an ONDA_A__B__C variable) with its segment at `depth` replaced by `key`."""
    parts = name[len(ENV_PREFIX) :].split(ENV_DELIMITER)
    parts[depth] = key.upper()
    return ENV_PREFIX + ENV_DELIMITER.join(parts)


def check_env_sections(environ: Mapping[str, str]) -> None:
    """Refuse `ONDA_<SECTION>__<KEY>` variables whose section does not exist (a typo would be ignored).

    Only names with the `__` delimiter are settings; other ONDA_ variables are left alone.
    """
    sections = _keys_under(())
    for name in sorted(environ):
        rest = name[len(ENV_PREFIX) :] if name.upper().startswith(ENV_PREFIX) else ""
        if ENV_DELIMITER not in rest:
            continue
        section = rest.split(ENV_DELIMITER, 1)[0].lower()
        if section in sections:
            continue
        nearest = _nearest(section, ())
        hint = f"did you mean {_env_respelt(name, 0, nearest)}?" if nearest else f"sections: {', '.join(sections)}"
        raise ConfigError(f"environment {name}: unknown section {section!r} ({hint})")


def _env_names(loc: tuple[int | str, ...]) -> list[str]:
    """The environment variables that set the key at `loc` or something inside it."""
    name = (ENV_PREFIX + ENV_DELIMITER.join(str(p) for p in loc)).upper()
    return sorted(k for k in os.environ if k.upper() == name or k.upper().startswith(name + ENV_DELIMITER))


def load_settings(explicit: str | None = None) -> Settings:
    """Load and validate settings; every problem becomes one `ConfigError` line."""
    path = find_config(explicit)
    data: dict[str, Any] = {}
    label = str(path) if path else "(defaults, no config file)"
    if path is not None:
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: not UTF-8 text (byte {exc.start})") from None
        except RecursionError:
            raise ConfigError(f"{path}: not valid TOML: nested too deeply") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
        slack = data.get("slack")
        if isinstance(slack, dict) and "webhook_url" in slack:
            raise ConfigError(
                f"{path}: key 'slack.webhook_url' is not allowed in a file (it is a secret); "
                "set the ONDA_SLACK__WEBHOOK_URL environment variable instead"
            )
        for key in data:  # BaseSettings would take `_env_file`, `_cli_parse_args`, ... as options, not keys
            if key not in Settings.model_fields or key == "source_file":
                nearest = _nearest(key, ())
                hint = f" (did you mean {nearest!r}?)" if nearest else ""
                raise ConfigError(f"{path}: key {key!r}: unknown key{hint}")
    check_env_sections(os.environ)
    try:
        settings = Settings(**data)
    except SettingsError as exc:  # an ONDA_<SECTION>[__KEY] variable whose value is not the JSON it must be
        m = re.search(r'field "([^"]+)"', str(exc))
        prefix = f"ONDA_{m.group(1)}".upper() if m else "ONDA_"
        names = sorted(k for k in os.environ if k.upper().startswith(prefix)) or [prefix]
        raise ConfigError(
            f"environment {', '.join(names)}: not valid JSON (lists and tables set from the environment must be JSON)"
        ) from None
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = err["loc"]
        key = _dotted(loc)
        env_names = _env_names(loc)
        msg = err["msg"]
        nearest = _nearest(str(loc[-1]), loc[:-1]) if err["type"] == "extra_forbidden" and loc else None
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        if nearest and env_names:
            msg += f" (did you mean {_env_respelt(env_names[0], len(loc) - 1, nearest)}?)"
        elif nearest:
            msg += f" (did you mean '{_dotted((*loc[:-1], nearest))}'?)"
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        where = f"environment {env_names[0]}" if env_names else label
        raise ConfigError(f"{where}: key '{key}': {msg}{more}") from None
    settings.source_file = str(path.resolve()) if path else ""
    _check_kinds_file(settings, label)
    return settings


def _check_kinds_file(settings: Settings, label: str) -> None:
    """A `[scoring] kinds_file` that cannot be read or parsed stops Onda now, not at the first trend."""
    if not settings.scoring.kinds_file:
        return
    from monitor.kinds import KindLexicon

    key = "key 'scoring.kinds_file'"
    try:
        path = settings.kinds_path()
        assert path is not None
        KindLexicon.load(path)
    except RuntimeError as exc:  # "~user/..." for a user that does not exist
        raise ConfigError(f"{label}: {key}: cannot read {settings.scoring.kinds_file}: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{label}: {key}: cannot read {settings.scoring.kinds_file}: {exc.strerror or exc}") from None
    except ValueError as exc:  # a bad line (named), or text that is not UTF-8
        raise ConfigError(f"{label}: {key}: {exc}") from None
