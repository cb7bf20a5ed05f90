"""Real ansible-core loads the action plugin from the collection and refuses bad input before any module runs."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.paths import collections_root


def run_ad_hoc(module_args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(collections_root()),
        ANSIBLE_HOME=str(home),
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
    )
    ansible = Path(sys.executable).with_name("ansible")
    return subprocess.run(
        [str(ansible), "localhost", "-i", "localhost,", "-c", "local",
         "-m", "winbits.bits.bits_helper_token", "-a", module_args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )


def test_ad_hoc_bad_flag_fails_in_the_action_plugin(tmp_path: Path) -> None:
    completed = run_ad_hoc("job=myDownloadJob flags=local_file,bogus", tmp_path)
    assert completed.returncode == 2, completed.stderr
    payload = completed.stdout.partition("localhost | FAILED! => ")[2]
    result = json.loads(payload)
    assert result["changed"] is False
    assert result["msg"].startswith("bits_helper_token: flags: unknown flag name 'bogus'")
    # The module itself never ran: a module run would have left its invocation in the result.
    assert "invocation" not in result
