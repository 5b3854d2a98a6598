"""`ccdata ring AGENT`: a simulated call for a signed-in interactive agent, now (`POST /ccdata/v1/simulator/ring`)."""

from __future__ import annotations

import sys
from typing import Any

import click
import httpx
import msgspec


@click.command()
@click.argument("agent_id", type=int, metavar="AGENT")
@click.option("--media", type=click.Choice(["voice", "chat"]), default="voice", show_default=True)
@click.option("--caller", help="The customer's number (default: a drawn one).")
@click.option(
    "--skill", "skill_id", type=int, help="The skill queue the call comes through (default: the agent's best)."
)
@click.option("--url", envvar="CCDATA_URL", help="The server (default: $CCDATA_URL, else the configuration's address).")
@click.option("--token", envvar="CCDATA_INGEST_TOKEN", help="The ingest Bearer token (default: "
              "$CCDATA_INGEST_TOKEN, else the configuration's [ingest] token).")  # fmt: skip
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), help="TOML configuration.")
def ring(agent_id: int, media: str, caller: str | None, skill_id: int | None, url: str | None, token: str | None,
         config_path: str | None) -> None:  # fmt: skip
    """Ring AGENT now: the live simulator of a running server (`serve --simulate`, `demo`) offers it a call.

    The agent must be interactive, signed in (through the gateway) and idle. Prints the call's ID; exits 1 with
    the server's reason when it refuses."""
    from ccdata import config as configuration
    from ccdata.api.simulator import PATH  # here: the command line starts without the server's modules

    try:
        settings = configuration.load(config_path)
    except (configuration.ConfigError, OSError) as exc:
        click.echo(f"error: configuration: {exc}", err=True)
        sys.exit(2)
    url = url or f"http://{settings.server.host}:{settings.server.port}"
    body: dict[str, Any] = {"agentId": agent_id, "media": media}
    body |= {k: v for k, v in (("caller", caller), ("skillId", skill_id)) if v is not None}
    headers = {"Authorization": f"Bearer {token or settings.ingest.token}"}
    try:
        response = httpx.post(url.rstrip("/") + PATH, json=body, headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        click.echo(f"error: cannot reach {url}: {exc}", err=True)
        sys.exit(1)
    answer = _json(response)
    if response.status_code != 202:
        reason = answer.get("code") or response.status_code
        click.echo(f"error: {reason}: {answer.get('message') or response.text}", err=True)
        sys.exit(1)
    click.echo(f"call {answer['callId']} rings at agent {agent_id}")


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        value = msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        return {}
    return value if isinstance(value, dict) else {}
