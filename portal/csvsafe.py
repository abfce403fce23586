"""CSV exports a spreadsheet cannot turn against its user: a cell that starts with =, +, -, @, a
tab or a carriage return is read as a formula (=HYPERLINK, =cmd|...), so it gets a leading quote.
Customers type queries, agents choose their names: every cell goes through here."""
import csv
import io

from flask import Response

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value):
    """A value as a safe CSV cell: numbers as they are, None as empty, formula-like text quoted."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _number(text):
        return "'" + text
    return text


def _number(text):
    try:
        float(text)  # "-5" is data; "-5+cmd" is not a number
    except ValueError:
        return False
    return text.strip() == text


def response(filename, header, rows):
    """A text/csv attachment of the header and rows, every cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([cell(c) for c in header])
    for row in rows:
        writer.writerow([cell(c) for c in row])
    return Response(buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
