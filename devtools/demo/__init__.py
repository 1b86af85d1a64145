"""Demo data: a realistic year for trying the tracker (year) and bulk data for benchmarks (bulk)."""
