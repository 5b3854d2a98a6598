#!/usr/bin/env bash
# Sets up the environment and runs the demo on the embedded store (data/demo.db).
# Today the demo is: a day of synthetic contact-center traffic through the event log and the engine into
# SQLite, then one call's track. The HTTP service and the live simulator come with the next milestones.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p data
rm -f data/demo.db data/demo.db-wal data/demo.db-shm
.venv/bin/ccdata synth --events 200000 --out data/demo-events.jsonl
.venv/bin/ccdata ingest data/demo-events.jsonl --db data/demo.db
call_id=$(grep -m1 '"call.transfer"' data/demo-events.jsonl | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["callId"])')
.venv/bin/ccdata call "$call_id" --db data/demo.db
echo
echo "Try: .venv/bin/ccdata call <callId> --db data/demo.db   (call IDs are in data/demo-events.jsonl)"
