"""graphbox.start() to the first token, as a Python test pays for it.

Run with the interpreter the wheel is installed in (python/ci.sh leaves one in
target/python-ci/venv):  target/python-ci/venv/bin/python bench/python_start.py [RUNS]

Per run: graphbox.start() (spawn the bundled binary, read its ready line) → a fresh tenant →
azure-identity's EnvironmentCredential, fed by tenant.env(), gets a token; then stop().
Prints median/min/max of each phase and the date; asserts nothing (a shared machine is noisy).
The data directory is kept between runs, so the CA and signing key exist, as on a developer's
machine after the first start.
"""

from __future__ import annotations

import datetime
import os
import statistics
import sys
import tempfile
import time

import graphbox
from azure.identity import EnvironmentCredential


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    data_dir = tempfile.mkdtemp(prefix="graphbox-bench-")
    graphbox.start(data_dir=data_dir).stop()  # first start generates the key material
    phases: dict[str, list[float]] = {"start": [], "new_tenant": [], "first_token": [], "total": []}
    for _ in range(runs):
        began = time.perf_counter()
        server = graphbox.start(data_dir=data_dir)
        started = time.perf_counter()
        tenant = server.new_tenant()
        tenant_at = time.perf_counter()
        os.environ.update(tenant.env())
        EnvironmentCredential(disable_instance_discovery=True).get_token("https://graph.microsoft.com/.default")
        done = time.perf_counter()
        server.stop()
        for name, seconds in (("start", started - began), ("new_tenant", tenant_at - started),
                              ("first_token", done - tenant_at), ("total", done - began)):
            phases[name].append(seconds * 1000)
    print(f"graphbox.start() → first token, {runs} runs, {datetime.date.today().isoformat()}, "
          f"Python {sys.version.split()[0]}")
    for name, values in phases.items():
        print(f"  {name:12} median {statistics.median(values):7.1f} ms   min {min(values):7.1f}   max {max(values):7.1f}")


if __name__ == "__main__":
    main()
