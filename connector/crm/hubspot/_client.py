"""The boundary to hubspot-api-client: builds the SDK client (its urllib3 retry off, ``host``
pointing at the configured base URL, the CA bundle), applies budgets and the retry policy,
refreshes an OAuth token once on 401, and translates every vendor or network exception.

Each SDK package has its own ``ApiException`` class; the ones for the packages used here are
caught together. A 207 is not an exception: batch callers read its ``errors`` themselves.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import urllib3
from hubspot import HubSpot
from hubspot.crm.associations.v4 import ApiException as AssociationsApiException
from hubspot.crm.objects import ApiException as ObjectsApiException
from hubspot.crm.properties import ApiException as PropertiesApiException
from hubspot.discovery.discovery_base import DiscoveryBase

from connector.crm.auth import HubSpotTokenSource
from connector.crm.budget import HubSpotBudget
from connector.crm.dispositions import (
    Disposition,
    classify_hubspot,
    hubspot_retry_after,
    parse_hubspot_error,
    to_error,
)
from connector.crm.retry import Retrier
from connector.errors import ApiError, AuthError, FatalApiError, System
from connector.settings import HubSpotSettings
from connector.stopping import Stop

__all__ = ["VENDOR_ERRORS", "HubSpotClient"]

T = TypeVar("T")

logger = logging.getLogger(__name__)

VENDOR_ERRORS: tuple[type[Exception], ...] = (
    ObjectsApiException,
    AssociationsApiException,
    PropertiesApiException,
)


# Connections kept per SDK API object: more than the most calls crmsync has in flight on one
# (8 activity reads), so urllib3 never opens and drops an extra one.
POOL_SIZE = 16


class ApiCache:
    """The SDK's ``api_factory``, keeping one API object per generated API.

    By default every ``client.crm.objects.batch_api``-style access builds a new ``ApiClient``:
    a new urllib3 pool (so a new TCP connection per call, closed after it) and a package
    metadata look-up for the user agent. Through this factory each API is built once per SDK
    client (that is, per access token) and its connections are reused; urllib3 pools are
    thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._apis: dict[tuple[str, str], Any] = {}

    def __call__(self, package: Any, api_name: str, config: Mapping[str, Any]) -> Any:
        key = (package.__name__, api_name)
        with self._lock:
            if key not in self._apis:
                build = DiscoveryBase._default_api_factory
                self._apis[key] = build(package, api_name, dict(config))
            return self._apis[key]


class HubSpotClient:
    """One SDK client per access token; calls go through :meth:`call`."""

    def __init__(
        self,
        settings: HubSpotSettings,
        tokens: HubSpotTokenSource,
        budget: HubSpotBudget,
        retrier: Retrier,
        *,
        stop: Stop | None = None,
    ) -> None:
        self.settings = settings
        self.retrier = retrier
        self._stop = stop or Stop()
        self.timeout = settings.timeout_seconds
        self._base_url = str(settings.base_url).rstrip("/")
        self._tokens = tokens
        self._budget = budget
        self._lock = threading.Lock()
        self._sdk: HubSpot | None = None
        self._sdk_token = ""

    def _client(self) -> tuple[Any, str]:
        token = self.retrier.call(self._tokens.token)
        with self._lock:
            if self._sdk is None or token != self._sdk_token:
                options: dict[str, Any] = {}
                if self.settings.ca_bundle is not None:
                    options["ssl_ca_cert"] = str(self.settings.ca_bundle)
                # retry=Retry(0): urllib3 must not retry on its own (our policy rules, and it
                # would retry a DAILY 429); a network failure surfaces at once.
                self._sdk = HubSpot(
                    access_token=token,
                    host=self._base_url,
                    base_url=self._base_url,
                    retry=urllib3.Retry(total=0, redirect=0, raise_on_status=False),
                    api_factory=ApiCache(),
                    connection_pool_maxsize=POOL_SIZE,
                    **options,
                )
                self._sdk_token = token
            return self._sdk, token

    def call_json(
        self,
        fn: Callable[[Any], Any],
        *,
        search: bool = False,
        burst_exempt: bool = False,
        object_type: str = "",
    ) -> dict[str, Any]:
        """As :meth:`call`, for an SDK call made with ``_preload_content=False``: the answer's
        JSON object, parsed once, with the API's own keys and values.

        Left to itself the SDK builds a model object per result, parsing every timestamp with
        dateutil, which the adapter then turned straight back into dicts: that round trip cost
        more CPU than anything else in a batch call. Errors are unchanged: the SDK still raises
        its ``ApiException`` (with the body) for any status outside 2xx. The body is read
        inside the retried call, so a connection dropped mid-body is a network error too.
        """
        return self.call(
            lambda sdk: _json_object(fn(sdk)),
            search=search,
            burst_exempt=burst_exempt,
            object_type=object_type,
        )

    def call(
        self,
        fn: Callable[[Any], T],
        *,
        search: bool = False,
        burst_exempt: bool = False,
        object_type: str = "",
    ) -> T:
        """``fn(sdk)`` under the budgets and retry policy; one token refresh on 401.
        ``burst_exempt``: an endpoint HubSpot leaves out of the ten-second limit."""
        refreshed = False
        while True:
            _, token = self._client()
            try:
                return self.retrier.call(lambda: self._once(fn, search, burst_exempt, object_type))
            except AuthError as exc:
                if refreshed or exc.status != 401:
                    raise
                refreshed = True
                self._tokens.after_unauthorized(token)
                logger.info("HubSpot access token refreshed after a 401")

    def _once(
        self, fn: Callable[[Any], T], search: bool, burst_exempt: bool, object_type: str
    ) -> T:
        sdk, _ = self._client()
        # Checked before every attempt: a stop lets the call in flight finish, makes no other.
        self._stop.check()
        self._budget.before_call(search=search, burst_exempt=burst_exempt)
        try:
            return fn(sdk)
        except VENDOR_ERRORS as exc:
            status = getattr(exc, "status", None)
            headers = getattr(exc, "headers", None)
            raise translate(
                status if isinstance(status, int) else None,
                getattr(exc, "body", None),
                dict(headers) if headers else {},
                search=search,
                object_type=object_type,
            ) from exc
        except urllib3.exceptions.HTTPError as exc:
            raise to_error(
                Disposition.RETRY,
                System.HUBSPOT,
                f"network error ({type(exc).__name__})",
                code="NETWORK",
                object_type=object_type,
            ) from exc


def _json_object(response: Any) -> dict[str, Any]:
    """The JSON object of an unread urllib3 response (an empty body is an empty object)."""
    try:
        body = response.data
    finally:
        response.release_conn()
    if not body:
        return {}
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise FatalApiError(System.HUBSPOT, "unexpected answer: not JSON") from exc
    if not isinstance(data, dict):
        raise FatalApiError(System.HUBSPOT, "unexpected answer shape")
    return data


def translate(
    status: int | None,
    body: object,
    headers: Mapping[str, str],
    *,
    search: bool = False,
    object_type: str = "",
) -> ApiError:
    facts = parse_hubspot_error(body)
    disposition = classify_hubspot(status, facts.code, facts.policy_name)
    return to_error(
        disposition,
        System.HUBSPOT,
        facts.message or "request failed",
        status=status,
        code=facts.policy_name or facts.code,
        object_type=object_type,
        retry_after=hubspot_retry_after(headers, facts.policy_name, search=search),
    )
