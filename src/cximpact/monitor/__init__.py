"""Monitoring: spikes and change points per root cause, and new topics as candidate issues."""

from cximpact.monitor.detect import daily_series, detect, detect_changes, detect_spikes
from cximpact.monitor.topics import candidate_topics

__all__ = ["candidate_topics", "daily_series", "detect", "detect_changes", "detect_spikes"]
