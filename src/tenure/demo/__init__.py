"""Demo data: a realistic, deterministic B2B SaaS customer base with planted churn signals."""

from tenure.demo.generate import DemoSummary, build_demo
from tenure.demo.truth import load_ground_truth

__all__ = ["DemoSummary", "build_demo", "load_ground_truth"]
