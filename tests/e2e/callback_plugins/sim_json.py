# A stdout callback for the e2e tests: the whole run as one JSON document on stdout.
# ansible-core 2.21 no longer ships a json callback (it lives in ansible.posix), so the tests bring their own.
from __future__ import annotations

DOCUMENTATION = """
    name: sim_json
    type: stdout
    short_description: every task result of the run as one JSON document
    description:
      - "Prints one JSON document once the run ends: plays, each with its tasks, each with a result per host,
        and the stats. Unreachable results carry unreachable=true, skipped ones skipped=true."
"""

import json
import typing as t

from ansible.module_utils.common.json import AnsibleJSONEncoder
from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "sim_json"

    def __init__(self) -> None:
        super().__init__()
        self._plays: list[dict[str, t.Any]] = []

    def v2_playbook_on_play_start(self, play: t.Any) -> None:
        self._plays.append({"play": play.get_name(), "tasks": []})

    def v2_playbook_on_task_start(self, task: t.Any, is_conditional: bool) -> None:
        self._plays[-1]["tasks"].append({"task": task.get_name(), "hosts": {}})

    def v2_playbook_on_handler_task_start(self, task: t.Any) -> None:
        self.v2_playbook_on_task_start(task, False)

    def _record(self, result: t.Any, **marks: t.Any) -> None:
        if not self._plays:
            self._plays.append({"play": "", "tasks": []})
        if not self._plays[-1]["tasks"]:
            self._plays[-1]["tasks"].append({"task": "", "hosts": {}})
        self._plays[-1]["tasks"][-1]["hosts"][result._host.get_name()] = {**result._result, **marks}

    def v2_runner_on_ok(self, result: t.Any, **kwargs: t.Any) -> None:
        self._record(result)

    def v2_runner_on_failed(self, result: t.Any, ignore_errors: bool = False) -> None:
        self._record(result, failed=True)

    def v2_runner_on_unreachable(self, result: t.Any) -> None:
        self._record(result, unreachable=True)

    def v2_runner_on_skipped(self, result: t.Any) -> None:
        self._record(result, skipped=True)

    def v2_playbook_on_stats(self, stats: t.Any) -> None:
        summary = {host: stats.summarize(host) for host in sorted(stats.processed)}
        self._display.display(json.dumps({"plays": self._plays, "stats": summary}, cls=AnsibleJSONEncoder,
                                         indent=1, sort_keys=True))
