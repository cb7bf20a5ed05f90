"""PowerShell remoting (PSRP) for the simulated fleet, on the same HTTP endpoint as WinRM.

Ansible's `psrp` connection (pypsrp) opens the WS-Man shell of the resource URI
``http://schemas.microsoft.com/powershell/Microsoft.PowerShell`` on the same port, with the same
auth and faults, as the `winrm` connection's cmd shell (ansible-core's plugins/connection/psrp.py, pypsrp).
psrpcore's sans-IO ServerRunspacePool and ServerPipeline build and parse every PSRP message and
fragment; this module only carries their bytes in WS-Man operations:

- ``Create`` carries the pool's first fragments (SessionCapability, InitRunspacePool) in
  ``creationXml``; the answers wait for a Receive without CommandId.
- ``Command`` names the pipeline (CommandId = pipeline id) and carries the first CreatePipeline
  fragment: the ServerPipeline is created before that fragment is fed to the pool.
- ``Send`` carries further fragments (PipelineInput, EndOfPipelineInput, host responses).
- ``Receive`` with a CommandId takes that pipeline's messages, without one the pool's; with nothing
  ready within the request's OperationTimeout it is answered with the WS-Man timeout fault, which
  pypsrp polls again.
- ``Signal`` stops or forgets a pipeline, also one that already finished (Ansible stops the
  previous task's pipeline before it runs the next); ``Delete`` closes the pool.

A pipeline runs once its input ended (or at once when it takes none): its script and input are
turned back into the command line and stdin that the WinRM path would carry (pipeline_command), so
every transport reaches the same CommandHandler. Its stdout comes back as output objects (one per
line; Ansible joins them with CRLF), stderr as an error record, the exit code as a SetShouldExit
host call.
"""
from __future__ import annotations

import base64
import binascii
import collections
import logging
import threading
import traceback
import uuid
from dataclasses import dataclass, field

import psrpcore
from psrpcore.types import HostMethodIdentifier, NETException, PSInvocationState

from tests.sim.transport import CommandHandler, CommandResult
from tests.sim.wsman import (NS, SHELL_NS, SIGNAL_TERMINATE, WSManFault, WSManRequest, action_not_supported,
                             command_not_found, operation_timed_out, response_envelope, shell_not_found)

log = logging.getLogger(__name__)

PS_RESOURCE_URI = "http://schemas.microsoft.com/powershell/Microsoft.PowerShell"
PS_NS = "http://schemas.microsoft.com/powershell"
# PowerShell's Ctrl+C signal: pypsrp sends "ctrl_c", MS-PSRP 3.1.5.4.5 spells it "crtl_c".
SIGNAL_CODES = frozenset({"powershell/signal/ctrl_c", "powershell/signal/crtl_c", SIGNAL_TERMINATE.lower()})
# Largest PSRP payload (fragments) one Receive answer carries. pypsrp announces a 153,600-byte
# MaxEnvelopeSize; 32 KiB (~44 KB of base64) leaves room, and a larger output takes several
# fragments and Receives, as on Windows.
RECEIVE_PAYLOAD_BYTES = 32 * 1024
# What pipeline_command puts before the script: the line Ansible's shell plugin would have sent.
POWERSHELL_PREFIX = "powershell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand"


def pipeline_command(script: str, arguments: list[str], inputs: list[object]) -> tuple[str, list[str], bytes]:
    """A pipeline as the (command, arguments, stdin) a WinRM command would carry.

    The psrp plugin decodes Ansible's ``powershell ... -EncodedCommand`` line on the controller and
    sends the script; encoding it again gives the payload decoder the line it knows. The input
    objects are the stdin lines (ansible-core 2.19+ splits stdin into lines) or one string holding
    all of it (2.16-2.18): joined with LF they are stdin again.
    """
    encoded = base64.b64encode(script.encode("utf-16-le")).decode("ascii")
    stdin = "\n".join("" if item is None else str(item) for item in inputs).encode("utf-8")
    return f"{POWERSHELL_PREFIX} {encoded}", [str(argument) for argument in arguments], stdin


@dataclass
class _Pipeline:
    """One pipeline of a pool: its psrpcore state, its input so far, whether it ran."""
    server: psrpcore.ServerPipeline
    inputs: list[object] = field(default_factory=list)
    started: bool = False
    finished: bool = False


class _Pool:
    """One PowerShell runspace pool (a WS-Man shell) and the messages waiting for a Receive."""

    def __init__(self, shell_id: str, handler: CommandHandler) -> None:
        self.shell_id = shell_id
        self.handler = handler
        self.pool = psrpcore.ServerRunspacePool()
        self.pipelines: dict[uuid.UUID, _Pipeline] = {}
        # Outgoing PSRP payloads by target: None = the pool, else a pipeline id.
        self.outgoing: dict[uuid.UUID | None, collections.deque[bytes]] = collections.defaultdict(collections.deque)
        self.changed = threading.Condition()  # guards everything above; notified when output is queued

    # -- incoming -----------------------------------------------------------------------------

    def feed(self, data: bytes, pipeline_id: uuid.UUID | None) -> None:
        """Hand fragments to psrpcore and act on every complete message. Caller holds `changed`."""
        self.pool.receive_data(psrpcore.PSRPPayload(data, psrpcore.StreamType.default, pipeline_id))
        try:
            while (event := self.pool.next_event()) is not None:
                self._on_event(event)
        except (psrpcore.PSRPCoreError, ValueError) as error:
            # A lost or reordered fragment, a message psrpcore cannot read: refuse it, visibly.
            log.debug("pool %s: bad PSRP data: %s", self.shell_id, error)
            raise _schema_error(f"the PSRP data could not be processed: {error}") from None
        finally:
            self._queue_outgoing()

    def _on_event(self, event: psrpcore.PSRPEvent) -> None:
        if isinstance(event, psrpcore.CreatePipelineEvent):
            if event.pipeline.no_input:
                self._start(event.pipeline_id)
        elif isinstance(event, psrpcore.PipelineInputEvent):
            self.pipeline_of(event.pipeline_id).inputs.append(event.data)
        elif isinstance(event, psrpcore.EndOfPipelineInputEvent):
            self._start(event.pipeline_id)

    def pipeline_of(self, pipeline_id: uuid.UUID | None) -> _Pipeline:
        pipeline = self.pipelines.get(pipeline_id) if pipeline_id is not None else None
        if pipeline is None:
            raise command_not_found()
        return pipeline

    def add_pipeline(self, pipeline_id: uuid.UUID) -> None:
        """The Command's pipeline, created before its CreatePipeline fragment is processed."""
        self.pipelines[pipeline_id] = _Pipeline(psrpcore.ServerPipeline(self.pool, pipeline_id))

    # -- running ------------------------------------------------------------------------------

    def _start(self, pipeline_id: uuid.UUID) -> None:
        pipeline = self.pipeline_of(pipeline_id)
        if pipeline.started:
            return
        pipeline.started = True
        metadata = pipeline.server.metadata
        if metadata is None:
            raise _schema_error("the pipeline's input ended before its CreatePipeline message arrived")
        pipeline.server.start()
        commands = metadata.commands
        script = commands[0].command_text if commands else ""
        arguments = [str(value) for _name, value in commands[0].parameters] if commands else []
        command, args, stdin = pipeline_command(script, arguments, pipeline.inputs)
        pipeline.inputs = []
        threading.Thread(target=self._run, args=(pipeline, command, args, stdin), daemon=True,
                         name=f"psrp-{pipeline_id}").start()

    def _run(self, pipeline: _Pipeline, command: str, arguments: list[str], stdin: bytes) -> None:
        """Run the handler (slow: Mono) outside the lock, then write its result as PSRP messages."""
        try:
            result = self.handler(command, arguments, stdin)
        except Exception:  # a broken handler must still end the pipeline, visibly
            log.exception("simulated command handler failed")
            result = CommandResult(b"", ("simulated host: handler failed\r\n" + traceback.format_exc()).encode(), 1)
        with self.changed:
            if pipeline.server.state == PSInvocationState.Running:  # not stopped by a Signal meanwhile
                self._write_result(pipeline.server, result)
            pipeline.finished = True
            self._queue_outgoing()
            self.changed.notify_all()

    @staticmethod
    def _write_result(pipeline: psrpcore.ServerPipeline, result: CommandResult) -> None:
        for line in result.stdout.decode("utf-8", errors="replace").splitlines():
            pipeline.write_output(line)
        stderr = result.stderr.decode("utf-8", errors="replace").strip()
        if stderr:
            pipeline.write_error(NETException(Message=stderr))
        if result.exit_code:
            pipeline.host_call(HostMethodIdentifier.SetShouldExit, [result.exit_code])
        pipeline.complete()

    # -- outgoing -----------------------------------------------------------------------------

    def _queue_outgoing(self) -> None:
        """Sort what psrpcore wants to send by target, so each Receive gets only its own."""
        while (payload := self.pool.data_to_send(RECEIVE_PAYLOAD_BYTES)) is not None:
            self.outgoing[payload.pipeline_id].append(payload.data)

    def take(self, target: uuid.UUID | None, timeout: float) -> tuple[bytes, bool]:
        """The next payload for the target (waiting up to timeout) and whether that pipeline is done."""
        with self.changed:
            queue = self.outgoing[target]
            pipeline = self.pipelines.get(target) if target is not None else None
            self.changed.wait_for(lambda: bool(queue) or (pipeline is not None and pipeline.finished), timeout)
            data = queue.popleft() if queue else b""
            done = pipeline is not None and pipeline.finished and not queue
            return data, done

    def signal(self, pipeline_id: uuid.UUID, code: str) -> None:
        """Ctrl+C or Terminate: stop the pipeline if it still runs, then forget it.

        A finished pipeline is accepted too: Ansible stops the previous task's pipeline with Ctrl+C
        long after it completed.
        """
        if code.lower() not in SIGNAL_CODES:
            raise _schema_error(f"unknown signal code {code!r}; this host knows {sorted(SIGNAL_CODES)}")
        with self.changed:
            pipeline = self.pipeline_of(pipeline_id)
            if pipeline.server.state == PSInvocationState.Running:
                pipeline.server.stop()  # the handler cannot be interrupted; its result is dropped
            pipeline.finished = True
            self._queue_outgoing()
            self.pipelines.pop(pipeline_id, None)
            self.pool.pipeline_table.pop(pipeline_id, None)
            self.outgoing.pop(pipeline_id, None)  # what it still had to say (e.g. Stopped) goes nowhere
            self.changed.notify_all()


class PSRPService:
    """The PowerShell runspace pools of one endpoint, and the answer to each WS-Man operation."""

    def __init__(self, handler: CommandHandler) -> None:
        self._handler = handler
        self._pools: dict[str, _Pool] = {}
        self._lock = threading.Lock()

    def dispatch(self, request: WSManRequest) -> bytes:
        operation = {
            "Create": self._create, "Command": self._command, "Send": self._send,
            "Receive": self._receive, "Signal": self._signal, "Delete": self._delete,
        }.get(request.action)
        if operation is None:
            raise action_not_supported()
        return operation(request)

    def pool_count(self) -> int:
        with self._lock:
            return len(self._pools)

    def _pool(self, request: WSManRequest) -> _Pool:
        with self._lock:
            pool = self._pools.get((request.shell_id or "").upper())
        if pool is None:
            raise shell_not_found(request.shell_id or "")
        return pool

    def _create(self, request: WSManRequest) -> bytes:
        shell = request.body.find("rsp:Shell", NS)
        creation = shell.find(f"{{{PS_NS}}}creationXml") if shell is not None else None
        if shell is None or creation is None:
            raise _schema_error("a PowerShell shell is created with rsp:Shell and its creationXml")
        # pypsrp names the shell after its runspace pool; Windows keeps the client's ShellId.
        shell_id = (shell.get("ShellId") or str(uuid.uuid4())).upper()
        pool = _Pool(shell_id, self._handler)
        with pool.changed:
            pool.feed(_b64(creation.text), None)
        with self._lock:
            self._pools[shell_id] = pool
        body = (
            "<x:ResourceCreated><a:Address>http://127.0.0.1/wsman</a:Address><a:ReferenceParameters>"
            f"<w:ResourceURI>{PS_RESOURCE_URI}</w:ResourceURI><w:SelectorSet>"
            f'<w:Selector Name="ShellId">{shell_id}</w:Selector></w:SelectorSet>'
            "</a:ReferenceParameters></x:ResourceCreated>"
            f"<rsp:Shell><rsp:ShellId>{shell_id}</rsp:ShellId><rsp:ResourceUri>{PS_RESOURCE_URI}</rsp:ResourceUri>"
            "<rsp:InputStreams>stdin pr</rsp:InputStreams><rsp:OutputStreams>stdout</rsp:OutputStreams>"
            "</rsp:Shell>"
        )
        return response_envelope("Create", request.message_id, body)

    def _command(self, request: WSManRequest) -> bytes:
        pool = self._pool(request)
        command_line = request.body.find("rsp:CommandLine", NS)
        if command_line is None:
            raise _schema_error("Command needs an rsp:CommandLine")
        pipeline_id = _pipeline_id(command_line.get("CommandId"))
        fragments = b"".join(_b64(argument.text) for argument in command_line.findall("rsp:Arguments", NS))
        with pool.changed:
            pool.add_pipeline(pipeline_id)
            pool.feed(fragments, pipeline_id)
        command_id = str(pipeline_id).upper()
        body = f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId></rsp:CommandResponse>"
        return response_envelope("Command", request.message_id, body)

    def _send(self, request: WSManRequest) -> bytes:
        pool = self._pool(request)
        for stream in request.body.findall("rsp:Send/rsp:Stream", NS):
            command_id = stream.get("CommandId")
            pipeline_id = _pipeline_id(command_id) if command_id else None
            with pool.changed:
                if pipeline_id is not None:
                    pool.pipeline_of(pipeline_id)  # an unknown CommandId is a fault
                pool.feed(_b64(stream.text), pipeline_id)
        return response_envelope("Send", request.message_id, "<rsp:SendResponse/>")

    def _receive(self, request: WSManRequest) -> bytes:
        pool = self._pool(request)
        desired = request.body.find("rsp:Receive/rsp:DesiredStream", NS)
        command_id = desired.get("CommandId") if desired is not None else None
        target = _pipeline_id(command_id) if command_id else None
        if target is not None:
            with pool.changed:
                pool.pipeline_of(target)
        data, done = pool.take(target, request.operation_timeout)
        if not data and not done:
            raise operation_timed_out()
        id_attribute = f' CommandId="{command_id.upper()}"' if command_id else ""
        parts = [f'<rsp:Stream Name="stdout"{id_attribute}>{base64.b64encode(data).decode()}</rsp:Stream>'] if data else []
        if done:
            parts.append(f'<rsp:CommandState{id_attribute} State="{SHELL_NS}/CommandState/Done"/>')
        elif target is not None:
            parts.append(f'<rsp:CommandState{id_attribute} State="{SHELL_NS}/CommandState/Running"/>')
        return response_envelope("Receive", request.message_id, f"<rsp:ReceiveResponse>{''.join(parts)}</rsp:ReceiveResponse>")

    def _signal(self, request: WSManRequest) -> bytes:
        pool = self._pool(request)
        signal = request.body.find("rsp:Signal", NS)
        if signal is None:
            raise _schema_error("Signal needs an rsp:Signal")
        code = (signal.findtext("rsp:Code", default="", namespaces=NS) or "").strip()
        pool.signal(_pipeline_id(signal.get("CommandId")), code)
        return response_envelope("Signal", request.message_id, "<rsp:SignalResponse/>")

    def _delete(self, request: WSManRequest) -> bytes:
        pool = self._pool(request)
        with self._lock:
            self._pools.pop(pool.shell_id, None)
        return response_envelope("Delete", request.message_id, "")


def _pipeline_id(command_id: str | None) -> uuid.UUID:
    try:
        return uuid.UUID(command_id or "")
    except ValueError:
        raise command_not_found() from None


def _b64(text: str | None) -> bytes:
    try:
        return base64.b64decode(text or "", validate=True)
    except binascii.Error:
        raise _schema_error("a PSRP stream is not valid base64") from None


def _schema_error(detail: str) -> WSManFault:
    return WSManFault("s:Sender", "w:SchemaValidationError", 2150858817,
                      "The SOAP XML in the message does not match the corresponding XML schema definition.", detail)
