"""Data files bundled with bplib (read through :func:`bplib.data.load_digits`)."""
