"""The TOML configuration: the contact center, its credentials and scopes, and the facades' settings.

A default configuration ships with the package (`ccdata/default.toml`) and is used when none is given. Any
string value written as `env:NAME` is read from the environment variable NAME, so secrets can stay out of files.
"""

from __future__ import annotations

import os
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from ccdata.sim.scenario import Scenario


class ConfigError(ValueError):
    """The configuration is not valid; the message names the field."""


class Skill(msgspec.Struct, forbid_unknown_fields=True):
    id: Annotated[int, Meta(ge=1)]
    name: str
    media: Literal["voice", "video", "chat"] = "voice"


class Vdn(msgspec.Struct, forbid_unknown_fields=True):
    id: Annotated[int, Meta(ge=1, le=5000)]
    name: str = ""
    skills: list[Skill] = []


class Agent(msgspec.Struct, forbid_unknown_fields=True):
    id: Annotated[int, Meta(ge=101, le=999_999)]
    vdn: int
    password: str
    name: str = ""
    skills: list[int] = []
    phone: str = ""
    interactive: bool = False  # left for real clients by the simulator


class CmsCredential(msgspec.Struct, forbid_unknown_fields=True):
    """An AK/SK pair of the CC-CMS interfaces, scoped to VDNs."""

    ak: str
    sk: str
    vdns: list[int]


class DataProcessApp(msgspec.Struct, forbid_unknown_fields=True):
    """An API Fabric app (tokenByAkSk), scoped to VDNs."""

    app_key: str
    app_secret: str
    vdns: list[int]


class StreamClient(msgspec.Struct, forbid_unknown_fields=True):
    """A bearer credential of the live stream and the wallboard page, scoped to VDNs."""

    name: str
    token: Annotated[str, Meta(min_length=8)]  # never empty: an empty token would match a request without one
    vdns: list[int]


class Stream(msgspec.Struct, forbid_unknown_fields=True):
    """`[stream]`: the live push (`GET /ccdata/v1/stream`) and the wallboard that reads it."""

    replay_messages: Annotated[int, Meta(ge=0)] = 100_000  # kept for clients reconnecting with Last-Event-ID
    client_queue: Annotated[int, Meta(ge=1)] = 10_000  # messages waiting for one client; beyond: disconnected
    ping_s: Annotated[float, Meta(gt=0)] = 15.0  # a comment line this often keeps proxies from closing it
    send_timeout_s: Annotated[float, Meta(gt=0)] = 30.0  # a client not reading for this long is disconnected
    clients: list[StreamClient] = []


PushKind = Literal["agent", "call", "track", "result", "evaluation"]


class Webhook(msgspec.Struct, forbid_unknown_fields=True):
    """`[[webhooks]]`: messages POSTed, signed, at least once (docs/operations.md, "Webhooks")."""

    name: str  # names its deliveries in the store: keep it while deliveries are pending
    url: Annotated[str, Meta(pattern=r"^https?://[^\s]+$")]
    secret: Annotated[str, Meta(min_length=8)]  # the HMAC-SHA256 key; write "env:NAME" to keep it out of the file
    kinds: list[PushKind] = msgspec.field(default_factory=lambda: ["result"])
    vdns: list[int] = []  # empty: every VDN
    max_attempts: Annotated[int, Meta(ge=1)] = 10  # then the delivery goes to the dead letters
    first_retry_s: Annotated[float, Meta(gt=0)] = 1.0  # doubled after each failed attempt ...
    max_retry_s: Annotated[float, Meta(gt=0)] = 600.0  # ... up to this
    timeout_s: Annotated[float, Meta(gt=0)] = 10.0


class CallCenter(msgspec.Struct, forbid_unknown_fields=True):
    id: Annotated[int, Meta(ge=1, le=65535)] = 1
    name: str = ""


class Gateway(msgspec.Struct, forbid_unknown_fields=True):
    auth_mode: Literal[1, 2] = 2  # 1 static GUID, 2 dynamic (rotating) GUID, the CEC default
    guid_interval_ms: Annotated[int, Meta(ge=1000)] = 60_000  # GUIDINTERVAL: rotation period
    guid_timeout_ms: Annotated[int, Meta(ge=1000)] = 120_000  # GUIDTIMEOUT: a rotated-out GUID's grace
    heartbeat_timeout_ms: Annotated[int, Meta(ge=1000)] = 120_000  # no poll for this long: signed out
    poll_wait_ms: Annotated[int, Meta(ge=0, le=30_000)] = 10_000  # long-poll wait when there is no event
    # Answer the calls of agents signed in with `autoanswer` (the platform's job): by default only when the
    # simulator runs the contact center; a real feed's CTI answers for its agents itself.
    auto_answer: bool | None = None


class Cms(msgspec.Struct, forbid_unknown_fields=True):
    clock_skew_ms: Annotated[int, Meta(ge=0)] = 300_000  # auth-v2 timestamps this far off are refused
    credentials: list[CmsCredential] = []


class DataProcess(msgspec.Struct, forbid_unknown_fields=True):
    max_token_expire_s: Annotated[int, Meta(ge=1, le=3600)] = 3600
    default_limit: Annotated[int, Meta(ge=1)] = 100
    max_limit: Annotated[int, Meta(ge=1)] = 1000
    apps: list[DataProcessApp] = []


class Ingest(msgspec.Struct, forbid_unknown_fields=True):
    token: str = ""  # the bearer credential of POST /ccdata/v1/events; empty disables the endpoint
    max_body_bytes: Annotated[int, Meta(ge=1024)] = 16 * 1024 * 1024


class Server(msgspec.Struct, forbid_unknown_fields=True):
    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=0, le=65535)] = 8043
    db: str = ""  # the store when neither --db nor $CCDATA_DB names one ("" = ./ccdata.db)
    max_body_bytes: Annotated[int, Meta(ge=1024)] = 1024 * 1024
    access_log: Literal["text", "json", "off"] = "text"  # one line per request on standard error
    # Listening on an address other than loopback with the packaged demo secrets is refused unless this is set.
    allow_demo_secrets: bool = False


class MetricsSettings(msgspec.Struct, forbid_unknown_fields=True):
    """`GET /metrics` (docs/operations.md): who may scrape it, and whether requests are counted at all."""

    enabled: bool = True  # false: no /metrics route and no counting on the request path
    token: str = ""  # a Bearer credential every scrape must carry; empty: loopback peers only, no credential


class StoreSettings(msgspec.Struct, forbid_unknown_fields=True):
    """Recovery: how often live state is snapshotted (so a start after a crash replays at most that much)."""

    snapshot_every_events: Annotated[int, Meta(ge=1)] = 100_000
    snapshot_every_s: Annotated[float, Meta(gt=0)] = 300.0
    busy_timeout_ms: Annotated[int, Meta(ge=0)] = 5000  # how long one write attempt waits for another writer
    # Events per commit in the server: large while only writes come in, small while reads do (each commit's
    # worker-thread step holds the interpreter that the requests' event loop needs).
    batch_events: Annotated[int, Meta(ge=1)] = 5000
    batch_events_beside_reads: Annotated[int, Meta(ge=1)] = 100
    reads_recent_s: Annotated[float, Meta(ge=0)] = 1.0


class Cluster(msgspec.Struct, forbid_unknown_fields=True):
    """`[cluster]`: the servers of the distributed mode; empty strings keep the embedded one (docs/deploy.md).
    URLs may carry passwords: write them as "env:NAME", or leave them out and set $CCDATA_STORE_URL and
    $CCDATA_SESSIONS_URL."""

    store: str = ""  # postgresql://user@host:5432/db: the record store ("" = the embedded SQLite file)
    events: str = ""  # nats://host:4222: the shared event log, JetStream stream `ccdata-<deployment>` (needs store)
    sessions: str = ""  # redis://host:6379/0: the gateway's sessions ("" = beside an SQLite store, else in memory)
    deployment: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_.-]{1,64}$")] = "ccdata"  # its keys' prefix in Redis
    standby: bool = False  # a second record writer waits for the lease instead of being refused


class EngineSettings(msgspec.Struct, forbid_unknown_fields=True):
    """Calls whose feed stopped talking about them: released after this long without an event (0: never)."""

    stale_call_timeout_s: Annotated[float, Meta(ge=0)] = 4 * 3600.0
    stale_sweep_interval_s: Annotated[float, Meta(gt=0)] = 60.0


class Limits(msgspec.Struct, forbid_unknown_fields=True):
    """`[limits]`: what the server accepts from any one client, and how it stops guessing (docs/security.md)."""

    # The HTTP server, per connection and in all.
    max_header_bytes: Annotated[int, Meta(ge=1024, le=1 << 20)] = 16 * 1024  # request line + headers: 431 above
    incomplete_request_timeout_s: Annotated[float, Meta(gt=0, le=3600)] = 10.0  # until a request is fully received
    keep_alive_timeout_s: Annotated[int, Meta(ge=1, le=3600)] = 5  # an idle keep-alive connection is closed
    max_connections: Annotated[int, Meta(ge=1)] = 2048  # open connections in all; requests beyond get 503
    max_connections_per_address: Annotated[int, Meta(ge=1)] = 256  # beyond: the connection is closed at once
    backlog: Annotated[int, Meta(ge=1)] = 2048  # connections waiting to be accepted
    wal_max_bytes: Annotated[int, Meta(ge=0)] = 64 * 1024 * 1024  # the SQLite WAL is cut back to this size
    # CC-CMS: its own small body limit; requests per second per access key and per source address (429 beyond);
    # failed signatures per address within the window lock the address out (CC-FS's 403).
    cms_max_body_bytes: Annotated[int, Meta(ge=1024)] = 64 * 1024
    cms_rate_per_s: Annotated[float, Meta(ge=0)] = 20_000
    cms_burst: Annotated[int, Meta(ge=1)] = 40_000
    cms_auth_failures_per_address: Annotated[int, Meta(ge=0)] = 30
    # tokenByAkSk: tokens per second per app key and per address (429 beyond); wrong secrets per address lock it
    # out (429); live tokens per app (the oldest is revoked beyond).
    token_rate_per_s: Annotated[float, Meta(ge=0)] = 5
    token_burst: Annotated[int, Meta(ge=1)] = 50
    token_failures_per_address: Annotated[int, Meta(ge=0)] = 10
    max_tokens_per_app: Annotated[int, Meta(ge=1)] = 1000
    # CC-Gateway sign-in: wrong passwords per agent ID (000-007) and per source address (100-016) lock them out.
    sign_in_failures_per_agent: Annotated[int, Meta(ge=0)] = 5
    sign_in_failures_per_address: Annotated[int, Meta(ge=0)] = 50
    # Failures older than the window are forgotten; a lock lasts lock_s.
    failure_window_s: Annotated[float, Meta(gt=0)] = 300.0
    lock_s: Annotated[float, Meta(gt=0)] = 300.0


class AgentGroup(msgspec.Struct, forbid_unknown_fields=True):
    """`count` agents numbered from `first`, alike but for their IDs (phones are 6 + ID)."""

    first: Annotated[int, Meta(ge=101, le=999_999)]
    count: Annotated[int, Meta(ge=1, le=100_000)]
    vdn: int
    password: str
    skills: list[int] = []
    interactive: bool = False


class Config(msgspec.Struct, forbid_unknown_fields=True, dict=True):
    call_center: CallCenter = msgspec.field(default_factory=CallCenter)
    vdns: list[Vdn] = []
    agents: list[Agent] = []
    agent_groups: list[AgentGroup] = []
    cms: Cms = msgspec.field(default_factory=Cms)
    gateway: Gateway = msgspec.field(default_factory=Gateway)
    dataprocess: DataProcess = msgspec.field(default_factory=DataProcess)
    ingest: Ingest = msgspec.field(default_factory=Ingest)
    server: Server = msgspec.field(default_factory=Server)
    metrics: MetricsSettings = msgspec.field(default_factory=MetricsSettings)
    store: StoreSettings = msgspec.field(default_factory=StoreSettings)
    cluster: Cluster = msgspec.field(default_factory=Cluster)
    engine: EngineSettings = msgspec.field(default_factory=EngineSettings)
    limits: Limits = msgspec.field(default_factory=Limits)
    stream: Stream = msgspec.field(default_factory=Stream)
    webhooks: list[Webhook] = []
    simulator: Scenario = msgspec.field(default_factory=Scenario)

    def __post_init__(self) -> None:
        for group in self.agent_groups:
            self.agents.extend(
                Agent(i, group.vdn, group.password, f"Agent {i}", list(group.skills), f"6{i}", group.interactive)
                for i in range(group.first, group.first + group.count)
            )
        self._agent_index = {a.id: a for a in self.agents}
        if len(self._agent_index) != len(self.agents):
            raise ValueError("an agent ID is configured twice")
        vdn_ids = {v.id for v in self.vdns}
        self._skill_names = {(v.id, s.id): s.name for v in self.vdns for s in v.skills}
        self._skill_media = {(v.id, s.id): s.media for v in self.vdns for s in v.skills}
        for agent in self.agents:
            if agent.vdn not in vdn_ids:
                raise ValueError(f"agent {agent.id} is in VDN {agent.vdn}, which is not configured")
        if len({w.name for w in self.webhooks}) != len(self.webhooks):
            raise ValueError("a webhook name is configured twice")
        for scoped in [*self.cms.credentials, *self.dataprocess.apps, *self.stream.clients, *self.webhooks]:
            unknown = set(scoped.vdns) - vdn_ids
            if unknown:
                raise ValueError(f"a credential is scoped to unconfigured VDNs {sorted(unknown)}")
        if self.gateway.guid_interval_ms >= self.gateway.guid_timeout_ms:
            raise ValueError("gateway.guid_interval_ms must be less than gateway.guid_timeout_ms")
        self._check_scenario(vdn_ids)

    def _check_scenario(self, vdn_ids: set[int]) -> None:
        skills = {s.id for v in self.vdns for s in v.skills}
        for code in self.simulator.access_codes:
            if code.vdn not in vdn_ids:
                raise ValueError(f"simulator access code {code.called} is in unconfigured VDN {code.vdn}")
            for target in code.skills:
                if (code.vdn, target.skill) not in self._skill_names:
                    raise ValueError(f"access code {code.called} routes to skill {target.skill}, not in VDN {code.vdn}")
        for behaviour in self.simulator.skills:
            for skill in (behaviour.skill, behaviour.overflow_skill, behaviour.transfer_skill, behaviour.consult_skill):
                if skill and skill not in skills:
                    raise ValueError(f"simulator skill {skill} is not configured")
            if behaviour.overflow_skill == behaviour.skill and behaviour.skill:
                raise ValueError(f"skill {behaviour.skill} cannot overflow to itself")
        for shift in self.simulator.shifts:
            missing = [i for i in range(shift.first, shift.first + shift.count) if i not in self._agent_index]
            if missing:
                raise ValueError(f"a simulator shift names unconfigured agents {missing[:5]}")
        for pool in self.simulator.staffing:
            missing = [i for i in range(pool.first, pool.first + pool.count) if i not in self._agent_index]
            if missing:
                raise ValueError(f"a simulator staffing pool names unconfigured agents {missing[:5]}")

    def agent(self, agent_id: int) -> Agent | None:
        return self._agent_index.get(agent_id)

    def skill_media(self, vdn: int, skill_id: int) -> str | None:
        """The media (voice, video, chat) of a configured skill queue, or None."""
        return self._skill_media.get((vdn, skill_id))

    def skill_name(self, vdn: int, skill_id: int) -> str:
        """The configured name of a skill queue (the `callSkill` description), or its ID."""
        return self._skill_names.get((vdn, skill_id), str(skill_id) if skill_id else "")


def load(path: str | Path | None = None) -> Config:
    """Load a configuration file, or the packaged default when `path` is None."""
    if path is None:
        return parse(resources.files("ccdata").joinpath("default.toml").read_text(), "the default configuration")
    return parse(Path(path).read_text(), str(path))


def parse(text: str, source: str = "the configuration") -> Config:
    """A configuration from TOML text; raises ConfigError naming the source and the field."""
    try:
        raw = tomllib.loads(text)
        return msgspec.convert(_resolve_env(raw), Config)
    except (tomllib.TOMLDecodeError, msgspec.ValidationError, ValueError) as exc:
        raise ConfigError(f"{source}: {exc}") from None


def _resolve_env(value: object) -> object:
    if isinstance(value, dict):
        return {k: _resolve_env(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_env(v) for v in value]
    if isinstance(value, str) and value.startswith("env:"):
        name = value[4:]
        if name not in os.environ:
            raise ValueError(f"environment variable {name} is not set")
        return os.environ[name]
    return value


def public_demo_secrets(config: Config) -> list[str]:
    """Where `config` uses a secret of the packaged demo configuration (public, printed by `ccdata demo`)."""
    demo = load(None)
    found = []
    if {c.sk for c in config.cms.credentials} & {c.sk for c in demo.cms.credentials}:
        found.append("[cms] credentials")
    if {a.app_secret for a in config.dataprocess.apps} & {a.app_secret for a in demo.dataprocess.apps}:
        found.append("[dataprocess] apps")
    if {c.token for c in config.stream.clients} & {c.token for c in demo.stream.clients}:
        found.append("[stream] clients")
    if config.ingest.token and config.ingest.token == demo.ingest.token:
        found.append("[ingest] token")
    if {a.password for a in config.agents} & {a.password for a in demo.agents}:
        found.append("agent passwords")
    return found
