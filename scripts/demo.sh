#!/usr/bin/env bash
# The demo: start a simulated Windows fleet on 127.0.0.1, run examples/helper_token_flags.yml
# against it (a check-mode report, enforcement, a second run that changes nothing), show how a
# failure is explained, audit the fleet against examples/bits_policy.yml with the bits_report role
# (the report is kept in .build/demo-report), and stop the fleet. Ansible talks to the fleet with its real winrm, psrp and
# ssh connections (each host's transport is in the fleet file); each host runs the module's real C#
# core under Mono against a fake BITS (tests/sim/).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
venv=${WINBITS_VENV:-$top/.venv}
bash "$top/scripts/setup.sh"

work=$(mktemp -d /tmp/winbits-demo.XXXXXX)
stop_fleet() { "$venv/bin/python" -m tests.sim stop --pidfile "$work/fleet.pid" >/dev/null 2>&1 || true; }
trap 'stop_fleet; rm -rf "$work"' EXIT

cd "$top"
"$venv/bin/python" -m tests.sim start --fleet tests/sim/fleets/demo.yml --state-dir "$work/state" \
    --pidfile "$work/fleet.pid" > "$work/inventory.ini"
echo "== Fleet started: $(grep -c ansible_port "$work/inventory.ini") simulated hosts, over" \
     "$(grep -o 'ansible_connection=[a-z]*' "$work/inventory.ini" | cut -d= -f2 | sort | uniq -c | xargs)"

export ANSIBLE_COLLECTIONS_PATH
ANSIBLE_COLLECTIONS_PATH=$("$venv/bin/python" -c 'from tests.support.paths import collections_root; print(collections_root())')
export ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_RETRY_FILES_ENABLED=False ANSIBLE_NOCOLOR=1
export ANSIBLE_HOME="$work/ansible" ANSIBLE_LOCAL_TEMP="$work/ansible/tmp"
export ANSIBLE_CALLBACK_RESULT_FORMAT=yaml ANSIBLE_DISPLAY_SKIPPED_HOSTS=False

playbook() {
  echo
  echo "== $1"
  shift
  "$venv/bin/ansible-playbook" -i "$work/inventory.ini" examples/helper_token_flags.yml \
      -e target='windows:!legacy01' "$@" || true
}

playbook "1. Report (check mode): what would change; nothing is written" --check --diff
playbook "2. Enforce"
playbook "3. Enforce again: nothing changes"

echo
echo "== 4. A host whose BITS is too old: the failure names the cause and the fix"
"$venv/bin/ansible" -i "$work/inventory.ini" legacy01 -m winbits.bits.bits_helper_token \
    -a "job=contentSync flags=local_file all_users=true" 2>&1 | sed -n '/^\[ERROR\]/,/^Origin/p' || true
echo
echo "== 5. Audit the fleet against examples/bits_policy.yml (role winbits.bits.bits_report)"
report="$top/.build/demo-report"
"$venv/bin/ansible-playbook" -i "$work/inventory.ini" examples/audit.yml -e "bits_report_dir=$report" \
    | grep -E 'msg|bits_compliance_report' || true
"$venv/bin/python" - "$report/bits-compliance.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1], encoding="utf-8"))
hosts, jobs = report["summary"]["hosts"], report["summary"]["jobs"]
print(f"   hosts: {hosts['compliant']} compliant, {hosts['noncompliant']} noncompliant, "
      f"{hosts['not_assessed']} not assessed; jobs: {jobs['violation']} in violation, {jobs['compliant']} compliant")
for host in report["hosts"]:
    for job in host["jobs"]:
        if job["status"] == "violation":
            print(f"   {host['name']} {job['name']}: {'; '.join(job['problems'])}")
            print(f"     fix: {job['fix']['command']}")
PY
echo "   The report: $report/bits-compliance.html (also .json, .csv, .junit.xml)"
echo
echo "== Done; the fleet is stopped."
