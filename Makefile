# `make run`: set everything up and run the default study; `make test`: set up and test.
# Both work on a fresh Debian machine as root (the Debian data package needs root).
VENV ?= .venv
PY := $(VENV)/bin/python
SNAKEMAKE := $(VENV)/bin/snakemake
STAMP := $(VENV)/.installed
CONFIG ?= config.yaml

.PHONY: run test setup data lint clean

setup: $(STAMP) data

$(STAMP): envs/requirements.txt envs/requirements-nodeps.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r envs/requirements.txt
	$(PY) -m pip install --quiet --no-deps -r envs/requirements-nodeps.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

# The complete Fashion-MNIST from Debian; skipped where apt-get or root is not available
# (the data rule then tries the other sources and says which one it used).
data:
	@if [ ! -d /usr/share/datasets/fashion-mnist ] && command -v apt-get >/dev/null \
	    && [ "$$(id -u)" = 0 ]; then \
	  apt-get -o DPkg::Lock::Timeout=600 update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
	    dataset-fashion-mnist; \
	fi

# Local runs skip SLURM's `scontrol` (see profiles/default/bin/scontrol).
LOCAL := PATH="$(CURDIR)/profiles/default/bin:$$PATH"

run: setup
	$(LOCAL) $(SNAKEMAKE) --profile profiles/default --configfile $(CONFIG)
	$(LOCAL) $(SNAKEMAKE) --profile profiles/default --configfile $(CONFIG) --report results/report.html
	@echo "Report: $(CURDIR)/results/report.html"
	@awk '/^The answer in brief/{on=1} /^Verdicts on/{on=0} on' results/report/summary.rst

test: setup
	$(PY) -m pytest -ra --durations=25 tests

lint: setup
	$(VENV)/bin/ruff check src workflow_scripts tests benchmarks
	$(VENV)/bin/snakefmt --check Snakefile rules
	$(SNAKEMAKE) --lint --configfile $(CONFIG)

clean:
	rm -rf results logs .snakemake
