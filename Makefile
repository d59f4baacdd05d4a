# Refinery. `make demo` starts it with demo data; `make test` runs the tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Tests run against the real PostgreSQL and Redis (127.0.0.1 by default; override the URLs).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/refinery
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# The suite runs over this many processes (pytest-xdist): each has its own test database
# (pytest-django) and Redis database (config/settings.py), so they share nothing.
TEST_WORKERS ?= 2

.PHONY: install lock browser mail-servers demo test test-postgres test-dates fuzz lint bench loadtest clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# constraints.txt locks every package to the versions CI tested (make lock refreshes it).
install: $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'

lock:
	rm -rf var/lock-venv && $(PY) -m venv var/lock-venv
	var/lock-venv/bin/pip install --quiet --upgrade pip && var/lock-venv/bin/pip install --quiet '.[dev,load]'
	{ sed -n '1,3p' constraints.txt; var/lock-venv/bin/pip freeze --exclude refinery; } > constraints.txt.new
	mv constraints.txt.new constraints.txt && rm -rf var/lock-venv

# The browser tests drive Debian's Chromium through Playwright (no browser download).
browser:
	@test -x /usr/bin/chromium || { echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The email tests talk to real mail servers on 127.0.0.1 (bin/mail-servers: Dovecot for IMAP 10143,
# IMAPS 10993 and LMTP 10024, aiosmtpd for SMTP 10025 and SMTPS 10465); started once, left running.
mail-servers: install
	@test -x /usr/lib/dovecot/imap -a -x /usr/lib/dovecot/lmtp || { echo "Installing Debian's dovecot for the email tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd dovecot-lmtpd >/dev/null; }
	./bin/mail-servers

demo: install
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py seed_demo
	./bin/run-embedded

# Everything CI runs: the suite on PostgreSQL and Redis (the crawl included), the crawl again on
# SQLite, the API fuzz for every role, and the fault tests.
test: test-postgres test-sqlite fuzz faults

test-postgres: install browser mail-servers
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The embedded mode serves every page too: the crawl (tests/test_crawl.py: every demo user opens
# every page they can reach) and the search's fallback (tests/search/test_embedded.py) on a SQLite test
# database with the in-memory cache, as `make demo` runs.
.PHONY: test-sqlite
test-sqlite: install
	DATABASE_URL=sqlite:///$(CURDIR)/var/test.sqlite3 REDIS_URL= $(BIN)/pytest -m crawl tests/test_crawl.py tests/search/test_embedded.py $(PYTEST_ARGS)

# Every test passes on any date: the whole suite again with the clock a year ahead, then a year back
# (tests/clock_shift.py; PostgreSQL, Redis and the browser keep the real date).
test-dates: install browser mail-servers
	REFINERY_TEST_CLOCK_SHIFT=+365d DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest $(PYTEST_ARGS)
	REFINERY_TEST_CLOCK_SHIFT=-365d DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest $(PYTEST_ARGS)

# The API keeps its contract (fuzz/): schemathesis sends generated requests, as a user of each role,
# to every operation of /api/schema/ in-process, on the demo data in a PostgreSQL test database:
# no server error, only documented status codes and bodies. FUZZ_EXAMPLES / FUZZ_NEGATIVE_EXAMPLES
# set the valid / invalid requests per operation and role.
fuzz: install mail-servers
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest fuzz $(PYTEST_ARGS)

# Fault tests (tests/faults): each starts its own redis-server, Celery worker or gunicorn on a
# free port of 127.0.0.1 and kills or starves it mid-work. About two minutes; needs redis-server.
.PHONY: faults
faults: install mail-servers
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest -m faults tests/faults $(PYTEST_ARGS)

# mypy (configured in pyproject.toml) loads the settings for its Django plugin, as makemigrations does.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	DEBUG=1 $(BIN)/mypy

bench: install mail-servers
	@command -v wrk >/dev/null || { echo "Installing Debian's wrk for the capture benchmark"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The mixed load of a sales floor (loadtest/run.py; not part of `make test`): its own PostgreSQL
# cluster with pg_stat_statements under var/loadtest/, the million-lead data set built once into
# a template database, gunicorn, a Celery worker and beat, and Locust stepping the number of reps.
# Writes bench/results/loadtest.md. LOADTEST_ARGS: e.g. --quick, --steps 500,1000, --modes pool,persistent.
# First the locustfile's check (tests/loadtest, -m loadtest: every action once on the demo data).
loadtest: install mail-servers
	$(BIN)/pip install --quiet -c constraints.txt -e '.[load]'
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest -m loadtest tests/loadtest $(PYTEST_ARGS)
	$(BIN)/python loadtest/run.py $(LOADTEST_ARGS)

clean:
	rm -rf var
