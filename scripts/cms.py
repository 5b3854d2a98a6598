"""Send one auth-v2 signed CC-CMS request to a local ccdata (demo credentials unless CCDATA_AK/CCDATA_SK are set).

.venv/bin/python scripts/cms.py /v1/openapi/agent/queryagentcalls '{"ccId":1,"vdn":1,"agentId":1001}'
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime

import httpx

from ccdata import signing

base = os.environ.get("CCDATA_URL", "http://127.0.0.1:8043")
path, body = "/rest/cmsapp" + sys.argv[1], sys.argv[2].encode()
host = httpx.URL(base).netloc.decode()
ak, sk = os.environ.get("CCDATA_AK", "ccdata-demo-ak"), os.environ.get("CCDATA_SK", "ccdata-demo-sk")
authorization = signing.authorization(ak, sk, datetime.now(UTC), "POST", path, {}, {"host": host}, body)
response = httpx.post(
    base + path, content=body, headers={"Authorization": authorization, "Content-Type": "application/json"}
)
print(response.text)
