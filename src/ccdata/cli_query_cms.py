"""`ccdata query …` for the CC-CMS skill, agent and VDN lists and the agent operation log (the commands of
`cli_query.py` for the call data and the wallboard indicators are there). Importing this module adds them to the
`query` group."""

from __future__ import annotations

from typing import Any

import click

from ccdata.cli_query import _cms, _common, _fields, _ids, _ms, _run, _table, query


def _skills_command(name: str, method: str, title: str, help_text: str) -> None:
    """A command taking --vdn and --skills that prints the SDK method's rows as a table."""

    @query.command(name, help=help_text)
    @click.option("--vdn", type=int, required=True)
    @click.option("--skills", required=True, help="Skill IDs, comma-separated.")
    @_common
    def command(vdn: int, skills: str, as_json: bool, **options: Any) -> None:
        ids = _ids(skills)
        with _cms(options) as cms:
            _run(as_json, lambda: getattr(cms, method)(vdn, ids), lambda r: _table(title, r))


_skills_command("total-skill-status", "total_skill_status", "skill queue status",
                "Queue size, longest wait and agents of skills (skill/totalskillstatusex3).")  # fmt: skip
_skills_command("current-call-state", "current_call_state", "current 5-minute call state",
                "The current 5-minute interval's call counters of skills (skill/currentcallstateinfo).")  # fmt: skip
_skills_command("skill-overload", "skill_overload", "calls answered from other queues",
                "Calls the skills' agents answered from other queues today (skill/batchskilloverload).")  # fmt: skip
_skills_command("skill-config", "skill_config", "skill limits", "The skills' configured limits (skill/skillcfginfo).")
_skills_command("skill-queues", "skill_queues", "calls queued per skill",
                "The voice calls queued in each skill (skill/batchmultiskill).")  # fmt: skip


@query.command("agent-operations")
@click.option("--agent", "agent_id", type=int, required=True)
@click.option("--begin", required=True, help="ms or ISO 8601 (UTC); a multiple of 15 minutes before --end.")
@click.option("--end", required=True, help="ms or ISO 8601 (UTC); at most 24 hours after --begin.")
@click.option("--type", "operate_type", type=int, help="One operation type (CMS reference 5.12).")
@_common
def agent_operations(
    agent_id: int, begin: str, end: str, operate_type: int | None, as_json: bool, **options: Any
) -> None:
    """An agent's operations of the last day (agent/agentoprinfo)."""
    window = (_ms(begin), _ms(end))
    with _cms(options) as cms:
        _run(as_json, lambda: cms.agent_operations(agent_id, *window, operate_type),  # type: ignore[misc]
             lambda r: _table(f"operations of agent {agent_id}", r, COLUMNS))  # fmt: skip


COLUMNS = ["operateType", "beginTime", "endTime", "callId", "phoneNo", "operateObject", "operateCause"]


@query.command("agent-counts")
@click.option("--vdn", type=int, help="With --skills: the VDN.")
@click.option("--skills", help="Agents whose skills contain these (skill/agentstatusbyskill).")
@click.option("--exact", is_flag=True, help="With --skills: agents whose skills are exactly these.")
@click.option("--agents", help="These agents instead (agentgroup/teamagentstatusinfo).")
@_common
def agent_counts(vdn: int | None, skills: str | None, exact: bool, agents: str | None, as_json: bool,
                 **options: Any) -> None:  # fmt: skip
    """Agents by state, of skills or of a list of agents."""
    if (skills is None) == (agents is None) or (skills is not None and vdn is None):
        raise click.UsageError("give --vdn and --skills, or --agents")
    with _cms(options) as cms:
        if agents is not None:
            ids = _ids(agents)
            _run(as_json, lambda: cms.team_counts(ids), lambda r: _fields("agents by state", r))
        else:
            wanted = _ids(skills or "")
            _run(as_json, lambda: cms.agent_counts_by_skill(vdn or 0, wanted, exact),
                 lambda r: _fields("agents by state", r))  # fmt: skip


@query.command("skill-agents")
@click.option("--vdn", type=int, required=True)
@click.option("--skill", "skill_id", type=int, required=True)
@_common
def skill_agents(vdn: int, skill_id: int, as_json: bool, **options: Any) -> None:
    """The agents configured with a skill, with their state (skill/agentbyconfigedskill)."""
    with _cms(options) as cms:
        _run(as_json, lambda: cms.skill_agents(vdn, skill_id), lambda r: _table(f"agents of skill {skill_id}", r))


@query.command("agent-info")
@click.option("--agent", "agent_id", type=int, required=True)
@_common
def agent_info(agent_id: int, as_json: bool, **options: Any) -> None:
    """One agent (agent/agentbyworkno)."""
    with _cms(options) as cms:
        _run(as_json, lambda: cms.agent_info(agent_id), lambda r: _fields(f"agent {agent_id}", r))


@query.command("system-state")
@click.option("--vdn", type=int, required=True)
@click.option("--offset", type=int, default=0, show_default=True)
@click.option("--limit", type=int, default=100, show_default=True)
@_common
def system_state(vdn: int, offset: int, limit: int, as_json: bool, **options: Any) -> None:
    """Counts over a page of the VDN's agents (agentgroup/systemstate)."""
    with _cms(options) as cms:
        _run(as_json, lambda: cms.system_state(vdn, offset, limit), lambda r: _fields("system state", r))


@query.command("agent-skills")
@click.option("--vdn", type=int, required=True)
@click.option("--agents", required=True, help="Agent IDs, comma-separated.")
@_common
def agent_skills(vdn: int, agents: str, as_json: bool, **options: Any) -> None:
    """Each agent's skills and whether it is signed in to them (agentgroup/siteagentcallandskillinfobyagentids)."""
    ids = _ids(agents)
    with _cms(options) as cms:
        _run(as_json, lambda: cms.agent_skills(vdn, ids), lambda r: _table("agents' skills", r))


def _page_options(default_limit: int) -> Any:
    def decorate(function: Any) -> Any:
        function = click.option("--all", "whole", is_flag=True, help="Every agent, unpaged.")(function)
        function = click.option("--limit", type=int, default=default_limit, show_default=True)(function)
        function = click.option("--offset", type=int, default=0, show_default=True)(function)
        return click.option("--vdn", type=int, required=True)(function)

    return decorate


def _paged(page: Any) -> Any:
    return _table(f"{len(page.rows)} of {page.count}", page.rows)


@query.command("agent-states")
@_page_options(1000)
@_common
def agent_states(vdn: int, offset: int, limit: int, whole: bool, as_json: bool, **options: Any) -> None:
    """The VDN's agents' CTI states and durations (vdn/totalagentabstractex3; --all: vdn/querytotalagentinfo)."""
    with _cms(options) as cms:
        if whole:
            _run(as_json, lambda: cms.all_agent_states(vdn), lambda r: _table("agent states", r))
        else:
            _run(as_json, lambda: cms.agent_states(vdn, offset, limit), _paged)


@query.command("agent-state-codes")
@_page_options(100)
@_common
def agent_state_codes(vdn: int, offset: int, limit: int, whole: bool, as_json: bool, **options: Any) -> None:
    """The VDN's agents' CTI states (vdn/totalagentdynamicinfo; --all: vdn/totalagentstate)."""
    with _cms(options) as cms:
        if whole:
            _run(as_json, lambda: cms.all_agent_state_rows(vdn), lambda r: _table("agent states", r))
        else:
            _run(as_json, lambda: cms.agent_state_page(vdn, offset, limit), _paged)


@query.command("agent-phones")
@click.option("--vdn", type=int, required=True)
@click.option("--offset", type=int, default=0, show_default=True)
@click.option("--limit", type=int, default=1000, show_default=True)
@_common
def agent_phones(vdn: int, offset: int, limit: int, as_json: bool, **options: Any) -> None:
    """The VDN's agents' phone numbers (vdn/allagentphones)."""
    with _cms(options) as cms:
        _run(as_json, lambda: cms.agent_phones(vdn, offset, limit), _paged)


@query.command("skills")
@click.option("--vdn", type=int, required=True)
@_common
def skills(vdn: int, as_json: bool, **options: Any) -> None:
    """The VDN's configured skills (configures/skills)."""
    with _cms(options) as cms:
        _run(as_json, lambda: cms.configured_skills(vdn), lambda r: _table(f"skills of VDN {vdn}", r))


@query.command("ivr-calls")
@click.option("--vdn", type=int, required=True)
@click.option("--flow", "flow_id", type=int, required=True, help="The IVR flow ID (1-1500).")
@_common
def ivr_calls(vdn: int, flow_id: int, as_json: bool, **options: Any) -> None:
    """The calls in an IVR flow now (vdn/queryivrstatusinfo)."""
    with _cms(options) as cms:
        _run(as_json, lambda: cms.ivr_calls(vdn, flow_id), lambda r: _table(f"calls in IVR flow {flow_id}", r))


@query.command("agents-by-status")
@click.option("--vdn", type=int, required=True)
@click.option("--status", type=int, help="A CTI state (CMS reference 5.3) [default: every state].")
@click.option("--offset", type=int, default=0, show_default=True)
@click.option("--limit", type=int, default=1000, show_default=True)
@_common
def agents_by_status(vdn: int, status: int | None, offset: int, limit: int, as_json: bool, **options: Any) -> None:
    """A page of the VDN's agents in a CTI state (vdn/queryAgentByStatus)."""
    with _cms(options) as cms:
        _run(as_json, lambda: cms.agents_by_status(vdn, status, offset, limit), lambda r: _table("agents", r))
