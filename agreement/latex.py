"""The agreement report as LaTeX for a paper: booktabs tables of the coefficients, with the 95 % intervals the
page shows, and of Cohen's κ pair by pair. Undefined values are -- with their reasons under the table.

Numbers are typeset in math mode when negative (`$-0.067$`): a bare hyphen prints as a hyphen, not a minus.
Every text from the study (its name, field labels, usernames) is escaped.
"""

from datetime import date

from agreement.diagnostics import interval_warnings
from annotator.bidi import FSI, PDI

SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "\n": " ",  # a line break in a `%` comment would end it
    "\r": " ",
    FSI: "",  # the marks isolating a quoted label on screen (annotator/bidi.py): a page has no use for them
    PDI: "",
}
COLUMNS = [
    ("percent_agreement", r"\% agr."),
    ("pairwise_agreement", "Pairwise"),
    ("fleiss_kappa", r"Fleiss' $\kappa$"),
    ("krippendorff_alpha", r"$\alpha$"),
    ("gwet_ac1", "AC1"),
]
# The few symbols of the warnings' text, for pdflatex.
SYMBOLS = {"κ": r"$\kappa$", "α": r"$\alpha$", "≥": r"$\geq$", "×": r"$\times$", "−": "$-$"}
PAIR_COLUMNS = [("kappa", r"$\kappa$"), ("linear", r"linear $\kappa_w$"), ("quadratic", r"quadratic $\kappa_w$")]


def tex(text) -> str:
    return "".join(SPECIAL.get(character, character) for character in str(text))


def prose(text) -> str:
    """Text of the app's own (a warning, a source), escaped, with its symbols in math mode."""
    return "".join(SYMBOLS.get(character, character) for character in tex(text))


def number(value: float) -> str:
    shown = f"{value:.3f}"
    return f"${shown}$" if shown.startswith("-") else shown


def interval(bounds) -> str:
    return "" if not bounds or None in bounds else r" {\footnotesize[" + ", ".join(map(number, bounds)) + "]}"


def latex_table(study_name: str, labels: dict, report: dict, intervals: dict | None, day: date) -> str:
    """`labels`: {field key: label}; `intervals`: {field key: {coefficient: [low, high]}} as on the page, or None
    while they are being computed."""
    fields = {key: numbers for key, numbers in report["fields"].items() if numbers["items"]}  # rated twice at least
    notes, pair_notes, primaries, warnings = [], [], [], []
    lines = [
        f"% Inter-annotator agreement, {tex(study_name)}; exported by annotator on {day:%Y-%m-%d}.",
        "% Needs \\usepackage{booktabs}.",
        r"\begin{table}[t]",
        r"\centering",
        r"\caption{Inter-annotator agreement"
        + (r" (95\,\% bootstrap intervals in brackets)" if intervals else "")
        + ".}",
        r"\begin{tabular}{l" + "r" * (3 + len(COLUMNS)) + "}",
        r"\toprule",
        " & ".join(["Field", "Level", "Items", "Ann."] + [title for _, title in COLUMNS]) + r" \\",
        r"\midrule",
    ]
    for key, numbers in fields.items():
        label = tex(labels[key])
        cells = [label, numbers["level"], str(numbers["items"]), str(numbers["annotators"])]
        primary = numbers.get("primary")
        for name, title in COLUMNS:
            if numbers[name] is None:
                cells.append("--")
                notes.append(f"{label}, {title}: {tex(numbers['undefined'].get(name, ''))}")
            else:
                shown = number(numbers[name]) + interval((intervals or {}).get(key, {}).get(name))
                cells.append(r"\textbf{" + shown + "}" if primary and primary["statistic"] == name else shown)
            if primary and primary["statistic"] == name:
                verdict = "met" if primary["met"] else "not met"
                late = ", declared or changed after labelling started" if primary["after_labelling_started"] else ""
                source = prose(primary["source"])
                primaries.append(f"{label}, {title} $\\geq$ {primary['threshold']:.3f} ({source}): {verdict}{late}")
        field_warnings = numbers.get("warnings", []) + [
            w.as_dict() for w in interval_warnings((intervals or {}).get(key, {}))
        ]
        warnings += [f"{label}: {prose(warning['message'])}" for warning in field_warnings]
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    if notes:
        lines.append(r"\par\smallskip\footnotesize Undefined (--): " + "; ".join(notes) + ".")
    if primaries:
        lines.append(
            r"\par\smallskip\footnotesize Bold: each field's pre-registered primary statistic, against its threshold; "
            "every other coefficient is secondary. " + "; ".join(primaries) + "."
        )
    if warnings:
        lines.append(r"\par\smallskip\footnotesize Warnings: " + " ".join(warnings))
    if intervals is None:
        lines.append(r"\par\smallskip\footnotesize The bootstrap intervals were still being computed.")
    lines.append(r"\end{table}")

    pairs = [(key, pair, entry) for key, numbers in fields.items() for pair, entry in numbers["cohen_kappa"].items()]
    if pairs:
        lines += [
            "",
            r"\begin{table}[t]",
            r"\centering",
            r"\caption{Cohen's $\kappa$ for each pair of annotators (weighted $\kappa_w$ for ordinal fields).}",
            r"\begin{tabular}{llr" + "r" * len(PAIR_COLUMNS) + "}",
            r"\toprule",
            " & ".join(["Field", "Annotators", "$n$"] + [title for _, title in PAIR_COLUMNS]) + r" \\",
            r"\midrule",
        ]
        for key, pair, entry in pairs:
            label, names = tex(labels[key]), " \\& ".join(tex(name) for name in pair.split("|"))
            cells = [label, names, str(entry["n"])]
            for variant, title in PAIR_COLUMNS:
                if variant not in entry:
                    cells.append("")  # weighted κ: ordinal fields only
                elif entry[variant] is None:
                    cells.append("--")
                    reason = report["fields"][key]["undefined"].get(
                        f"cohen_kappa {pair}" + ("" if variant == "kappa" else f" {variant}"), ""
                    )
                    pair_notes.append(f"{label}, {names}, {title}: {tex(reason)}")
                else:
                    cells.append(number(entry[variant]))
            lines.append(" & ".join(cells) + r" \\")
        lines += [r"\bottomrule", r"\end{tabular}"]
        if pair_notes:
            lines.append(r"\par\smallskip\footnotesize Undefined (--): " + "; ".join(pair_notes) + ".")
        lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"
