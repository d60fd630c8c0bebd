# The front door: `make run` serves the app on the bundled sample, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed-requirements

.PHONY: run test lint browser sample bench sessions import clean

$(INSTALLED): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	cp requirements.txt $(INSTALLED)

# Development mode (no sign-in, "View as" any role) only because this asks for it: without sign-in
# configured and without PRISON_DASHBOARD_DEVELOPMENT=1 the app shows no page (dashboard/access.py).
run: $(INSTALLED) browser
	PRISON_DASHBOARD_DEVELOPMENT=1 $(BIN)/streamlit run app.py --server.headless true

# Debian's Chromium drives the browser tests and draws the PDF report's charts (Kaleido); Pango lays
# out the PDF (WeasyPrint). A browser download is not possible here.
CHROMIUM := $(shell command -v chromium 2>/dev/null)
# Debian's nginx balances two replicas in the replicas' end-to-end test (deploy/nginx/).
NGINX := $(shell command -v nginx 2>/dev/null || ls /usr/sbin/nginx 2>/dev/null)

browser:
ifeq ($(CHROMIUM),)
	apt-get update -qq && apt-get install -y -qq chromium libpango-1.0-0 libpangoft2-1.0-0 >/dev/null
endif
ifeq ($(NGINX),)
	apt-get update -qq && apt-get install -y -qq nginx-light >/dev/null
endif

# The sign-in browser tests run a real OpenID Connect provider (panva's oidc-provider, from npm).
OIDC := tests/e2e/oidc
$(OIDC)/node_modules/.installed: $(OIDC)/package-lock.json
	cd $(OIDC) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: $(INSTALLED) browser lint $(OIDC)/node_modules/.installed
	$(BIN)/python -m pytest

# Python: pyflakes errors, likely bugs, import order and modern syntax (ruff.toml). SQL in queries/:
# sqlfluff in DuckDB's dialect with the rules in .sqlfluff.
lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/sqlfluff lint queries/ --nocolor

# Regenerate the bundled synthetic sample (deterministic: the same seed gives the same files).
sample: $(INSTALLED)
	$(BIN)/python -m dashboard.sample_data --out data/sample

# Import spreadsheets into an extracts folder: make import DATA=data/live FILES="registers.xlsx survey.csv"
# (add ARGS="--dry-run", "--replace", "--accept-rejections" or "--rollback"; see dashboard/ingest.py).
import: $(INSTALLED)
	$(if $(DATA),,$(error name the extracts folder: make import DATA=folder FILES="..."))
	$(BIN)/python -m dashboard.ingest --data "$(DATA)" $(ARGS) $(FILES)

# Generate sample, one-tenth and national-scale extracts in a temporary folder and measure
# loading, queries and page renders; writes docs/benchmarks.md (takes several minutes).
bench: $(INSTALLED)
	$(BIN)/python -m bench.run

# Size a replica through the balancer that ships: two replicas (deploy/serve.sh, a core each) behind
# Debian's nginx (deploy/nginx/), national-scale extracts, browserless WebSocket readers that keep the
# balancer's cookie; readers per replica within the page target (docs/scaling.md; about fifteen minutes).
sessions: $(INSTALLED) browser
	$(BIN)/python -m bench.sessions --scale national --replicas 2 --sessions 4,8,16,24,32

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis artifacts
