"""actions stage: outbound actions for the customers of open cases, exactly once, with holdouts.

Policies (:mod:`.policies`) say who is eligible for which action through which channel;
targeting (:mod:`.targeting`) ranks by expected uplift within a budget; guardrails
(:mod:`.guardrails`) enforce consent, suppression, frequency caps, quiet hours and the holdout;
the outbox (:mod:`.store`) and worker (:mod:`.worker`) deliver through channels
(:mod:`.channels`); outcomes feed measurement (:mod:`.measurement`) and the uplift model
(:mod:`.uplift`). :mod:`.service` wires them to files and stores.
"""

# Submodules are imported where used, so `cximpact --help` does not load SQLAlchemy or pandas.
__all__ = [
    "channels",
    "guardrails",
    "measurement",
    "policies",
    "service",
    "store",
    "targeting",
    "uplift",
    "worker",
]
