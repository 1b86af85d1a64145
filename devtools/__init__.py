"""Developer tooling: demo data, `seed_demo`, `benchmark` and `loadtest`.

Installed only when DJANGO_DEV_TOOLS is on (`make run`, `make bench`, `make loadtest` and the
tests turn it on) and left out of the wheel, so a production install has none of it. It imports
the clinic's apps; they never import it.
"""
