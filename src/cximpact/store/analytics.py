"""The analytics store: one embedded DuckDB file holding facts, quarantine and derived scores.

DuckDB allows one writing process per file; this adapter is that writer. Batch writes run in
one transaction, so a failure leaves nothing half-written.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from cximpact.errors import NotFoundError, StoreError
from cximpact.ingest.contracts import CONTRACTS, Contract, FieldType
from cximpact.store._closing import Closing

__all__ = ["DERIVED_TABLES", "AnalyticsStore"]

_SQL_TYPES: dict[FieldType, str] = {
    "id": "VARCHAR",
    "str": "VARCHAR",
    "text": "VARCHAR",
    "datetime": "TIMESTAMP",
    "date": "DATE",
    "float": "DOUBLE",
    "int": "BIGINT",
    "bool": "BOOLEAN",
}
_QUARANTINE_DDL = """
CREATE TABLE IF NOT EXISTS quarantine (
    kind VARCHAR, source VARCHAR, file_sha256 VARCHAR, row_number BIGINT, rule VARCHAR,
    "column" VARCHAR, fix_hint VARCHAR, raw VARCHAR, quarantined_at TIMESTAMP
)"""
#: Tables rebuilt by every run of the flow (derived from the facts, never edited by hand).
DERIVED_TABLES = (
    "signals",
    "customer_values",
    "customer_risk",
    "issue_exposure",
    "customer_exposure",
)


def _ddl(contract: Contract) -> str:
    cols = ", ".join(f'"{f.name}" {_SQL_TYPES[f.type]}' for f in contract.fields)
    return (
        f"CREATE TABLE IF NOT EXISTS {contract.kind} ({cols}, "
        f"_source VARCHAR, _ingested_at TIMESTAMP)"
    )


def _parquet_files(directory: Path) -> str:
    """``read_parquet(...)`` over every Parquet file in ``directory``, quoted for SQL."""
    files = str(Path(directory) / "*.parquet").replace("'", "''")
    return f"read_parquet('{files}')"


class AnalyticsStore(Closing):
    """DuckDB file with one table per contract kind, ``quarantine`` and derived tables.

    Parameters
    ----------
    path
        DuckDB file; created with its tables when missing. ``":memory:"`` for tests.
    read_only
        Open without write access (other processes may then read while one writes).
    """

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        self.path = str(path)
        try:
            if read_only and not Path(self.path).exists():
                raise NotFoundError(
                    f"analytics store {self.path} does not exist; run `cximpact run` or "
                    "`cximpact demo` first, or pass --db"
                )
            self.con = duckdb.connect(self.path, read_only=read_only)
        except duckdb.Error as exc:
            raise StoreError(
                f"cannot open DuckDB file {self.path}: {exc}; another process may be writing "
                "it (DuckDB allows one writer), or the file is not a DuckDB database"
            ) from exc
        if not read_only:
            for contract in CONTRACTS.values():
                self._run(_ddl(contract))
                for f in contract.fields:  # files made before an optional field was added
                    self._run(
                        f'ALTER TABLE {contract.kind} ADD COLUMN IF NOT EXISTS "{f.name}" '
                        f"{_SQL_TYPES[f.type]}"
                    )
            self._run(_QUARANTINE_DDL)

    def close(self) -> None:
        self.con.close()

    def known_keys(self, kind: str) -> pd.Series:
        """Keys already stored for ``kind`` (customer ids for ``customers``)."""
        key = CONTRACTS[kind].key
        return self.con.execute(f'SELECT "{key}" FROM {kind}').df()[key]

    def write_batch(
        self,
        kind: str,
        accepted: pd.DataFrame,
        quarantined: pd.DataFrame,
        *,
        source: str,
        file_sha256: str,
    ) -> tuple[int, int, int]:
        """Upsert accepted rows and add new quarantine rows, in one transaction.

        Rows with a new key are inserted; a row whose key is stored with other values replaces
        it (a corrected export wins); identical rows are left alone. Quarantine rows already
        recorded (same kind, rule and raw row) are skipped. Writing the same batch twice
        changes nothing.

        Returns
        -------
        (inserted, updated, quarantine_inserted)
        """
        contract = CONTRACTS[kind]
        batch = accepted.assign(
            _source=source, _ingested_at=pd.Timestamp.now("UTC").tz_localize(None)
        )
        bad = quarantined.assign(
            kind=kind,
            source=source,
            file_sha256=file_sha256,
            quarantined_at=pd.Timestamp.now("UTC").tz_localize(None),
        )
        key = contract.key
        try:
            self.con.begin()
            before = self._count(kind)
            self.con.register("_batch", batch)
            cols = ", ".join(f'"{name}"' for name in contract.names)
            # stored rows are compared only where their key is in the batch: hashing every
            # column of the whole table made each incremental ingest O(table)
            changed = (
                f'SELECT "{key}" FROM (SELECT {cols} FROM _batch '
                f'WHERE "{key}" IN (SELECT "{key}" FROM {kind}) EXCEPT SELECT {cols} FROM {kind} '
                f'WHERE "{key}" IN (SELECT "{key}" FROM _batch))'
            )
            updated = self._scalar(f"SELECT count(*) FROM ({changed})")
            self._run(f'DELETE FROM {kind} WHERE "{key}" IN ({changed})')
            self._run(
                f"INSERT INTO {kind} BY NAME SELECT * FROM _batch "
                f'WHERE "{key}" NOT IN (SELECT "{key}" FROM {kind})'
            )
            inserted = self._count(kind) - before
            q_before = self._count("quarantine")
            self.con.register("_bad", bad)
            self._run(
                "INSERT INTO quarantine BY NAME SELECT * FROM _bad b WHERE NOT EXISTS ("
                "SELECT 1 FROM quarantine q WHERE q.kind = b.kind AND q.rule = b.rule "
                "AND q.raw = b.raw)"
            )
            q_inserted = self._count("quarantine") - q_before
            self.con.commit()
        except duckdb.Error as exc:
            self.con.rollback()
            raise StoreError(
                f"writing {kind} to {self.path} failed, nothing was written: {exc}"
            ) from exc
        finally:
            self.con.unregister("_batch")
            self.con.unregister("_bad")
        return inserted, updated, q_inserted

    def _run(self, sql: str) -> None:
        """Execute a statement and drain its result (DuckDB wants results consumed)."""
        self.con.execute(sql).fetchall()

    def _scalar(self, sql: str) -> int:
        rows = self.con.execute(sql).fetchall()
        return int(rows[0][0]) if rows else 0

    def _count(self, table: str) -> int:
        return self._scalar(f"SELECT count(*) FROM {table}")

    def count(self, table: str) -> int:
        """Number of rows in ``table``."""
        return self._count(table)

    def read(self, table: str) -> pd.DataFrame:
        """The whole of ``table`` as a DataFrame (bookkeeping columns dropped)."""
        if not self.has_table(table):
            raise NotFoundError(f"table {table!r} is not in {self.path}; run `cximpact run` first")
        frame = self.con.execute(f"SELECT * FROM {table}").df()
        return frame.drop(columns=["_source", "_ingested_at"], errors="ignore")

    def has_table(self, table: str) -> bool:
        rows = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
        ).fetchall()
        return bool(rows and rows[0][0])

    def replace_table(self, table: str, frame: pd.DataFrame) -> None:
        """Replace a derived table with ``frame`` atomically."""
        try:
            self.con.register("_frame", frame)
            self._run(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _frame")
        except duckdb.Error as exc:
            raise StoreError(f"writing table {table} to {self.path} failed: {exc}") from exc
        finally:
            self.con.unregister("_frame")

    def replace_table_from_parquet(self, table: str, directory: Path, columns: list[str]) -> None:
        """Replace a derived table with the Parquet files in ``directory`` (Spark's output).

        DuckDB reads them itself, so the rows never pass through pandas on the driver.
        """
        cols = ", ".join(f'"{c}"' for c in columns)
        try:
            self._run(
                f"CREATE OR REPLACE TABLE {table} AS SELECT {cols} FROM {_parquet_files(directory)}"
            )
        except duckdb.Error as exc:
            raise StoreError(
                f"loading table {table} from {directory} into {self.path} failed: {exc}; "
                "check that the directory holds the Parquet files the Spark engine wrote"
            ) from exc

    def upsert_from_parquet(self, kind: str, directory: Path, source: str) -> None:
        """Store a contract kind's rows from Parquet files (Spark's accepted rows), by id.

        Rows whose id is already stored are replaced (a corrected export wins, as in
        :meth:`write_batch`); DuckDB reads the files itself, in one transaction.
        """
        contract = CONTRACTS[kind]
        files = _parquet_files(directory)
        key = f'"{contract.key}"'
        literal = source.replace("'", "''")
        fix = "check that the directory holds the Parquet files the Spark engine wrote"
        try:
            present = set(self.con.execute(f"DESCRIBE SELECT * FROM {files}").df()["column_name"])
        except duckdb.Error as exc:
            raise StoreError(f"reading Parquet files in {directory} failed: {exc}; {fix}") from exc
        cols = ", ".join(f'"{c}"' for c in contract.names if c in present)
        try:
            self.con.begin()
            self._run(f"DELETE FROM {kind} WHERE {key} IN (SELECT {key} FROM {files})")
            self._run(
                f"INSERT INTO {kind} ({cols}, _source, _ingested_at) "
                f"SELECT {cols}, '{literal}', now() FROM {files}"
            )
            self.con.commit()
        except duckdb.Error as exc:
            self.con.rollback()
            raise StoreError(
                f"storing {kind} from {directory} into {self.path} failed, nothing was written: "
                f"{exc}; {fix}"
            ) from exc

    def read_columns(self, table: str, columns: list[str]) -> pd.DataFrame:
        """Some columns of ``table`` as a DataFrame (a narrow read of a large table)."""
        if not self.has_table(table):
            raise NotFoundError(f"table {table!r} is not in {self.path}; run `cximpact run` first")
        cols = ", ".join(f'"{c}"' for c in columns)
        return self.con.execute(f"SELECT {cols} FROM {table}").df()
