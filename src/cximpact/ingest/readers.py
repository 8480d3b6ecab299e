"""Read interaction, customer and finance exports into all-text frames.

:func:`read_records` reads CSV (``.csv``, ``.tsv``, ``.txt``), Parquet and JSON (``.jsonl``,
``.ndjson``, or a ``.json`` array / Zendesk ``{"tickets": [...]}`` / Salesforce
``{"records": [...]}`` document), optionally gzip-compressed. Every column comes back as text
(missing values as ``""``), in file order, nested JSON objects flattened to dotted names
(``via.channel``), indexed by the 1-based source row number, so that validation downstream
decides the types.

A file that is not what it claims (binary, wrong delimiter, truncated, empty, missing) raises
:class:`~cximpact.errors.FileFormatError` whose message names the file, what was expected, what
was found and the fix.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import warnings
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cximpact.errors import ConfigError, FileFormatError

__all__ = ["FORMATS", "ROW_INDEX_NAME", "SOURCE_ATTR", "read_records"]

#: Formats :func:`read_records` understands (the values ``fmt`` accepts).
FORMATS: Final[tuple[str, ...]] = ("csv", "tsv", "parquet", "jsonl", "json")

#: Name of the index holding the 1-based source row number.
ROW_INDEX_NAME: Final = "row"

#: ``DataFrame.attrs`` key holding the path the frame was read from (for messages).
SOURCE_ATTR: Final = "source"

_EXTENSIONS: Final[dict[str, str]] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".txt": "txt",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
}
_FMT_ALIASES: Final[dict[str, str]] = {"ndjson": "jsonl", "pq": "parquet"}
_CANDIDATE_DELIMITERS: Final[tuple[str, ...]] = (",", "\t", ";", "|")
_DELIMITER_ALIASES: Final[dict[str, str]] = {"\\t": "\t", "tab": "\t", "TAB": "\t"}
_RECORD_KEYS: Final[tuple[str, ...]] = ("tickets", "records")
_GZIP_MAGIC: Final = b"\x1f\x8b"
_PARQUET_MAGIC: Final = b"PAR1"
_ZIP_MAGIC: Final = b"PK\x03\x04"
_HEAD_BYTES: Final = 65536
_SUPPORTED_TEXT: Final = ".csv, .tsv, .txt, .parquet, .jsonl, .ndjson, .json (each optionally .gz)"


@dataclass(frozen=True)
class _Source:
    """A file to read: where it is, its format and its field delimiter (CSV only)."""

    path: Path
    fmt: str
    delimiter: str | None


@dataclass(frozen=True)
class _Csv:
    """A delimited text file and the delimiter it is read with."""

    path: Path
    delimiter: str


def read_records(
    path: Path, *, fmt: str | None = None, delimiter: str | None = None
) -> pd.DataFrame:
    """Read a CSV, Parquet or JSON(L) export into a frame of text columns.

    Parameters
    ----------
    path
        The file. Its extension picks the format unless ``fmt`` is given; gzip compression
        (``.csv.gz``, ``.jsonl.gz``...) is recognised by its content.
    fmt
        Override the format: one of ``csv``, ``tsv``, ``txt``, ``parquet``, ``jsonl``
        (alias ``ndjson``) or ``json``.
    delimiter
        Field delimiter for CSV-like files (one character; ``\\t`` or ``tab`` mean a tab).
        Default: ``,`` for ``.csv``, a tab for ``.tsv`` and a guess from the header for ``.txt``.

    Returns
    -------
    pandas.DataFrame
        One ``str`` column per source column, in file order, missing values as ``""``; nested
        JSON objects are flattened into dotted column names. The index, named ``row``, is the
        1-based number of the data record in the file (1 = first data row); blank lines are
        not counted. ``attrs["source"]`` holds the path, for messages downstream.

    Raises
    ------
    FileFormatError
        The file is missing, empty, binary, truncated, has the wrong delimiter, cannot be
        parsed, or has an unsupported extension.
    ConfigError
        ``fmt`` or ``delimiter`` is not a valid choice.
    """
    path = Path(path)
    _check_exists(path)
    source = _resolve_source(path, fmt, delimiter)
    if source.fmt == "parquet":
        frame = _read_parquet(path)
    else:
        data = _read_bytes(path)
        if source.fmt == "csv":
            frame = _read_csv(data, source)
        elif source.fmt == "jsonl":
            frame = _read_jsonl(data, path)
        else:
            frame = _read_json(data, path)
    text = _as_text_frame(frame)
    text.attrs[SOURCE_ATTR] = str(path)
    return text


# --- choosing the format ---------------------------------------------------------------------


def _fail(path: Path, expected: str, found: str, fix: str) -> FileFormatError:
    """Build the one-shape error: file, what was expected, what was found, the fix."""
    return FileFormatError(f"{path}: expected {expected}, but found {found}. Fix: {fix}")


def _check_exists(path: Path) -> None:
    """Raise when ``path`` does not exist or is not a regular file."""
    if not path.exists():
        raise _fail(path, "an existing file", "nothing at that path", "check the path and spelling")
    if not path.is_file():
        raise _fail(path, "a file", "a directory or special file", "name the file itself")


def _resolve_source(path: Path, fmt: str | None, delimiter: str | None) -> _Source:
    """Decide the format and delimiter from the arguments and the file name."""
    kind = _normalise_fmt(fmt) if fmt is not None else _format_from_name(path)
    chosen = _normalise_delimiter(delimiter) if delimiter is not None else None
    if kind in ("csv", "tsv") and chosen is None:
        chosen = "\t" if kind == "tsv" else ","
    return _Source(path, "csv" if kind in ("tsv", "txt") else kind, chosen)


def _normalise_fmt(fmt: str) -> str:
    """Map a user-given format name onto an internal one."""
    name = fmt.strip().lower().lstrip(".")
    name = _FMT_ALIASES.get(name, name)
    if name not in (*FORMATS, "txt"):
        choices = ", ".join((*FORMATS, "txt", "ndjson"))
        raise ConfigError(f"unknown format {fmt!r}; choose one of: {choices}")
    return name


def _normalise_delimiter(delimiter: str) -> str:
    """Validate a delimiter, turning ``\\t`` / ``tab`` into a real tab."""
    value = _DELIMITER_ALIASES.get(delimiter, delimiter)
    if len(value) != 1 or value in ('"', "\n", "\r"):
        raise ConfigError(
            f"delimiter must be a single character other than a quote or newline, "
            f"got {delimiter!r}; for example --delimiter ';' or --delimiter '\\t'"
        )
    return value


def _format_from_name(path: Path) -> str:
    """The format implied by the file name (``.gz`` is looked through)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".gzip"):
        suffixes = suffixes[:-1]
    ext = suffixes[-1] if suffixes else ""
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    found = f"the extension {ext!r}" if ext else "no extension"
    fix = "export the data as CSV or JSON Lines, or pass --format csv|tsv|parquet|jsonl|json"
    if ext in (".xlsx", ".xls", ".xlsm", ".ods"):
        fix = "save the sheet as CSV (UTF-8) from the spreadsheet program"
    raise _fail(path, f"a supported file type ({_SUPPORTED_TEXT})", found, fix)


# --- bytes -----------------------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    """Read the whole file, decompressing gzip; raise on an empty or corrupt file."""
    raw = path.read_bytes()
    if raw.startswith(_GZIP_MAGIC):
        raw = _gunzip(raw, path)
    if not raw or raw.isspace():
        raise _fail(
            path,
            "a header and data rows",
            "an empty file",
            "re-export the data; the export or copy probably failed",
        )
    return raw


def _gunzip(raw: bytes, path: Path) -> bytes:
    """Decompress gzip bytes, turning a truncated or corrupt stream into a FileFormatError."""
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        raise _fail(
            path,
            "a complete gzip stream",
            f"a truncated or corrupt one ({exc})",
            "copy or download the file again, or decompress it with gunzip to see what is left",
        ) from exc


def _check_text(data: bytes, path: Path, expected: str) -> str:
    """Decode UTF-8 text, raising a FileFormatError naming what the bytes look like instead."""
    _check_magic(data, path, expected)
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        where = "near the start" if nul < _HEAD_BYTES else f"on line {line}"
        raise _fail(
            path,
            expected,
            f"binary content (a NUL byte {where})",
            "make sure this is the exported text file and not a spreadsheet, archive or image; "
            "re-export it as UTF-8 text",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start : exc.start + 1].hex()
        raise _fail(
            path,
            f"{expected} encoded as UTF-8",
            f"a byte that is not UTF-8 (0x{byte} on line {line}, offset {exc.start}); the file is "
            "binary or in another encoding such as Windows-1252 or Latin-1",
            "re-save or re-export the file as UTF-8 (for example: iconv -f cp1252 -t utf-8)",
        ) from exc


def _check_magic(data: bytes, path: Path, expected: str) -> None:
    """Recognise well-known non-text files by their first bytes."""
    if data.startswith(_PARQUET_MAGIC):
        found, fix = "a Parquet file", "rename it to .parquet or pass --format parquet"
    elif data.startswith(_ZIP_MAGIC):
        found = "a ZIP archive (an Excel .xlsx workbook is one)"
        fix = "unzip it, or save the sheet as CSV (UTF-8) from the spreadsheet program"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        found = "UTF-16 text (Excel's 'Unicode Text' export)"
        fix = "save it as 'CSV UTF-8' instead, or convert: iconv -f utf-16 -t utf-8"
    else:
        return
    raise _fail(path, expected, found, fix)


# --- CSV -------------------------------------------------------------------------------------


def _read_csv(data: bytes, given: _Source) -> pd.DataFrame:
    """Parse delimited text with pandas' C engine, every value as text."""
    path = given.path
    expected = f"{_delimiter_name(given.delimiter or ',')}-delimited text"
    text = _check_text(data, path, expected)
    _check_not_json(text, path, expected)
    source = _Csv(path, given.delimiter or _sniff_delimiter(text))
    header = _parse_header(text, source)
    _check_delimiter(header, source)
    _check_header_names(header, path)
    _check_last_record(data, header, source)
    frame = _parse_csv(data, source)
    return _drop_unnamed_empty(frame, header, path)


def _sniff_delimiter(text: str) -> str:
    """Guess a ``.txt`` file's delimiter: the candidate most frequent in its first line."""
    first = text.lstrip()[:_HEAD_BYTES].split("\n", 1)[0]
    best = max(_CANDIDATE_DELIMITERS, key=first.count)
    return best if first.count(best) > 0 else ","


def _delimiter_name(delimiter: str) -> str:
    """How a delimiter is spelled in messages and on the command line."""
    return "'\\t'" if delimiter == "\t" else repr(delimiter)


def _check_not_json(text: str, path: Path, expected: str) -> None:
    """Point out a JSON document handed in as CSV."""
    start = text.lstrip()[:1]
    if start in ("{", "["):
        raise _fail(
            path,
            expected,
            f"JSON (the file starts with {start!r})",
            "rename it to .jsonl/.json or pass --format jsonl (or --format json)",
        )


def _parse_header(text: str, source: _Csv) -> list[str]:
    """The header's field names, parsed with the same quoting rules as the data."""
    head = text[:_HEAD_BYTES]
    reader = csv.reader(io.StringIO(head), delimiter=source.delimiter, quotechar='"')
    for row in reader:
        if any(cell.strip() for cell in row):
            return row
    raise _fail(source.path, "a header line", "only blank lines", "re-export the data")


def _check_delimiter(header: list[str], source: _Csv) -> None:
    """A one-column header that contains another delimiter means the wrong delimiter."""
    if len(header) != 1:
        return
    others = [d for d in _CANDIDATE_DELIMITERS if d != source.delimiter and d in header[0]]
    if not others:
        return
    guess = max(others, key=header[0].count)
    shown = _delimiter_name(guess)
    raise _fail(
        source.path,
        f"{_delimiter_name(source.delimiter)}-delimited columns",
        f"a header with one column {header[0][:80]!r}; the file looks {shown}-delimited",
        f"pass --delimiter {shown}",
    )


def _check_header_names(header: list[str], path: Path) -> None:
    """Reject a header that names the same column twice."""
    seen: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        if name and name in seen:
            raise _fail(
                path,
                "distinct column names in the header",
                f"{name!r} twice (columns {seen[name]} and {position})",
                "rename one of the columns in the file",
            )
        seen[name] = position


def _check_last_record(data: bytes, header: list[str], source: _Csv) -> None:
    """A last record without a newline and with too few fields means a truncated file."""
    body = data.rstrip(b" ")
    if body.endswith((b"\n", b"\r")):
        return
    start = _last_record_start(body)
    if start == 0:
        return
    last = body[start:].decode("utf-8", errors="replace")
    rows = list(csv.reader(io.StringIO(last), delimiter=source.delimiter, quotechar='"'))
    fields = len(rows[-1]) if rows else 0
    if not rows or fields >= len(header):
        return
    raise _fail(
        source.path,
        f"{len(header)} fields on every row",
        f"a last row with {fields} field(s) and no final newline, starting {last[:60]!r}; "
        "the file looks truncated (an interrupted export, copy or download)",
        "export or copy the file again; if it really ends there, add the missing values",
    )


def _last_record_start(body: bytes) -> int:
    """Offset where the last CSV record starts, stepping over quoted newlines."""
    start = body.rfind(b"\n") + 1
    quotes_before = body.count(b'"', 0, start)
    while start > 0 and quotes_before % 2 == 1:
        previous = body.rfind(b"\n", 0, start - 1) + 1
        quotes_before -= body.count(b'"', previous, start)
        start = previous
    return start


def _parse_csv(data: bytes, source: _Csv) -> pd.DataFrame:
    """Run pandas' C parser, translating its errors into FileFormatErrors."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(
                io.BytesIO(data),
                sep=source.delimiter,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                index_col=False,
                encoding="utf-8-sig",
                engine="c",
                quotechar='"',
                skip_blank_lines=True,
            )
    except pd.errors.ParserWarning as exc:
        raise _fail(
            source.path,
            "the same number of fields on every row as in the header",
            "a first data row with more fields than the header",
            "quote values that contain the delimiter "
            f"{_delimiter_name(source.delimiter)}, add the missing header names, or pass the "
            "right --delimiter",
        ) from exc
    except pd.errors.ParserError as exc:
        raise _csv_parser_error(exc, source) from exc
    except (pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise _fail(
            source.path, "delimited text", f"content pandas cannot parse ({exc})", "re-export it"
        ) from exc


def _csv_parser_error(exc: Exception, source: _Csv) -> FileFormatError:
    """Explain a pandas ParserError in terms of the file."""
    message = str(exc).strip().removeprefix("Error tokenizing data. C error: ")
    if "EOF inside string" in message:
        return _fail(
            source.path,
            "every quoted value to end with a closing quote",
            f"a quote that is never closed ({message}); the file looks truncated, or a value "
            'contains a stray " character',
            "export or copy the file again; a literal quote inside a quoted value must be "
            'doubled ("")',
        )
    if "Expected" in message and "fields" in message:
        return _fail(
            source.path,
            "the same number of fields on every row as in the header",
            f"a row with more ({message})",
            "quote values that contain the delimiter "
            f"{_delimiter_name(source.delimiter)}, or pass the right --delimiter",
        )
    return _fail(source.path, "delimited text", f"a parse error ({message})", "re-export it")


def _drop_unnamed_empty(frame: pd.DataFrame, header: list[str], path: Path) -> pd.DataFrame:
    """Drop the phantom column a trailing delimiter creates; reject unnamed data columns."""
    if len(header) != len(frame.columns):
        return frame
    unnamed = [col for name, col in zip(header, frame.columns, strict=True) if not name.strip()]
    filled = [col for col in unnamed if frame[col].str.strip().ne("").any()]
    if filled:
        position = list(frame.columns).index(filled[0]) + 1
        raise _fail(
            path,
            "a name for every column in the header",
            f"column {position} has no name but holds values",
            "add the column's name to the header line",
        )
    return frame.drop(columns=unnamed)


# --- JSON ------------------------------------------------------------------------------------


def _read_jsonl(data: bytes, path: Path) -> pd.DataFrame:
    """Parse JSON Lines (one object per line); a file holding one JSON array is accepted too."""
    text = _check_text(data, path, "JSON Lines (one JSON object per line)")
    _check_not_delimited(text, path)
    if text.lstrip().startswith("["):
        return _document_frame(text, path)
    return _lines_frame(text, path)


def _read_json(data: bytes, path: Path) -> pd.DataFrame:
    """Parse a JSON document; a file of one object per line is read as JSON Lines."""
    text = _check_text(data, path, "a JSON document")
    _check_not_delimited(text, path)
    try:
        return _document_frame(text, path)
    except _ExtraData:
        return _lines_frame(text, path)


class _ExtraData(Exception):
    """A JSON document is followed by more JSON: the file is JSON Lines."""


def _check_not_delimited(text: str, path: Path) -> None:
    """Point out CSV handed in as JSON."""
    start = text.lstrip()[:1]
    if start and start not in ("{", "["):
        first = text.lstrip().splitlines()[0][:60]
        raise _fail(
            path,
            "JSON (a '{' at the start of each record)",
            f"text starting {first!r}, which looks like CSV or plain text",
            "rename it to .csv or pass --format csv",
        )


def _lines_frame(text: str, path: Path) -> pd.DataFrame:
    """Parse one JSON value per non-blank line into a frame."""
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    try:
        records = [json.loads(line) for _, line in numbered]
    except json.JSONDecodeError:
        return _document_or_bad_line(text, numbered, path)
    pages = _unwrap_pages(records)
    if pages is not None:
        return _records_frame(pages, path, list(range(1, len(pages) + 1)), unit="record")
    return _records_frame(records, path, [n for n, _ in numbered])


def _unwrap_pages(records: list[Any]) -> list[Any] | None:
    """Records of API pages saved one per line (``{"tickets": [...]}``), else ``None``."""
    if not records or _page_key(records[0]) is None:
        return None
    keys = [_page_key(record) for record in records]
    if None in keys:
        return None
    return [item for record, key in zip(records, keys, strict=True) for item in record[key]]


def _page_key(record: Any) -> str | None:
    """The key holding a page's list of records (``tickets``, ``records``), if any."""
    if not isinstance(record, dict):
        return None
    return next((k for k in _RECORD_KEYS if isinstance(record.get(k), list)), None)


def _document_or_bad_line(text: str, numbered: list[tuple[int, str]], path: Path) -> pd.DataFrame:
    """Lines failed: read the text as one (pretty-printed) document, else name the bad line."""
    try:
        return _document_frame(text, path)
    except (FileFormatError, _ExtraData):
        pass
    last = numbered[-1][0]
    for number, line in numbered:
        try:
            json.loads(line)
        except json.JSONDecodeError as exc:
            raise _bad_json_line(path, number, line, exc, is_last=number == last) from exc
    raise AssertionError("unreachable: a line failed to parse and then parsed")  # pragma: no cover


def _bad_json_line(
    path: Path, number: int, line: str, exc: json.JSONDecodeError, *, is_last: bool
) -> FileFormatError:
    """The error for a line of JSON Lines that does not parse."""
    found = f"invalid JSON on line {number} ({exc.msg}, column {exc.colno}): {line[:60]!r}"
    if is_last:
        return _fail(
            path,
            "one complete JSON object per line",
            f"{found}; the last line is cut off, so the file looks truncated",
            "export or copy the file again",
        )
    return _fail(
        path,
        "one complete JSON object per line",
        found,
        f"fix or remove line {number}; each record must be a JSON object on a single line",
    )


def _document_frame(text: str, path: Path) -> pd.DataFrame:
    """Parse a whole JSON document (array of objects or an object holding one) into a frame."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":
            raise _ExtraData from exc
        raise _bad_json_document(path, text, exc) from exc
    records = _records_of(document, path)
    return _records_frame(records, path, list(range(1, len(records) + 1)), unit="record")


def _bad_json_document(path: Path, text: str, exc: json.JSONDecodeError) -> FileFormatError:
    """The error for a JSON document that does not parse."""
    found = f"invalid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})"
    if exc.pos >= len(text.rstrip()):
        return _fail(
            path,
            "a complete JSON document",
            f"{found}: it ends in the middle of a value, so the file looks truncated",
            "export or download the file again",
        )
    return _fail(path, "a valid JSON document", found, "fix the JSON or export it again")


def _records_of(document: Any, path: Path) -> list[Any]:
    """The list of records inside a JSON document."""
    if isinstance(document, list):
        return document
    key = _page_key(document)
    if key is not None:
        return list(document[key])
    if isinstance(document, dict):
        lists = [key for key, value in document.items() if isinstance(value, list)]
        if len(lists) == 1:
            return list(document[lists[0]])
    keys = ", ".join(list(document)[:8]) if isinstance(document, dict) else ""
    found = f"an object with keys {keys}" if keys else f"a JSON {_json_type(document)}"
    raise _fail(
        path,
        'a JSON array of records or an object with a "tickets" or "records" list',
        found,
        "export the records as a JSON array or as JSON Lines (.jsonl)",
    )


def _records_frame(
    records: list[Any], path: Path, numbers: list[int], unit: str = "line"
) -> pd.DataFrame:
    """Flatten JSON objects into one text row each."""
    rows: list[dict[str, str]] = []
    for number, record in zip(numbers, records, strict=True):
        if not isinstance(record, dict):
            raise _fail(
                path,
                "a JSON object for every record",
                f"a JSON {_json_type(record)} on {unit} {number}",
                "export one object per record (key: value pairs)",
            )
        rows.append(_flatten(record, "", {}))
    return pd.DataFrame(rows, dtype=object)


def _json_type(value: Any) -> str:
    """The JSON name of a decoded value's type."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "boolean" if isinstance(value, bool) else "number"


def _flatten(record: Mapping[str, Any], prefix: str, out: dict[str, str]) -> dict[str, str]:
    """Put every leaf of a nested JSON object into ``out`` under its dotted name."""
    for key, value in record.items():
        if type(value) is str:
            out[prefix + key] = value
        elif isinstance(value, dict) and value:
            _flatten(value, f"{prefix}{key}.", out)
        else:
            out[prefix + key] = "" if isinstance(value, dict) else _json_text(value)
    return out


def _json_text(value: Any) -> str:
    """One JSON value as text: null -> "", booleans as true/false, arrays as JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


# --- Parquet ---------------------------------------------------------------------------------


def _read_parquet(path: Path) -> pd.DataFrame:
    """Read Parquet with pyarrow, flattening structs and turning every column into text."""
    raw = path.read_bytes()
    if raw.startswith(_GZIP_MAGIC):
        raw = _gunzip(raw, path)
    _check_parquet_magic(raw, path)
    try:
        table = pq.read_table(pa.BufferReader(raw))
    except (pa.ArrowException, OSError) as exc:
        raise _fail(
            path,
            "a readable Parquet file",
            f"one pyarrow cannot open ({exc}); it may be truncated or corrupt",
            "export or copy the file again",
        ) from exc
    while any(pa.types.is_struct(field.type) for field in table.schema):
        table = table.flatten()
    columns = {name: _arrow_text(table.column(name)) for name in table.column_names}
    return pd.DataFrame(columns, index=pd.RangeIndex(table.num_rows))


def _check_parquet_magic(raw: bytes, path: Path) -> None:
    """Parquet files start and end with ``PAR1``; say what the file is otherwise."""
    if not raw or raw.isspace():
        raise _fail(path, "a Parquet file", "an empty file", "re-export the data")
    if raw.startswith(_PARQUET_MAGIC) and not raw.endswith(_PARQUET_MAGIC):
        raise _fail(
            path,
            "a Parquet file ending with its footer",
            "a file that stops before the footer, so it looks truncated",
            "export or copy the file again",
        )
    if not raw.startswith(_PARQUET_MAGIC):
        start = raw[:40].decode("utf-8", errors="replace")
        raise _fail(
            path,
            "a Parquet file (starting with PAR1)",
            f"content starting {start!r}",
            "if it is CSV or JSON, rename it or pass --format csv|jsonl|json",
        )


def _arrow_text(column: Any) -> Any:
    """An Arrow column as text: scalars cast by Arrow, nested values as JSON, nulls as ""."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = kind.value_type
    if pa.types.is_nested(kind):
        return [_json_text(value) for value in column.to_pylist()]
    try:
        text = pc.cast(column, pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        return [_json_text(_plain(value)) for value in column.to_pylist()]
    return pc.fill_null(text, "").to_pandas()


def _plain(value: Any) -> Any:
    """A Python value Arrow produced, made JSON-friendly."""
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


# --- result ----------------------------------------------------------------------------------


def _as_text_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column as ``str`` with ``""`` for missing; index = 1-based source row number."""
    text = frame.astype("str").fillna("")
    text.index = pd.RangeIndex(1, len(text) + 1, name=ROW_INDEX_NAME)
    return text
