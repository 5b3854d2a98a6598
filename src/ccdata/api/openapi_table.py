"""The vocabulary of the OpenAPI document's operation table (`api/openapi.py`): an operation (`Op`), the envelope
its answer travels in (`Legacy`, `Plain`, `Gateway`, `Text`), and the facade family that gives its security and
error answers (docs/compatibility.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ccdata.api import schemas as s

CSV = "text/csv"
JSON = "application/json"
_STRING = {"type": "string"}
SchemaOf = Callable[[Any], dict[str, Any]]


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or list(properties)}


@dataclass(frozen=True)
class Param:
    name: str
    where: str  # path, query or header
    kind: Any = str
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class Family:
    """What a facade's operations share: tag, security, error answers besides 200, and what else a 200 may be."""

    tag: str
    security: list[dict[str, list[str]]]
    errors: dict[str, tuple[str, Any]]
    failure: Any = None  # the business error a 200 may carry instead of the answer
    params: tuple[Param, ...] = ()


_SPRING = s.SpringError
_LIMITED = {"429": ("too many requests (Retry-After)", _SPRING)}

CMS = Family(
    "CC-CMS",
    [{"authV2": []}],
    {
        "401": ("no, or a wrong, auth-v2 signature", _SPRING),
        "403": ("the address is locked after failed signatures (Retry-After)", _SPRING),
        "413": ("the body is too large (0100002)", s.CmsFailure),
        **_LIMITED,
        "500": ("unknown error (0100999)", s.CmsFailure),
    },
    failure=s.CmsFailure,
)
GATEWAY = Family(
    "CC-Gateway",
    [{"guid": []}],
    {**_LIMITED, "500": ("internal error (100-007)", s.GatewayFailure)},
    params=(Param("agentid", "path", s.AgentId),),
)
#: The gateway's sign-in interfaces: no Guid yet (they answer with Set-GUID).
GATEWAY_SIGN_IN = Family(GATEWAY.tag, [], GATEWAY.errors, params=GATEWAY.params)
FABRIC = Family(
    "API Fabric",
    [],
    {
        "400": ("a missing or invalid field, or X-Token-Expire", _SPRING),
        "401": ("unknown app_key or wrong app_secret", _SPRING),
        "413": ("the body is too large", _SPRING),
        **_LIMITED,
    },
)
DATAPROCESS = Family(
    "DataProcess",
    [{"bearer": []}],
    {
        "400": ("a missing or invalid field", _SPRING),
        "401": ("no, an expired or an out-of-scope token", _SPRING),
        "413": ("the body is too large", _SPRING),
    },
)
CCDATA = Family(
    "ccdata",
    [{"bearer": []}],
    {
        "400": ("an invalid body or filter", _SPRING),
        "401": ("no or a wrong Bearer token", _SPRING),
        "403": ("out of the credential's scope, or not from loopback", _SPRING),
        "404": ("the interface is disabled by the configuration", _SPRING),
        "413": ("the body is too large", _SPRING),
    },
)
PUBLIC = Family("ccdata", [], {})


@dataclass(frozen=True)
class Legacy:
    """CC-CMS's usual envelope: `result` "0", `resultCode` "0100000", the payload twice (`resultDatas`,
    `resultDesc`); `count` (every row of a paged list) where the interface pages."""

    payload: Any
    count: bool = False
    description: str = "answer (or a CmsFailure)"

    def content(self, family: Family, schema_of: SchemaOf) -> dict[str, Any]:
        payload = schema_of(self.payload)
        properties = {"result": _STRING, "resultCode": _STRING, "resultDatas": payload, "resultDesc": payload}
        if self.count:
            properties["count"] = {"type": "integer"}
        return _answer(_object(properties), family, schema_of)


@dataclass(frozen=True)
class Plain:
    """CC-CMS's short envelope: `resultCode` and the payload in `resultDesc`."""

    payload: Any
    description: str = "answer (or a CmsFailure)"

    def content(self, family: Family, schema_of: SchemaOf) -> dict[str, Any]:
        schema = _object({"resultCode": _STRING, "resultDesc": schema_of(self.payload)})
        return _answer(schema, family, schema_of)


@dataclass(frozen=True)
class Gateway:
    """The CC-Gateway envelope `{message, retcode, result}`; a refusal has a `retcode` other than "0" and a null
    result, so `result` is nullable."""

    result: Any
    description: str = 'answer (retcode "0") or refusal (another retcode, result null)'

    def content(self, family: Family, schema_of: SchemaOf) -> dict[str, Any]:
        if self.result is None:  # the action answers `{message, retcode}` alone
            result: dict[str, Any] = {"nullable": True, "enum": [None]}
            required = ["message", "retcode"]
        else:
            result = {**schema_of(self.result), "nullable": True}
            required = ["message", "retcode", "result"]
        if "$ref" in result:
            result = {"allOf": [{"$ref": result.pop("$ref")}], "nullable": True}
        schema = _object({"message": _STRING, "retcode": _STRING, "result": result}, required)
        return {JSON: {"schema": schema}}


@dataclass(frozen=True)
class Text:
    """An answer of its own media type (HTML, Prometheus text, server-sent events), or JSON without envelope."""

    media_type: str
    description: str
    kind: Any = None  # the JSON answer's type

    @classmethod
    def json(cls, kind: Any, description: str = "answer") -> Text:
        return cls(JSON, description, kind)

    def content(self, family: Family, schema_of: SchemaOf) -> dict[str, Any]:
        if self.kind is None:
            return {self.media_type: {"schema": _STRING}}
        return _answer(schema_of(self.kind), family, schema_of)


def _answer(schema: dict[str, Any], family: Family, schema_of: SchemaOf) -> dict[str, Any]:
    if family.failure is not None:
        schema = {"anyOf": [schema, schema_of(family.failure)]}
    return {JSON: {"schema": schema}}


Answer = Legacy | Plain | Gateway | Text


@dataclass(frozen=True)
class Op:
    """One operation: method, path, summary, family, request body type (None: no body), answer, request example."""

    method: str
    path: str
    summary: str
    family: Family
    request: Any
    answer: Answer
    example: Any = None
    csv: bool = False  # also answers `Accept: text/csv`
    params: tuple[Param, ...] = ()
    more: dict[str, tuple[str, Any]] = field(default_factory=dict)  # further error answers
    status: str = "200"  # of the answer
    tag: str = ""  # instead of the family's

    @property
    def operation_id(self) -> str:
        words = [part.strip("{}") for part in self.path.split("/") if part and part not in ("rest", "openapi")]
        return "_".join([self.method, *words]).replace("-", "_")
