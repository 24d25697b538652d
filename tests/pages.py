"""Reading a page's forms as the person in front of it does: what each input holds, and the errors shown at it."""

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class FormPage(HTMLParser):
    """The elements of a page that have an id: their attributes, text, list items and (for a select) options."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: dict[str, dict] = {}
        self._open: list[tuple[str, dict | None]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        element = None
        if "id" in attrs:
            element = self.elements[attrs["id"]] = {"tag": tag, "attrs": attrs, "text": "", "items": []}
        parent = next((open_element for _, open_element in reversed(self._open) if open_element), None)
        if tag == "li" and parent and parent["tag"] == "ul":
            parent["items"].append("")
        if tag == "option" and parent and parent["tag"] == "select" and "selected" in attrs:
            parent["selected"] = attrs.get("value")
        if tag not in VOID:
            self._open.append((tag, element))

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data):
        for _, element in self._open:
            if element:
                element["text"] += data
                if element["items"]:
                    element["items"][-1] += data

    def value(self, input_id: str) -> str | None:
        """What the input shows: its value, a textarea's text, the selected option of a select."""
        element = self.elements[input_id]
        if element["tag"] == "textarea":
            return element["text"].removeprefix("\n")
        if element["tag"] == "select":
            return element.get("selected")
        return element["attrs"].get("value")

    def checked(self, input_id: str) -> bool:
        return "checked" in self.elements[input_id]["attrs"]

    def errors_at(self, input_id: str) -> list[str]:
        """The errors shown at the input: the list it names in aria-describedby, after checking that it says it is
        invalid."""
        attrs = self.elements[input_id]["attrs"]
        assert attrs.get("aria-invalid") == "true", f"{input_id} is not marked invalid"
        assert f"{input_id}_error" in attrs.get("aria-describedby", "").split(), f"{input_id} names no errors"
        return [item.strip() for item in self.elements[f"{input_id}_error"]["items"]]
