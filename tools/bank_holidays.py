"""Write content/bank_holidays.yaml: England's bank holidays from the `holidays` package, for fast start-up.

Run ``python -m tools.bank_holidays [FIRST LAST]`` (default: last year to eight years ahead). A test checks the
table against the package, and years outside it are asked of the package at run time.
"""

from __future__ import annotations

import datetime as dt
import sys

import holidays

from dialogs.load import default_content_dir


def render(first: int, last: int) -> str:
    table = holidays.country_holidays("GB", subdiv="ENG", years=range(first, last + 1))
    lines = [
        "# England's bank holidays, written by `python -m tools.bank_holidays` from the `holidays` package",
        "# (which follows https://www.gov.uk/bank-holidays). Opening hours use this table; years outside it are",
        "# asked of the package directly. A test fails if the table and the package disagree.",
        f"first_year: {first}",
        f"last_year: {last}",
        "source: https://www.gov.uk/bank-holidays",
        "dates:",
    ]
    lines += [f"  - {day.isoformat()}  # {name}" for day, name in sorted(table.items())]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    this_year = dt.date.today().year
    first, last = (int(sys.argv[1]), int(sys.argv[2])) if len(sys.argv) == 3 else (this_year - 1, this_year + 8)
    path = default_content_dir() / "bank_holidays.yaml"
    path.write_text(render(first, last))
    print(f"wrote {path}")
