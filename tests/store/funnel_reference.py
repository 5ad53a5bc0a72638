"""The funnel rules worked out in Python, the reference the SQL funnels are held to."""
from __future__ import annotations

from collections import Counter
from datetime import datetime


def count_into_funnels(firsts: dict[str, datetime], keys: list[str], reached: Counter,
                       entered: Counter, strict: Counter) -> None:
    """Add one journey, given as its first entry into each stage, to the three funnels: every stage
    up to the furthest it reached, the stages it entered, and the stages it went through in map
    order without entering one before the stage ahead of it."""
    if not firsts:
        return
    furthest = max(keys.index(s) for s in firsts)
    for i, key in enumerate(keys):
        reached[key] += i <= furthest
        entered[key] += key in firsts
    for i, key in enumerate(keys):
        if key not in firsts or (i and firsts[key] < firsts[keys[i - 1]]):
            break
        strict[key] += 1
