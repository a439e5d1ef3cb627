"""Host labels from URIs, and the replay backend's file handling."""

from __future__ import annotations

from pathlib import Path

import pytest

from virtui.backends import BackendError, host_label, open_backend, unique_labels
from virtui.backends.replay import save_recording
from virtui.model import DomainKey, DomainSample, DomainState, HostInfo, HostPoll


@pytest.mark.parametrize(
    ("uri", "label"),
    [
        ("qemu+ssh://admin@h1/system", "h1"),
        ("qemu+tcp://10.0.0.5/system", "10.0.0.5"),
        ("qemu:///system", "localhost"),
        ("qemu:///embed?root=/var/tmp/x", "embed"),
        ("test:///default", "test"),
        ("replay:///tmp/rec/web.json", "web"),
    ],
)
def test_host_label(uri: str, label: str) -> None:
    assert host_label(uri) == label


def test_unique_labels_number_clashes() -> None:
    assert unique_labels(["test:///a", "test:///b", "qemu:///system"]) == [
        "test",
        "test#2",
        "localhost",
    ]


def _poll(t: int, cpu: int) -> HostPoll:
    host = HostInfo("h", "test:///x", "h", "TEST", 2, 1024)
    sample = DomainSample(DomainKey("h", "u"), "web", DomainState.RUNNING, 1, 1, 1, cpu, (), 3)
    return HostPoll(host, t, 1.0, (sample,))


def test_replay_round_trip_and_loop_is_a_new_run(tmp_path: Path) -> None:
    path = tmp_path / "rec.json"
    save_recording([_poll(0, 0), _poll(10, 5)], path)
    backend = open_backend(f"replay://{path}", "rec")
    info = backend.connect()
    assert info.name == "rec"
    first, second, looped = backend.poll(), backend.poll(), backend.poll()
    assert second.domains[0].cpu_time_ns == 5
    assert looped.monotonic_ns > second.monotonic_ns
    assert looped.domains[0].run_id != first.domains[0].run_id


def test_replay_of_a_broken_file_is_a_readable_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(BackendError, match="cannot replay"):
        open_backend(f"replay://{path}", "x").connect()


@pytest.mark.parametrize(
    ("uri", "opened"),
    [
        ("qemu+ssh://admin@h1/system", "qemu+ssh://admin@h1/system?no_tty=1"),
        (
            "qemu+ssh://h1/system?keyfile=/root/.ssh/k",
            "qemu+ssh://h1/system?keyfile=/root/.ssh/k&no_tty=1",
        ),
        ("qemu+ssh://h1/system?no_tty=0", "qemu+ssh://h1/system?no_tty=0"),  # user's choice
        ("qemu+tls://h1/system", "qemu+tls://h1/system"),
        ("qemu:///system", "qemu:///system"),
    ],
)
def test_ssh_is_never_allowed_to_prompt_on_the_tui_terminal(uri: str, opened: str) -> None:
    from virtui.backends.libvirt.connections import without_prompts

    assert without_prompts(uri) == opened


def test_prometheus_entries_are_named_after_their_target() -> None:
    from virtui.backends.prometheus.backend import PrometheusBackend

    uri = "prometheus+http://prom:9090/?instance=h1:9177&cpus=32&via=h1"
    assert host_label(uri) == "h1:9177@prom"
    backend = PrometheusBackend(uri, host_label(uri))
    assert (backend.base_url, backend.labels) == ("http://prom:9090", {"instance": "h1:9177"})
    assert (backend.cpus, backend.actions_via) == (32, "h1")
    assert not backend.capabilities.mutations and backend.capabilities.cpu_history
