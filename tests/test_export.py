"""The responsibility matrix agrees with the document, and both file forms round-trip."""

from __future__ import annotations

import csv
import io

import pytest

from assistant.document import load
from assistant.export import CO, LEAD, responsibility_matrix, to_csv, to_xlsx
from assistant.settings import REFERENCE_PLAN


@pytest.fixture(scope="module")
def document():
    return load(REFERENCE_PLAN)


@pytest.fixture(scope="module")
def matrix(document):
    return responsibility_matrix(document)


def test_shape_follows_document_order(document, matrix):
    assert matrix.units == tuple(document.units())
    assert matrix.tasks == tuple(f"任务{n}" for n in range(1, 86))
    assert all(len(row) == 85 for row in matrix.cells)


def test_each_task_has_exactly_one_lead_and_its_units(document, matrix):
    for j, task in enumerate(document.tasks):
        column = {unit: row[j] for unit, row in zip(matrix.units, matrix.cells, strict=True)}
        assert [u for u, v in column.items() if v == LEAD] == [task.lead_unit]
        assert {u for u, v in column.items() if v} == set(task.units)


def test_counts_match_document(document, matrix):
    total_cells = sum(len(t.units) for t in document.tasks)
    assert sum(1 for row in matrix.cells for v in row if v) == total_cells
    for unit in matrix.units:
        lead, co = matrix.counts(unit)
        assert lead == sum(1 for t in document.tasks if t.lead_unit == unit)
        assert co == sum(1 for t in document.tasks if unit in t.units[1:])
    # Known figures from the text: 市人力资源社会保障局 leads tasks 8-12, among others.
    lead, _ = matrix.counts("市人力资源社会保障局")
    assert lead >= 5


def test_csv_has_bom_and_round_trips(matrix):
    data = to_csv(matrix)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][0] == "责任单位" and rows[0][1] == "任务1" and rows[0][85] == "任务85"
    assert rows[0][-2:] == [f"{LEAD}合计", f"{CO}合计"]
    assert len(rows) == len(matrix.units) + 1
    first = rows[1]
    assert first[0] == matrix.units[0]
    assert first[1:86] == list(matrix.cells[0])
    assert (int(first[86]), int(first[87])) == matrix.counts(matrix.units[0])


def test_xlsx_round_trips(matrix):
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(to_xlsx(matrix, title="责任矩阵")))
    sheet = workbook["责任矩阵"]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "责任矩阵"
    assert values[1][:2] == ("责任单位", "任务1")
    body = values[2:]
    assert len(body) == len(matrix.units)
    assert [r[0] for r in body] == list(matrix.units)
    for row, cells in zip(body, matrix.cells, strict=True):
        assert [v or "" for v in row[1:86]] == list(cells)
