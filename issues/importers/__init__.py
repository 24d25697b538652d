"""Reading GitHub issue dumps in every common format, and writing them to the database."""
