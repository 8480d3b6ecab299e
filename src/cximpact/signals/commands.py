"""``cximpact topics ...`` commands: discover root-cause topics in unlabelled interactions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cximpact._cli import print_json
from cximpact.errors import ContractError

__all__ = ["discover_topics", "topics_app"]

topics_app = typer.Typer(help="Root-cause topics without labels (discovery).")


def discover_topics(
    data: Path,
    *,
    text_column: str = "text",
    time_column: str | None = "timestamp",
    n_topics: int | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Discover topics in a file of texts: names, top terms, examples, shares and growth.

    Parameters
    ----------
    data : pathlib.Path
        Interactions file (CSV, TSV, Parquet, JSON Lines, JSON).
    text_column : str, default "text"
        Column holding the text.
    time_column : str or None, default "timestamp"
        Column holding the time of each text, for new and growing topics; ignored when the
        file has no such column.
    n_topics : int, optional
        Number of topics (default: chosen by silhouette).
    seed : int, default 0
        Random seed (the result is deterministic given it).

    Returns
    -------
    dict
        ``topics`` (id, name, top_terms, examples, size, share, earlier_share, recent_share,
        growth, new, growing), ``n_texts``, ``unassigned_share``, ``split_time``,
        ``silhouette``.

    Raises
    ------
    ContractError
        The text column is missing, or too few texts.
    """
    from cximpact.ingest.readers import read_records
    from cximpact.signals.discovery import TopicDiscovery

    frame = read_records(data)
    if text_column not in frame.columns:
        shown = ", ".join(repr(str(c)) for c in list(frame.columns)[:12])
        raise ContractError(
            f"{data}: no column {text_column!r}; its columns are {shown}. "
            "Fix: pass --text-column naming the text column"
        )
    model = TopicDiscovery(n_topics=n_topics, seed=seed).fit(frame[text_column])
    times = frame[time_column] if time_column and time_column in frame.columns else None
    return model.report(times).to_dict()


@topics_app.command("discover")
def discover_command(
    data: Annotated[Path, typer.Option(help="Interactions file (CSV, Parquet, JSONL).")],
    text_column: Annotated[str, typer.Option(help="Text column.")] = "text",
    time_column: Annotated[
        str, typer.Option(help="Time column, for new and growing topics (skipped if absent).")
    ] = "timestamp",
    topics: Annotated[
        int | None,
        typer.Option("--topics", help="Number of topics (default: chosen by silhouette)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Cluster texts into topics; name them; show examples, shares, new and growing topics."""
    result = discover_topics(
        data, text_column=text_column, time_column=time_column, n_topics=topics, seed=seed
    )
    if as_json:
        print_json(result)
        return
    typer.echo(
        f"{result['n_texts']} texts, {len(result['topics'])} topics, "
        f"unassigned {result['unassigned_share']:.1%}"
        + (f", recent window from {result['split_time']}" if result["split_time"] else "")
    )
    for topic in result["topics"]:
        flag = " NEW" if topic["new"] else (" GROWING" if topic["growing"] else "")
        growth = f" x{topic['growth']:.2f}" if topic["growth"] is not None else ""
        typer.echo(f"\n[{topic['id']}] {topic['name']}  {topic['share']:.1%}{growth}{flag}")
        typer.echo("    terms: " + ", ".join(topic["top_terms"]))
        for example in topic["examples"]:
            typer.echo(f"    - {example[:100]}")
