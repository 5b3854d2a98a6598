#!/usr/bin/env bash
# Sets up the environment and runs the demo: a fresh embedded store (data/demo.db), two hours of simulated history,
# then the server on http://127.0.0.1:8043 with the live simulator feeding it. Prints credentials and commands.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/ccdata demo "$@"
