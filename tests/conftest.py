import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from dashboard.access import DEVELOPMENT_VARIABLE
from dashboard.database import SAMPLE_DATA_DIR, open_database

# The tests drive the app in development mode ("View as" a role), as `make run` does, by asking for it;
# the servers they start inherit it. The sign-in tests take it away where they test without it.
os.environ[DEVELOPMENT_VARIABLE] = "1"


@pytest.fixture(scope="session", autouse=True)
def audit_trail(tmp_path_factory) -> Path:
    """Every test session writes its audit trail to a file of its own, never the project's `logs/` (the
    servers the browser tests start inherit the variable)."""
    path = tmp_path_factory.mktemp("audit") / "audit.jsonl"
    os.environ["PRISON_DASHBOARD_AUDIT"] = str(path)
    return path


@pytest.fixture(scope="session", autouse=True)
def extracts_cache(tmp_path_factory) -> Path:
    """The validated-extracts cache of this test session, in a folder of its own (never the project's)."""
    folder = tmp_path_factory.mktemp("cache")
    os.environ["PRISON_DASHBOARD_CACHE"] = str(folder)
    return folder


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLE_DATA_DIR


@pytest.fixture(scope="session")
def sample_db(sample_dir):
    return open_database(sample_dir)


@pytest.fixture(scope="session")
def raw(sample_dir):
    """Read a sample table with pandas, independently of the loader."""
    cache: dict[str, pd.DataFrame] = {}

    def read(table: str) -> pd.DataFrame:
        if table not in cache:
            cache[table] = pd.read_parquet(sample_dir / f"{table}.parquet")
        return cache[table].copy()

    return read


@pytest.fixture
def sample_copy(tmp_path, sample_dir) -> Path:
    """A writable copy of the sample, to corrupt one extract at a time."""
    target = tmp_path / "extracts"
    shutil.copytree(sample_dir, target)
    return target
