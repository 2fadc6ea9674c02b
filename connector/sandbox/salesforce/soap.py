"""SOAP ``login()`` on ``/services/Soap/u/{version}``, what simple-salesforce's password login
(``username`` + ``password`` + ``security_token``, or ``organizationId``) posts.

The request is the partner WSDL's ``login`` element (any namespace prefix); the answer a
``loginResponse`` whose ``serverUrl`` and ``metadataServerUrl`` point at the org's instance host
and whose ``sessionId`` is an access token the REST API accepts, or a SOAP fault with HTTP 500.
Shapes follow a captured org answer and its ``INVALID_LOGIN`` fault (the response bodies in
public client tests, e.g. "Invalid username, password, security token; or user locked out.")
and the login() reference
(https://developer.salesforce.com/docs/platform/api/guide/sforce-api-calls-login.html).
From API 65.0 on the call is refused with ``INVALID_OPERATION`` (see :mod:`._versions`).
"""

from __future__ import annotations

import hmac
from typing import Final
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from starlette.responses import Response

from connector.sandbox.salesforce._versions import LAST_SOAP_LOGIN_VERSION, served
from connector.sandbox.salesforce.oauth import SalesforceCredentials, Sessions, password_matches

__all__ = ["MAX_BODY_BYTES", "login"]

MAX_BODY_BYTES: Final = 64 * 1024
_ENVELOPE: Final = "http://schemas.xmlsoap.org/soap/envelope/"
_XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
_INVALID_LOGIN: Final = "Invalid username, password, security token; or user locked out."


def _fault(code: str, message: str, detail_type: str = "UnexpectedErrorFault") -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{_ENVELOPE}" '
        f'xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="{_XSI}">'
        "<soapenv:Body><soapenv:Fault>"
        f"<faultcode>sf:{code}</faultcode>"
        f"<faultstring>{escape(f'{code}: {message}')}</faultstring>"
        f'<detail><sf:{detail_type} xsi:type="sf:{detail_type}">'
        f"<sf:exceptionCode>{code}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage>"
        f"</sf:{detail_type}></detail>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    return Response(body, status_code=500, media_type="text/xml; charset=utf-8")


def _client_fault(message: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{_ENVELOPE}"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>soapenv:Client</faultcode><faultstring>{escape(message)}</faultstring>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    return Response(body, status_code=500, media_type="text/xml; charset=utf-8")


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _parse(body: bytes) -> dict[str, str] | None:
    """The text of every element by local name (last one wins), or None if not XML."""
    # A test double parsing its own clients' requests, still: no DTDs (entity expansion), and a
    # size cap, since defusedxml is not a dependency.
    if len(body) > MAX_BODY_BYTES or b"<!DOCTYPE" in body.upper():
        return None
    try:
        root = ElementTree.fromstring(body)  # noqa: S314 - DTDs refused and size capped above
    except ElementTree.ParseError:
        return None
    return {_local(element.tag): (element.text or "").strip() for element in root.iter()}


def login(
    body: bytes,
    version: str,
    *,
    credentials: SalesforceCredentials,
    sessions: Sessions,
    instance_url: str,
) -> Response:
    """Answer one ``login()`` call posted to ``/services/Soap/u/{version}``."""
    if not served(version):
        return _fault("UNSUPPORTED_API_VERSION", "Invalid Api version specified on URL")
    if int(float(version)) > LAST_SOAP_LOGIN_VERSION:
        return _fault(
            "INVALID_OPERATION",
            f"The SOAP Login operation is not available in the API version specified "
            f"({version}). Refer to the documentation for supported versions.",
        )
    values = _parse(body)
    if values is None or "login" not in values:
        return _client_fault("Unable to parse the request: expected a login element")
    organization = values.get("organizationId")
    org_ok = organization is None or hmac.compare_digest(organization[:15], credentials.org_id[:15])
    if not org_ok or not password_matches(
        credentials, values.get("username", ""), values.get("password", "")
    ):
        return _fault("INVALID_LOGIN", _INVALID_LOGIN, "LoginFault")
    org15 = credentials.org_id[:15]
    answer = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{_ENVELOPE}" xmlns="urn:partner.soap.sforce.com" '
        f'xmlns:xsi="{_XSI}"><soapenv:Body><loginResponse><result>'
        f"<metadataServerUrl>{instance_url}/services/Soap/m/{version}/{org15}"
        "</metadataServerUrl>"
        "<passwordExpired>false</passwordExpired><sandbox>true</sandbox>"
        f"<serverUrl>{instance_url}/services/Soap/u/{version}/{org15}</serverUrl>"
        f"<sessionId>{escape(sessions.issue())}</sessionId>"
        f"<userId>{credentials.user_id}</userId>"
        "<userInfo>"
        f"<organizationId>{credentials.org_id}</organizationId>"
        "<organizationName>crmsync sandbox</organizationName>"
        f"<sessionSecondsValid>{int(sessions.lifetime)}</sessionSecondsValid>"
        f"<userId>{credentials.user_id}</userId>"
        f"<userName>{escape(credentials.username)}</userName>"
        "</userInfo>"
        "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
    )
    return Response(answer, media_type="text/xml; charset=utf-8")
