"""The unit x task responsibility matrix (牵头 / 参与) as CSV and XLSX.

Rows are the responsible units in order of first appearance in the document, columns are the
tasks 1..85; a cell is ``牵头`` when the unit leads the task (it is named first), ``参与`` when
it is named later, and empty otherwise. Two summary columns count the 牵头 and 参与 cells.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from .corpus import Plans

LEAD = "牵头"
CO = "参与"


@dataclass(frozen=True)
class Matrix:
    """``cells[i][j]`` is the role of ``units[i]`` in ``tasks[j]`` (``牵头``, ``参与`` or ``""``)."""

    units: tuple[str, ...]
    tasks: tuple[str, ...]  # column labels: 任务32, or 营商环境分工方案·任务5 outside the reference plan
    cells: tuple[tuple[str, ...], ...]

    def counts(self, unit: str) -> tuple[int, int]:
        """(牵头, 参与) counts of one unit."""
        row = self.cells[self.units.index(unit)]
        return row.count(LEAD), row.count(CO)

    def header(self) -> list[str]:
        return ["责任单位", *self.tasks, f"{LEAD}合计", f"{CO}合计"]

    def rows(self) -> list[list[str | int]]:
        return [[unit, *row, row.count(LEAD), row.count(CO)] for unit, row in zip(self.units, self.cells, strict=True)]


def responsibility_matrix(document: Plans) -> Matrix:
    """The matrix of one plan, or of every plan of a corpus (columns in corpus order)."""
    units = tuple(document.units())
    tasks = tuple(f"任务{t.label}" if t.primary else f"{t.cite_as}·任务{t.label}" for t in document.tasks)
    cells = tuple(
        tuple((LEAD if t.lead_unit == unit else CO) if unit in t.units else "" for t in document.tasks) for unit in units
    )
    return Matrix(units, tasks, cells)


def to_csv(matrix: Matrix) -> bytes:
    """UTF-8 with a BOM, so that Excel opens the Chinese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(matrix.header())
    writer.writerows(matrix.rows())
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(matrix: Matrix, title: str = "") -> bytes:
    """One sheet, header frozen, 牵头 cells highlighted."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "责任矩阵"
    first = 1
    if title:
        sheet.append([title])
        sheet["A1"].font = Font(bold=True)
        first = 2
    sheet.append(matrix.header())
    for row in matrix.rows():
        sheet.append(row)
    bold = Font(bold=True)
    lead_fill = PatternFill("solid", fgColor="FDE9C8")
    co_fill = PatternFill("solid", fgColor="E3EEFB")
    for cell in sheet[first]:
        cell.font = bold
        cell.alignment = Alignment(horizontal="center")
    for row in sheet.iter_rows(min_row=first + 1):
        for cell in row[1 : 1 + len(matrix.tasks)]:
            if cell.value == LEAD:
                cell.fill = lead_fill
            elif cell.value == CO:
                cell.fill = co_fill
    sheet.column_dimensions["A"].width = 34
    for j in range(2, len(matrix.tasks) + 4):
        sheet.column_dimensions[get_column_letter(j)].width = 7
    sheet.freeze_panes = sheet.cell(row=first + 1, column=2)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
