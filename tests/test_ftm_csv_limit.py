"""Using FollowTheMoney (the exchange, screening lists) leaves the csv module's cell limit as
the CSV importers rely on it: followthemoney raises it process-wide when imported."""

import csv
import subprocess
import sys


def test_importing_the_ftm_users_keeps_the_csv_cell_limit():
    # a fresh interpreter: in this one followthemoney may already be imported
    code = (
        "import csv; before = csv.field_size_limit();"
        "import app.exchange.ftm, app.exchange.ftm_export, app.screening.reader;"
        "print(before, csv.field_size_limit())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[0] == out[1] == "131072", out
    # and nothing the suite imported raised it in this process either
    assert csv.field_size_limit() == 131072
