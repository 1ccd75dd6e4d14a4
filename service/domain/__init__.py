"""The rules of the comments service, free of Flask: they take a session and plain values."""
