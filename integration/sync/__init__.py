"""The sync engine: plain functions keyed by connection id (see engine, flush, reevaluate)."""
