"""The one text table of the package: `a2j bench`, `a2j eval`, the node bench, the tools."""


def _cell(row, key, fmt):
    value = row.get(key)
    if value is None:
        return '-'
    return fmt.format(value) if fmt else str(value)


def format_table(rows, columns, markdown=False):
    """Return rows (dicts) as a text table; ``columns`` = [(key, header, fmt or None)].

    A missing value prints as ``-``. Plain text: fixed width, the first column left-aligned,
    the others right-aligned, a rule under the header. ``markdown=True``: a Markdown table.
    """
    cells = [[header for _, header, _ in columns]]
    cells += [[_cell(row, key, fmt) for key, _, fmt in columns] for row in rows]
    if markdown:
        rule = ['---'] + ['---:'] * (len(columns) - 1)
        return '\n'.join('| ' + ' | '.join(r) + ' |' for r in [cells[0], rule] + cells[1:])
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    out = ['  '.join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in
                     enumerate(zip(r, widths))) for r in cells]
    out.insert(1, '  '.join('-' * w for w in widths))
    return '\n'.join(out)


__all__ = ['format_table']
