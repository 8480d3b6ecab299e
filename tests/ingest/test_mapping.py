"""Tests of column mappings: loading, validation errors, applying, built-in vendor mappings."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

from cximpact.errors import ConfigError, ContractError
from cximpact.ingest.contracts import CONTRACTS
from cximpact.ingest.mapping import (
    TARGET_FIELDS,
    TEXT_JOINER,
    ColumnMapping,
    apply_mapping,
    builtin_mappings,
    load_mapping,
)
from cximpact.ingest.readers import read_records

FIXTURES = Path(__file__).parent / "fixtures"


def frame(data: dict[str, list[str]]) -> pd.DataFrame:
    """A text frame indexed like read_records' output (1-based ``row``)."""
    n = len(next(iter(data.values())))
    return pd.DataFrame(data, index=pd.RangeIndex(1, n + 1, name="row"), dtype="str")


def write(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` and return it."""
    path.write_text(text, encoding="utf-8")
    return path


def config_error(tmp_path: Path, text: str, name: str = "m.yaml") -> str:
    """The message of the ConfigError loading a mapping file with ``text`` raises."""
    path = write(tmp_path / name, text)
    with pytest.raises(ConfigError) as info:
        load_mapping(path)
    message = str(info.value)
    assert str(path) in message
    return message


# --- loading ---------------------------------------------------------------------------------


def test_builtin_mappings_are_listed() -> None:
    assert builtin_mappings() == ["salesforce", "zendesk"]


@pytest.mark.parametrize("name", ["zendesk", "salesforce", "Zendesk", " SALESFORCE "])
def test_builtins_load_by_name(name: str) -> None:
    mapping = load_mapping(name)
    assert mapping.kind == "interactions"
    assert name.strip().lower() in mapping.origin
    assert set(mapping.columns) <= set(TARGET_FIELDS["interactions"])
    assert set(CONTRACTS["interactions"].required) <= set(mapping.columns)


@pytest.mark.parametrize("name", ["zendesk", "salesforce"])
def test_builtin_files_start_with_a_comment_naming_the_documented_fields(name: str) -> None:
    folder = resources.files("cximpact").joinpath("data", "mappings")
    text = folder.joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    assert text.startswith("#")
    header = text.split("kind:", 1)[0]
    for source in load_mapping(name).source_columns():
        assert source in header, source


def test_load_yaml_file(tmp_path: Path) -> None:
    path = write(
        tmp_path / "crm.yaml",
        "kind: customers\n"
        "description: CRM export\n"
        "delimiter: ';'\n"
        "columns:\n  id: CustomerNo\n  start_date: Since\n"
        "constants:\n  segment: smb\n",
    )
    mapping = load_mapping(path)
    assert mapping.kind == "customers"
    assert mapping.columns == {"id": "CustomerNo", "start_date": "Since"}
    assert mapping.constants == {"segment": "smb"}
    assert mapping.delimiter == ";"
    assert mapping.description == "CRM export"
    assert str(path) in mapping.origin
    assert load_mapping(str(path)) == mapping


def test_load_json_file(tmp_path: Path) -> None:
    document = {
        "kind": "transactions",
        "columns": {"id": "txn", "customer_id": "cust", "timestamp": "ts", "amount": "eur"},
        "delimiter": "\\t",
    }
    mapping = load_mapping(write(tmp_path / "t.json", json.dumps(document)))
    assert mapping.columns["amount"] == "eur"
    assert mapping.delimiter == "\t"


def test_yaml_scalars_stay_text(tmp_path: Path) -> None:
    path = write(
        tmp_path / "m.yaml",
        "kind: interactions\n"
        "values:\n  resolved: {yes: true, no: false, 1: true, 0: false, Y: on}\n"
        "constants:\n  handling_cost: 4.50\n",
    )
    mapping = load_mapping(path)
    assert mapping.values["resolved"] == {
        "yes": "true",
        "no": "false",
        "1": "true",
        "0": "false",
        "Y": "on",
    }
    assert mapping.constants == {"handling_cost": "4.50"}


def test_unknown_name_lists_the_builtins() -> None:
    with pytest.raises(ConfigError) as info:
        load_mapping("freshdesk")
    message = str(info.value)
    assert "'freshdesk'" in message
    assert "salesforce, zendesk" in message
    assert ".yaml" in message


def test_missing_mapping_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not found.*salesforce, zendesk"):
        load_mapping(tmp_path / "nope.yaml")


def test_unknown_key(tmp_path: Path) -> None:
    message = config_error(tmp_path, "kind: interactions\ncolums:\n  id: Id\n")
    assert "unknown key 'colums'" in message
    assert "kind, columns, values, constants, delimiter, description" in message


def test_wrong_kind(tmp_path: Path) -> None:
    message = config_error(tmp_path, "kind: tickets\ncolumns:\n  id: Id\n")
    assert "kind must be one of" in message
    assert "interactions" in message
    assert "'tickets'" in message


def test_missing_kind(tmp_path: Path) -> None:
    assert "kind is required" in config_error(tmp_path, "columns:\n  id: Id\n")


def test_unknown_target_field(tmp_path: Path) -> None:
    message = config_error(tmp_path, "kind: interactions\ncolumns:\n  custmer_id: AccountId\n")
    assert "'custmer_id'" in message
    assert "customer_id, timestamp" in message


def test_field_both_mapped_and_constant(tmp_path: Path) -> None:
    text = "kind: interactions\ncolumns: {channel: Origin}\nconstants: {channel: phone}\n"
    assert "both in columns and constants" in config_error(tmp_path, text)


def test_empty_column_list(tmp_path: Path) -> None:
    message = config_error(tmp_path, "kind: interactions\ncolumns:\n  text: []\n")
    assert "non-empty list" in message


def test_conflicting_value_keys(tmp_path: Path) -> None:
    text = "kind: interactions\nvalues:\n  channel: {Phone: phone, ' phone': voice}\n"
    assert "match the same values" in config_error(tmp_path, text)


def test_delimiter_must_be_one_character(tmp_path: Path) -> None:
    text = "kind: interactions\ndelimiter: ';;'\n"
    assert "delimiter: must be one character" in config_error(tmp_path, text)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, "kind: interactions\ncolumns:\n  text: [subject\n")
    assert "not valid YAML at line" in message


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    message = config_error(tmp_path, "kind: interactions\ncolumns: {id: a}\ncolumns: {id: b}\n")
    assert "duplicate key 'columns'" in message


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, '{"kind": "interactions",\n "columns": {,}}', "m.json")
    assert "not valid JSON at line 2" in message


@pytest.mark.parametrize(("text", "found"), [("", "an empty file"), ("- a\n- b\n", "a list")])
def test_mapping_file_that_is_not_a_mapping(tmp_path: Path, text: str, found: str) -> None:
    message = config_error(tmp_path, text)
    assert found in message
    assert "kind: interactions" in message


# --- applying --------------------------------------------------------------------------------


def test_rename_keep_index_and_contract_order() -> None:
    mapping = ColumnMapping(
        kind="transactions",
        columns={"amount": "Betrag", "id": "Nr", "customer_id": "Kunde", "timestamp": "Zeit"},
    )
    source = frame(
        {"Zeit": ["2024-01-01"], "Nr": ["t1"], "Kunde": ["c1"], "Betrag": ["9.90"], "x": ["?"]}
    )
    source.index = pd.RangeIndex(7, 8, name="row")
    out = apply_mapping(source, mapping)
    assert list(out.columns) == ["id", "customer_id", "timestamp", "amount"]
    assert out.index.equals(source.index)
    assert out.loc[7].to_dict() == {
        "id": "t1",
        "customer_id": "c1",
        "timestamp": "2024-01-01",
        "amount": "9.90",
    }


def test_identity_columns_pass_through_and_others_are_dropped() -> None:
    mapping = ColumnMapping(kind="outcomes", columns={"customer_id": "cust"})
    out = apply_mapping(frame({"cust": ["c1"], "churn_date": ["2024-05-01"], "x": ["y"]}), mapping)
    assert list(out.columns) == ["customer_id", "churn_date"]
    assert out.loc[1, "churn_date"] == "2024-05-01"


def test_mapped_column_wins_over_a_same_named_source_column() -> None:
    mapping = ColumnMapping(kind="finance", columns={"ltv": "ltv_eur"})
    out = apply_mapping(frame({"customer_id": ["c"], "ltv": ["1"], "ltv_eur": ["2"]}), mapping)
    assert out.loc[1, "ltv"] == "2"


def test_list_of_columns_is_joined_skipping_empty_parts() -> None:
    mapping = ColumnMapping(kind="interactions", columns={"text": ["subject", "body", "notes"]})
    source = frame(
        {
            "subject": ["Refund", "", " ", "Hi"],
            "body": ["Please refund", "only body", "", ""],
            "notes": ["", "", "", "note"],
        }
    )
    out = apply_mapping(source, mapping)
    assert list(out["text"]) == [
        f"Refund{TEXT_JOINER}Please refund",
        "only body",
        "",
        f"Hi{TEXT_JOINER}note",
    ]


def test_value_map_with_default() -> None:
    mapping = ColumnMapping(
        kind="interactions",
        columns={"resolved": "status", "channel": "Origin"},
        values={
            "resolved": {"solved": "true", "closed": "true", "*": "false"},
            "channel": {"Phone": "phone", "E-mail": "email"},
        },
    )
    source = frame(
        {
            "status": ["solved", "Closed ", "open", "", "pending"],
            "Origin": ["Phone", "e-mail", "Fax", "", "PHONE"],
        }
    )
    out = apply_mapping(source, mapping)
    assert list(out["resolved"]) == ["true", "true", "false", "", "false"]
    assert list(out["channel"]) == ["phone", "email", "Fax", "", "phone"]


def test_value_map_for_empty_values_needs_an_explicit_key() -> None:
    mapping = ColumnMapping(kind="interactions", values={"channel": {"": "unknown", "*": "other"}})
    out = apply_mapping(frame({"channel": ["", "x"]}), mapping)
    assert list(out["channel"]) == ["unknown", "other"]


def test_constants_fill_every_row() -> None:
    mapping = ColumnMapping(
        kind="interactions", columns={"id": "Id"}, constants={"channel": "phone"}
    )
    out = apply_mapping(frame({"Id": ["1", "2"]}), mapping)
    assert list(out["channel"]) == ["phone", "phone"]
    assert list(out.columns) == ["id", "channel"]


def test_missing_source_columns_are_all_named_with_the_file_and_fix() -> None:
    mapping = load_mapping("salesforce")
    source = frame({"Id": ["1"], "accountid": ["a"], "Subject": ["s"]})
    with pytest.raises(ContractError) as info:
        apply_mapping(source, mapping, source="cases.csv")
    message = str(info.value)
    assert message.startswith("cases.csv:")
    assert "'AccountId' (for customer_id; did you mean 'accountid'?)" in message
    assert "'Description' (for text)" in message
    assert "'CreatedDate' (for timestamp)" in message
    assert "'Subject'" not in message
    assert "salesforce" in message
    assert "Columns found: Id, accountid, Subject" in message
    assert "add it to the mapping file with --map" in message


def test_missing_column_message_names_the_file_read_records_noted(tmp_path: Path) -> None:
    path = tmp_path / "tickets.csv"
    path.write_text("id,subject\n1,Hi\n", encoding="utf-8")
    with pytest.raises(ContractError, match=str(path)):
        apply_mapping(read_records(path), load_mapping("zendesk"))
    mapping = ColumnMapping(kind="interactions", columns={"text": "subject"})
    assert apply_mapping(read_records(path), mapping).attrs["source"] == str(path)


def test_apply_is_vectorised_over_many_rows() -> None:
    n = 200_000
    mapping = load_mapping("zendesk")
    source = frame(
        {
            "id": [str(i) for i in range(n)],
            "requester_id": ["u"] * n,
            "created_at": ["2024-01-01T00:00:00Z"] * n,
            "via.channel": ["voice", "web"] * (n // 2),
            "subject": ["s"] * n,
            "description": ["d"] * n,
            "assignee_id": [""] * n,
            "group_id": ["g"] * n,
            "status": ["solved", "open"] * (n // 2),
        }
    )
    out = apply_mapping(source, mapping)
    assert out["channel"].value_counts().to_dict() == {"phone": n // 2, "web": n // 2}
    assert (out["text"] == f"s{TEXT_JOINER}d").all()


# --- vendor samples --------------------------------------------------------------------------


def test_zendesk_json_export() -> None:
    path = FIXTURES / "zendesk_tickets.json"
    out = apply_mapping(read_records(path), load_mapping("zendesk"))
    assert list(out.columns) == [
        "id",
        "customer_id",
        "timestamp",
        "channel",
        "text",
        "agent",
        "queue",
        "resolved",
    ]
    assert list(out["id"]) == ["35436", "35437", "35438"]
    assert list(out["customer_id"]) == ["20978392", "20978400", "20978392"]
    assert list(out["channel"]) == ["web", "email", "phone"]
    assert list(out["resolved"]) == ["true", "false", "true"]
    assert list(out["agent"]) == ["235323", "", "235323"]
    assert out.loc[1, "text"] == (
        "Card declined at checkout\n\nMy card keeps getting declined although it works "
        "elsewhere.\nPlease help."
    )
    assert out.loc[2, "text"] == "How do I close my account?"
    assert out.loc[1, "timestamp"] == "2024-03-04T09:12:55Z"


def test_zendesk_jsonl_export() -> None:
    out = apply_mapping(read_records(FIXTURES / "zendesk_tickets.jsonl"), load_mapping("zendesk"))
    assert list(out["channel"]) == ["messaging", "chat"]
    assert list(out["resolved"]) == ["false", "false"]
    assert list(out["queue"]) == ["98738", ""]


def test_salesforce_json_export() -> None:
    path = FIXTURES / "salesforce_cases.json"
    out = apply_mapping(read_records(path), load_mapping("salesforce"))
    assert list(out["id"]) == ["5003000000D8cuIAAR", "5003000000D8cuJAAR", "5003000000D8cuKAAR"]
    assert list(out["customer_id"]) == [
        "0013000000AbCdEAAV",
        "0013000000AbCdFAAV",
        "0013000000AbCdEAAV",
    ]
    assert list(out["channel"]) == ["phone", "web", "other"]
    assert list(out["resolved"]) == ["true", "false", "false"]
    assert list(out["queue"]) == ["Problem", "Question", ""]
    assert list(out["text"]) == [
        "Charged twice\n\nCustomer reports a duplicate charge on the March invoice.",
        "How to export my data",
        "The app is slow since the last update.",
    ]
    assert out.loc[1, "timestamp"] == "2024-03-04T09:12:55.000+0000"


def test_salesforce_csv_export() -> None:
    out = apply_mapping(read_records(FIXTURES / "salesforce_cases.csv"), load_mapping("salesforce"))
    assert list(out["channel"]) == ["email", "phone"]
    assert list(out["resolved"]) == ["true", "false"]
    assert str(out.loc[1, "text"]).startswith(
        'Refund request\n\nCustomer asks for a refund, citing "'
    )
    assert out.loc[2, "text"] == "Password reset"
