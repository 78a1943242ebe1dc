"""URLs: the canonical form two citations of one page share, when two URLs name the same page, what
makes a URL unfetchable as written, and what looks mangled in a cited one."""

from __future__ import annotations

import pytest

from archiver.urls import canonical, host_of, is_http_url, mangled, same_page, tracking_params, why_unfetchable


@pytest.mark.parametrize(
    "url,form",
    [
        ("HTTPS://News.Example.COM:443/a?utm_source=x&id=3#top", "https://news.example.com/a?id=3"),
        ("http://example.com:80", "http://example.com/"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com/a?mod=article_inline&fbclid=1&_ga=2&ref=home", "https://example.com/a"),
        ("https://example.com/a?q=&page=2", "https://example.com/a?q=&page=2"),  # blank values are content
    ],
)
def test_the_canonical_form_drops_what_never_selects_content(url, form):
    assert canonical(url) == form


def test_same_page_ignores_scheme_www_tracking_and_a_trailing_slash():
    assert same_page("http://www.example.com/a/", "https://example.com/a?utm_medium=x")
    assert not same_page("https://example.com/a", "https://example.com/b")
    assert not same_page("https://example.com/a?id=1", "https://example.com/a?id=2")


def test_tracking_parameters_are_named_in_order():
    assert tracking_params("https://a.example/x?utm_source=s&id=1&fbclid=f&pk_campaign=c") == [
        "utm_source",
        "fbclid",
        "pk_campaign",
    ]


@pytest.mark.parametrize(
    "url,problem",
    [
        ("https://example.com/a", ""),
        ("https://[2001:db8::1]:8443/a", ""),
        ("ftp://example.com/a", "is not an absolute http:// or https:// URL"),
        ("/relative/path", "is not an absolute http:// or https:// URL"),
        ("https://example.com/a b", "contains spaces"),
        ("https://example.com/a\x00", "contains the control character '\\x00'"),
        ("https://example.com:0/", "has a port that is not a number from 1 to 65535"),
        ("https://example.com:99999/", "has a port that is not a number from 1 to 65535"),
        ("https://" + "a" * 254 + ".com/", "has a host name longer than 253 characters"),
        ("https://example.com/" + "x" * 8200, "is longer than 8192 characters"),
    ],
)
def test_what_makes_a_url_unfetchable_as_written_is_named(url, problem):
    assert why_unfetchable(url) == problem


def test_only_absolute_http_urls_with_a_host_are_fetched():
    assert is_http_url("https://example.com") and not is_http_url("https:///path") and not is_http_url("mailto:x@y")
    assert host_of("https://News.Example.com:8080/a") == "news.example.com" and host_of("http://[::1") == ""


@pytest.mark.parametrize(
    "url,problem,suggestion",
    [
        ("https://example.com/story.html", "", ""),
        ("https://example.com/story.html).", "stray ')." + "' after the page name", "https://example.com/story.html"),
        ("www.example.com/a", "missing scheme", "https://www.example.com/a"),
        ("https//example.com/a", "broken scheme", "https://example.com/a"),
        ("https://https://example.com/a", "doubled scheme", "https://example.com/a"),
        ("12https://example.com/a", "footnote number 12 glued before it", "https://example.com/a"),
        ("https://example.com/story.html3", "footnote number 3 glued after it", "https://example.com/story.html"),
        ("https://example.com/a b", "contains spaces", "https://example.com/ab"),
        ("https://en.wikipedia.org/wiki/Foo_(bar)", "", ""),  # a closing bracket that has its opening one
    ],
)
def test_a_mangled_url_is_named_with_a_suggestion(url, problem, suggestion):
    found, fixed = mangled(url)
    assert problem in found and fixed == suggestion
    assert bool(found) == bool(problem)
