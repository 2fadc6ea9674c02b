from __future__ import annotations

import pytest

from connector.masking import embedded_credentials, mask_url, mask_urls_in, url_secrets

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        # Passwords always go; an account-like user name stays.
        ("postgresql+psycopg://crm:hunter2@db/crm", "postgresql+psycopg://crm:****@db/crm"),
        ("https://:hunter2@host/", "https://:****@host/"),
        # SQLAlchemy accepts an unescaped "/" in a password; it is still a password.
        ("postgresql://crm:ab/cd@db/crm", "postgresql://crm:****@db/crm"),
        # A user name that looks like a token is masked too.
        (f"https://{TOKEN}@api.hubapi.com/", "https://****@api.hubapi.com/"),
        ("https://ada%40example.com@host/", "https://****@host/"),
        ("https://integration.user@host/", "https://integration.user@host/"),
        # Secret-looking query and fragment parameters lose their values, not their names.
        (
            "https://api.hubapi.com/?hapikey=abc&limit=10&Access_Token=x#sig=y",
            "https://api.hubapi.com/?hapikey=****&limit=10&Access_Token=****#sig=****",
        ),
        ("https://h/?client%5Fsecret=zz", "https://h/?client%5Fsecret=****"),
        # Nothing secret: unchanged, byte for byte.
        ("sqlite:///.crmsync/state.db", "sqlite:///.crmsync/state.db"),
        ("https://host:443/people/a@b.example", "https://host:443/people/a@b.example"),
        ("https://h/?token=&page=1#top", "https://h/?token=&page=1#top"),
        ("not a url", "not a url"),
    ],
)
def test_mask_url(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_url_secrets_lists_what_mask_url_hides() -> None:
    url = f"https://{TOKEN}@h/?key=a%2Fb&page=2"
    assert url_secrets(url) == sorted([TOKEN, "a%2Fb", "a/b"])
    assert url_secrets("https://crm@h/?page=2") == []


def test_embedded_credentials_names_them_without_values() -> None:
    assert embedded_credentials("https://u:p4ss@h/?password=x#access_token=y") == [
        "a user name and password",
        "the query parameter 'password'",
        "the fragment parameter 'access_token'",
    ]
    assert embedded_credentials("https://crm@h/") == ["a user name"]
    assert embedded_credentials("https://login.salesforce.com/") == []


def test_mask_urls_in_text_keeps_the_sentence() -> None:
    assert mask_urls_in("at (postgresql://a:b@c/d), then https://h/?key=v.") == (
        "at (postgresql://a:****@c/d), then https://h/?key=****."
    )
