# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The playbooks of the docs run as written: every YAML block of docs/recipes.md, and the README's Use play.
The docsite's recipes page shows those very blocks.

Each runs with ``ansible-playbook -i localhost,`` and nothing else on its command line but the instance ID, as a
reader would run it; the connection comes from the environment variables the docs name, pointed at the emulator.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest
import yaml

from ansible_collections.hwcloud.dms.tests.functional.conftest import (
    ACCESS_KEY, INSTANCE_ID, PLAYBOOK_TIMEOUT, PROJECT_ID, REGION, SECRET_KEY, Playbook, scenario,
)


DOCS = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
YAML_BLOCK = re.compile(r"```yaml\n(.*?)```", re.DOTALL)
# A YAML code block of an RST page: its indented (or empty) lines.
RST_YAML_BLOCK = re.compile(r"^\.\. code-block:: yaml\n\n((?:(?: {4}.*)?\n)+)", re.MULTILINE)


def read(relative_path):
    with open(os.path.join(DOCS, relative_path), encoding="utf-8") as handle:
        return handle.read()


def yaml_blocks(relative_path):
    return [yaml.safe_load(block) for block in YAML_BLOCK.findall(read(relative_path))]


RECIPES = yaml_blocks("docs/recipes.md")
PLAY, RECIPE_TASKS = RECIPES[0][0], RECIPES[1:]


def recipe_id(tasks):
    return tasks[0]["name"]


def history():
    """A Kafka instance with a finished history; each write call starts a task that ends after a few seconds."""
    return scenario(tasks=[{"name": "kafkaConfigModify", "status": "SUCCESS", "created_offset": -3600},
                           {"name": "restartInstance", "status": "SUCCESS", "created_offset": -7200}],
                    write_tasks={call: {"timeline": [[0, "CREATED"], [0.5, "EXECUTING"], [3, "SUCCESS"]]}
                                 for call in ("modify_configs", "resize", "restart")})


def run_as_written(tmp_path, emulator, plays, name, kafka_id=INSTANCE_ID):
    path = tmp_path / ("%s.yml" % name)
    path.write_text(yaml.safe_dump(plays, sort_keys=False), encoding="utf-8")
    environment = Playbook(tmp_path, emulator)._environment({  # pylint: disable=protected-access
        "HW_DMS_ENDPOINT": emulator.url, "HUAWEICLOUD_SDK_AK": ACCESS_KEY, "HUAWEICLOUD_SDK_SK": SECRET_KEY,
        "HUAWEICLOUD_SDK_PROJECT_ID": PROJECT_ID,
    })
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", str(path), "-e", "kafka_id=%s" % kafka_id]
    completed = subprocess.run(command, cwd=str(tmp_path), env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=PLAYBOOK_TIMEOUT, check=False)
    return completed.returncode, completed.stdout.decode("utf-8", errors="replace")


def test_the_recipes_play_names_its_connection_and_the_region():
    assert PLAY["connection"] == "local" and PLAY["module_defaults"]["group/hwcloud.dms.dms"] == {"region": REGION}


def test_the_docsite_shows_the_recipes_as_they_run():
    """docs/docsite/rst/recipes.rst is rendered from docs/recipes.md: its YAML must stay the text these tests run."""
    shown = [textwrap.dedent(block.rstrip("\n") + "\n") for block in RST_YAML_BLOCK.findall(read("docs/docsite/rst/recipes.rst"))]
    assert shown == YAML_BLOCK.findall(read("docs/recipes.md"))


@pytest.mark.parametrize("tasks", RECIPE_TASKS, ids=recipe_id)
def test_each_recipe_runs_as_written(tmp_path, emulator, tasks):
    emulator.load(history())
    returncode, output = run_as_written(tmp_path, emulator, [dict(PLAY, tasks=tasks)], "recipe")
    assert returncode == 0, output
    assert "failed=0" in output and "unreachable=0" in output
    assert SECRET_KEY not in output


def test_the_recipe_for_a_gone_instance_tells_gone_from_a_wrong_url(tmp_path, emulator):
    """As written it takes DMS's 404 for "gone" and fails on the gateway's (a wrong endpoint)."""
    [read] = [tasks for tasks in RECIPE_TASKS if recipe_id(tasks) == "The instance, or a 404 if it is gone"]
    emulator.load(scenario())
    play = dict(PLAY, tasks=read + [{"name": "Say it", "ansible.builtin.debug": {"msg": "gone={{ instance_gone }}"}}])
    returncode, output = run_as_written(tmp_path, emulator, [play], "gone", kafka_id="99999999-9999-9999-9999-999999999999")
    assert returncode == 0 and "gone=True" in output, output
    wrong = dict(play, module_defaults={"group/hwcloud.dms.dms": {"region": REGION, "endpoint": emulator.url + "/wrong"}})
    returncode, output = run_as_written(tmp_path, emulator, [wrong], "wrong")
    assert returncode != 0 and "HTTP 404 APIG.0101: not an answer about the instance" in output, output


def test_the_report_recipe_writes_one_summary_of_the_change(tmp_path, emulator):
    [report] = [tasks for tasks in RECIPE_TASKS if recipe_id(tasks) == "Change the log retention once the instance is free, and wait for it"]
    emulator.load(history())
    returncode, output = run_as_written(tmp_path, emulator, [dict(PLAY, tasks=report)], "report")
    assert returncode == 0, output
    [change] = json.loads((tmp_path / "dms-changes.json").read_text(encoding="utf-8"))
    assert (change["instance_id"], change["method"], change["task_name"], change["status"]) == (INSTANCE_ID, "PUT", "kafkaConfigModify", "SUCCESS")
    assert change["job_id"] and change["request_ids"] and change["sent_at"] and change["ended_at"] and change["blocked_by"] == []


@pytest.mark.edge_cores
def test_the_readme_use_play_runs_as_written(tmp_path, emulator):
    [use] = [block for block in yaml_blocks("README.md") if isinstance(block, list) and block[0].get("hosts")]
    emulator.load(history())
    returncode, output = run_as_written(tmp_path, emulator, use, "use")
    assert returncode == 0, output
    assert "failed=0" in output and "unreachable=0" in output
