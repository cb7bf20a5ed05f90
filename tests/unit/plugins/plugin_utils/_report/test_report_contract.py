"""The hand-built assessments of the report tests have the shape bits_policy.evaluate_fleet really returns.

The report writers are tested against tests/unit/plugins/bits_report_assessment.py; if evaluate_fleet
gained, lost or renamed a key, those tests would go on passing against a shape nobody produces. This
test evaluates the example policy over real shaped bits_job_info results and compares the key sets.
"""
from __future__ import annotations

import datetime
import typing as t

import pytest

from ansible_collections.winbits.bits.plugins.plugin_utils._policy import evaluate_fleet, load_policy
from ansible_collections.winbits.bits.plugins.plugin_utils._modules.job_info import shape_info_result
from tests.support.paths import REPO
from ansible_collections.winbits.bits.tests.unit.utils import job_info_facts as facts
from ansible_collections.winbits.bits.tests.unit.utils.bits_report_assessment import sample_assessment

POLICY = REPO / "examples" / "bits_policy.yml"
TODAY = datetime.date(2026, 11, 21)


def _shaped(*jobs: dict[str, object]) -> dict[str, object]:
    return shape_info_result(facts.raw_result(list(jobs)), {"job": None, "all_users": True})


@pytest.fixture(scope="module")
def real() -> dict[str, t.Any]:
    results = {
        "web01": _shaped(facts.raw_job(id="{6A000000-0000-4000-8000-000000000001}", name="contentSync",
                                       flags_value=3)),
        "web02": _shaped(facts.raw_job(id="{6A000000-0000-4000-8000-000000000002}", name="contentSync",
                                       flags_value=1)),
        "backup01": _shaped(facts.raw_job(id="{6A000000-0000-4000-8000-000000000003}", name="backupUpload",
                                          flags_value=2)),
        "legacy01": _shaped(facts.bits3_job(id="{6A000000-0000-4000-8000-000000000004}")),
        "down01": {"unreachable": True, "msg": "timed out"},
    }
    return evaluate_fleet(load_policy(POLICY), results, today=TODAY)


def _statuses(assessment: dict[str, t.Any]) -> dict[str, dict[str, t.Any]]:
    """One job of each status the assessment has."""
    return {job["status"]: job for host in assessment["hosts"] for job in host["jobs"]}


def test_the_evaluation_covers_the_statuses_compared(real):
    assert {"compliant", "violation", "waived", "unassessed"} <= set(_statuses(real))
    assert {host["status"] for host in real["hosts"]} == {"compliant", "noncompliant", "not_assessed"}


def test_top_level_summary_and_waiver_keys_are_the_same(real):
    hand = sample_assessment()
    assert set(hand) == set(real)
    assert set(hand["summary"]) == set(real["summary"])
    for part in ("hosts", "jobs"):
        assert set(hand["summary"][part]) == set(real["summary"][part]), part
    assert set(next(iter(hand["summary"]["rules"].values()))) == set(next(iter(real["summary"]["rules"].values())))
    assert set(hand["waivers"][0]) == set(real["waivers"][0])
    assert set(hand["policy"]) == set(real["policy"])


def test_host_and_job_keys_are_the_same_for_every_status(real):
    hand = sample_assessment()
    assert set(hand["hosts"][0]) == set(real["hosts"][0])
    hand_jobs, real_jobs = _statuses(hand), _statuses(real)
    for status in set(hand_jobs) & set(real_jobs):
        assert set(hand_jobs[status]) == set(real_jobs[status]), status
    fix_hand, fix_real = hand_jobs["violation"]["fix"], real_jobs["violation"]["fix"]
    assert set(fix_hand) == set(fix_real) and set(fix_hand["args"]) == set(fix_real["args"])
