"""WS-Management SOAP for the simulated fleet: namespaces, request parsing, envelopes and faults.

Shared by the WinRS service (winrm_server.py, the cmd shell pywinrm opens) and the PowerShell
remoting service (psrp_server.py, the Microsoft.PowerShell shell pypsrp opens): both arrive on the
same HTTP endpoint and differ only in their resource URI.
"""
from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import escape

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "p": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "f": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
}
CMD_RESOURCE_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
SHELL_NS = NS["rsp"]
ACTIONS = {
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create": "Create",
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete": "Delete",
    f"{SHELL_NS}/Command": "Command",
    f"{SHELL_NS}/Send": "Send",
    f"{SHELL_NS}/Receive": "Receive",
    f"{SHELL_NS}/Signal": "Signal",
}
RESPONSE_ACTIONS = {
    "Create": "http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse",
    "Delete": "http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse",
    "Command": f"{SHELL_NS}/CommandResponse",
    "Send": f"{SHELL_NS}/SendResponse",
    "Receive": f"{SHELL_NS}/ReceiveResponse",
    "Signal": f"{SHELL_NS}/SignalResponse",
}
FAULT_ACTION = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
SIGNAL_TERMINATE = f"{SHELL_NS}/signal/terminate"
DEFAULT_OPERATION_TIMEOUT = 20.0


class WSManFault(Exception):
    """A SOAP fault the way Windows words it (pywinrm turns it into WSManFaultError)."""

    def __init__(self, code: str, subcode: str, wsman_code: int, reason: str, detail: str | None = None) -> None:
        super().__init__(reason)
        self.code = code  # s:Sender | s:Receiver
        self.subcode = subcode
        self.wsman_code = wsman_code
        self.reason = reason
        self.detail = detail or reason


def shell_not_found(shell_id: str) -> WSManFault:
    return WSManFault(
        "s:Sender", "w:InvalidSelectors", 2150858843,  # 0x8033805B
        "The WS-Management service cannot process the request because the request contained invalid "
        "selectors for the resource.",
        f"The request for the Windows Remote Shell with ShellId {shell_id} failed because the shell was not "
        "found on the server. Possible causes are: the specified ShellId is incorrect or the shell no longer "
        "exists on the server. Provide the correct ShellId or create a new shell and retry the operation.")


def command_not_found() -> WSManFault:
    return WSManFault(
        "s:Sender", "w:InvalidSelectors", 2150858843,
        "The WS-Management service cannot process the request because the request contained invalid "
        "selectors for the resource.",
        "The Windows Remote Shell received a request to perform an operation on a command identifier that "
        "does not exist. Either the command has completed execution or the client specified an invalid "
        "command identifier.")


def action_not_supported() -> WSManFault:
    return WSManFault("s:Sender", "a:ActionNotSupported", 2150858771,  # ERROR_WSMAN_ACTION_NOT_SUPPORTED
                      "The WS-Management service does not support the action specified in the request.")


def resource_not_found(resource_uri: str) -> WSManFault:
    return WSManFault("s:Sender", "w:DestinationUnreachable", 2150858752,  # ERROR_WSMAN_RESOURCE_NOT_FOUND
                      "The WS-Management service cannot process the request. The service cannot find the "
                      f"resource identified by the resource URI and selectors: {resource_uri}")


def operation_timed_out() -> WSManFault:
    # pywinrm maps this code to WinRMOperationTimeoutError and simply polls again.
    return WSManFault("s:Receiver", "w:TimedOut", 2150858793,
                      "The WS-Management service cannot complete the operation within the time specified in "
                      "OperationTimeout.")


@dataclass
class WSManRequest:
    action: str  # short name (Create, Command, ...) or the full URI when unknown
    message_id: str
    resource_uri: str
    shell_id: str | None
    operation_timeout: float
    body: ET.Element


def element_text(element: ET.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _duration_seconds(value: str) -> float:
    """xs:duration as WS-Man uses it for OperationTimeout ("PT20S", "PT60.000S")."""
    match = re.fullmatch(r"PT(?:(\d+)M)?(\d+(?:\.\d+)?)S", value.strip())
    if not match:
        return DEFAULT_OPERATION_TIMEOUT
    return int(match.group(1) or 0) * 60 + float(match.group(2))


def parse_request(xml: bytes) -> WSManRequest:
    root = ET.fromstring(xml)
    header = root.find("s:Header", NS)
    body = root.find("s:Body", NS)
    if header is None or body is None:
        raise ValueError("not a SOAP 1.2 envelope")
    action_uri = element_text(header.find("a:Action", NS))
    shell_id = None
    for selector in header.findall("w:SelectorSet/w:Selector", NS):
        if selector.get("Name") == "ShellId":
            shell_id = element_text(selector)
    return WSManRequest(
        action=ACTIONS.get(action_uri, action_uri),
        message_id=element_text(header.find("a:MessageID", NS)),
        resource_uri=element_text(header.find("w:ResourceURI", NS)),
        shell_id=shell_id,
        operation_timeout=_duration_seconds(element_text(header.find("w:OperationTimeout", NS))),
        body=body,
    )


def _envelope(action_uri: str, relates_to: str, body: str) -> bytes:
    namespaces = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in NS.items() if prefix != "f")
    return (
        f'<s:Envelope xml:lang="en-US" {namespaces}><s:Header>'
        f"<a:Action>{action_uri}</a:Action>"
        f"<a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>"
        f"<a:To>{ANONYMOUS}</a:To>"
        f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo>"
        f"</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode("utf-8")


def response_envelope(action: str, relates_to: str, body: str) -> bytes:
    return _envelope(RESPONSE_ACTIONS[action], relates_to, body)


def fault_envelope(fault: WSManFault, relates_to: str) -> bytes:
    body = (
        f"<s:Fault><s:Code><s:Value>{fault.code}</s:Value><s:Subcode><s:Value>{fault.subcode}</s:Value>"
        f'</s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">{escape(fault.reason)}</s:Text></s:Reason>'
        f'<s:Detail><f:WSManFault xmlns:f="{NS["f"]}" Code="{fault.wsman_code}" Machine="127.0.0.1">'
        f"<f:Message>{escape(fault.detail)}</f:Message></f:WSManFault></s:Detail></s:Fault>"
    )
    return _envelope(FAULT_ACTION, relates_to, body)
