"""The study pages: views/pages.py lists and shows studies, views/annotate.py is the annotation workspace."""
