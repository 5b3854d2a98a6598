"""The ccdata client: CC-CMS, CC-Gateway and DataProcess over httpx, sync and async.

It speaks the CEC wire protocol, so it works against ccdata and against a CEC deployment alike.
"""

from ccdata.client.cms import AsyncCmsClient, CmsClient
from ccdata.client.dataprocess import AsyncDataProcessClient, DataProcessClient
from ccdata.client.errors import AuthError, CecError, CmsError, DataProcessError, GatewayError
from ccdata.client.gateway import AsyncGatewayClient, GatewayClient

__all__ = [
    "AsyncCmsClient",
    "AsyncDataProcessClient",
    "AsyncGatewayClient",
    "AuthError",
    "CecError",
    "CmsClient",
    "CmsError",
    "DataProcessClient",
    "DataProcessError",
    "GatewayClient",
    "GatewayError",
]
