"""A workbook's declared size is never trusted: a stale dimension does not cut rows off, a vast one
does not pad every row to 16,384 cells, and what is more than an import takes (file size, rows, cells,
one cell's length) is refused with a clear message naming it, in bounded memory, never a crash."""

import io
import re
import subprocess
import sys
import zipfile

import openpyxl
import pytest

from dashboard import ingest

PROJECT = ingest.Path(__file__).resolve().parent.parent
HEADER = ["wing_id", "prison_id", "wing_name", "capacity"]


def _workbook(rows: int, dimension: str | None = None, far_cell: str | None = None) -> bytes:
    """A wings sheet of `rows` rows; its stored dimension replaced by `dimension`; a value put in `far_cell`."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "wings"
    sheet.append(HEADER)
    for i in range(rows):
        sheet.append([f"W{i}", "WSI", f"Wing {i}", 40])
    if far_cell:
        sheet[far_cell] = "x"
    buffer = io.BytesIO()
    book.save(buffer)
    if dimension is None:
        return buffer.getvalue()
    source, out = zipfile.ZipFile(buffer), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data, replaced = re.subn(rb'<dimension ref="[^"]*" ?/>', f'<dimension ref="{dimension}"/>'.encode(), data)
                assert replaced == 1
            target.writestr(item, data)
    return out.getvalue()


@pytest.mark.parametrize("dimension", ["A1:E3", "A1:A1", "A1:D2"])
def test_a_stale_dimension_loses_no_row(dimension):
    (sheet,) = ingest.read_sheets(ingest.Path("wings.xlsx"), _workbook(500, dimension))
    assert [cells[0] for _, cells in sheet.rows[1:]] == [f"W{i}" for i in range(500)]
    assert sheet.rows[-1][0] == 501  # row numbers as the spreadsheet shows them


@pytest.mark.parametrize("dimension", ["A1:XFD1048576", "A1:ALL100000", "B2:XFD1048576"])
def test_a_vast_declared_dimension_is_read_as_the_cells_really_are(dimension):
    (sheet,) = ingest.read_sheets(ingest.Path("wings.xlsx"), _workbook(20, dimension))
    assert len(sheet.rows) == 21 and max(len(cells) for _, cells in sheet.rows) == len(HEADER)


def test_reading_a_sheet_that_declares_the_whole_grid_stays_small():
    """In a fresh process: the whole-grid dimension costs nothing (it would need about 137 GB padded)."""
    script = ("import resource, sys; from dashboard import ingest; from tests.test_hostile_workbooks import _workbook\n"
              "data = _workbook(2000, 'A1:XFD1048576')\n"
              "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
              "(sheet,) = ingest.read_sheets(ingest.Path('wings.xlsx'), data)\n"
              "print(len(sheet.rows), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)")
    rows, grown_kb = subprocess.run([sys.executable, "-c", script], cwd=PROJECT, capture_output=True, text=True, check=True,
                                    timeout=300).stdout.split()
    assert int(rows) == 2001 and int(grown_kb) < 200 * 1024


def test_a_cell_far_to_the_right_pads_only_its_own_row():
    (sheet,) = ingest.read_sheets(ingest.Path("wings.xlsx"), _workbook(50, far_cell="XFD30"))
    widths = [len(cells) for _, cells in sheet.rows]
    assert widths.count(16384) == 1 and max(w for w in widths if w != 16384) == len(HEADER)


@pytest.mark.parametrize("limit, value, told", [
    ("MAX_ROWS", 100, "more than 100 rows"),
    ("MAX_CELLS", 300, "more than 300 cells"),
    ("MAX_FILE_BYTES", 1000, "more than an import takes (0 MB)"),
])
def test_more_than_an_import_takes_is_refused_naming_the_limit(monkeypatch, tmp_path, capsys, sample_dir, limit, value, told):
    import shutil

    monkeypatch.setattr(ingest, limit, value)
    path = tmp_path / "wings.xlsx"
    path.write_bytes(_workbook(150))
    with pytest.raises(ingest.Unreadable, match=re.escape(told)):
        ingest.read_sheets(path)
    folder = tmp_path / "data"
    shutil.copytree(sample_dir, folder)
    assert ingest.main(["--data", str(folder), str(path)]) == 2  # the command line: a clear refusal, exit 2
    assert told in capsys.readouterr().out


def test_a_cell_longer_than_a_spreadsheet_holds_is_refused_naming_row_and_column():
    """(A workbook cannot hold one: Excel stops at 32,767 characters, and openpyxl reads no more.)"""
    long = "x" * (ingest.MAX_CELL_CHARS + 1)
    data = ("wing_id,prison_id,wing_name,capacity\nW1,WSI,Wing 1,40\n" f"W2,WSI,{long},40\n").encode()
    with pytest.raises(ingest.Unreadable, match=r"row 3, column C: a cell of 32,768 characters"):
        ingest.read_sheets(ingest.Path("wings.csv"), data)
