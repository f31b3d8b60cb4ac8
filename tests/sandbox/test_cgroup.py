"""cgroup v2 detection and the per-submission group, on a fake cgroup tree (a real one
needs a host that delegates a group; `dlgrade doctor` says whether this one does)."""

from __future__ import annotations

from pathlib import Path

from grader.sandbox import cgroup


def _host(tmp_path: Path, controllers: str, enabled: str) -> tuple[str, str, Path]:
    mount = tmp_path / "cgroup"
    group = mount / "grader.slice"
    group.mkdir(parents=True)
    (group / "cgroup.controllers").write_text(controllers)
    (group / "cgroup.subtree_control").write_text(enabled)
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(f"30 23 0:26 / {mount} rw,nosuid - cgroup2 cgroup2 rw\n")
    own = tmp_path / "cgroup_file"
    own.write_text("0::/grader.slice\n")
    return str(mountinfo), str(own), group


def test_a_delegated_group_with_memory_and_pids_is_used(tmp_path):
    mountinfo, own, group = _host(tmp_path, "cpu memory pids", "memory pids")
    support = cgroup.detect(mountinfo, own, environ={})
    assert support.usable and support.parent == str(group)
    path = cgroup.create(support.parent, "job-1", 512 * 1024 * 1024, 32)
    assert (Path(path) / "memory.max").read_text() == str(512 * 1024 * 1024)
    assert (Path(path) / "pids.max").read_text() == "32"


def test_what_is_missing_is_said(tmp_path):
    mountinfo, own, _ = _host(tmp_path, "cpu", "")
    support = cgroup.detect(mountinfo, own, environ={})
    assert not support.usable and "memory/pids controller" in support.detail
    (tmp_path / "v1").write_text("30 23 0:26 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n")
    support = cgroup.detect(str(tmp_path / "v1"), own, environ={})
    assert not support.usable and "no cgroup v2" in support.detail

