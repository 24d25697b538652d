"""Names, labels and values come from imports and people and may hold bidi controls. Written into running text
(a message, an error), each is wrapped in FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE, so that a
right-to-left override in it reorders only itself, never the words around it. (Templates writing into markup
put <bdi> around them instead; static/css/app.css isolates the inline elements.)"""

FSI, PDI = "\u2068", "\u2069"


def isolate(text) -> str:
    return f"{FSI}{text}{PDI}"
