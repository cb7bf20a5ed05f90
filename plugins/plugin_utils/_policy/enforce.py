# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What enforcing the policy on one host means: the host's assessment turned into a list of fixes.

The assessment comes from evaluate.evaluate_host, the judgement the report uses too, so the
report and the enforcement cannot disagree. Each violation that has a fix becomes one
winbits.bits.bits_helper_token call (the fix's ``args``, by GUID); compliant, waived and unmanaged
jobs are left alone. A fix sets the flags, clears a helper token the policy forbids, or both. A
violation without a fix (a helper token the policy wants: whose token it should be is not the
policy's to say) and a job that could not be judged are listed, with why, for the role to warn about
or fail on.
"""
from __future__ import annotations

import typing as t
from collections import abc

from .evaluate import JOB_STATUSES


def enforcement_plan(host: abc.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The PLAN of one HOST entry of an assessment (evaluate_host's output)."""
    jobs = list(host.get("jobs") or [])
    return {
        "host": host["name"],
        "status": host["status"],
        "reason": host["reason"],
        "fixes": [_fix(job) for job in jobs if job["status"] == "violation" and job.get("fix")],
        "unfixable": [_described(job) for job in jobs if job["status"] == "violation" and not job.get("fix")],
        "unassessed": [dict(_described(job), explanation=unassessed_explanation(job))
                       for job in jobs if job["status"] == "unassessed"],
        "waived": [dict(_described(job), waiver=job.get("waiver")) for job in jobs if job["status"] == "waived"],
        "counts": {status: sum(1 for job in jobs if job["status"] == status) for status in JOB_STATUSES},
    }


def _described(job: abc.Mapping[str, t.Any]) -> dict[str, t.Any]:
    return {"job": job.get("id"), "name": job.get("name"), "rule": job.get("rule"),
            "problems": list(job.get("problems") or [])}


def _fix(job: abc.Mapping[str, t.Any]) -> dict[str, t.Any]:
    entry = _described(job)
    entry.update(flags_before=job.get("flags"), args=dict(job["fix"]["args"]))
    return entry


def unassessed_explanation(job: abc.Mapping[str, t.Any]) -> str:
    """Why the job could not be judged: what the evaluation says could not be read, else the host module's
    explanation when it sent one."""
    if job.get("problems"):
        return "; ".join(str(problem) for problem in job["problems"])
    read_error = job.get("read_error")
    if isinstance(read_error, abc.Mapping) and read_error.get("explanation"):
        return str(read_error["explanation"])
    if isinstance(read_error, abc.Mapping) and read_error.get("call"):
        return "%s failed (%s)" % (read_error["call"], read_error.get("hresult_hex") or "no HRESULT")
    if job.get("flags_value") is None:
        return "its flags could not be read"
    return "a fact that rule %s depends on (the job's name, id or owner) could not be read" % job.get("rule")


def plan_message(plan: abc.Mapping[str, t.Any]) -> str:
    """One line: what the enforcement would change on the host, and what it leaves alone."""
    if plan["status"] == "not_assessed" and not plan["unassessed"]:
        return "%s: not assessed (%s); nothing to enforce" % (plan["host"], plan["reason"])
    parts = ["%d job%s to change" % (len(plan["fixes"]), "" if len(plan["fixes"]) == 1 else "s")]
    counts = plan["counts"]
    parts += ["%d %s" % (counts[status], status) for status in ("compliant", "waived", "unmanaged") if counts[status]]
    if plan["unfixable"]:
        parts.append("%d violation%s without a fix" % (len(plan["unfixable"]), "" if len(plan["unfixable"]) == 1 else "s"))
    if plan["unassessed"]:
        parts.append("%d unassessed" % len(plan["unassessed"]))
    return "%s: %s" % (plan["host"], ", ".join(parts))


def unfixable_warnings(plan: abc.Mapping[str, t.Any]) -> list[str]:
    """One warning per violation the policy gives no fix for: reported, never failed on."""
    return ["%s: BITS job %s (%s) violates rule %s and is left as it is: the policy does not say whose helper "
            "token it should carry (set one with bits_helper_token helper_token: caller, as that account): %s"
            % (plan["host"], item["name"], item["job"], item["rule"], "; ".join(item["problems"]))
            for item in plan["unfixable"]]


def failure_message(plan: abc.Mapping[str, t.Any]) -> str | None:
    """Why enforcement is incomplete on the host (None when it is not): every job it could not judge."""
    if plan["status"] != "not_assessed":
        return None
    if not plan["unassessed"]:
        return "%s: the policy could not be enforced: %s" % (plan["host"], plan["reason"])
    jobs = "; ".join("job %s (%s, rule %s): %s" % (item["name"], item["job"], item["rule"], item["explanation"])
                     for item in plan["unassessed"])
    return ("%s: the policy could not be enforced on %d job%s that could not be judged: %s"
            % (plan["host"], len(plan["unassessed"]), "" if len(plan["unassessed"]) == 1 else "s", jobs))
