# Two commands for a fresh machine: `make run` (demo on SQLite) and `make test` (the whole suite);
# `make test-fast` for the inner loop.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Only for the local demo and checks: production sets its own key and leaves debug off.
# DJANGO_DEV_TOOLS installs the devtools app (seed_demo, benchmark, loadtest); production has none.
DEV_ENV := DJANGO_DEBUG=1 DJANGO_DEV_TOOLS=1
CHECK_ENV := DJANGO_SECRET_KEY=make-check-only-not-a-real-secret-key-0123456789

.PHONY: setup lock audit run test test-fast lint checks pytest pytest-fast browser-deps bench bench-sqlite \
	bench-postgres loadtest redis clean

# The venv installs the locked versions, each checked against its hash (requirements/dev.txt,
# made by `make lock` from pyproject.toml), then the project itself without resolving anything
# again. XStatic-Bootstrap's sdist still imports pkg_resources when it builds, hence the build
# constraint on setuptools.
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	--no-emit-find-links
INSTALL := $(BIN)/python -m pip install --quiet --build-constraint .ci/build-constraints.txt

$(VENV)/.installed: pyproject.toml requirements/dev.txt .ci/build-constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(INSTALL) --require-hashes -r requirements/dev.txt
	$(INSTALL) --no-deps -e .
	touch $@

# Front-end files (the signature pad; axe-core for the browser tests) from the npm registry, at
# the versions package-lock.json pins with their integrity hashes; served as static files.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

setup: $(VENV)/.installed node_modules/.installed

# After changing the dependencies in pyproject.toml: pin them again, with hashes (the README,
# "Dependencies, and why"). `make lock UPGRADE=1` also moves every pin to the newest release.
lock:
	@test -x $(BIN)/pip-compile || { $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet pip-tools; }
	$(BIN)/pip-compile $(LOCK_FLAGS) $(if $(UPGRADE),--upgrade) --extra dev -o requirements/dev.txt pyproject.toml
	$(BIN)/pip-compile $(LOCK_FLAGS) $(if $(UPGRADE),--upgrade) --extra s3 -o requirements/production.txt pyproject.toml

# Known vulnerabilities in the locked versions (needs the vulnerability service, PyPI's, on the
# network; CI does not depend on it).
audit: setup
	$(BIN)/pip-audit --require-hashes --disable-pip -r requirements/production.txt
	$(BIN)/pip-audit --require-hashes --disable-pip -r requirements/dev.txt

run: setup
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEV_ENV) $(BIN)/python manage.py seed_demo
	$(DEV_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

checks: setup
	$(CHECK_ENV) $(BIN)/python manage.py check --fail-level WARNING
	$(CHECK_ENV) $(BIN)/python manage.py makemigrations --check --dry-run

pytest: setup browser-deps
	$(BIN)/pytest

test: lint checks pytest

# The inner loop: everything but the tests marked slow (large seeds, hypothesis exploration, the
# wheel) and the browser tests. `make test` still runs them all.
pytest-fast: setup
	$(BIN)/pytest -m "not slow and not browser"

test-fast: lint checks pytest-fast

# The benchmark (BENCHMARKS.md): production settings, collected static files, fresh databases,
# sessions on Redis as production runs them (README, "Deploying on PostgreSQL").
BENCH_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/clinic_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/1
# Seeding a million sessions runs statements longer than the pages' timeout: none for the bench.
BENCH_ENV := DJANGO_SECRET_KEY=bench-only-not-a-real-secret-key-0123456789abcdef \
	DJANGO_STATIC_ROOT=$(CURDIR)/staticfiles DJANGO_DEV_TOOLS=1 DJANGO_REDIS_URL=$(BENCH_REDIS_URL) \
	DJANGO_DB_STATEMENT_TIMEOUT=0
BENCH_ARGS ?=

bench: bench-sqlite bench-postgres

# Redis on 127.0.0.1:6379, started (keeping nothing on disk) when it does not answer.
redis:
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { command -v redis-server >/dev/null || \
		{ echo "Installing Debian's redis-server..."; apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }; \
		redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no; sleep 1; }

bench-sqlite: setup redis
	rm -f bench.sqlite3
	$(BENCH_ENV) $(BIN)/python manage.py collectstatic --noinput -v0
	$(BENCH_ENV) DATABASE_URL=sqlite:///$(CURDIR)/bench.sqlite3 $(BIN)/python manage.py migrate -v0
	$(BENCH_ENV) DATABASE_URL=sqlite:///$(CURDIR)/bench.sqlite3 $(BIN)/python manage.py \
		benchmark --clients 10000 --sessions 100000 $(BENCH_ARGS)

bench-postgres: setup redis
	$(BENCH_ENV) $(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python .ci/recreate-database.py $(BENCH_POSTGRES_URL)
	$(BENCH_ENV) DATABASE_URL=$(BENCH_POSTGRES_URL) $(BIN)/python manage.py migrate -v0
	$(BENCH_ENV) DATABASE_URL=$(BENCH_POSTGRES_URL) $(BIN)/python manage.py \
		benchmark --clients 50000 --sessions 1000000 $(BENCH_ARGS)

# The load test (see README): gunicorn with 2 workers and wrk on the loopback, against the data
# `make bench-postgres` left at BENCH_POSTGRES_URL (run that first). It logs sessions there.
# wrk is Debian's package, installed here when missing and we may (as root).
LOADTEST_ARGS ?=

loadtest: setup redis
	@command -v wrk >/dev/null || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null || \
		{ echo "Installing Debian's wrk for the load test..."; apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(BENCH_ENV) DATABASE_URL=$(BENCH_POSTGRES_URL) $(BIN)/python manage.py loadtest $(LOADTEST_ARGS)

browser-deps:
	@bash .ci/ensure-chromium

clean:
	rm -rf $(VENV) staticfiles bench.sqlite3
