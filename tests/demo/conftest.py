"""Small demo data sets, built once per test session (150 accounts x 6 months)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from tenure.demo import DemoSummary, build_demo, load_ground_truth
from tenure.events.store import EventStore
from tenure.kit.runtime import Runtime, open_runtime

AS_OF = dt.date(2026, 6, 30)
SMALL = {"accounts": 150, "months": 6, "seed": 11, "as_of": AS_OF}


@dataclass
class Demo:
    runtime: Runtime
    summary: DemoSummary
    truth: dict[str, Any]

    @property
    def home(self) -> Path:
        return self.runtime.settings.home

    def frame(self, sql: str) -> pd.DataFrame:
        with self.runtime.engine.connect() as conn:
            return pd.read_sql(sa.text(sql), conn)

    def events(self) -> pd.DataFrame:
        columns = ["message_id", "account_id", "contact_id", "event", "timestamp"]
        table = EventStore(self.runtime.settings.events_path).dataset().to_table(columns=columns)
        return table.to_pandas()


def build(home: Path, **kw: Any) -> Demo:
    runtime = open_runtime(home)
    summary = build_demo(runtime, **{**SMALL, "locale": "zh", **kw})
    return Demo(runtime, summary, load_ground_truth(home))


@pytest.fixture(scope="session")
def demo_zh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    demo = build(tmp_path_factory.mktemp("demo_zh") / "home")
    yield demo
    demo.runtime.close()


@pytest.fixture(scope="session")
def demo_en(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    demo = build(tmp_path_factory.mktemp("demo_en") / "home", locale="en", seed=12)
    yield demo
    demo.runtime.close()
