#!/usr/bin/env bash
# Sets up the environment and runs the demo: a ccdata server on the embedded store (data/demo.db), loaded with
# synthetic contact-center traffic that ends now. The live simulator comes with the next milestone.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p data
rm -f data/demo.db data/demo.db-wal data/demo.db-shm
start=$(.venv/bin/python -c 'import time; print(time.time_ns() // 1_000_000 - 36 * 3600 * 1000)')
.venv/bin/ccdata synth --events 150000 --start "$start" --out data/demo-events.jsonl
.venv/bin/ccdata ingest data/demo-events.jsonl --db data/demo.db --quiet
call_id=$(grep -m1 '"call.transfer"' data/demo-events.jsonl | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["callId"])')
url=http://127.0.0.1:8043
cat <<TEXT

ccdata demo: $url  (interactive API docs: $url/docs)
Demo credentials (public; from src/ccdata/default.toml):
  CC-CMS AK/SK        ccdata-demo-ak / ccdata-demo-sk   (VDNs 1 and 2)
  DataProcess app     ccdata-demo-app / ccdata-demo-secret
  Gateway agents      1901-1904 (left for you), password ccdata-agent
  Ingest token        ccdata-demo-ingest

Try, in another terminal:
  # CC-Gateway: sign in an agent (the Set-GUID header carries its Guid)
  curl -i -X PUT $url/agentgateway/resource/onlineagent/1901 -H 'Content-Type: application/json' -d '{"password":"ccdata-agent","status":4}'
  # DataProcess: a token, then the call results of the last day
  TOKEN=\$(curl -s -X POST $url/apigovernance/api/oauth/tokenByAkSk -H 'Content-Type: application/json' -d '{"app_key":"ccdata-demo-app","app_secret":"ccdata-demo-secret"}' | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["AccessToken"])')
  curl -s -X POST $url/apiaccess/rest/dataprocess/v1/openapp/queryCallManualDetailInfo -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' -d '{"subCcNo":"1","vdn":"1","callId":"$call_id"}'
  # CC-CMS (auth-v2 signed): the call track of one call
  .venv/bin/python scripts/cms.py /v1/openapi/vdn/querycalltracedetail '{"ccId":1,"vdn":1,"callId":"$call_id","logDate":$start}'
  # and on the command line
  .venv/bin/ccdata call $call_id --db data/demo.db

TEXT
exec .venv/bin/ccdata serve --db data/demo.db
