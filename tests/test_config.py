"""Settings: loaded once from the environment and flags, every number checked before anything is
written, and each stage handed only its part."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from pathlib import Path

import pytest

from archiver.config import DEFAULT_MEMENTO_AGGREGATOR, Settings
from archiver.errors import ConfigError
from archiver.models import BrowserMode, RotPolicy


def test_flags_win_over_the_environment_which_wins_over_the_defaults():
    assert Settings.load(environ={}).concurrency == 16
    assert Settings.load(environ={"ARCHIVER_CONCURRENCY": "4"}).concurrency == 4
    assert Settings.load(environ={"ARCHIVER_CONCURRENCY": "4"}, concurrency=8).concurrency == 8
    assert Settings.load(environ={"ARCHIVER_CONCURRENCY": "4"}, concurrency=None).concurrency == 4  # no flag given
    assert Settings.load(environ={"ARCHIVER_DATA_DIR": "/srv/x", "ARCHIVER_CONCURRENCY": ""}).data_dir == Path("/srv/x")


@pytest.mark.parametrize(
    "raw,size",
    [("10485760", 10 * 2**20), ("10M", 10 * 2**20), ("512k", 512 * 1024), ("2MiB", 2 * 2**20), ("1G", 2**30)],
)
def test_body_sizes_are_read_with_their_units(raw, size):
    assert Settings.load(environ={"ARCHIVER_MAX_BODY": raw}).max_body_bytes == size


def test_private_addresses_are_refused_unless_allowed_by_network():
    assert not Settings.load(environ={}).allow_all_private
    assert Settings.load(environ={"ARCHIVER_ALLOW_PRIVATE": "1"}).allow_all_private
    loaded = Settings.load(environ={"ARCHIVER_ALLOW_PRIVATE": "127.0.0.1/32, 10.0.0.0/8"})
    assert loaded.allow_networks == (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.0.0.0/8"))
    with pytest.raises(ConfigError, match="ARCHIVER_ALLOW_PRIVATE='localhost': 'localhost' is neither 1/0 nor an IP"):
        Settings.load(environ={"ARCHIVER_ALLOW_PRIVATE": "localhost"})


def test_moving_the_wayback_machine_moves_every_archive_and_turns_the_aggregator_off():
    public = Settings.load(environ={})
    assert public.memento_endpoints == (DEFAULT_MEMENTO_AGGREGATOR,)
    local = Settings.load(environ={"ARCHIVER_WAYBACK_URL": "http://127.0.0.1:9/"})
    assert local.wayback_url == local.archive_url == "http://127.0.0.1:9" and local.memento_endpoints == ()
    named = Settings.load(
        environ={"ARCHIVER_WAYBACK_URL": "http://127.0.0.1:9", "ARCHIVER_MEMENTO_AGGREGATOR": "http://a.test/timegate/"}
    )
    assert named.memento_endpoints == ("http://a.test/timegate/",)


@pytest.mark.parametrize(
    "variable,value,message",
    [
        ("ARCHIVER_WORKERS", "5000", "workers (ARCHIVER_WORKERS) must be a finite number from 0 up to 256, got 5000"),
        ("ARCHIVER_ROT_DAYS", "-1", "ARCHIVER_ROT_DAYS='-1': must be a positive number"),
        ("ARCHIVER_TIMEOUT", "inf", "ARCHIVER_TIMEOUT='inf': must be a finite number"),
        ("ARCHIVER_WAYBACK", "maybe", "ARCHIVER_WAYBACK='maybe': must be 1 or 0"),
        ("ARCHIVER_BROWSER", "sometimes", "ARCHIVER_BROWSER='sometimes': must be never, auto or always"),
        ("ARCHIVER_WAYBACK_URL", "ftp://x", "must be an http:// or https:// URL"),
    ],
)
def test_a_bad_value_names_the_variable_and_what_it_must_be(variable, value, message):
    with pytest.raises(ConfigError) as info:
        Settings.load(environ={variable: value})
    assert message in str(info.value)


def test_an_unknown_setting_is_refused():
    with pytest.raises(ConfigError, match="unknown setting 'concurrencyy'"):
        Settings.load(environ={}, concurrencyy=3)


def test_each_stage_is_given_only_its_part():
    settings = Settings.load(
        environ={"ARCHIVER_IA_ACCESS": "ACCESS", "ARCHIVER_IA_SECRET": "SECRET", "ARCHIVER_ROT_DAYS": "5"},
        workers=3,
        extract_timeout=7.0,
        max_body_bytes=1000,
        browser=BrowserMode.NEVER,
    )
    fetch = settings.fetch_settings
    assert (fetch.max_body_bytes, fetch.total_timeout, fetch.user_agent) == (1000, 60.0, settings.user_agent)
    assert (settings.extract_settings.workers, settings.extract_settings.timeout) == (3, 7.0)
    assert settings.rot_policy == RotPolicy(3, timedelta(days=5))
    archive = settings.archive_settings
    assert archive.keys and archive.fetch == fetch and archive.extract == settings.extract_settings
    assert "SECRET" not in repr(archive) and "ACCESS" not in repr(archive)  # the keys are never logged
    browser = settings.browser_settings
    assert browser.mode == BrowserMode.NEVER and browser.fetch == fetch and browser.pages == 2


def test_one_worker_per_core_unless_told():
    assert Settings.load(environ={}).extract_settings.workers >= 1
    assert Settings.load(environ={"ARCHIVER_WORKERS": "2"}).extract_settings.workers == 2
