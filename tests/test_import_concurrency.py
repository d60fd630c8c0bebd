"""Two administrators, one folder: imports are serialised over the folder by a lock a crash cannot leave
behind, an import checked against files that changed since is refused rather than lose rows, a batch
publishes all its files or none, a roll back undoes exactly the import it names (refused while a later
one changed the same extracts), ids are readable, and publishing and rolling back are audited."""

import json
import shutil
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest

from dashboard import audit, ingest
from tests.apptest import open_page, rerun, start

PROJECT = ingest.Path(__file__).resolve().parent.parent


@pytest.fixture
def folder(tmp_path, sample_dir):
    target = tmp_path / "data"
    shutil.copytree(sample_dir, target)
    return target


def _incidents(tmp_path, folder, prefix: str, n: int = 3):
    wing = pd.read_parquet(folder / "wings.parquet").query("prison_id == 'WSI'")["wing_id"].iloc[0]
    (tmp_path / prefix).mkdir(exist_ok=True)
    path = tmp_path / prefix / "incidents.csv"  # named after its table
    path.write_text("incident_id,prison_id,wing_id,occurred_on,incident_type,serious\n"
                    + "".join(f"{prefix}{i},WSI,{wing},0{i + 1}/04/2024,self_harm,no\n" for i in range(n)))
    return path


def _wings(tmp_path, folder, capacity: int):
    wings = pd.read_parquet(folder / "wings.parquet").head(1).assign(capacity=capacity)
    (tmp_path / f"wings{capacity}").mkdir(exist_ok=True)
    path = tmp_path / f"wings{capacity}" / "wings.csv"
    wings.to_csv(path, index=False)
    return path


def _ids(folder) -> set[str]:
    return set(pd.read_parquet(folder / "incidents.parquet")["incident_id"])


def test_an_import_checked_before_another_was_published_is_refused_not_lost(folder, tmp_path):
    first = ingest.plan_import(folder, [(_incidents(tmp_path, folder, "A"), None)])
    second = ingest.plan_import(folder, [(_incidents(tmp_path, folder, "B"), None)])  # both checked against the same files
    ingest.publish(first)
    before = (folder / "incidents.parquet").read_bytes()
    with pytest.raises(ingest.ImportRefused, match="incidents changed since these files were checked"):
        ingest.publish(second)
    assert (folder / "incidents.parquet").read_bytes() == before  # nothing written
    ingest.publish(ingest.plan_import(folder, [(_incidents(tmp_path, folder, "B"), None)]))  # checked again: both kept
    assert {"A0", "A1", "A2", "B0", "B1", "B2"} <= _ids(folder)


def test_imports_of_other_extracts_do_not_refuse_each_other(folder, tmp_path):
    incidents = ingest.plan_import(folder, [(_incidents(tmp_path, folder, "A"), None)])
    wings = ingest.plan_import(folder, [(_wings(tmp_path, folder, 77), None)])
    ingest.publish(incidents)
    ingest.publish(wings)
    assert {"A0"} <= _ids(folder) and 77 in set(pd.read_parquet(folder / "wings.parquet")["capacity"])


@pytest.mark.parametrize("imports", [2, 4])
def test_command_line_imports_at_once_wait_their_turn_and_every_row_is_kept(folder, tmp_path, imports):
    files = [_incidents(tmp_path, folder, f"P{n}x") for n in range(imports)]
    runs = [subprocess.Popen([sys.executable, "-m", "dashboard.ingest", "--data", str(folder), str(f)], cwd=PROJECT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for f in files]
    outcomes = [run.communicate(timeout=300) + (run.returncode,) for run in runs]
    assert [code for _, _, code in outcomes] == [0] * imports, outcomes
    assert {f"P{n}x{i}" for n in range(imports) for i in range(3)} <= _ids(folder)
    assert len(ingest.history_entries(folder)) == imports


def test_two_sessions_of_one_server_publishing_at_once_are_serialised(folder, tmp_path):
    """Threads of one process (two administrators on one server) wait for each other as processes do."""
    plans = [ingest.plan_import(folder, [(_incidents(tmp_path, folder, p), None)]) for p in ("T", "U")]
    order, held = [], threading.Event()

    def hold_lock():
        with ingest.folder_lock(folder):
            held.set()
            time.sleep(1.0)
            order.append("first done")

    holder = threading.Thread(target=hold_lock)
    holder.start()
    held.wait()
    ingest.publish(plans[0])  # waits until the other thread lets go
    order.append("published")
    holder.join()
    assert order == ["first done", "published"]
    with pytest.raises(ingest.ImportRefused):  # and the second plan, checked before, is refused, not lost
        ingest.publish(plans[1])


def test_a_lock_whose_holder_crashed_is_free(folder):
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from dashboard import ingest\n"
                               f"with ingest.folder_lock(ingest.Path({str(folder)!r})):\n print('held', flush=True); time.sleep(600)"],
                              cwd=PROJECT, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    # held: refused after waiting
    with pytest.raises(ingest.ImportRefused, match="another import or roll back is running"), ingest.folder_lock(folder, wait=0.5):
        pass
    holder.kill()  # a crash: no chance to let go
    holder.wait()
    with ingest.folder_lock(folder, wait=5):  # the system let go for it
        pass


def test_a_batch_with_an_unreadable_file_publishes_none_of_it(folder, tmp_path, capsys):
    good = _incidents(tmp_path, folder, "G")
    bad = tmp_path / "wings.xlsx"
    bad.write_bytes(b"PK\x03\x04 not a workbook")
    before = (folder / "incidents.parquet").read_bytes()
    assert ingest.main(["--data", str(folder), str(good), str(bad)]) == 2
    assert "publishes all its files or none" in capsys.readouterr().out
    assert (folder / "incidents.parquet").read_bytes() == before and not ingest.history_entries(folder)
    plan = ingest.plan_import(folder, [(good, None), (bad, None)])
    with pytest.raises(ingest.ImportRefused, match="none of it is published"):  # the Import page's way too
        ingest.publish(plan)


def test_a_roll_back_undoes_exactly_the_import_it_names_and_waits_for_later_ones(folder, tmp_path, capsys):
    original = {t: (folder / f"{t}.parquet").read_bytes() for t in ("incidents", "wings")}
    assert ingest.main(["--data", str(folder), str(_incidents(tmp_path, folder, "A"))]) == 0
    assert ingest.main(["--data", str(folder), str(_wings(tmp_path, folder, 77))]) == 0
    assert ingest.main(["--data", str(folder), str(_incidents(tmp_path, folder, "C"))]) == 0
    first, wings, third = ingest.history_entries(folder)
    assert [e.name.rsplit("#", 1)[1] for e in (first, wings, third)] == ["1", "2", "3"]  # readable, in order
    assert "incidents (3 added, 0 updated)" in first.describe() and "(command line)" in first.describe()

    assert ingest.main(["--data", str(folder), "--rollback", first.name]) == 1  # the third import changed incidents since
    assert f"the later import {third.name} changed incidents" in capsys.readouterr().err
    assert ingest.main(["--data", str(folder), "--rollback", wings.name]) == 0  # nothing later touched wings
    assert (folder / "wings.parquet").read_bytes() == original["wings"] and {"A0", "C0"} <= _ids(folder)
    assert ingest.main(["--data", str(folder), "--rollback", third.name]) == 0
    assert "A0" in _ids(folder) and "C0" not in _ids(folder)
    assert ingest.main(["--data", str(folder), "--rollback", first.name]) == 0
    assert (folder / "incidents.parquet").read_bytes() == original["incidents"]
    assert ingest.main(["--data", str(folder), "--rollback", "no such import"]) == 1
    assert ingest.main(["--data", str(folder), "--rollback"]) == 1  # nothing left
    events, _ = audit.read()
    done = events[events["event"].isin(["import_published", "import_rolled_back"])]
    assert {(e, i) for e, i in zip(done["event"], done["import_id"])} >= {
        ("import_published", first.name), ("import_published", third.name), ("import_rolled_back", first.name),
        ("import_rolled_back", wings.name)}


def test_the_import_page_rolls_back_the_chosen_import_audits_it_and_no_longer_offers_it(monkeypatch, folder, tmp_path):
    assert ingest.main(["--data", str(folder), str(_incidents(tmp_path, folder, "A"))]) == 0
    assert ingest.main(["--data", str(folder), str(_incidents(tmp_path, folder, "B"))]) == 0
    first, second = ingest.history_entries(folder)
    at = open_page(start(monkeypatch, data_dir=folder), "app_pages/import_data.py")
    (choice,) = [s for s in at.selectbox if s.key == "rollback_import"]
    assert choice.options[0].startswith(second.name)  # newest first, as described
    choice.set_value(first.name)
    at = rerun(at)
    at = rerun(next(b for b in at.button if b.label == "Roll back this import").click())
    assert any(f"the later import {second.name} changed incidents" in e.value.replace("\u200b", "").replace("&#35;", "#")
               or "cannot be rolled back" in e.value for e in at.error)
    assert {"A0", "B0"} <= _ids(folder)
    (choice,) = [s for s in at.selectbox if s.key == "rollback_import"]
    choice.set_value(second.name)
    at = rerun(next(b for b in at.button if b.label == "Roll back this import").click())
    assert "B0" not in _ids(folder) and any("Rolled back import" in s.value for s in at.success)
    (choice,) = [s for s in at.selectbox if s.key == "rollback_import"]
    assert choice.options == [first.describe()]  # the undone one is no longer offered
    trail = [json.loads(line) for line in audit.audit_file().read_text().splitlines()]
    assert any(line["event"] == "import_rolled_back" and line["import_id"] == second.name for line in trail)
