"""Tests of :func:`cximpact.ingest.readers.read_records`: formats, text output, bad files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cximpact.errors import ConfigError, ContractError, FileFormatError
from cximpact.ingest.readers import ROW_INDEX_NAME, SOURCE_ATTR, read_records

FIXTURES = Path(__file__).parent / "fixtures"


def write(path: Path, content: str | bytes) -> Path:
    """Write text (UTF-8) or bytes to ``path`` and return it."""
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def rows(frame: pd.DataFrame) -> list[dict[str, str]]:
    """The frame's rows as plain dicts."""
    return [dict(zip(frame.columns, map(str, values), strict=True)) for values in frame.values]


def assert_all_text(frame: pd.DataFrame) -> None:
    """Every column holds Python strings only (no NaN, no None, no numbers)."""
    for column in frame.columns:
        assert pd.api.types.is_string_dtype(frame[column].dtype), column
        assert all(type(value) is str for value in frame[column]), column


def read_error(path: Path, **kwargs: str) -> str:
    """The message of the FileFormatError reading ``path`` raises."""
    with pytest.raises(FileFormatError) as info:
        read_records(path, **kwargs)
    message = str(info.value)
    assert str(path) in message
    assert "Fix:" in message
    return message


# --- CSV -------------------------------------------------------------------------------------


def test_csv_values_come_back_as_text_in_file_order(tmp_path: Path) -> None:
    path = write(tmp_path / "i.csv", "id,amount,note,flag\n001,12.50,,true\n2,NA,null,\n")
    frame = read_records(path)
    assert list(frame.columns) == ["id", "amount", "note", "flag"]
    assert rows(frame) == [
        {"id": "001", "amount": "12.50", "note": "", "flag": "true"},
        {"id": "2", "amount": "NA", "note": "null", "flag": ""},
    ]
    assert_all_text(frame)


def test_index_is_the_one_based_source_row_number(tmp_path: Path) -> None:
    path = write(tmp_path / "i.csv", "id\na\nb\nc\n")
    frame = read_records(path)
    assert frame.index.name == ROW_INDEX_NAME
    assert list(frame.index) == [1, 2, 3]
    assert frame.loc[2, "id"] == "b"
    assert frame.attrs[SOURCE_ATTR] == str(path)


def test_csv_quotes_embedded_delimiters_newlines_and_doubled_quotes(tmp_path: Path) -> None:
    path = write(tmp_path / "i.csv", 'id,text\n1,"a, b"\n2,"line one\nline two"\n3,"say ""hi"""\n')
    frame = read_records(path)
    assert list(frame["text"]) == ["a, b", "line one\nline two", 'say "hi"']
    assert list(frame.index) == [1, 2, 3]


def test_csv_without_final_newline_and_with_crlf_and_bom(tmp_path: Path) -> None:
    path = write(tmp_path / "i.csv", "\ufeffid,name\r\n1,Ann\r\n2,Bob")
    frame = read_records(path)
    assert list(frame.columns) == ["id", "name"]
    assert rows(frame) == [{"id": "1", "name": "Ann"}, {"id": "2", "name": "Bob"}]


def test_csv_header_only_gives_an_empty_frame_with_columns(tmp_path: Path) -> None:
    frame = read_records(write(tmp_path / "i.csv", "id,name\n"))
    assert list(frame.columns) == ["id", "name"]
    assert len(frame) == 0


def test_blank_lines_are_skipped(tmp_path: Path) -> None:
    frame = read_records(write(tmp_path / "i.csv", "id\n1\n\n2\n\n"))
    assert list(frame["id"]) == ["1", "2"]
    assert list(frame.index) == [1, 2]


def test_trailing_delimiter_column_without_name_is_dropped(tmp_path: Path) -> None:
    frame = read_records(write(tmp_path / "i.csv", "id,name,\n1,Ann,\n2,Bob,\n"))
    assert list(frame.columns) == ["id", "name"]


def test_short_row_in_the_middle_is_padded_with_empty_text(tmp_path: Path) -> None:
    frame = read_records(write(tmp_path / "i.csv", "a,b,c\n1,2\n3,4,5\n"))
    assert rows(frame)[0] == {"a": "1", "b": "2", "c": ""}


def test_tsv_uses_tabs(tmp_path: Path) -> None:
    frame = read_records(write(tmp_path / "i.tsv", "id\tname\n1\tAnn, Jr.\n"))
    assert rows(frame) == [{"id": "1", "name": "Ann, Jr."}]


@pytest.mark.parametrize("delimiter", [";", "|", "\t", ","])
def test_txt_delimiter_is_guessed_from_the_header(tmp_path: Path, delimiter: str) -> None:
    path = write(tmp_path / "i.txt", f"id{delimiter}name\n1{delimiter}Ann\n")
    assert rows(read_records(path)) == [{"id": "1", "name": "Ann"}]


@pytest.mark.parametrize("given", [";", "\\t", "tab"])
def test_explicit_delimiter(tmp_path: Path, given: str) -> None:
    real = ";" if given == ";" else "\t"
    path = write(tmp_path / "i.csv", f"id{real}name\n1{real}Ann\n")
    assert rows(read_records(path, delimiter=given)) == [{"id": "1", "name": "Ann"}]


def test_fmt_overrides_the_extension(tmp_path: Path) -> None:
    path = write(tmp_path / "export.dat", "id,name\n1,Ann\n")
    assert rows(read_records(path, fmt="csv")) == [{"id": "1", "name": "Ann"}]
    jsonl = write(tmp_path / "export.log", '{"id": 1}\n')
    assert rows(read_records(jsonl, fmt="ndjson")) == [{"id": "1"}]


def test_gzip_csv(tmp_path: Path) -> None:
    path = write(tmp_path / "i.csv.gz", gzip.compress(b"id,name\n1,Ann\n2,Bob\n"))
    assert list(read_records(path)["name"]) == ["Ann", "Bob"]


def test_gzip_is_recognised_by_content(tmp_path: Path) -> None:
    path = write(tmp_path / "i.csv", gzip.compress(b"id,name\n1,Ann\n"))
    assert list(read_records(path)["name"]) == ["Ann"]


@pytest.mark.slow
def test_a_million_row_csv_reads_completely(tmp_path: Path) -> None:
    header = "id,customer_id,timestamp,channel,text,agent"
    body = "\n".join(
        f'{i},c{i % 5000},2024-01-{i % 28 + 1:02d}T10:00:00Z,email,"hello, {i}",a{i % 50}'
        for i in range(1_000_000)
    )
    path = write(tmp_path / "big.csv", f"{header}\n{body}\n")
    frame = read_records(path)
    assert frame.shape == (1_000_000, 6)
    assert frame.index[-1] == 1_000_000
    assert frame.loc[1_000_000, "text"] == "hello, 999999"


# --- JSON ------------------------------------------------------------------------------------


def test_jsonl_flattens_nested_objects_and_renders_scalars_as_text(tmp_path: Path) -> None:
    lines = [
        {"id": 1, "via": {"channel": "web", "source": {"rel": None}}, "ok": True, "n": 1.5},
        {"id": 2, "tags": ["a", "b"], "ok": False, "empty": {}, "meta": {"x": {"y": "deep"}}},
    ]
    path = write(tmp_path / "t.jsonl", "\n".join(json.dumps(line) for line in lines) + "\n")
    frame = read_records(path)
    assert list(frame.columns) == [
        "id",
        "via.channel",
        "via.source.rel",
        "ok",
        "n",
        "tags",
        "empty",
        "meta.x.y",
    ]
    first, second = rows(frame)
    assert first == {
        "id": "1",
        "via.channel": "web",
        "via.source.rel": "",
        "ok": "true",
        "n": "1.5",
        "tags": "",
        "empty": "",
        "meta.x.y": "",
    }
    assert second["tags"] == '["a", "b"]'
    assert second["ok"] == "false"
    assert second["via.channel"] == ""
    assert second["meta.x.y"] == "deep"
    assert_all_text(frame)


def test_jsonl_skips_blank_lines_and_numbers_records(tmp_path: Path) -> None:
    path = write(tmp_path / "t.ndjson", '{"id": "a"}\n\n{"id": "b"}\n')
    frame = read_records(path)
    assert list(frame["id"]) == ["a", "b"]
    assert list(frame.index) == [1, 2]


def test_gzip_jsonl(tmp_path: Path) -> None:
    path = write(tmp_path / "t.jsonl.gz", gzip.compress(b'{"id": 7, "via": {"channel": "api"}}\n'))
    assert rows(read_records(path)) == [{"id": "7", "via.channel": "api"}]


def test_jsonl_of_api_pages_is_unwrapped(tmp_path: Path) -> None:
    pages = [{"tickets": [{"id": 1}, {"id": 2}], "next_page": "x"}, {"tickets": [{"id": 3}]}]
    path = write(tmp_path / "pages.jsonl", "\n".join(json.dumps(p) for p in pages))
    assert list(read_records(path)["id"]) == ["1", "2", "3"]


def test_json_array(tmp_path: Path) -> None:
    path = write(tmp_path / "t.json", json.dumps([{"id": 1, "a": {"b": 2}}, {"id": 2}], indent=2))
    frame = read_records(path)
    assert rows(frame) == [{"id": "1", "a.b": "2"}, {"id": "2", "a.b": ""}]
    assert list(frame.index) == [1, 2]


def test_json_lines_in_a_json_file(tmp_path: Path) -> None:
    path = write(tmp_path / "t.json", '{"id": 1}\n{"id": 2}\n')
    assert list(read_records(path)["id"]) == ["1", "2"]


def test_zendesk_tickets_document(tmp_path: Path) -> None:
    frame = read_records(FIXTURES / "zendesk_tickets.json")
    assert len(frame) == 3
    assert list(frame["id"]) == ["35436", "35437", "35438"]
    assert list(frame["via.channel"]) == ["web", "email", "voice"]
    assert frame.loc[2, "via.source.from.address"] == "customer@example.com"
    assert frame.loc[1, "via.source.from.address"] == ""
    assert frame.loc[2, "assignee_id"] == ""
    assert frame.loc[1, "tags"] == '["payments", "checkout"]'
    assert "next_page" not in frame.columns
    assert_all_text(frame)


def test_salesforce_records_document() -> None:
    frame = read_records(FIXTURES / "salesforce_cases.json")
    assert list(frame.columns[:2]) == ["attributes.type", "attributes.url"]
    assert list(frame["IsClosed"]) == ["true", "false", "false"]
    assert frame.loc[2, "Description"] == ""
    assert "totalSize" not in frame.columns


def test_salesforce_csv_export_with_multiline_quoted_value() -> None:
    frame = read_records(FIXTURES / "salesforce_cases.csv")
    assert list(frame.index) == [1, 2]
    description = str(frame.loc[1, "Description"])
    assert description.startswith('Customer asks for a refund, citing "late')
    assert "Second line" in description
    assert frame.loc[2, "Reason"] == ""


# --- Parquet ---------------------------------------------------------------------------------


def test_parquet_columns_become_text_with_structs_flattened(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": pa.array([1, 2], pa.int64()),
            "amount": pa.array([1.5, None]),
            "ok": pa.array([True, False]),
            "via": pa.array([{"channel": "web", "source": {"rel": "x"}}, None]),
            "tags": pa.array([["a"], None]),
            "segment": pa.array(["smb", "smb"]).dictionary_encode(),
            "name": pa.array(["Ann", None]),
        }
    )
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    frame = read_records(path)
    assert list(frame.columns) == [
        "id",
        "amount",
        "ok",
        "via.channel",
        "via.source.rel",
        "tags",
        "segment",
        "name",
    ]
    assert rows(frame) == [
        {
            "id": "1",
            "amount": "1.5",
            "ok": "true",
            "via.channel": "web",
            "via.source.rel": "x",
            "tags": '["a"]',
            "segment": "smb",
            "name": "Ann",
        },
        {
            "id": "2",
            "amount": "",
            "ok": "false",
            "via.channel": "",
            "via.source.rel": "",
            "tags": "",
            "segment": "smb",
            "name": "",
        },
    ]
    assert list(frame.index) == [1, 2]
    assert_all_text(frame)


# --- bad files -------------------------------------------------------------------------------


def test_file_not_found(tmp_path: Path) -> None:
    message = read_error(tmp_path / "missing.csv")
    assert "nothing at that path" in message


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    assert "directory" in read_error(tmp_path)


@pytest.mark.parametrize("name", ["data.xml", "data", "book.xlsx"])
def test_unsupported_extension(tmp_path: Path, name: str) -> None:
    message = read_error(write(tmp_path / name, "id\n1\n"))
    assert "supported file type" in message
    assert ".csv" in message and ".jsonl" in message and ".parquet" in message
    assert "--format" in message or "CSV" in message


@pytest.mark.parametrize("name", ["e.csv", "e.jsonl", "e.json", "e.csv.gz"])
def test_empty_file(tmp_path: Path, name: str) -> None:
    content = gzip.compress(b"") if name.endswith(".gz") else b"  \n\n"
    message = read_error(write(tmp_path / name, content))
    assert "empty file" in message


def test_empty_parquet(tmp_path: Path) -> None:
    assert "empty file" in read_error(write(tmp_path / "e.parquet", b""))


@pytest.mark.parametrize("name", ["b.csv", "b.jsonl"])
def test_binary_content_with_nul_bytes(tmp_path: Path, name: str) -> None:
    message = read_error(write(tmp_path / name, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
    assert "binary" in message
    assert "NUL" in message


def test_text_that_is_not_utf8(tmp_path: Path) -> None:
    message = read_error(write(tmp_path / "l.csv", "id,name\n1,Jos\u00e9\n".encode("latin-1")))
    assert "not UTF-8" in message
    assert "line 2" in message
    assert "re-save" in message


def test_utf16_export(tmp_path: Path) -> None:
    message = read_error(write(tmp_path / "u.csv", "id,name\n1,Ann\n".encode("utf-16")))
    assert "UTF-16" in message
    assert "UTF-8" in message


def test_xlsx_renamed_to_csv(tmp_path: Path) -> None:
    message = read_error(write(tmp_path / "x.csv", b"PK\x03\x04\x14\x00\x06\x00rest"))
    assert "ZIP" in message
    assert "CSV" in message


def test_parquet_named_csv(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    pq.write_table(pa.table({"id": [1]}), path)
    message = read_error(path)
    assert "Parquet" in message
    assert "--format parquet" in message


@pytest.mark.parametrize(("delimiter", "shown"), [(";", "';'"), ("\t", "'\\t'"), ("|", "'|'")])
def test_wrong_delimiter_is_named_with_the_fix(tmp_path: Path, delimiter: str, shown: str) -> None:
    path = write(tmp_path / "w.csv", f"id{delimiter}name{delimiter}x\n1{delimiter}2{delimiter}3\n")
    message = read_error(path)
    assert f"looks {shown}-delimited" in message
    assert f"pass --delimiter {shown}" in message
    assert "expected ','-delimited" in message


def test_explicit_delimiter_that_is_wrong(tmp_path: Path) -> None:
    message = read_error(write(tmp_path / "w.csv", "id,name\n1,2\n"), delimiter=";")
    assert "looks ','-delimited" in message
    assert "pass --delimiter ','" in message


def test_duplicate_header_names(tmp_path: Path) -> None:
    message = read_error(write(tmp_path / "d.csv", "id,name,id\n1,2,3\n"))
    assert "'id' twice" in message
    assert "columns 1 and 3" in message


def test_unnamed_column_with_values(tmp_path: Path) -> None:
    message = read_error(write(tmp_path / "u.csv", "id,,name\n1,x,Ann\n"))
    assert "column 2 has no name" in message


def test_truncated_csv_last_row(tmp_path: Path) -> None:
    message = read_error(write(tmp_path / "t.csv", "id,name,amount\n1,Ann,10\n2,Bo"))
    assert "truncated" in message
    assert "3 fields" in message
    assert "1 field" in message or "2 field" in message
    assert "no final newline" in message


def test_truncated_csv_last_row_after_a_quoted_newline(tmp_path: Path) -> None:
    content = 'id,text,amount\n1,"two\nlines",10\n2,"also\ntwo lines"'
    message = read_error(write(tmp_path / "t.csv", content))
    assert "truncated" in message
    assert "2 field(s)" in message


def test_complete_last_row_without_newline_is_fine(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", 'id,text\n1,"a\nb"\n2,"c\nd"')
    assert list(read_records(path)["text"]) == ["a\nb", "c\nd"]


def test_unterminated_quote(tmp_path: Path) -> None:
    message = read_error(write(tmp_path / "q.csv", 'id,text\n1,"fine"\n2,"never closed\n3,x\n'))
    assert "never closed" in message
    assert "truncated" in message
    assert '""' in message


def test_truncated_gzip(tmp_path: Path) -> None:
    payload = gzip.compress("".join(f"{i},name {i}\n" for i in range(5000)).encode())
    message = read_error(write(tmp_path / "t.csv.gz", payload[: len(payload) // 2]))
    assert "gzip" in message
    assert "truncated" in message


def test_row_with_too_many_fields(tmp_path: Path) -> None:
    message = read_error(write(tmp_path / "m.csv", "id,name\n1,Ann\n2,Smith, Bob\n"))
    assert "line 3" in message
    assert "quote values" in message


def test_first_row_with_too_many_fields(tmp_path: Path) -> None:
    message = read_error(write(tmp_path / "m.csv", "id,name\n1,Smith, Bob\n"))
    assert "more fields than the header" in message


def test_json_handed_in_as_csv(tmp_path: Path) -> None:
    message = read_error(write(tmp_path / "j.csv", '{"id": 1}\n'))
    assert "found JSON" in message
    assert "--format jsonl" in message


def test_jsonl_bad_line_in_the_middle_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "b.jsonl", '{"id": 1}\n{"id": 2,}\n{"id": 3}\n')
    message = read_error(path)
    assert "line 2" in message
    assert "fix or remove line 2" in message
    assert "truncated" not in message


def test_jsonl_truncated_last_line(tmp_path: Path) -> None:
    message = read_error(write(tmp_path / "t.jsonl", '{"id": 1}\n{"id": 2}\n{"id": 3, "te'))
    assert "line 3" in message
    assert "truncated" in message


def test_jsonl_line_that_is_not_an_object(tmp_path: Path) -> None:
    message = read_error(write(tmp_path / "n.jsonl", '{"id": 1}\n"just text"\n'))
    assert "JSON string on line 2" in message


def test_csv_handed_in_as_jsonl(tmp_path: Path) -> None:
    message = read_error(write(tmp_path / "c.jsonl", "id,name\n1,Ann\n"))
    assert "looks like CSV" in message
    assert "--format csv" in message


def test_truncated_json_document(tmp_path: Path) -> None:
    message = read_error(write(tmp_path / "t.json", '{"tickets": [{"id": 1}, {"id": 2'))
    assert "truncated" in message


def test_json_object_without_records(tmp_path: Path) -> None:
    message = read_error(write(tmp_path / "o.json", '{"error": "Unauthorized", "status": 401}'))
    assert '"tickets" or "records"' in message
    assert "error, status" in message


def test_truncated_parquet(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"id": list(range(100))}), path)
    raw = path.read_bytes()
    message = read_error(write(path, raw[: len(raw) // 2]))
    assert "truncated" in message


def test_corrupt_parquet_footer(tmp_path: Path) -> None:
    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"id": list(range(100))}), path)
    raw = path.read_bytes()
    message = read_error(write(path, raw[:64] + raw[-8:]))
    assert "pyarrow cannot open" in message


def test_text_named_parquet(tmp_path: Path) -> None:
    message = read_error(write(tmp_path / "p.parquet", "id,name\n1,Ann\n"))
    assert "PAR1" in message
    assert "--format csv" in message


def test_bad_format_and_delimiter_arguments(tmp_path: Path) -> None:
    path = write(tmp_path / "i.csv", "id\n1\n")
    with pytest.raises(ConfigError, match="unknown format 'xls'"):
        read_records(path, fmt="xls")
    with pytest.raises(ConfigError, match="single character"):
        read_records(path, delimiter=";;")


def test_file_format_error_is_a_contract_error(tmp_path: Path) -> None:
    with pytest.raises(ContractError):
        read_records(tmp_path / "missing.csv")
    with pytest.raises(ValueError):
        read_records(tmp_path / "missing.csv")
