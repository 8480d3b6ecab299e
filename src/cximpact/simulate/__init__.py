"""Synthetic enterprises with planted root causes and known truth."""

from cximpact.simulate.enterprise import Enterprise, SimulationConfig, simulate, write_enterprise

__all__ = ["Enterprise", "SimulationConfig", "simulate", "write_enterprise"]
