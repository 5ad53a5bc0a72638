"""``journey map history`` and ``journey map reviewed``, as a user's shell runs them."""
from __future__ import annotations

import yaml

from mapping import default_map_text
from tests.cli.shell import journey


def test_history_lists_what_each_version_changed_and_reviewed_sets_the_next_due_date(env, tmp_path):
    first = tmp_path / "first.yaml"
    first.write_text(default_map_text())
    data = yaml.safe_load(default_map_text())
    data["stages"][1]["expected_days"] = 30
    data["review"] = {"every_days": 30}
    second = tmp_path / "second.yaml"
    second.write_text(yaml.safe_dump(data, sort_keys=False))
    assert "(First version)" in journey("map", "apply", "--workspace", str(first), "-m", "start",
                                        env=env).stdout
    saved = journey("map", "apply", "--workspace", str(second), "-m", "slower", env=env).stdout
    assert "workspace: map version 2 saved (1 expected days, 1 setting changed)" in saved
    lines = journey("map", "history", "--workspace", env=env).stdout.splitlines()
    assert [line.split("  ")[0] for line in lines] == ["v2", "v1"]
    assert lines[0].endswith("1 expected days, 1 setting changed  -- slower")
    assert lines[1].endswith("First version  -- start")
    marked = journey("map", "reviewed", "--workspace", env=env).stdout
    assert "workspace: the workspace map marked reviewed; next review due " in marked
    assert marked.rstrip().endswith("(every 30 days)")
    wrong = journey("map", "history", env=env, check=False)
    assert wrong.returncode != 0 and "give a CONNECTION or --workspace" in wrong.stderr
