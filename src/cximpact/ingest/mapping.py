"""Column mappings: how a vendor export's columns become a data contract's fields.

A mapping file (YAML or JSON) names the contract ``kind`` and, per target field, the source
column (or a list of columns joined into one text), optional value maps that turn vendor
values into canonical ones (with a ``"*"`` default), constants and the file's delimiter::

    kind: interactions
    columns:
      id: id
      customer_id: requester_id
      text: [subject, description]      # joined with a blank line, empty parts skipped
    values:
      resolved: {solved: "true", closed: "true", "*": "false"}
    constants:
      queue: support

Built-in mappings (``zendesk``, ``salesforce``) live in ``cximpact/data/mappings``.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from cximpact.errors import ConfigError, ContractError
from cximpact.ingest.contracts import CONTRACTS, KINDS
from cximpact.ingest.readers import SOURCE_ATTR

__all__ = [
    "DEFAULT_VALUE_KEY",
    "TARGET_FIELDS",
    "TEXT_JOINER",
    "ColumnMapping",
    "Kind",
    "apply_mapping",
    "builtin_mappings",
    "load_mapping",
]

Kind = Literal["interactions", "customers", "transactions", "outcomes", "finance"]

#: Target fields of each contract (required ones first), in output order.
TARGET_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    kind: tuple(contract.names) for kind, contract in CONTRACTS.items()
}

#: Key of a value map that applies to every non-empty value no other key matches.
DEFAULT_VALUE_KEY: Final = "*"

#: Separator between the parts of a list-mapped column (``text: [subject, description]``).
TEXT_JOINER: Final = "\n\n"

_MAPPINGS_PACKAGE: Final = "cximpact"
_MAPPINGS_DIR: Final = ("data", "mappings")
_MAPPING_SUFFIXES: Final = (".yaml", ".yml", ".json")
_MAX_LISTED_COLUMNS: Final = 25


def _as_text(value: Any) -> str:
    """A YAML/JSON scalar as the text a reader produces (``true``, ``1``, ``""`` for null)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise ValueError(f"expected a single value (text, number or true/false), got {value!r}")


def _norm(value: str) -> str:
    """How source values are compared with value-map keys: trimmed, case-folded."""
    return value.strip().casefold()


class ColumnMapping(BaseModel):
    """How one source file's columns map onto a data contract.

    Attributes
    ----------
    kind
        The contract the mapped frame must satisfy.
    columns
        Target field -> source column name, or a list of source columns whose non-empty values
        are joined with a blank line (``TEXT_JOINER``).
    values
        Target field -> {source value: canonical value}. Keys match trimmed and case-insensitively;
        a ``"*"`` key is the default for other non-empty values; without it unmatched values
        pass through. Empty values stay empty unless a ``""`` key says otherwise.
    constants
        Target field -> a fixed value for every row.
    delimiter
        Field delimiter of the source file, when it is delimited text and not ``,``.
    description
        Free text: where the mapping comes from.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Kind
    columns: dict[str, str | list[str]] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    constants: dict[str, str] = Field(default_factory=dict)
    delimiter: str | None = None
    description: str = ""

    _origin: str = PrivateAttr(default="mapping")

    @field_validator("columns", mode="before")
    @classmethod
    def _columns_shape(cls, value: Any) -> Any:
        """Reject empty source names and empty lists."""
        if not isinstance(value, Mapping):
            return value
        for target, source in value.items():
            names = source if isinstance(source, list) else [source]
            if not names or any(not isinstance(n, str) or not n.strip() for n in names):
                raise ValueError(
                    f"{target!r} must name a source column or a non-empty list of them"
                )
        return value

    @field_validator("values", mode="before")
    @classmethod
    def _values_as_text(cls, value: Any) -> Any:
        """YAML turns ``true``/``1`` into booleans/numbers; value maps compare text."""
        if not isinstance(value, Mapping):
            return value
        return {
            target: (
                {_as_text(k): _as_text(v) for k, v in table.items()}
                if isinstance(table, Mapping)
                else table
            )
            for target, table in value.items()
        }

    @field_validator("constants", mode="before")
    @classmethod
    def _constants_as_text(cls, value: Any) -> Any:
        """Constants are text like every other value."""
        if not isinstance(value, Mapping):
            return value
        return {target: _as_text(v) for target, v in value.items()}

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        """A delimiter is one character (``\\t`` spelled out is accepted)."""
        if value is None or value == "":
            return None
        value = {"\\t": "\t", "tab": "\t"}.get(value, value)
        if len(value) != 1:
            raise ValueError(f"must be one character, got {value!r}")
        return value

    @model_validator(mode="after")
    def _targets_known(self) -> ColumnMapping:
        """Every target belongs to the contract; a field is a column or a constant, not both."""
        allowed = TARGET_FIELDS[self.kind]
        for section in ("columns", "values", "constants"):
            unknown = [t for t in getattr(self, section) if t not in allowed]
            if unknown:
                raise ValueError(
                    f"{section}: unknown target field(s) {', '.join(map(repr, unknown))} for "
                    f"kind {self.kind!r}; the {self.kind} fields are: {', '.join(allowed)}"
                )
        both = sorted(set(self.columns) & set(self.constants))
        if both:
            raise ValueError(
                f"{', '.join(both)}: given both in columns and constants; keep one of them"
            )
        for target, table in self.values.items():
            _check_value_keys(target, table)
        return self

    @property
    def origin(self) -> str:
        """Where the mapping came from: a built-in name or a file path (for messages)."""
        return self._origin

    def source_columns(self) -> list[str]:
        """Every source column the mapping reads, in mapping order, without repeats."""
        names: list[str] = []
        for source in self.columns.values():
            names.extend(source if isinstance(source, list) else [source])
        return list(dict.fromkeys(names))


def _check_value_keys(target: str, table: Mapping[str, str]) -> None:
    """Two keys that match the same values must not map them differently."""
    seen: dict[str, tuple[str, str]] = {}
    for key, canonical in table.items():
        norm = key if key == DEFAULT_VALUE_KEY else _norm(key)
        if norm in seen and seen[norm][1] != canonical:
            raise ValueError(
                f"values.{target}: keys {seen[norm][0]!r} and {key!r} match the same values "
                f"(matching ignores case and spaces) but map to {seen[norm][1]!r} and "
                f"{canonical!r}"
            )
        seen[norm] = (key, canonical)


# --- loading ---------------------------------------------------------------------------------


def builtin_mappings() -> list[str]:
    """Names of the mappings shipped with cximpact.

    Returns
    -------
    list of str
        Sorted names such as ``salesforce`` and ``zendesk``, usable with :func:`load_mapping`.
    """
    folder = resources.files(_MAPPINGS_PACKAGE).joinpath(*_MAPPINGS_DIR)
    names = [
        entry.name.rsplit(".", 1)[0]
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.endswith(_MAPPING_SUFFIXES)
    ]
    return sorted(names)


def load_mapping(name_or_path: str | Path) -> ColumnMapping:
    """Load a built-in mapping by name, or a mapping file (YAML or JSON) by path.

    Parameters
    ----------
    name_or_path
        A built-in name (see :func:`builtin_mappings`, case-insensitive) or a path to a
        ``.yaml``/``.yml``/``.json`` file.

    Returns
    -------
    ColumnMapping
        The validated mapping; its ``origin`` names where it came from.

    Raises
    ------
    ConfigError
        The name is not a built-in and no such file exists, or the file is unreadable, not
        YAML/JSON, or breaks the mapping schema (unknown key, unknown kind or target field).
    """
    if isinstance(name_or_path, str) and not _looks_like_path(name_or_path):
        builtin = _builtin_text(name_or_path)
        if builtin is not None:
            return _parse_mapping(builtin, f"built-in mapping {name_or_path.lower()!r}", ".yaml")
        if not Path(name_or_path).is_file():
            raise ConfigError(
                f"unknown mapping {name_or_path!r}: it is neither a built-in mapping nor a "
                f"file. Built-in mappings: {', '.join(builtin_mappings())}. Fix: pass one of "
                "those names, or the path to a .yaml or .json mapping file"
            )
    path = Path(name_or_path)
    return _parse_mapping(_read_mapping_file(path), f"mapping file {path}", path.suffix.lower())


def _looks_like_path(value: str) -> bool:
    """Whether a string names a file rather than a built-in mapping."""
    return "/" in value or "\\" in value or value.lower().endswith(_MAPPING_SUFFIXES)


def _builtin_text(name: str) -> str | None:
    """The text of a built-in mapping file, or ``None`` when there is no such built-in."""
    key = name.strip().lower()
    if key not in builtin_mappings():
        return None
    folder = resources.files(_MAPPINGS_PACKAGE).joinpath(*_MAPPINGS_DIR)
    for suffix in _MAPPING_SUFFIXES:
        entry = folder.joinpath(key + suffix)
        if entry.is_file():
            return entry.read_text(encoding="utf-8")
    return None  # pragma: no cover - builtin_mappings() listed it


def _read_mapping_file(path: Path) -> str:
    """Read a mapping file's text, turning I/O problems into ConfigErrors."""
    if not path.is_file():
        raise ConfigError(
            f"mapping file {path} not found. Fix: check the path, or use a built-in mapping: "
            f"{', '.join(builtin_mappings())}"
        )
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"mapping file {path} cannot be read ({exc}). Fix: save it as UTF-8 text"
        ) from exc


def _parse_mapping(text: str, origin: str, suffix: str) -> ColumnMapping:
    """Parse YAML/JSON text and validate it as a ColumnMapping."""
    document = _load_document(text, origin, suffix)
    if not isinstance(document, dict):
        found = {type(None): "an empty file", list: "a list"}.get(type(document), "a value")
        raise ConfigError(
            f"{origin}: expected a mapping with keys like 'kind' and 'columns', found {found}. "
            "Fix: start the file with 'kind: interactions' and a 'columns:' section"
        )
    try:
        mapping = ColumnMapping.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(_describe_error(error) for error in exc.errors())
        raise ConfigError(f"{origin}: invalid mapping: {problems}") from exc
    mapping._origin = origin
    return mapping


class _TextLoader(yaml.BaseLoader):
    """YAML loader that keeps every scalar as text and refuses duplicate keys.

    Mapping files hold text: with the usual loader ``yes``, ``no``, ``on`` and ``1`` become
    booleans and numbers, and ``true`` and ``1`` even collide as dict keys.
    """


def _construct_unique(loader: yaml.BaseLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    """Build a mapping, raising a YAML error on a repeated key."""
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_TextLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique)


def _load_document(text: str, origin: str, suffix: str) -> Any:
    """Parse JSON (for ``.json``) or YAML, reporting where the syntax breaks."""
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{origin}: not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}). "
                "Fix: correct the JSON syntax there"
            ) from exc
    try:
        return yaml.load(text, Loader=_TextLoader)  # BaseLoader: builds no Python objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(
            f"{origin}: not valid YAML{where} ({problem}). Fix: check the indentation and "
            "quoting there; quote values containing ':' or '#'"
        ) from exc


def _describe_error(error: ErrorDetails) -> str:
    """One pydantic error in mapping-file terms."""
    loc = ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = ", ".join(ColumnMapping.model_fields)
        return f"unknown key {loc!r} (allowed keys: {allowed})"
    if kind == "literal_error" and loc == "kind":
        return f"kind must be one of {', '.join(KINDS)}, got {error['input']!r}"
    if kind == "missing":
        return f"{loc} is required" + (f" (one of {', '.join(KINDS)})" if loc == "kind" else "")
    message = error["msg"].removeprefix("Value error, ")
    return f"{loc}: {message}" if loc else message


# --- applying --------------------------------------------------------------------------------


def apply_mapping(
    df: pd.DataFrame, mapping: ColumnMapping, *, source: str | Path | None = None
) -> pd.DataFrame:
    """Rename, join, translate and fill a source frame into the mapping's target fields.

    Parameters
    ----------
    df
        The source frame, text columns as :func:`~cximpact.ingest.readers.read_records`
        returns them.
    mapping
        The column mapping.
    source
        The file ``df`` was read from, named in error messages; default: the ``source`` that
        :func:`~cximpact.ingest.readers.read_records` notes in ``df.attrs``.

    Returns
    -------
    pandas.DataFrame
        The target fields of ``mapping.kind`` that the mapping, its constants or same-named
        source columns provide, in contract order, with ``df``'s index and ``attrs``. Other
        source columns are dropped.

    Raises
    ------
    ContractError
        A source column the mapping names is not in ``df``.
    """
    _check_sources(df, mapping, source)
    out = pd.DataFrame(index=df.index)
    out.attrs.update(df.attrs)
    for target in TARGET_FIELDS[mapping.kind]:
        column = _target_column(df, mapping, target)
        if column is not None:
            out[target] = column
    for target, table in mapping.values.items():
        if target in out.columns and target not in mapping.constants:
            out[target] = _translate(out[target], table)
    return out


def _target_column(df: pd.DataFrame, mapping: ColumnMapping, target: str) -> pd.Series | None:
    """The values of one target field, or ``None`` when nothing provides it."""
    if target in mapping.columns:
        sources = mapping.columns[target]
        if isinstance(sources, list):
            return _join(df, sources)
        return df[sources]
    if target in mapping.constants:
        return pd.Series(mapping.constants[target], index=df.index, dtype="str")
    if target in df.columns:
        return df[target]
    return None


def _check_sources(df: pd.DataFrame, mapping: ColumnMapping, source: str | Path | None) -> None:
    """Raise a ContractError naming every mapped source column the frame lacks."""
    present = set(df.columns)
    missing = [name for name in mapping.source_columns() if name not in present]
    if not missing:
        return
    named = source if source is not None else df.attrs.get(SOURCE_ATTR)
    where = str(named) if named else "the input"
    described = ", ".join(_describe_missing(name, mapping, df.columns) for name in missing)
    found = ", ".join(map(str, list(df.columns)[:_MAX_LISTED_COLUMNS]))
    if len(df.columns) > _MAX_LISTED_COLUMNS:
        found += f", ... ({len(df.columns)} columns)"
    raise ContractError(
        f"{where}: the {mapping.origin} ({mapping.kind}) needs source column(s) {described}, "
        f"which the file does not have. Columns found: {found or '(none)'}. Fix: rename the "
        "column in the file, or add it to the mapping file with --map (a YAML file whose "
        "'columns:' section maps each field to the file's own column name)"
    )


def _describe_missing(name: str, mapping: ColumnMapping, columns: Iterable[Any]) -> str:
    """``'via.channel' (for channel; did you mean 'Via.Channel'?)``."""
    targets = [
        target
        for target, sources in mapping.columns.items()
        if name == sources or (isinstance(sources, list) and name in sources)
    ]
    text = f"{name!r} (for {', '.join(targets)}"
    close = _close_match(name, [str(c) for c in columns])
    if close is not None:
        text += f"; did you mean {close!r}?"
    return text + ")"


def _close_match(name: str, candidates: list[str]) -> str | None:
    """A column that differs only in case or by a small typo, if there is one."""
    folded = {c.casefold(): c for c in candidates}
    if name.casefold() in folded:
        return folded[name.casefold()]
    matches = difflib.get_close_matches(name, candidates, n=1, cutoff=0.8)
    return matches[0] if matches else None


def _join(df: pd.DataFrame, sources: list[str]) -> pd.Series:
    """Join several text columns row-wise with a blank line, skipping empty parts."""
    joined = df[sources[0]].fillna("").astype("str").str.strip()
    for name in sources[1:]:
        part = df[name].fillna("").astype("str").str.strip()
        both = joined.ne("") & part.ne("")
        glue = pd.Series(np.where(both, TEXT_JOINER, ""), index=df.index, dtype="str")
        joined = joined + glue + part
    return joined


def _translate(values: pd.Series, table: Mapping[str, str]) -> pd.Series:
    """Map source values onto canonical ones; ``"*"`` is the default for non-empty others."""
    lookup = {_norm(k): v for k, v in table.items() if k != DEFAULT_VALUE_KEY}
    text = values.fillna("").astype("str")
    normalised = text.str.strip().str.casefold()
    mapped = normalised.map(lookup)
    fallback = text
    if DEFAULT_VALUE_KEY in table:
        fallback = text.where(normalised.eq(""), table[DEFAULT_VALUE_KEY])
    return mapped.where(mapped.notna(), fallback).astype("str")
