"""``cximpact serve``, ``cximpact tokens`` and ``cximpact consume``: parse, call, print."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Annotated

import typer

from cximpact._cli import DbOption, print_json
from cximpact.settings import load_settings

__all__ = ["consume", "serve", "tokens_app"]

tokens_app = typer.Typer(help="Create, list and revoke API tokens (stored hashed).")
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def serve(
    db: DbOption = None,
    host: Annotated[
        str | None, typer.Option(help="Address [default: CXIMPACT_SERVICE_HOST]")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: CXIMPACT_SERVICE_PORT]")] = None,
    refit: Annotated[
        bool, typer.Option(help="Run the batch analysis at start when the store holds data.")
    ] = True,
    nats_url: Annotated[
        str | None, typer.Option("--nats", help="Also consume interactions from this NATS server.")
    ] = None,
    subject: Annotated[
        str, typer.Option(help="JetStream subject to consume.")
    ] = "cximpact.interactions",
    workers: Annotated[int, typer.Option(help="Consumers in the queue group.")] = 2,
) -> None:
    """Run the HTTP API and the dashboard (OpenAPI at /docs); one process writes the stores."""
    import uvicorn

    from cximpact.service.app import NatsSource, create_app

    settings = load_settings(db=db)
    source = NatsSource(nats_url, subject, workers=workers) if nats_url else None
    app = create_app(settings, refit=refit, nats_source=source, settle_interpreter=True)
    uvicorn.run(
        app,
        host=host or settings.service_host,
        port=port or settings.service_port,
        log_level="warning",
        access_log=False,
    )


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="Who holds the token (written to the audit log).")],
    role: Annotated[str, typer.Option(help="viewer, analyst, owner or admin.")],
    owner: Annotated[
        str | None, typer.Option(help="For --role owner: the case owner it acts for.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Issue a token; its secret is printed once and stored only as a hash."""
    from cximpact.service.auth import TokenStore

    with TokenStore(load_settings(db=db).state_url()) as store:
        store.upgrade()
        record, secret = store.create_token(name, role, owner=owner, actor="cli")
    if as_json:
        print_json(record.to_dict() | {"token": secret})
        return
    typer.echo(f"token {record.id} for {record.name} ({record.role}); shown once, keep it safe:")
    typer.echo(secret)


@tokens_app.command("list")
def tokens_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List tokens (id, name, role, prefix, created, revoked); never the secrets."""
    from cximpact.service.auth import TokenStore

    with TokenStore(load_settings(db=db).state_url()) as store:
        store.upgrade()
        records = [r.to_dict() for r in store.list_tokens()]
    if as_json:
        print_json(records)
        return
    for r in records:
        status = f"revoked {r['revoked_at']}" if r["revoked_at"] else "active"
        owner = f" owner={r['owner']}" if r["owner"] else ""
        typer.echo(f"{r['id']:>4}  {r['name']:<20} {r['role']:<8} {r['prefix']}…{owner}  {status}")


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(help="Token id (from cximpact tokens list).")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke a token (audited); a running server refuses it within two seconds."""
    from cximpact.service.auth import TokenStore

    with TokenStore(load_settings(db=db).state_url()) as store:
        store.upgrade()
        record = store.revoke_token(token_id, actor="cli")
    print_json(record.to_dict()) if as_json else typer.echo(
        f"token {record.id} ({record.name}) revoked"
    )


def consume(
    nats_url: Annotated[
        str, typer.Option("--nats", help="NATS server, e.g. nats://127.0.0.1:4222")
    ],
    subject: Annotated[str, typer.Option(help="JetStream subject the interactions arrive on.")],
    queue: Annotated[
        str, typer.Option(help="Queue group (and durable consumer name).")
    ] = "cximpact",
    workers: Annotated[int, typer.Option(help="Consumers this process runs in the group.")] = 2,
    refit: Annotated[bool, typer.Option(help="Run the batch analysis at start.")] = True,
    db: DbOption = None,
) -> None:
    """Consume interactions from NATS JetStream: redacted, scored, at least once, idempotent.

    This process is the analytics store's writer; to consume while `cximpact serve` runs,
    use `cximpact serve --nats URL --subject S` instead (DuckDB allows one writer).
    """
    from cximpact.service.auth import TokenStore
    from cximpact.service.consumer import consume as run_consumers
    from cximpact.service.live import Ingestor

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    settings = load_settings(db=db)
    tokens = TokenStore(settings.state_url())
    tokens.upgrade()
    ingestor = Ingestor(settings, tokens, tokens.record)
    ingestor.start(refit=refit)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_consumers(
            ingestor.submit, nats_url, subject, queue=queue, workers=workers, stop=stop
        )

    try:
        asyncio.run(main())
    finally:
        ingestor.stop()
        tokens.close()
