"""The boundary to simple-salesforce: one place that builds the SDK client, applies the budget
and the retry policy, re-authenticates once on ``INVALID_SESSION_ID``, and translates every
vendor or network exception into :mod:`connector.errors`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceError

from connector.crm.auth import SalesforceAuthenticator, SalesforceToken
from connector.crm.budget import SalesforceBudget
from connector.crm.dispositions import (
    Disposition,
    classify_salesforce,
    parse_salesforce_error,
    retry_after_header,
    to_error,
)
from connector.crm.retry import Retrier
from connector.errors import ApiError, AuthError, System
from connector.settings import SalesforceSettings
from connector.stopping import Stop

if TYPE_CHECKING:
    from requests.sessions import _Settings

__all__ = ["SalesforceClient", "raise_for_response"]

T = TypeVar("T")

logger = logging.getLogger(__name__)

_NETWORK = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


class _Session(requests.Session):
    """A session with a default timeout, whose CA bundle wins over ``REQUESTS_CA_BUNDLE``.

    requests lets those variables override ``Session.verify`` (psf/requests#3829), which would
    silently ignore ``CRMSYNC_SALESFORCE__CA_BUNDLE``. Proxies from the environment still apply.
    """

    def __init__(self, ca_bundle: str | None, timeout: float | None = None) -> None:
        super().__init__()
        self._ca_bundle = ca_bundle
        self._timeout = timeout
        if ca_bundle:
            self.verify = ca_bundle

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        # simple-salesforce sets no timeout; a hung connection must not hang the run.
        if self._timeout is not None and kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().request(method, url, *args, **kwargs)

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> _Settings:
        merged = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if self._ca_bundle and verify in (True, None):
            merged["verify"] = self._ca_bundle
        return merged


class SalesforceClient:
    """A simple-salesforce client for one run, rebuilt whenever the session is renewed."""

    def __init__(
        self,
        settings: SalesforceSettings,
        authenticator: SalesforceAuthenticator,
        budget: SalesforceBudget,
        retrier: Retrier,
        *,
        stop: Stop | None = None,
    ) -> None:
        self.settings = settings
        self._stop = stop or Stop()
        self.version = settings.api_version
        self.timeout = settings.timeout_seconds
        self.retrier = retrier
        self._auth = authenticator
        self._budget = budget
        self._lock = threading.Lock()
        self._http = _Session(
            str(settings.ca_bundle) if settings.ca_bundle else None, settings.timeout_seconds
        )
        self._http.hooks["response"].append(self._observe)
        self._sf: Salesforce | None = None
        self._token: SalesforceToken | None = None

    def _observe(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._budget.observe(response.headers.get("Sforce-Limit-Info"))

    def _current(self) -> tuple[Salesforce, SalesforceToken]:
        with self._lock:
            if self._sf is None or self._token is None:
                token = self._retry(self._auth.token)
                self._sf = Salesforce(
                    session_id=token.access_token.get_secret_value(),
                    instance_url=token.instance_url,
                    version=self.version,
                    session=self._http,
                )
                self._token = token
            return self._sf, self._token

    def _renew(self, stale: SalesforceToken) -> None:
        token = self._retry(lambda: self._auth.reauthenticate(stale))
        with self._lock:
            if self._token is stale or self._token != token:
                self._sf = None
                self._token = None
        logger.info("Salesforce session renewed after INVALID_SESSION_ID")

    def _retry(self, fn: Callable[[], T]) -> T:
        return self.retrier.call(fn)

    def call(self, fn: Callable[[Salesforce], T], *, object_type: str = "") -> T:
        """``fn(sdk)`` under the budget and the retry policy, re-authenticating once."""
        renewed = False
        while True:
            _, token = self._current()
            try:
                return self._retry(lambda: self._once(fn, object_type))
            except AuthError as exc:
                if renewed or exc.code != "INVALID_SESSION_ID":
                    raise
                renewed = True
                self._renew(token)

    def _once(self, fn: Callable[[Salesforce], T], object_type: str) -> T:
        sf, _ = self._current()
        # Checked before every attempt: a stop lets the call in flight finish, makes no other.
        self._stop.check()
        self._budget.before_call()
        try:
            return fn(sf)
        except SalesforceError as exc:
            raise _translate(exc.status, exc.content, {}, object_type) from exc
        except _NETWORK as exc:
            raise to_error(
                Disposition.RETRY,
                System.SALESFORCE,
                f"network error ({type(exc).__name__})",
                code="NETWORK",
                object_type=object_type,
            ) from exc

    def raw(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A request the SDK has no method for (Bulk 2.0 CSV results), same boundary rules."""

        extra_headers = kwargs.pop("headers", {})

        def send(sf: Salesforce) -> requests.Response:
            url = f"https://{sf.sf_instance}/services/data/v{self.version}/{path}"
            headers = {**sf.headers, **extra_headers}
            try:
                response = self._http.request(
                    method, url, headers=headers, timeout=self.timeout, **kwargs
                )
            except _NETWORK as exc:
                raise to_error(
                    Disposition.RETRY,
                    System.SALESFORCE,
                    f"network error ({type(exc).__name__})",
                    code="NETWORK",
                ) from exc
            raise_for_response(response)
            return response

        return self.call(send)


def raise_for_response(response: requests.Response, object_type: str = "") -> None:
    if response.status_code < 300:
        return
    raise _translate(response.status_code, response.content, response.headers, object_type)


def _translate(status: int | None, content: object, headers: Any, object_type: str) -> ApiError:
    facts = parse_salesforce_error(content)
    disposition = classify_salesforce(status, facts.code, facts.message)
    message = facts.message or "request failed"
    return to_error(
        disposition,
        System.SALESFORCE,
        message,
        status=status,
        code=facts.code,
        object_type=object_type,
        retry_after=retry_after_header(headers) if headers else None,
    )
