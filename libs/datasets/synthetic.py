"""A small synthetic customer-churn table with numeric, categorical and datetime columns.

The bundled scikit-learn datasets are all numeric; this one exercises the whole
feature spec. It is generated, seeded, so the CSV in `configs/data/` can be
rebuilt bit for bit:

    python -m libs.datasets.synthetic configs/data/customers.csv
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd


def make_customers(n_rows: int = 400, seed: int = 0) -> pd.DataFrame:
    """Customers with a churn label that depends on plan, tenure, income and support calls."""
    rng = np.random.default_rng(seed)
    plan = rng.choice(["basic", "plus", "pro"], size=n_rows, p=[0.5, 0.3, 0.2])
    region = rng.choice(["north", "south", "east", "west"], size=n_rows).astype(object)
    region[rng.random(n_rows) < 0.05] = None
    age = rng.normal(42, 12, size=n_rows).clip(18, 90).round()
    age[rng.random(n_rows) < 0.05] = np.nan
    income = np.exp(rng.normal(10.5, 0.6, size=n_rows)).round(2)
    tenure = rng.integers(1, 72, size=n_rows)
    calls = rng.poisson(1.5, size=n_rows)
    signup = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 700, n_rows), unit="D")
    logit = (
        -0.5
        + 1.2 * (plan == "basic")
        - 0.8 * (plan == "pro")
        - 0.04 * tenure
        + 0.6 * calls
        - 0.5 * (np.log(income) - 10.5)
    )
    churned = (rng.random(n_rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, n_rows + 1),
            "age": age,
            "income": income,
            "tenure_months": tenure,
            "support_calls": calls,
            "plan": plan,
            "region": region,
            "signup_date": signup.strftime("%Y-%m-%d"),
            "churned": churned,
        }
    )


def main(argv: list[str]) -> int:
    from libs.io import write_table

    if len(argv) != 1:
        print("usage: python -m libs.datasets.synthetic OUTPUT.csv", file=sys.stderr)
        return 2
    digest = write_table(make_customers(), argv[0])
    print(f"wrote {argv[0]} (sha256 {digest[:12]})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
