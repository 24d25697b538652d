"""Surveys and their responses in a study's archive (studies/transfer.py): they travel as they are, the frozen
items and the respondents' hashed cookies included, so that a respondent can resume on the new instance.

A survey keeps its public token, so that a link already handed out (or printed in a paper) still works once the
study has moved. A token already used here (the same study imported twice into one instance) is replaced by a new
one and the importer is told the new link; a token this app could not have made (edited by hand) is refused, as a
public link must stay unguessable.
"""

import re

from django.urls import reverse

from surveys.models import Survey, new_token

# new_token() writes 32 characters of URL-safe base64; nothing shorter is accepted as unguessable.
TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")


def surveys_on_import(rows: list[dict]) -> list[str]:
    """Check each survey's token and keep it, or give it a new one if a survey here has it already."""
    for row in rows:
        if not isinstance(row["token"], str) or not TOKEN.fullmatch(row["token"]):
            raise ValueError(f"survey {row['title']!r} has a public token that is not a random one of 32 characters")
    taken = set(Survey.objects.filter(token__in=[row["token"] for row in rows]).values_list("token", flat=True))
    notes = []
    for row in rows:
        if row["token"] in taken:
            row["token"] = new_token()
            link = reverse("surveys:respond", args=[row["token"]])
            notes.append(
                f"Survey {row['title']!r} has a new public link, {link}: a survey here uses its token already "
                "(the old link still leads to that one)."
            )
    return notes
