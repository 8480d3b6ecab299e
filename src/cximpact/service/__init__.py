"""The HTTP service: API with tokens and roles, live ingestion, and the dashboard.

``create_app`` builds the FastAPI application; ``cximpact serve`` runs it under uvicorn,
``cximpact tokens`` manages API tokens and ``cximpact consume`` reads interactions from NATS
JetStream. See ``docs/service.md``.
"""

from __future__ import annotations

__all__: list[str] = []
